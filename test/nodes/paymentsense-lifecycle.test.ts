// Connection life at node level: sharing, redeploys, faults, and what the status says.

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { ALL_NODES, TOKEN, collect, configNode, connected, credentials, errors, helper, processListeners, statuses, until, useSimulator, type Msg } from './harness';
import { trackResources } from '../support/resources-left';

describe('Paymentsense connection lifecycle (nodes)', function () {
  this.timeout(60000);
  let sim: PaymentsenseSimulator;
  let url: string;

  useSimulator((s) => { ({ sim, url } = s); }, { pingIntervalMs: 200 });

  const users = (extra: Record<string, unknown> = {}) => [
    configNode(url, extra),
    { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', wires: [['result'], ['progress']] },
    { id: 'terminals', type: 'pos-terminals', provider: 'paymentsense', paymentsense: 'cfg', wires: [['list']] },
    { id: 'events', type: 'pos-notification-in', provider: 'paymentsense', paymentsense: 'cfg', wires: [['events-out']] },
    { id: 'result', type: 'helper' }, { id: 'progress', type: 'helper' }, { id: 'list', type: 'helper' }, { id: 'events-out', type: 'helper' },
  ];

  it('one connection shared by every node that uses the config node, status on each', async () => {
    await helper.load(ALL_NODES, users(), credentials);
    await until(connected(), 'the connection');
    assert.equal(sim.connectionCount, 1);
    assert.equal(helper.getNode('cfg').connection.userCount, 3);
    const seen = ['pay', 'terminals', 'events'].map((id) => statuses(id));
    // A state change reaches every user.
    sim.setFault('refuseToken', true);
    await sim.stop();
    await until(() => seen.every((list) => list.some((s) => /reconnecting/.test(s.text ?? ''))), 'reconnecting on every node', 5000);
  });

  it('terminals: lists the simulator terminals in the documented shape', async () => {
    await helper.load(ALL_NODES, users(), credentials);
    await until(connected(), 'the connection');
    const list = collect('list');
    helper.getNode('terminals').receive({ payload: 'go' });
    await until(() => list.length === 1, 'the list');
    const terminals = list[0]!.payload as Array<Record<string, unknown>>;
    assert.ok(terminals.length >= 2);
    for (const t of terminals) {
      assert.deepEqual(Object.keys(t).sort(), ['id', 'name', 'provider', 'raw', 'status']);
      assert.equal(t.provider, 'paymentsense');
      assert.equal(t.status, 'available');
    }
    assert.ok(terminals.some((t) => t.id === 'VCM00001SIP0'));
  });

  it('notification in: progress of a payment arrives as provider events', async () => {
    await helper.load(ALL_NODES, users(), credentials);
    await until(connected(), 'the connection');
    const events = collect('events-out');
    const results = collect('result');
    helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP', reference: 'N-1' } });
    await until(() => results.length === 1, 'the result');
    assert.ok(events.length > 0);
    for (const e of events) {
      assert.equal(e.topic, e.payload.event);
      assert.equal(e.payload.provider, 'paymentsense');
      assert.equal(e.payload.reference, 'N-1');
      assert.equal(e.payload.terminalId, 'VCM00001SIP0');
      assert.ok(!Number.isNaN(Date.parse(e.payload.receivedAt)));
    }
  });

  it('redeploying 50 times leaves no extra listeners, timers or sockets', async () => {
    const flow = users();
    // One warm-up so Node-RED's own one-off resources are not counted.
    await helper.load(ALL_NODES, flow, credentials);
    await until(connected(), 'the connection');
    await helper.unload();
    await until(() => sim.connectionCount === 0, 'the warm-up socket to close');
    const tracker = trackResources();
    const listenersBefore = processListeners();
    let slowest = 0;
    for (let i = 0; i < 50; i++) {
      await helper.load(ALL_NODES, flow, credentials);
      await until(connected(), `connection ${i}`);
      const t0 = Date.now();
      await helper.unload();
      slowest = Math.max(slowest, Date.now() - t0);
    }
    await until(() => sim.connectionCount === 0, 'every socket to close');
    await new Promise((r) => setTimeout(r, 50));
    const left = await tracker.left();
    tracker.stop();
    assert.ok(slowest < 2000, `a close took ${slowest} ms`);
    assert.deepEqual(left, {}, 'timers and sockets made by the redeploys and still open');
    assert.equal(processListeners(), listenersBefore, 'process listeners');
    assert.equal(sim.connectionAttempts, 51);
  });

  it('a config node closes within 2 s even with a payment running', async () => {
    await helper.load(ALL_NODES, users(), credentials);
    await until(connected(), 'the connection');
    const progress = collect('progress');
    helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP', terminalId: 'VCM00004SIS0', reference: 'CL-1' } });
    await until(() => progress.some((m) => m.payload.event === 'signature_required'), 'the signature prompt');
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
  });

  it('server stops answering pings → noticed within the heartbeat window, reconnects, status says so', async () => {
    await helper.load(ALL_NODES, users({ heartbeat: 0.3 }), credentials);
    const status = statuses('pay');
    await until(connected(), 'the connection');
    sim.setFault('ignorePings', true);
    const t0 = Date.now();
    await until(() => status.some((s) => s.fill === 'yellow' && /reconnecting/.test(s.text ?? '')), 'a reconnecting status', 3000);
    const noticed = Date.now() - t0;
    assert.ok(noticed <= 1000, `noticed after ${noticed} ms (heartbeat 300 ms)`);
    sim.setFault('ignorePings', false);
    await until(connected(), 'the reconnection', 5000);
    assert.ok(sim.connectionAttempts >= 2);
    // Statuses are throttled (at most one per 150 ms): the connected one may show a moment later.
    await until(() => status[status.length - 1]?.fill === 'green', 'the green connected status', 2000);
  });

  it('server refuses the token → status unauthorized, no reconnect storm', async () => {
    sim.setFault('refuseToken', true);
    await helper.load(ALL_NODES, users(), credentials);
    const status = statuses('pay');
    await until(() => helper.getNode('cfg').connection.provider.state.name === 'unauthorized', 'unauthorized');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(sim.connectionAttempts, 1, 'one attempt, no retries');
    const last = status[status.length - 1];
    assert.ok(!last || (last.fill === 'red' && /unauthori[sz]ed/.test(last.text ?? '')), JSON.stringify(last));
    assert.equal(helper.getNode('cfg').connection.provider.state.name, 'unauthorized');
    // And a payment tried meanwhile is a clear error that sends nothing.
    const errs = errors('pay');
    helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP' } });
    await until(() => errs.length === 1, 'the error');
    // The reason says what to fix (the refused token), never the token itself.
    assert.match(errs[0]!, /not connected to paymentsense \(unauthorized: server refused the upgrade with HTTP 401\); nothing was sent/);
    assert.equal(sim.ledger.length, 0);
  });

  it('malformed frames are logged without secrets and dropped; the connection stays usable', async () => {
    await helper.load(ALL_NODES, users(), credentials);
    await until(connected(), 'the connection');
    sim.setFault('malformedFrames', true);
    const results = collect('result');
    const list = collect('list');
    helper.getNode('terminals').receive({});
    helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP', reference: 'M-1' } });
    await until(() => results.length === 1 && list.length === 1, 'both answers');
    assert.equal(results[0]!.payload.outcome, 'approved');
    assert.equal(sim.connectionAttempts, 1, 'the connection was never dropped');
    const logged = (helper.log().args as unknown[][]).map((a) => JSON.stringify(a)).join('\n');
    assert.match(logged, /malformed|not JSON|unknown id|invalid/i);
    assert.ok(!logged.includes(TOKEN));
    void (results as Msg[]);
  });
});
