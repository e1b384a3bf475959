// Issue 13: a "modified nodes" deploy of a notification or request-in node (Node-RED closes it
// with removed=false and starts it again) changes nothing at the provider: no channel is
// unsubscribed and subscribed again (QuickPay), no capability list is sent again (Dojo), and
// no new connection is made. A node that is deleted does let go of its channel.

import assert from 'node:assert/strict';
import { QuickPaySimulator, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';
import type { DojoSimulator } from '../../lib/simulators/dojo';
import { dojoConfig, dojoCredentials, dojoNodes, startDojo } from './dojo-harness';
import { collect, helper, until } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('partial deploys of listening nodes (nodes)', function () {
  this.timeout(30000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });

  describe('QuickPay notification in', () => {
    const API_KEY = 'qp_partial_key';
    let sim: QuickPaySimulator;
    let url: string;
    beforeEach(async () => {
      sim = new QuickPaySimulator({ apiKeys: [API_KEY], rateIntervalMs: 0, paymentIntervalMs: 0 });
      ({ apiUrl: url } = await sim.start());
    });
    afterEach(async () => { await helper.unload(); await sim.stop(); });

    // Node ids differ from every property value: Node-RED takes a value equal to a node id for a reference to it.
    const flow = (rates: Record<string, unknown> = {}, withPays = true) => [
      { id: 'tab', type: 'tab', label: 'partial' },
      { id: 'cfg', type: 'pos-quickpay', environment: 'custom', url, merchantId: SIMULATOR_MERCHANT_ID },
      { id: 'rates-in', z: 'tab', type: 'pos-notification-in', provider: 'quickpay', quickpay: 'cfg', streams: 'rates', wires: [['rate']], ...rates },
      ...(withPays ? [{ id: 'pays-in', z: 'tab', type: 'pos-notification-in', provider: 'quickpay', quickpay: 'cfg', streams: 'payments', wires: [['pay']] }] : []),
      { id: 'rate', z: 'tab', type: 'helper' }, { id: 'pay', z: 'tab', type: 'helper' },
    ];
    const creds = { cfg: { apiKey: API_KEY, privateKey: simulatorKeys().privateKeyPem } };
    const unsubscribes = () => sim.received.filter((f) => (f as { event?: string }).event === 'pusher:unsubscribe').length;
    const subscribes = () => sim.received.filter((f) => (f as { event?: string }).event === 'pusher:subscribe').length;

    it('a modified notification node keeps its channel: no unsubscribe, no new subscribe, events still arrive', async () => {
      await helper.load([require('../../nodes/pos-quickpay.js'), require('../../nodes/pos-notification-in.js')], flow(), creds);
      await until(() => sim.subscriptions.length === 2, 'both channels subscribed', 10000);
      const before = { subscribes: subscribes(), accepted: sim.connectionsAccepted };
      await helper.setFlows(flow({ name: 'rates, renamed' }), 'nodes', creds);
      assert.equal(helper.getNode('rates-in').name, 'rates, renamed');
      await sleep(300);
      assert.equal(unsubscribes(), 0);
      assert.equal(subscribes(), before.subscribes);
      assert.equal(sim.connectionsAccepted, before.accepted, 'no new connection');
      const rates = collect('rate');
      sim.publish('private-exchange-rate', 'exchange.rate.updated', { fiatCurrency: 'USD', cryptoCurrency: 'USDT', rate: 1.0002, timestamp: 1640995200 });
      await until(() => rates.length === 1, 'the redeployed node hears its stream');
    });

    it('a deleted notification node lets its channel go at once', async () => {
      await helper.load([require('../../nodes/pos-quickpay.js'), require('../../nodes/pos-notification-in.js')], flow(), creds);
      await until(() => sim.subscriptions.length === 2, 'both channels subscribed', 10000);
      await helper.setFlows(flow({}, false), 'nodes', creds);
      await until(() => unsubscribes() === 1, 'the payments channel unsubscribed', 3000);
      assert.deepEqual(sim.subscriptions.map((s) => s.channel), ['private-exchange-rate']);
      void SIMULATOR_MERCHANT_ID;
    });
  });

  describe('Dojo request in', () => {
    let sim: DojoSimulator;
    let url: string;
    beforeEach(async () => { ({ sim, url } = await startDojo()); });
    afterEach(async () => { await helper.unload(); await sim.stop(); });

    const flow = (extra: Record<string, unknown> = {}) => [
      { id: 'tab', type: 'tab', label: 'partial' },
      dojoConfig(url),
      { id: 'in', z: 'tab', type: 'pos-request-in', provider: 'dojo', dojo: 'cfg', method: 'GetOrderByIdV1', timeout: 5, wires: [['out']], ...extra },
      { id: 'out', z: 'tab', type: 'pos-response', wires: [] },
    ];

    it('a modified request-in node: its method is not registered again, the socket stays', async () => {
      await helper.load(dojoNodes, flow(), dojoCredentials());
      await sim.waitForCapabilities(['GetOrderById'], 5000);
      await sleep(100);
      const puts = sim.registrations.length;
      const state = helper.getNode('cfg').connection.provider.state.name;
      await helper.setFlows(flow({ name: 'orders, renamed' }), 'nodes', dojoCredentials());
      assert.equal(helper.getNode('in').name, 'orders, renamed');
      await sleep(300);
      assert.equal(sim.registrations.length, puts, 'no capability PUT for an unchanged set');
      assert.equal(state, 'connected');
      assert.equal(helper.getNode('cfg').connection.provider.state.name, 'connected');
    });

    /** request-in -> a helper node that holds its msg (the flow still working on it), and `more`. */
    const heldFlow = (more: Array<Record<string, unknown>>) => [
      { id: 'tab', type: 'tab', label: 'partial' },
      dojoConfig(url),
      { id: 'in', z: 'tab', type: 'pos-request-in', provider: 'dojo', dojo: 'cfg', method: 'GetOrderByIdV1', timeout: 5, wires: [['hold']] },
      { id: 'hold', z: 'tab', type: 'helper' },
      ...more,
    ];
    const loadHeld = async (flowNodes: Array<Record<string, unknown>>) => {
      await helper.load(dojoNodes, flowNodes, dojoCredentials());
      await sim.waitForCapabilities(['GetOrderById'], 5000);
      return collect('hold');
    };

    it('a request in the flow while its request-in node is modified and redeployed is still answered by the flow, on the same socket', async () => {
      const held = heldFlow([{ id: 'out', z: 'tab', type: 'pos-response', wires: [] }]);
      const msgs = await loadHeld(held);
      const connections = sim.connectionCount;
      const calling = sim.call('GetOrderByIdV1', { orderId: 'held-1' }, { timeoutMs: 8000 });
      await until(() => msgs.length === 1, 'the request in the flow');
      // The flow is still working on it when the request-in node changes.
      held[2] = { ...held[2], name: 'orders, renamed' };
      await helper.setFlows(held, 'nodes', dojoCredentials());
      assert.equal(helper.getNode('in').name, 'orders, renamed');
      const order = { id: 'held-1', status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: 't-1' } } };
      helper.getNode('out').receive({ ...msgs[0], payload: order });
      const answer = await calling;
      assert.equal(answer.error, undefined, `answered with an error: ${JSON.stringify(answer.error)}`);
      assert.deepEqual((answer.result as { id: string }).id, 'held-1');
      assert.equal(sim.connectionCount, connections, 'no new connection');
    });

    it('a request-in node deleted while its request is in the flow answers it with an error at once', async () => {
      const held = heldFlow([{ id: 'keep', z: 'tab', type: 'pos-request-in', provider: 'dojo', dojo: 'cfg', method: 'SearchOrdersV1', timeout: 5, wires: [[]] }]);
      const msgs = await loadHeld(held);
      const calling = sim.call('GetOrderByIdV1', { orderId: 'held-2' }, { timeoutMs: 8000 });
      await until(() => msgs.length === 1, 'the request in the flow');
      const started = Date.now();
      await helper.setFlows(held.filter((n) => n.id !== 'in'), 'nodes', dojoCredentials());
      const answer = await calling;
      assert.ok(answer.error, 'answered with an error');
      assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms, not at the 5 s timeout`);
    });
  });
});
