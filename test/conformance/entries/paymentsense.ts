// Paymentsense Connect in the conformance matrix: JSON-RPC over WebSocket, terminals by TID.

import type { ConformanceEntry, SimulatorHandle } from '../matrix';
import { ALL_NODES, TOKEN, configNode, startSimulator } from '../../nodes/harness';

async function start(): Promise<SimulatorHandle> {
  const { sim, url } = await startSimulator({ stepDelayMs: 20 });
  return {
    url,
    config: (id) => ({ ...configNode(url), id }),
    credentials: (id) => ({ [id]: { token: TOKEN } }),
    charges: () => sim.ledger.filter((e) => e.method === 'sale').length,
    refunds: () => sim.ledger.filter((e) => e.method === 'refund').length,
    transactions: () => sim.ledger.length,
    secret: TOKEN,
    openConnections: () => sim.connectionCount,
    stop: () => sim.stop(),
    faults: { refuseCredentials: (on) => sim.setFault('refuseToken', on) },
  };
}

export const paymentsenseEntry: ConformanceEntry = {
  provider: 'paymentsense',
  configType: 'pos-paymentsense',
  capabilities: { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: true,
    preauth: true, completion: true, release: false, verify: true, reports: true },
  nodeModules: ALL_NODES,
  start,
  // Chip & PIN: follows the amount rule (other suffixes force an outcome whatever the amount).
  terminalId: 'VCM00001SIP0',
  currency: 'GBP',
  // Cancellable until authorisation starts, i.e. while the first prompts are shown.
  cancelFromFlow: 'on_progress',
  dropOutcome: 'approved',
  // Connect's transaction notifications double as provider events.
  notificationOfPayment: ['transaction_started', 'present_card', 'approved', 'transaction_finished'],
  notificationsCarryReference: true,
};
