// pos-request-in / pos-response against the Dojo simulator: the example pay-at-table flow as
// it ships, schemas both ways, concurrency, replayed ids, errors in Dojo's shape, timeouts.

import assert from 'node:assert/strict';
import { checkParams, checkResult } from '../../lib/providers/dojo/schemas';
import type { DojoSimulator } from '../../lib/simulators/dojo';
import { collect, until } from './harness';
import { dojoConfig, dojoCredentials, dojoNodes, exampleFlow, helper, startDojo } from './dojo-harness';

const EXAMPLE = '05 Dojo pay at table.json';
const TABLE_CAPABILITIES = ['CreateOrderLock', 'DeleteOrderLock', 'ExtendOrderLock', 'GetOrderBill', 'GetOrderById', 'RecordOrderPayment', 'SearchOrders'];

type Frame = Record<string, any>;

function assertValidAnswer(method: string, response: Frame | undefined): void {
  assert.ok(response, `no answer to ${method}`);
  if ('error' in response) return;
  const problem = checkResult(method, response.result);
  assert.equal(problem, undefined, `answer to ${method} does not match Dojo's schema: ${problem}\n${JSON.stringify(response.result)}`);
}

describe('pos-request-in / pos-response with Dojo (simulator)', function () {
  this.timeout(30000);
  let sim: DojoSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => { ({ sim, url } = await startDojo()); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });

  async function loadExample() {
    await helper.load(dojoNodes, exampleFlow(EXAMPLE, url), dojoCredentials('pos-sim-dojo'));
    await sim.waitForCapabilities(TABLE_CAPABILITIES, 5000);
  }

  it('the example flow registers exactly the methods it serves, mapped to capability names', async () => {
    await loadExample();
    assert.deepEqual([...sim.registeredCapabilities()].sort(), TABLE_CAPABILITIES);
  });

  it('the example flow serves the documented pay-at-table walk; every request and answer matches the AsyncAPI schemas', async () => {
    await loadExample();
    // The inject fills the order book 0.1 s after the start.
    await new Promise((r) => setTimeout(r, 300));
    const report = await sim.playPayAtTable({ payments: 2 });
    assert.equal(report.ok, true, report.message);
    const methods = report.steps.map((s) => s.method);
    assert.deepEqual(methods, ['SearchOrdersV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1', 'ExtendOrderLockV1', 'RecordOrderPaymentByIdV1', 'DeleteOrderLockV1'].filter((m) => methods.includes(m)));
    assert.ok(methods.includes('CreateOrderLockV1') && methods.includes('DeleteOrderLockV1'), methods.join(','));
    assert.equal(methods.filter((m) => m === 'RecordOrderPaymentByIdV1').length, 2);
    for (const step of report.steps) assertValidAnswer(step.method, step.response as Frame);
    assert.deepEqual(report.reversed, []);
    // The order is now fully paid and no longer offered.
    const order = (report.steps.filter((s) => s.method === 'RecordOrderPaymentByIdV1').pop()!.response as Frame).result;
    assert.equal(order.paidAmount.value, order.totalAmount.value);
    assert.equal(order.payable, false);
    assert.equal(order.status, 'Finalized');
    const bill = await sim.call('GetOrderBillByIdV1', { orderId: report.orderId! });
    assertValidAnswer('GetOrderBillByIdV1', bill.response);
    assert.equal(bill.response!.result.order.id, report.orderId);
    const missing = await sim.call('GetOrderByIdV1', { orderId: 'no-such-order' });
    assert.equal(missing.response!.error.errorType, 'NotFound');
    for (const frame of sim.sent) {
      const problem = checkParams(String(frame.method), frame.params);
      assert.equal(problem, undefined, `the simulator sent ${frame.method} with params Dojo's schema refuses: ${problem}`);
    }
    assert.ok(sim.sent.length >= 8);
  });

  it('record payment on an order locked with another lockId -> Conflict, and the simulator reverses the payment', async () => {
    // Without the lock methods Dojo records without a lockId (the no-lock flow), while the
    // order book holds a lock taken by another payment session.
    const flow = exampleFlow(EXAMPLE, url).filter((n) => !(n.type === 'pos-request-in' && /OrderLock/.test(n.method)));
    await helper.load(dojoNodes, flow, dojoCredentials('pos-sim-dojo'));
    await sim.waitForCapabilities(['GetOrderById', 'RecordOrderPayment', 'SearchOrders'], 5000);
    await new Promise((r) => setTimeout(r, 300));
    const flowContext = helper.getNode('d05a7ab1e000000d').context().flow;
    flowContext.set('dojoLocks', { 'order-14': { lockId: 'someone-else', expiry: new Date(Date.now() + 60_000).toISOString() } });
    const report = await sim.playPayAtTable({ orderId: 'order-14' });
    assert.equal(report.ok, false);
    const record = report.steps.find((s) => s.method === 'RecordOrderPaymentByIdV1');
    assert.ok(record, JSON.stringify(report.steps.map((s) => s.method)));
    assert.equal((record.response as Frame).error.errorType, 'Conflict');
    const paymentIntentId = (record.params as Frame).paymentIntentId;
    assert.deepEqual(report.reversed, [paymentIntentId]);
    assert.deepEqual(sim.tableLedger.filter((e) => e.kind === 'reversal').map((e) => e.paymentIntentId), [paymentIntentId]);
    for (const step of report.steps) assertValidAnswer(step.method, step.response as Frame);
    // Nothing was recorded on the order.
    const order = await sim.call('GetOrderByIdV1', { orderId: 'order-14' });
    assert.equal(order.response!.result.paidAmount.value, 0);
  });

  describe('with a small test flow', () => {
    // Flow nodes need z, x and y, or Node-RED takes them for config nodes.
    const at = (y: number) => ({ z: 'tab', x: 100, y });
    const flow = (extra: Array<Record<string, unknown>> = [], requestIn: Record<string, unknown> = {}) => [
      { id: 'tab', type: 'tab', label: 'test' },
      dojoConfig(url),
      { id: 'in', ...at(100), type: 'pos-request-in', provider: 'dojo', dojo: 'cfg', method: 'GetOrderByIdV1', timeout: 5, wires: [['fn']], ...requestIn },
      {
        id: 'fn', type: 'function', ...at(140), name: 'answer after a random delay, count runs',
        func: `
          const runs = (flow.get('runs') || 0) + 1; flow.set('runs', runs);
          const id = msg.payload.orderId;
          if (id === 'bad-shape') { msg.payload = { id, status: 'Accepted' }; return msg; }   // no details: invalid
          if (id === 'throw-conflict') { msg.error = { type: 'Conflict', message: 'locked' }; return msg; }
          if (id === 'silent') return null;
          const order = { id, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: 't-' + id } } };
          const delay = Number(id.split('-')[1] || 0) % 5 === 0 ? 30 + Math.random() * 60 : 0;
          setTimeout(() => { msg.payload = order; node.send(msg); }, delay);
          return null;`,
        outputs: 1, wires: [['out']],
      },
      { id: 'out', type: 'pos-response', ...at(180), wires: [] },
      ...extra,
    ];

    async function load(extra: Array<Record<string, unknown>> = [], requestIn: Record<string, unknown> = {}) {
      await helper.load(dojoNodes, flow(extra, requestIn), dojoCredentials());
      await sim.waitForCapabilities(['GetOrderById'], 5000);
    }

    it('200 concurrent requests with some slow answers: each answered once, with its own id', async () => {
      await load();
      const calls = await Promise.all(Array.from({ length: 200 }, (_, i) => sim.call('GetOrderByIdV1', { orderId: `o-${i}` }, { timeoutMs: 10000 })));
      const ids = new Set<string>();
      calls.forEach((c, i) => {
        assert.ok(c.response, `request ${i} was not answered`);
        assert.equal(c.response!.id, c.id);
        assert.equal(c.response!.result.id, `o-${i}`);
        ids.add(c.id);
      });
      assert.equal(ids.size, 200);
      assert.equal(helper.getNode('fn').context().flow.get('runs'), 200);
      const answers = sim.received.filter((f: Frame) => ids.has(f.id));
      assert.equal(answers.length, 200, 'no request answered twice');
    });

    it('a request id replayed after a reconnect runs the flow once and gets the same answer again', async () => {
      await load();
      const replay = await sim.replayAfterReconnect('GetOrderByIdV1', { orderId: 'o-5' });
      assert.ok(replay.second.result, JSON.stringify(replay.second));
      assert.equal(replay.second.id, replay.id);
      assert.equal(replay.second.result.id, 'o-5');
      if (replay.first) assert.deepEqual(replay.first.result, replay.second.result);
      assert.equal(helper.getNode('fn').context().flow.get('runs'), 1);
      assert.ok(sim.connectionCount >= 2);
    });

    it('msg.error answers in Dojo\'s error shape; a wrong answer is reported to Catch and sent as UnexpectedError', async () => {
      await load([{ id: 'catch', type: 'catch', ...at(220), scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper', ...at(260) }]);
      const caught = collect('caught');
      const conflict = await sim.call('GetOrderByIdV1', { orderId: 'throw-conflict' });
      assert.deepEqual(Object.keys(conflict.response!.error).sort().filter((k) => k !== 'traceId'), ['debugMessage', 'errorType']);
      assert.equal(conflict.response!.error.errorType, 'Conflict');
      assert.equal(conflict.response!.error.debugMessage, 'locked');
      const bad = await sim.call('GetOrderByIdV1', { orderId: 'bad-shape' });
      assert.equal(bad.response!.error.errorType, 'UnexpectedError');
      assert.match(bad.response!.error.debugMessage, /details/);
      await until(() => caught.length === 1, 'the Catch node');
      assert.match(String(caught[0]!.error.message), /GetOrderByIdV1.*details/);
    });

    it('a request no flow answers within the node\'s timeout gets UnexpectedError; the connection stays up', async () => {
      await load([], { timeout: 1 });
      const started = Date.now();
      const silent = await sim.call('GetOrderByIdV1', { orderId: 'silent' }, { timeoutMs: 5000 });
      assert.equal(silent.response!.error.errorType, 'UnexpectedError');
      assert.match(silent.response!.error.debugMessage, /within 1 s/);
      assert.ok(Date.now() - started >= 900);
      const next = await sim.call('GetOrderByIdV1', { orderId: 'o-1' });
      assert.equal(next.response!.result.id, 'o-1');
    });

    it('malformed frames from Dojo are answered or logged, and the connection keeps serving', async () => {
      await load();
      const before = sim.connectionCount;
      sim.faults.malformedFrames = true;
      const after = await sim.call('GetOrderByIdV1', { orderId: 'o-2' });
      assert.equal(after.response!.result.id, 'o-2');
      const errorAnswers = sim.received.filter((f: Frame) => f.error);
      assert.ok(errorAnswers.length >= 1, 'the bad frames that carry an id got an error answer');
      for (const f of errorAnswers) {
        assert.equal(typeof f.error.errorType, 'string', `error in Dojo's shape: ${JSON.stringify(f)}`);
        assert.equal(f.error.code, undefined);
      }
      assert.equal(sim.connectionCount, before, 'no reconnect');
      assert.equal(helper.getNode('fn').context().flow.get('runs'), 1, 'bad frames never reached the flow');
    });

    it('a redeploy that adds a method re-registers the full capability list', async () => {
      await load();
      assert.deepEqual(sim.registeredCapabilities(), ['GetOrderById']);
      await helper.unload();
      await load([{ id: 'in2', type: 'pos-request-in', ...at(300), provider: 'dojo', dojo: 'cfg', method: 'RecordOrderPaymentByIdV1', wires: [['out']] }]);
      await sim.waitForCapabilities(['GetOrderById', 'RecordOrderPayment'], 5000);
      assert.deepEqual([...sim.registeredCapabilities()].sort(), ['GetOrderById', 'RecordOrderPayment']);
    });

    it('two nodes for one method: the second says why under it and in the log', async () => {
      await load([{ id: 'in2', type: 'pos-request-in', ...at(300), provider: 'dojo', dojo: 'cfg', method: 'GetOrderByIdV1', wires: [['out']] }]);
      const logged = (helper.log().args as Array<[{ id?: string; msg?: unknown }]>).filter(([entry]) => entry.id === 'in2').map(([entry]) => String(entry.msg));
      assert.ok(logged.some((m) => /already answered by another request-in node/.test(m)), logged.join('\n'));
      // The first node still serves.
      const answer = await sim.call('GetOrderByIdV1', { orderId: 'o-3' });
      assert.equal(answer.response!.result.id, 'o-3');
    });
  });
});
