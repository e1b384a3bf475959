// Dojo in the conformance matrix: pay at counter over REST, events over the EPOS Data WebSocket.

import type { ConformanceEntry, SimulatorHandle } from '../matrix';
import { DOJO_KEY, dojoConfig, dojoNodes, startDojo } from '../../nodes/dojo-harness';

/** Dojo posts intent events only for the HandleEvent capabilities the EPOS registered. */
const EVENT_CAPABILITIES = ['HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated'];

async function start(): Promise<SimulatorHandle> {
  // A short session expiry so amount …52 (no card presented) times out within the test.
  const { sim, url } = await startDojo({ stepDelayMs: 20, sessionExpiryMs: 400, signatureTimeoutMs: 5000 });
  const count = (kind: 'sale' | 'refund') => sim.counter.ledger.filter((e) => e.kind === kind).length;
  return {
    url,
    config: (id) => dojoConfig(url, id, { pollInterval: 0.05 }),
    credentials: (id) => ({ [id]: { apiKey: DOJO_KEY } }),
    charges: () => count('sale'),
    refunds: () => count('refund'),
    transactions: () => sim.counter.ledger.length,
    secret: DOJO_KEY,
    openConnections: () => sim.openConnections,
    ready: () => sim.waitForCapabilities(EVENT_CAPABILITIES, 5000),
    stop: () => sim.stop(),
    faults: { refuseCredentials: (on) => sim.setFault('refuseKey', on) },
  };
}

export const dojoEntry: ConformanceEntry = {
  provider: 'dojo',
  configType: 'pos-dojo',
  capabilities: { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: true,
    preauth: true, completion: true, release: true, verify: false, reports: false },
  nodeModules: dojoNodes,
  start,
  terminalId: 'tm_sim_counter_1',
  currency: 'GBP',
  // A refund names the payment intent it gives money back from.
  refundOptions: (paid) => ({ paymentIntentId: paid.transactionId }),
  cancelFromFlow: 'on_progress',
  // …52 keeps the terminal waiting for a card, so the cancel surely lands before authorisation.
  cancelAmount: 1252,
  dropOutcome: 'approved',
  notificationOfPayment: ['payment_intent.created', 'payment_intent.status_updated'],
  notificationsCarryReference: true,
};
