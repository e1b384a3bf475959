// Modulus Labs Terminal Gateway in the conformance matrix: action-JSON over one WebSocket.
// Not in MATRIX until the adapter, simulator and pos-modulus node exist (the lead adds it).

import { ModulusSimulator } from '../../../lib/simulators/modulus';
import type { ConformanceEntry, SimulatorHandle } from '../matrix';

/** A key that looks like a secret, so the suite can prove it never leaks. */
const API_KEY = 'mk_test_SECRET_modulus_5d2e9a';
const API_SECRET = 'ms_test_SECRET_modulus_81f0c7';

async function start(): Promise<SimulatorHandle> {
  const sim = new ModulusSimulator({ apiKeys: [API_KEY], apiSecret: API_SECRET, stepDelayMs: 20 });
  const { url } = await sim.start();
  return {
    url,
    config: (id) => ({ id, type: 'pos-modulus', name: 'modulus', environment: 'custom', url, endpoint: '', groupId: '', keyInQuery: false, verifyTls: true, heartbeat: 30 }),
    credentials: (id) => ({ [id]: { apiKey: API_KEY, apiSecret: API_SECRET } }),
    // Every payment frame the gateway accepted is a charge attempt, whatever became of it.
    charges: () => sim.ledger.length,
    // Modulus has no refund over the Terminal Gateway.
    refunds: () => 0,
    secret: API_KEY,
    openConnections: () => sim.connectionCount,
    stop: () => sim.stop(),
    faults: { refuseCredentials: (on) => sim.setFault('refuseKey', on) },
  };
}

export const modulusEntry: ConformanceEntry = {
  provider: 'modulus',
  configType: 'pos-modulus',
  capabilities: { pay: true, refund: false, cancel: false, signature: false, terminals: true, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false },
  nodeModules: [
    require('../../../nodes/pos-modulus.js'),
    require('../../../nodes/pos-pay.js'),
    require('../../../nodes/pos-refund.js'),
    require('../../../nodes/pos-terminals.js'),
    require('../../../nodes/pos-notification-in.js'),
  ],
  start,
  terminalId: 'TERM-001',
  currency: 'PHP',
  dropOutcome: 'approved',
  notificationOfPayment: ['payment_complete'],
  // The adapter ties a paymentResponse to the payment it sent, so the event carries our reference.
  notificationsCarryReference: true,
};
