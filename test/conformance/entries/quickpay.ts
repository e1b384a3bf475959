// QuickPay in the conformance matrix: a notification source only (Pusher Channels), so every
// payment test turns into the "not offered" check and the notification test uses an event the
// simulator publishes.

import { QuickPaySimulator, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../../lib/simulators/quickpay';
import type { ConformanceEntry, SimulatorHandle } from '../matrix';

/** The API key is one of QuickPay's two credentials; the other, the private key, is checked too (as PEM text). */
const API_KEY = 'qp_SECRET_api_key_6d1e0b';

async function start(): Promise<SimulatorHandle> {
  const sim = new QuickPaySimulator({ apiKeys: [API_KEY], rateIntervalMs: 0, paymentIntervalMs: 0 });
  const { apiUrl } = await sim.start();
  return {
    url: apiUrl,
    config: (id) => ({ id, type: 'pos-quickpay', name: 'quickpay', environment: 'custom', url: apiUrl, appKey: 'pagCMLx6TXrb', merchantId: SIMULATOR_MERCHANT_ID, verifyTls: true, paymentEvent: 'payment.status.updated', notificationEvent: 'system.notification' }),
    credentials: (id) => ({ [id]: { apiKey: API_KEY, privateKey: simulatorKeys().privateKeyPem } }),
    charges: () => 0,
    refunds: () => 0,
    secret: API_KEY,
    openConnections: () => sim.connectionsOpen,
    // Events flow once the payments channel is subscribed.
    ready: async () => {
      const end = Date.now() + 10000;
      while (!sim.subscriptions.some((s) => s.channel === `private-payments.${SIMULATOR_MERCHANT_ID}`)) {
        if (Date.now() > end) throw new Error('the payments channel was never subscribed');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: () => sim.stop(),
    faults: { refuseCredentials: (on) => sim.setFault('rejectAuth', on), drop: () => sim.dropAll() },
    emitEvent: () => sim.publishPayment('completed', { payment_id: 'pay_conformance_1' }),
  };
}

export const quickpayEntry: ConformanceEntry = {
  provider: 'quickpay',
  configType: 'pos-quickpay',
  capabilities: { pay: false, refund: false, cancel: false, signature: false, terminals: false, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false },
  nodeModules: [
    require('../../../nodes/pos-quickpay.js'),
    require('../../../nodes/pos-pay.js'),
    require('../../../nodes/pos-refund.js'),
    require('../../../nodes/pos-terminals.js'),
    require('../../../nodes/pos-notification-in.js'),
  ],
  start,
  currency: 'USD',
  dropOutcome: 'approved',
  notificationOfPayment: ['payment.status.updated'],
  notificationNode: { streams: 'payments', channel: '' },
  notificationsCarryReference: false,
};
