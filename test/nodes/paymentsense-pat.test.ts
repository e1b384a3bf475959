// Paymentsense pay at table through the real nodes and the simulator's terminal: the example
// flow as it ships (a full table walk with split payments), the status of request-in nodes,
// displacement, a flow slower than the answer limit, answers that fail their schema, and pay
// at table switched off.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { PAT_METHODS } from '../../lib/providers/paymentsense/pat-wire';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { needsTool } from '../support/needs-tool';
import { postgresTool, startPostgres, type PostgresServer } from '../support/postgres';
import { TOKEN, collect, configNode, errors, helper, processListeners, until, type Msg } from './harness';
import { trackResources } from '../support/resources-left';

const EXAMPLE = '13 Paymentsense pay at table.json';

const patNodes = [
  require('../../nodes/pos-paymentsense.js'),
  require('../../nodes/pos-request-in.js'),
  require('../../nodes/pos-response.js'),
  require('../../nodes/pos-pay.js'),
  require('../../nodes/pos-notification-in.js'),
  require('../../nodes/pos-journal.js'),
  require('@node-red/nodes/core/common/20-inject.js'),
  require('@node-red/nodes/core/common/21-debug.js'),
  require('@node-red/nodes/core/common/25-catch.js'),
  require('@node-red/nodes/core/common/90-comment.js'),
  require('@node-red/nodes/core/function/10-function.js'),
  require('@node-red/nodes/core/function/10-switch.js'),
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The example as it ships, its connection pointed at the test simulator. */
function exampleFlow(url: string): Array<Record<string, any>> {
  const flow = require(`../../../examples/${EXAMPLE}`) as Array<Record<string, any>>;
  return flow.map((n) => (n.type === 'pos-paymentsense' ? { ...n, ...configNode(url), id: n.id, payAtTable: n.payAtTable, finalPosReceipt: n.finalPosReceipt } : { ...n }));
}

/** Every status a node has shown since the flow was loaded, read live from the helper's spy on the Node prototype. */
function statuses(id: string): Array<{ fill?: string; text?: string }> {
  const node = helper.getNode(id);
  const calls = (): Array<{ fill?: string; text?: string }> => node.status.getCalls().filter((c: { thisValue: unknown }) => c.thisValue === node).map((c: { args: any[] }) => c.args[0]);
  return new Proxy([], { get: (_t, key) => Reflect.get(calls(), key) });
}

/**
 * The last status text a node showed. The test runtime has no locale catalog, so connection
 * states read as their keys (pos.status.connected): those are shortened to the word.
 */
function lastStatus(list: Array<{ text?: string }>): string {
  return list.length ? String(list[list.length - 1]!.text).replace(/pos\.status\./g, '') : '';
}

describe('Paymentsense pay at table (nodes)', function () {
  this.timeout(30000);
  let sim: PaymentsenseSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new PaymentsenseSimulator({ token: TOKEN, stepDelayMs: 20, pingIntervalMs: 60_000, patWalk: { firstMs: 0, replyTimeoutMs: 3000 } });
    ({ url } = await sim.start());
  });
  afterEach(async () => { await helper.unload(); await sim.stop(); });

  it('the example flow as it ships: list, lock, bill, two payments, final receipt, unlock; the order book records the split payments', async () => {
    const flow = exampleFlow(url);
    const cfgId = flow.find((n) => n.type === 'pos-paymentsense')!.id as string;
    await helper.load(patNodes, flow, { [cfgId]: { token: TOKEN } });
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    // The inject fills the tables 0.1 s after the start.
    await sleep(300);
    const report = await sim.walkTables({ payments: 2 });
    assert.equal(report.ok, true, report.message);
    assert.deepEqual(report.steps.map((s) => s.method), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'transactionResponse', 'finalPOSReceiptRequest', 'tableUnlock']);
    assert.deepEqual(report.steps[0]!.result, { tables: ['T12', 'T14', 'T15'], currency: 'GBP' });
    // T12: 2 x 9.50 + 2 x 3.25 = 25.50, split 12.75 + 12.75.
    assert.deepEqual(report.steps[1]!.result, { confirmed: true, amount: 2550, currency: 'GBP' });
    const bill = (report.steps[2]!.result as { receiptLines: Array<{ type: string; value?: string }> }).receiptLines;
    assert.ok(bill.some((l) => l.type === 'TEXT' && /2 x Margherita\s+19\.00/.test(l.value ?? '')), JSON.stringify(bill));
    assert.deepEqual(sim.tableLedger.map((p) => [p.tableId, p.amount]), [['T12', 1275], ['T12', 1275]]);
    const final = (report.steps[4]!.result as { receiptLines: Array<{ value?: string }> }).receiptLines.map((l) => l.value ?? '');
    assert.ok(final.some((v) => /Left to pay\s+0\.00/.test(v)), final.join('\n'));
    const tables = helper.getNode('d13a7ab1e0000023').context().flow.get('patTables');
    assert.equal(tables.T12.paid, 2550);
    assert.equal(tables.T12.locked, false);
    assert.equal(tables.T12.payments.length, 2);
    // Paid in full: the next walk finds T12 gone from the list.
    const next = await sim.walkTables({ payments: 1 });
    assert.equal(next.ok, true, next.message);
    assert.equal(next.tableId, 'T14');
    // A lock the flow granted after the terminal gave up is undone by the example (event pat_late_answer).
    const flowContext = helper.getNode('d13a7ab1e0000023').context().flow;
    const book = flowContext.get('patTables');
    book.T15.locked = true;
    flowContext.set('patTables', book);
    helper.getNode('d13a7ab1e0000081').receive({ topic: 'pat_late_answer', payload: { provider: 'paymentsense', event: 'pat_late_answer', data: { method: 'tableLockRequest', tableId: 'T15', answer: { confirmed: true, amount: 4185, currency: 'GBP' } } } });
    await until(() => flowContext.get('patTables').T15.locked === false, 'the late lock undone');
    // Every request-in node says the tables are connected.
    for (const n of flow.filter((x) => x.type === 'pos-request-in')) assert.equal(lastStatus(statuses(n.id)), 'tables: connected', n.method);
  });

  describe('with helper nodes as the flow', () => {
    /** One request-in per method (or one `*`), all wired to a helper node that the test answers from. */
    const flow = (extra: Record<string, unknown> = {}, methods: readonly string[] = PAT_METHODS) => [
      configNode(url, { payAtTable: true, ...extra }),
      ...methods.map((m, i) => ({ id: `in${i}`, type: 'pos-request-in', provider: 'paymentsense', paymentsense: 'cfg', method: m, timeout: 10, wires: [['flow']] })),
      { id: 'flow', type: 'helper' },
      { id: 'resp', type: 'pos-response' },
      { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', wires: [['result'], ['progress']] },
      { id: 'events', type: 'pos-notification-in', provider: 'paymentsense', paymentsense: 'cfg', wires: [['events-out']] },
      { id: 'result', type: 'helper' }, { id: 'progress', type: 'helper' }, { id: 'events-out', type: 'helper' },
    ];
    const credentials = { cfg: { token: TOKEN } };

    /** Answers every request from a tiny order book, after `delayMs`. */
    function serve(answer: (msg: Msg) => unknown = defaultAnswer, delay = { ms: 0 }) {
      const seen: Msg[] = [];
      helper.getNode('flow').on('input', (msg: Msg) => {
        seen.push(msg);
        const payload = answer(msg);
        if (payload === undefined) return;
        setTimeout(() => helper.getNode('resp').receive({ ...msg, payload }), delay.ms);
      });
      return seen;
    }
    function defaultAnswer(msg: Msg): unknown {
      switch (msg.method) {
        case 'tableListRequest': return { tables: ['A1'], currency: 'GBP' };
        case 'tableLockRequest': return { confirmed: true, amount: 3001, currency: 'GBP' };
        case 'posReceiptRequest':
        case 'finalPOSReceiptRequest': return { receiptLines: [{ type: 'TEXT', value: 'A1' }] };
        default: return undefined; // transactionResponse, tableUnlock: no response node needed
      }
    }

    it('request-in nodes show "tables: connected" while pay nodes show /pac; messages without an answer come without requestId', async () => {
      await helper.load(patNodes, flow(), credentials);
      const inStatus = statuses('in0');
      const payStatus = statuses('pay');
      const seen = serve();
      await until(() => lastStatus(inStatus) === 'tables: connected', `"tables: connected" (got ${lastStatus(inStatus)})`);
      await until(() => lastStatus(payStatus) === 'connected', 'the pay node connected');
      const report = await sim.walkTables({ payments: 2 });
      assert.equal(report.ok, true, report.message);
      assert.deepEqual(seen.map((m) => m.method), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'transactionResponse', 'tableUnlock']);
      for (const m of seen) {
        assert.equal(m.provider, 'paymentsense');
        assert.equal(typeof m._posRequest, 'string');
        const noAnswer = m.method === 'transactionResponse' || m.method === 'tableUnlock';
        assert.equal('requestId' in m, !noAnswer, `${m.method}: requestId ${noAnswer ? 'absent' : 'present'}`);
      }
      const tx = seen[3]!.payload;
      assert.equal(tx.tableId, 'A1');
      assert.equal(tx.amountPaid, 3001);
      assert.deepEqual(tx.payments.map((p: any) => p.amount), [1501, 1500]);
      assert.deepEqual(sim.tableLedger.map((p) => p.amount), [1501, 1500]);
      // The pack acknowledged for the flow (about 1 s each): the terminal got an answer.
      assert.deepEqual(report.steps.slice(3).map((s) => s.result), [{}, {}]);
    });

    it('one request-in with * serves every method', async () => {
      await helper.load(patNodes, flow({ finalPosReceipt: true }, ['*']), credentials);
      const seen = serve();
      await until(() => sim.patConnectionCount === 1, 'the /pat connection');
      const report = await sim.walkTables();
      assert.equal(report.ok, true, report.message);
      assert.deepEqual(seen.map((m) => m.method), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'transactionResponse', 'finalPOSReceiptRequest', 'tableUnlock']);
    });

    it('displacement by a second PAT client: request-in nodes say so, nothing reconnects, pay at counter stays connected', async () => {
      await helper.load(patNodes, flow(), credentials);
      const inStatus = statuses('in0');
      const payStatus = statuses('pay');
      await until(() => lastStatus(inStatus) === 'tables: connected', 'tables connected');
      const attempts = sim.connectionAttempts;
      const other = new WebSocket(`${url}/pat?token=${TOKEN}&api-version=v1&software-house-id=SH01&installer-id=IN01`);
      other.on('error', () => undefined);
      await until(() => /^tables: displaced/.test(lastStatus(inStatus)), `displaced status (got ${lastStatus(inStatus)})`);
      assert.equal(inStatus[inStatus.length - 1]!.fill, 'red');
      await sleep(1500);
      assert.equal(sim.connectionAttempts - attempts, 1, 'only the other client connected: no reconnect storm');
      assert.equal(helper.getNode('cfg').connection.provider.state.name, 'connected', 'pay at counter is untouched');
      assert.equal(lastStatus(payStatus), 'connected');
      other.close();
      // The token travels in the /pat URL too: it shows nowhere.
      const logged = JSON.stringify(helper.log().args);
      assert.match(logged, /Connection Discontinued/, 'the displacement was logged');
      assert.ok(!logged.includes(TOKEN), 'no token in the log');
      assert.ok(!JSON.stringify(Array.from({ length: inStatus.length }, (_, i) => inStatus[i])).includes(TOKEN), 'no token in a status');
    });

    it('a flow slower than the answer limit: the terminal hears an error in time and the status says "flow too slow"', async () => {
      await helper.load(patNodes, flow({ patAnswerLimit: 0.3 }), credentials);
      const inStatus = statuses('in0');
      const delay = { ms: 800 };
      serve(defaultAnswer, delay);
      await until(() => lastStatus(inStatus) === 'tables: connected', 'tables connected');
      const started = Date.now();
      const report = await sim.walkTables();
      assert.equal(report.ok, false);
      assert.match(report.steps[0]!.failure ?? '', /did not answer tableListRequest in time/);
      assert.ok(Date.now() - started < 800, 'the terminal was answered at the limit, not when the flow finished');
      await until(() => /too slow/.test(lastStatus(inStatus)), `the slow status (got ${lastStatus(inStatus)})`);
      assert.equal(lastStatus(inStatus), 'tables: too slow for tableListRequest');
      assert.equal(sim.tableLedger.length, 0);
      // A flow that answers in time again clears it.
      await sleep(900);
      delay.ms = 0;
      assert.equal((await sim.walkTables()).ok, true);
      await until(() => lastStatus(inStatus) === 'tables: connected', 'the status back to connected');
    });

    it('an answer that fails its schema reaches Catch as bad_input and the terminal gets an error, not the answer', async () => {
      await helper.load(patNodes, flow(), credentials);
      const caught = errors('resp');
      serve((msg) => (msg.method === 'tableLockRequest' ? { confirmed: true, amount: 12.5, currency: 'GBP' } : defaultAnswer(msg)));
      await until(() => sim.patConnectionCount === 1, 'the /pat connection');
      const report = await sim.walkTables();
      assert.equal(report.ok, false);
      assert.equal(report.steps[1]!.result, undefined);
      assert.ok(report.steps[1]!.failure, 'the terminal heard an error');
      await until(() => caught.length === 1, 'the error on the response node');
      assert.match(caught[0]!, /tableLockRequest is not valid for paymentsense: \/amount must be integer/);
      assert.equal(sim.tableLedger.length, 0);
    });

    it('a flow error answer (msg.error) goes to the terminal as an error; terminal errorMessages reach notification-in as pat_error', async () => {
      await helper.load(patNodes, flow(), credentials);
      const events = collect('events-out');
      helper.getNode('flow').on('input', (msg: Msg) => {
        if (msg.method === 'tableListRequest') helper.getNode('resp').receive({ ...msg, error: { type: 'TABLE_NOT_FOUND', message: 'the book is closed' } });
      });
      await until(() => sim.patConnectionCount === 1, 'the /pat connection');
      sim.setFault('errorMessages', true);
      const report = await sim.walkTables();
      assert.equal(report.ok, false);
      assert.match(report.steps[0]!.failure ?? '', /the book is closed/);
      await until(() => events.some((e) => e.topic === 'pat_error'), 'pat_error');
      const e = events.find((x) => x.topic === 'pat_error')!;
      assert.equal(e.payload.provider, 'paymentsense');
      assert.equal(e.payload.data.code, 'TERMINAL_PAPER_LOW');
    });

    it('redeploying 20 times with pay at table leaves no extra timers, sockets or listeners, and one /pat client at a time', async () => {
      const loadOnce = async (i: number) => {
        await helper.load(patNodes, flow(), credentials);
        await until(() => sim.patConnectionCount === 1 && helper.getNode('cfg').connection.provider.requests.state.name === 'connected', `the /pat connection ${i}`);
        assert.equal(sim.patConnectionCount, 1);
      };
      // One warm-up so Node-RED's own one-off resources are not counted.
      await loadOnce(-1);
      await helper.unload();
      await until(() => sim.patConnectionCount === 0 && sim.connectionCount === 0, 'the warm-up sockets to close');
      const tracker = trackResources();
      const listenersBefore = processListeners();
      let slowest = 0;
      for (let i = 0; i < 20; i++) {
        await loadOnce(i);
        const t0 = Date.now();
        await helper.unload();
        slowest = Math.max(slowest, Date.now() - t0);
      }
      await until(() => sim.patConnectionCount === 0 && sim.connectionCount === 0, 'every socket to close');
      await sleep(50);
      const left = await tracker.left();
      tracker.stop();
      assert.ok(slowest < 2000, `a close took ${slowest} ms`);
      assert.deepEqual(left, {}, 'timers and sockets made by the redeploys and still open');
      assert.equal(processListeners(), listenersBefore, 'process listeners');
      // Each deploy: one /pac and one /pat; no displacement, so no retries.
      assert.equal(sim.connectionAttempts, 42);
    });

    it('pay at table off: a request-in for a PAT method says so, and nothing connects', async () => {
      await helper.load(patNodes, [
        configNode(url),
        { id: 'in0', type: 'pos-request-in', provider: 'paymentsense', paymentsense: 'cfg', method: 'tableListRequest', wires: [['flow']] },
        { id: 'flow', type: 'helper' },
      ], credentials);
      const node = helper.getNode('in0');
      await sleep(500);
      assert.equal(sim.patConnectionCount, 0);
      assert.equal(sim.connectionCount, 0);
      assert.equal(sim.connectionAttempts, 0, 'nothing was even attempted');
      // Both were said during load: the helper's spies (on the Node prototype) remember them.
      const own = (calls: Array<{ thisValue: unknown; args: any[] }>) => calls.filter((c) => c.thisValue === node).map((c) => c.args[0]);
      const shown = own(node.status.getCalls());
      const last = shown[shown.length - 1];
      assert.equal(last?.fill, 'red');
      assert.match(String(last?.text), /pay at table is off|pos\.status\.failed/);
      assert.equal(own(node.error.getCalls()).filter((m) => /tick "Pay at table"/.test(String(m))).length, 1, 'the reason is logged once');
    });
  });

  describe('on a shared PostgreSQL journal', () => {
    let pg: PostgresServer;
    before(async function () {
      needsTool(this, postgresTool());
      this.timeout(120000);
      pg = await startPostgres();
    });
    after(async function () {
      this.timeout(60000);
      await pg?.stop();
    });

    it('/pat waits for the lease (tables: standby, then connected) while pay at counter connects at once', async () => {
      await helper.load(patNodes, [
        { id: 'j', type: 'pos-journal', name: 'shared', store: 'postgres', table: 'pat_nodes', leaseSeconds: 2 },
        configNode(url, { payAtTable: true, journal: 'j' }),
        { id: 'in0', type: 'pos-request-in', provider: 'paymentsense', paymentsense: 'cfg', method: '*', wires: [['flow']] },
        { id: 'flow', type: 'helper' },
        { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', wires: [['result'], ['progress']] },
        { id: 'result', type: 'helper' }, { id: 'progress', type: 'helper' },
      ], { cfg: { token: TOKEN }, j: { connectionString: pg.url } });
      const inStatus = statuses('in0');
      await until(() => lastStatus(inStatus) === 'tables: connected', `tables connected (got ${lastStatus(inStatus)})`, 15000);
      const texts = Array.from({ length: inStatus.length }, (_, i) => String(inStatus[i]!.text).replace(/pos\.status\./g, ''));
      assert.ok(texts.includes('tables: standby'), `the lease was waited for: ${texts.join(' | ')}`);
      assert.equal(sim.patConnectionCount, 1);
      assert.equal(sim.connectionCount, 1, 'pay at counter connected too');
      assert.equal(helper.getNode('cfg').connection.provider.state.name, 'connected');
    });
  });
});
