// SensePass in the conformance matrix: REST for transactions, Socket.IO for their status.
// Not in MATRIX until the adapter, simulator and pos-sensepass node exist (the lead adds it).

import { SensePassSimulator } from '../../../lib/simulators/sensepass';
import type { ConformanceEntry, SimulatorHandle } from '../matrix';

/** The paired device id is SensePass's only credential, and it travels in a URL query. */
const DEVICE_ID = 'dev_SECRET_sensepass_3b7f2e';

async function start(): Promise<SimulatorHandle> {
  const sim = new SensePassSimulator({ deviceIds: [DEVICE_ID], stepDelayMs: 20 });
  const { url } = await sim.start();
  return {
    url,
    config: (id) => ({ id, type: 'pos-sensepass', name: 'sensepass', environment: 'custom', url, clientVersion: '4', transports: 'default', autoCommit: true, verifyTls: true }),
    credentials: (id) => ({ [id]: { deviceId: DEVICE_ID } }),
    // One ledger entry per transaction created (/transactions/init).
    charges: () => sim.ledger.length,
    refunds: () => sim.ledger.reduce((n, t) => n + t.refunds.length, 0),
    secret: DEVICE_ID,
    openConnections: () => sim.connectedSockets,
    stop: () => sim.stop(),
    faults: { refuseCredentials: (on) => sim.setFault('refuseDevice', on) },
  };
}

export const sensepassEntry: ConformanceEntry = {
  provider: 'sensepass',
  configType: 'pos-sensepass',
  capabilities: { pay: true, refund: true, cancel: true, signature: false, terminals: false, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false },
  nodeModules: [
    require('../../../nodes/pos-sensepass.js'),
    require('../../../nodes/pos-pay.js'),
    require('../../../nodes/pos-refund.js'),
    require('../../../nodes/pos-terminals.js'),
    require('../../../nodes/pos-notification-in.js'),
  ],
  start,
  // SensePass pays on the paired device: no terminal id.
  currency: 'USD',
  refundOptions: (paid) => ({ transactionNumber: paid.transactionId }),
  // Cancellable only before the consumer taps (statuses 0 and 10), so send it at once.
  cancelFromFlow: 'before_first_progress',
  dropOutcome: 'approved',
  notificationOfPayment: ['transaction_approved'],
  // The adapter knows the transaction number of the payment it created, so events carry our reference.
  notificationsCarryReference: true,
};
