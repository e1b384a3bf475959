// Issue 13: what a deploy does to the connection and to payments. A payment sent the moment a
// flow starts waits for the connection; a "modified nodes" deploy of the pay node keeps the
// connection (none new at the simulator) and the payment running on it; a busy terminal queues.

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { ALL_NODES, collect, configNode, connected, credentials, errors, helper, until, useSimulator } from './harness';

describe('Paymentsense: deploys and busy terminals (nodes)', function () {
  this.timeout(30000);
  let sim: PaymentsenseSimulator;
  let url: string;

  useSimulator((s) => { ({ sim, url } = s); }, { stepDelayMs: 150 });

  const flow = (pay: Record<string, unknown> = {}, withTerminals = false) => [
    { id: 'tab', type: 'tab', label: 'deploys' },
    { ...configNode(url), z: 'tab' },
    { id: 'pay', z: 'tab', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', wires: [['result'], ['progress']], ...pay },
    ...(withTerminals ? [{ id: 'terminals', z: 'tab', type: 'pos-terminals', provider: 'paymentsense', paymentsense: 'cfg', wires: [['list']] }] : []),
    { id: 'result', z: 'tab', type: 'helper' }, { id: 'progress', z: 'tab', type: 'helper' }, { id: 'list', z: 'tab', type: 'helper' },
  ];

  it('a payment sent as the flow starts waits for the connection and is approved, once', async () => {
    await helper.load(ALL_NODES, flow({}, true), credentials);
    // No wait for the connection: like an inject "once after 0.1 s".
    const results = collect('result');
    const list = collect('list');
    const errs = errors('pay');
    assert.notEqual(helper.getNode('cfg').connection.provider.state.name, 'connected', 'sent before the connection is up');
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'EARLY-1' } });
    helper.getNode('terminals').receive({});
    await until(() => results.length === 1 && list.length === 1, 'the result and the list', 10000);
    assert.deepEqual(errs, []);
    assert.equal(results[0]!.payload.outcome, 'approved');
    assert.ok((list[0]!.payload as unknown[]).length >= 2);
    assert.equal(sim.ledger.length, 1);
  });

  it('"modified nodes" deploy of the only pay node while it pays: no new connection, the payment completes', async () => {
    await helper.load(ALL_NODES, flow(), credentials);
    await until(connected(), 'the connection');
    const results = collect('result');
    const progress = collect('progress');
    const connectionBefore = helper.getNode('cfg').connection;
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'PARTIAL-1' } });
    await until(() => progress.length > 0, 'the payment to start');
    // The pay node changes (its name); Node-RED closes it with removed=false and starts it again.
    await helper.setFlows(flow({ name: 'till 1' }), 'nodes', credentials);
    assert.equal(helper.getNode('pay').name, 'till 1', 'the pay node was redeployed');
    assert.equal(helper.getNode('cfg').connection, connectionBefore, 'the config node was not restarted');
    await until(() => results.length === 1, 'the result', 10000);
    assert.equal(results[0]!.payload.outcome, 'approved');
    assert.equal(results[0]!.payload.reference, 'PARTIAL-1');
    // The redeployed node pays on the same connection.
    const again = collect('result');
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'PARTIAL-2' } });
    await until(() => again.length === 1, 'the second result', 10000);
    assert.equal(again[0]!.payload.outcome, 'approved');
    assert.equal(sim.connectionAttempts, 1, 'no new connection at the simulator');
    assert.equal(sim.connectionCount, 1);
    assert.equal(sim.ledger.length, 2);
  });

  it('a pay node deleted while it pays: its result, heard by no flow, is reported as payment_recovered', async () => {
    const withListener = [
      ...flow(),
      { id: 'notes', z: 'tab', type: 'pos-notification-in', provider: 'paymentsense', paymentsense: 'cfg', wires: [['events']] },
      { id: 'events', z: 'tab', type: 'helper' },
    ];
    await helper.load(ALL_NODES, withListener, credentials);
    await until(connected(), 'the connection');
    const results = collect('result');
    const progress = collect('progress');
    const events = collect('events');
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'GONE-1' } });
    await until(() => progress.length > 0, 'the payment to start');
    await helper.setFlows(withListener.filter((n) => n.id !== 'pay'), 'nodes', credentials);
    const recovered = () => events.filter((m) => m.payload.event === 'payment_recovered');
    await until(() => recovered().length === 1, 'payment_recovered', 10000);
    const event = recovered()[0]!.payload;
    assert.equal(event.reference, 'GONE-1');
    assert.equal((event.data as { outcome: string }).outcome, 'approved');
    assert.equal(results.length, 0, 'nothing came out of the deleted node');
    assert.equal(sim.ledger.length, 1);
    assert.equal(sim.connectionAttempts, 1, 'the connection stayed for the notification node');
  });

  it('the last user deleted by a "modified nodes" deploy: the connection closes', async () => {
    await helper.load(ALL_NODES, flow(), credentials);
    await until(connected(), 'the connection');
    const rest = flow().filter((n) => n.id !== 'pay');
    await helper.setFlows(rest, 'nodes', credentials);
    await until(() => sim.connectionCount === 0, 'the connection to close', 3000);
  });

  it('two payments 0.1 s apart on one terminal: the second waits its turn (busy: queue, the default)', async () => {
    await helper.load(ALL_NODES, flow(), credentials);
    await until(connected(), 'the connection');
    const results = collect('result');
    const errs = errors('pay');
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'BUSY-1' } });
    await new Promise((r) => setTimeout(r, 100));
    helper.getNode('pay').receive({ payload: { amount: 1100, currency: 'GBP', reference: 'BUSY-2' } });
    await until(() => results.length === 2, 'both results', 15000);
    assert.deepEqual(errs, []);
    assert.deepEqual(results.map((m) => [m.payload.reference, m.payload.outcome]), [['BUSY-1', 'approved'], ['BUSY-2', 'approved']]);
    assert.equal(sim.ledger.length, 2);
  });

  it('busy: fail — the second payment fails at once and is never sent', async () => {
    await helper.load(ALL_NODES, flow({ busy: 'fail' }), credentials);
    await until(connected(), 'the connection');
    const results = collect('result');
    const errs = errors('pay');
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'FAIL-1' } });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    helper.getNode('pay').receive({ payload: { amount: 1100, currency: 'GBP', reference: 'FAIL-2' } });
    await until(() => errs.length === 1, 'the error', 2000);
    assert.ok(Date.now() - t0 < 500, 'at once');
    assert.match(errs[0]!, /terminal VCM00001SIP0 is busy with payment "FAIL-1"; nothing was sent/);
    await until(() => results.length === 1, 'the first result', 10000);
    assert.equal(results[0]!.payload.reference, 'FAIL-1');
    assert.equal(sim.ledger.length, 1);
  });
});
