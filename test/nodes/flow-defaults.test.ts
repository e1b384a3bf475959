// Issue 13: nodes deployed without a property (a flow built through the admin API, an older
// export) behave as the editor's defaults say, not as an empty value would.

import assert from 'node:assert/strict';
import { QuickPaySimulator, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { ALL_NODES, collect, configNode, connected, credentials, errors, helper, startSimulator, until } from './harness';

describe('nodes without saved properties take the editor defaults', function () {
  this.timeout(30000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(() => helper.unload());

  it('QuickPay notification in without `streams` subscribes to the default streams and passes their events', async () => {
    const sim = new QuickPaySimulator({ apiKeys: ['qp_defaults_key'], rateIntervalMs: 0, paymentIntervalMs: 0 });
    const { apiUrl } = await sim.start();
    try {
      await helper.load([require('../../nodes/pos-quickpay.js'), require('../../nodes/pos-notification-in.js')], [
        { id: 'tab', type: 'tab', label: 'defaults' },
        // Only what a hand-built flow must say: no appKey, events or streams.
        { id: 'cfg', type: 'pos-quickpay', environment: 'custom', url: apiUrl, merchantId: SIMULATOR_MERCHANT_ID },
        { id: 'events', z: 'tab', type: 'pos-notification-in', provider: 'quickpay', quickpay: 'cfg', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ], { cfg: { apiKey: 'qp_defaults_key', privateKey: simulatorKeys().privateKeyPem } });
      const channels = () => new Set(sim.subscriptions.map((s) => s.channel));
      await until(() => channels().size === 3, 'the default streams subscribed', 10000);
      assert.deepEqual([...channels()].sort(), ['private-exchange-rate', `private-notifications.${SIMULATOR_MERCHANT_ID}`, `private-payments.${SIMULATOR_MERCHANT_ID}`].sort());
      const out = collect('out');
      sim.publishPayment('completed', { payment_id: 'pay_defaults' });
      await until(() => out.length > 0, 'a payment event', 5000);
      assert.equal(out[0]!.payload.provider, 'quickpay');
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });

  describe('Paymentsense pay without currency, timeout or busy', () => {
    let sim: PaymentsenseSimulator;
    let url: string;
    beforeEach(async () => { ({ sim, url } = await startSimulator()); });
    afterEach(async () => { await helper.unload(); await sim.stop(); });

    it('a payload without a currency is paid in the editor default (GBP)', async () => {
      await helper.load(ALL_NODES, [
        configNode(url),
        { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', wires: [['result'], []] },
        { id: 'result', type: 'helper' },
      ], credentials);
      await until(connected(), 'the connection');
      const results = collect('result');
      const errs = errors('pay');
      helper.getNode('pay').receive({ payload: { amount: 1000, reference: 'NO-CURRENCY-1' } });
      await until(() => results.length + errs.length === 1, 'the answer', 10000);
      assert.deepEqual(errs, []);
      assert.equal(results[0]!.payload.currency, 'GBP');
      assert.equal(results[0]!.payload.outcome, 'approved');
    });
  });
});
