// The Dojo connection at node level: redeploys leave nothing behind, a dropped socket mid
// payment (amount ..55) still ends approved, a silent gateway is noticed, a config node with
// request-in, pay and notification users closes within 2 s.

import assert from 'node:assert/strict';
import type { DojoSimulator } from '../../lib/simulators/dojo';
import { collect, processListeners, statuses, until } from './harness';
import { trackResources } from '../support/resources-left';
import { dojoConfig, dojoCredentials, dojoNodes, helper, startDojo } from './dojo-harness';

describe('Dojo connection lifecycle (nodes)', function () {
  this.timeout(60000);
  let sim: DojoSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => { ({ sim, url } = await startDojo({ stepDelayMs: 20 })); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });

  const at = (y: number) => ({ z: 'tab', x: 100, y });
  const users = (extra: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab', label: 'test' },
    dojoConfig(url, 'cfg', { pollInterval: 0.05, ...extra }),
    { id: 'in', type: 'pos-request-in', ...at(100), provider: 'dojo', dojo: 'cfg', method: 'GetOrderByIdV1', timeout: 5, wires: [['answer']] },
    { id: 'answer', type: 'function', ...at(140), func: "msg.payload = { id: msg.payload.orderId, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: 't1' } } }; return msg;", outputs: 1, wires: [['out']] },
    { id: 'out', type: 'pos-response', ...at(180), wires: [] },
    { id: 'pay', type: 'pos-pay', ...at(220), provider: 'dojo', dojo: 'cfg', currency: 'GBP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'events', type: 'pos-notification-in', ...at(260), provider: 'dojo', dojo: 'cfg', wires: [['event']] },
    { id: 'result', type: 'helper', ...at(300) }, { id: 'progress', type: 'helper', ...at(340) }, { id: 'event', type: 'helper', ...at(380) },
  ];
  const connected = () => helper.getNode('cfg')?.connection?.provider.state.name === 'connected';

  it('one WebSocket shared by request-in, pay and notification nodes; redeploying 20 times leaves no timers, sockets or listeners', async () => {
    const flow = users();
    await helper.load(dojoNodes, flow, dojoCredentials());
    await until(connected, 'the connection');
    assert.equal(sim.connectionCount, 1);
    assert.equal(helper.getNode('cfg').connection.userCount, 3);
    await helper.unload();
    await until(() => sim.openConnections === 0, 'the warm-up socket to close');
    const tracker = trackResources();
    const listenersBefore = processListeners();
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      await helper.load(dojoNodes, flow, dojoCredentials());
      await until(connected, `connection ${i}`);
      await sim.waitForCapabilities(['GetOrderById'], 5000);
      const answer = await sim.call('GetOrderByIdV1', { orderId: `o-${i}` });
      assert.equal(answer.response?.result?.id, `o-${i}`);
      const t0 = Date.now();
      await helper.unload();
      slowest = Math.max(slowest, Date.now() - t0);
    }
    await until(() => sim.openConnections === 0, 'every socket to close');
    await new Promise((r) => setTimeout(r, 100));
    const left = await tracker.left();
    tracker.stop();
    assert.ok(slowest < 2000, `a close took ${slowest} ms`);
    assert.deepEqual(left, {}, 'timers and sockets made by the 20 deploys and still open');
    assert.equal(processListeners(), listenersBefore, 'process listeners');
    assert.equal(sim.connectionCount, 21);
  });

  it('amount ending 55: the EPOS socket drops mid-payment, reconnects, and the payment still ends approved once', async () => {
    await helper.load(dojoNodes, users(), dojoCredentials());
    await until(connected, 'the connection');
    const results = collect('result');
    helper.getNode('pay').receive({ payload: { amount: 1255, currency: 'GBP', reference: 'L-55' } });
    await until(() => results.length === 1, 'the result', 15000);
    assert.equal(results[0]!.payload.outcome, 'approved');
    // The payment runs over REST, so it may end before the WebSocket is back.
    await until(() => sim.connectionCount >= 2, 'the dropped socket to be reopened', 10000);
    await until(connected, 'the connection again', 10000);
    assert.equal(sim.counter.ledger.filter((e) => e.kind === 'sale').length, 1);
  });

  it('a gateway that stops answering pings is noticed within the heartbeat window; status says reconnecting, then connected', async () => {
    await helper.load(dojoNodes, users({ heartbeat: 0.3 }), dojoCredentials());
    await until(connected, 'the connection');
    const status = statuses('in');
    sim.faults.ignorePings = true;
    const t0 = Date.now();
    await until(() => status.some((s) => /reconnecting/.test(s.text ?? '')), 'a reconnecting status', 3000);
    assert.ok(Date.now() - t0 <= 1500, `noticed after ${Date.now() - t0} ms`);
    sim.faults.ignorePings = false;
    const dropped = status.length;
    await until(() => status.slice(dropped).some((s) => s.fill === 'green'), 'connected again', 10000);
    // Capabilities are registered again on the new connection.
    await sim.waitForCapabilities(['GetOrderById'], 5000);
    const answer = await sim.call('GetOrderByIdV1', { orderId: 'after' });
    assert.equal(answer.response?.result?.id, 'after');
  });

  it('a config node closes within 2 s with a payment and a request running', async () => {
    await helper.load(dojoNodes, users(), dojoCredentials());
    await until(connected, 'the connection');
    const progress = collect('progress');
    helper.getNode('pay').receive({ payload: { amount: 1253, currency: 'GBP', reference: 'L-close' } });
    await until(() => progress.some((m) => m.payload.event === 'signature_required'), 'the signature prompt', 10000);
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
  });
});
