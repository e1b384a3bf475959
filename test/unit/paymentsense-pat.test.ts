// Paymentsense pay at table without Node-RED: the PatServer against the simulator's terminal,
// plus the tolerant vocabulary and the lease that decides which instance holds /pat.

import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import type { InboundRequest } from '../../lib/core/inbound';
import { LeasedConnection, type Runnable } from '../../lib/core/leased-connection';
import type { ConnectionLease } from '../../lib/core/leased-provider';
import type { ConnectionState, NotificationEvent } from '../../lib/core/types';
import { PAT_OFF, PatServer, patUrl } from '../../lib/providers/paymentsense/pat';
import { checkPatAnswer } from '../../lib/providers/paymentsense/pat-schemas';
import { PAT_METHODS, normaliseTransaction, patMethodOf, tableIdOf } from '../../lib/providers/paymentsense/pat-wire';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../../lib/simulators/paymentsense';
import { until } from '../support/until';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Table { amount: number; paid: number; locked: boolean }

/** A flow in a function: an order book that answers the six methods the way example 13 does. */
function orderBook(tables: Record<string, Table>) {
  const seen: InboundRequest[] = [];
  const payments: Array<Record<string, unknown>> = [];
  let delayMs = 0;
  const handler = async (req: InboundRequest): Promise<unknown> => {
    seen.push(req);
    if (delayMs) await sleep(delayMs);
    const p = req.params as Record<string, any>;
    const table = tables[p.tableId];
    switch (req.method) {
      case 'tableListRequest':
        return { tables: Object.keys(tables).filter((id) => !tables[id]!.locked && tables[id]!.paid < tables[id]!.amount), currency: 'GBP' };
      case 'tableLockRequest':
        if (!table || table.locked) return { confirmed: false, message: `table ${p.tableId} cannot be locked` };
        table.locked = true;
        return { confirmed: true, amount: table.amount - table.paid, currency: 'GBP' };
      case 'posReceiptRequest':
      case 'finalPOSReceiptRequest':
        return { receiptLines: [{ type: 'TEXT', value: `Table ${p.tableId}`, format: ['BOLD'] }, { type: 'LINE_SEPARATOR_SINGLE' }] };
      case 'transactionResponse':
        for (const pay of p.payments) { payments.push(pay); if (table) table.paid += pay.amount; }
        return {};
      case 'tableUnlock':
        if (table) table.locked = false;
        return {};
      default:
        throw new Error(`unexpected ${req.method}`);
    }
  };
  return { handler, seen, payments, slow: (ms: number) => { delayMs = ms; } };
}

describe('Paymentsense pay at table: vocabulary', () => {
  it('recognises the yetipay names and plausible spellings, and nothing else', () => {
    for (const m of PAT_METHODS) assert.equal(patMethodOf(m), m);
    assert.equal(patMethodOf('TableListRequest'), 'tableListRequest');
    assert.equal(patMethodOf('table_lock'), 'tableLockRequest');
    assert.equal(patMethodOf('finalPosReceiptRequest'), 'finalPOSReceiptRequest');
    assert.equal(patMethodOf('TRANSACTION_RESPONSE'), 'transactionResponse');
    assert.equal(patMethodOf('unlockTable'), 'tableUnlock');
    assert.equal(patMethodOf('errorMessage'), 'errorMessage');
    assert.equal(patMethodOf('sale'), undefined);
    assert.equal(patMethodOf('constructor'), undefined, 'no reach into Object.prototype');
    assert.equal(patMethodOf('toString', {}), undefined);
    assert.equal(patMethodOf('getTables', { getTables: 'tableListRequest' }), 'tableListRequest');
  });

  it('finds the table id in the fields a terminal plausibly uses', () => {
    assert.equal(tableIdOf({ tableId: 'T1' }), 'T1');
    assert.equal(tableIdOf({ tableName: 'Patio 2' }), 'Patio 2');
    assert.equal(tableIdOf({ table_id: 12 }), '12');
    assert.equal(tableIdOf({ table: { id: 'T9' } }), 'T9');
    assert.equal(tableIdOf({ nothing: 1 }), undefined);
  });

  it('normalises a transactionResponse: payments in minor units, total from the payments when missing, the frame in raw', () => {
    const frame = { tableName: 'T4', currency: 'GBP', transactions: [{ amountTotal: 1200, cardSchemeName: 'VISA', authCode: '12' }, { amount: 800 }] };
    const t = normaliseTransaction(frame);
    assert.equal(t.tableId, 'T4');
    assert.equal(t.amountPaid, 2000);
    assert.deepEqual(t.payments.map((p) => [p.amount, p.currency, p.cardScheme]), [[1200, 'GBP', 'VISA'], [800, 'GBP', undefined]]);
    assert.equal(t.raw, frame);
  });

  it('checks the flow\'s answers: money in integer minor units of a real currency, open receipt line types', () => {
    assert.equal(checkPatAnswer('tableListRequest', { tables: [] }), undefined);
    assert.match(checkPatAnswer('tableListRequest', { tables: ['T1'] }) ?? '', /currency/);
    assert.equal(checkPatAnswer('tableLockRequest', { confirmed: false }), undefined);
    assert.match(checkPatAnswer('tableLockRequest', { confirmed: true, currency: 'GBP' }) ?? '', /amount/);
    assert.match(checkPatAnswer('tableLockRequest', { confirmed: true, amount: 12.5, currency: 'GBP' }) ?? '', /integer/);
    assert.match(checkPatAnswer('tableLockRequest', { confirmed: true, amount: 100, currency: 'ZZZ' }) ?? '', /ISO 4217/);
    assert.equal(checkPatAnswer('posReceiptRequest', { receiptLines: [{ type: 'BARCODE_SOMETHING_NEW', value: '1' }] }), undefined);
    assert.match(checkPatAnswer('posReceiptRequest', { receiptLines: [{ value: 'no type' }] }) ?? '', /type/);
  });

  it('adds the final-pos-receipt-request flag without a value, and keeps the token out of nothing but the query', () => {
    const e = { environment: 'custom' as const, url: 'ws://127.0.0.1:9', token: 't0k', softwareHouseId: 'SH', installerId: 'IN' };
    assert.match(patUrl(e, true), /^ws:\/\/127\.0\.0\.1:9\/pat\?token=t0k&api-version=v1&software-house-id=SH&installer-id=IN&final-pos-receipt-request$/);
    assert.doesNotMatch(patUrl(e, false), /final/);
  });

  it('with pay at table off, every PAT method is known and none can be served', () => {
    assert.deepEqual([...PAT_OFF.methods], [...PAT_METHODS]);
    assert.match(PAT_OFF.unavailable ?? '', /pay at table is off/);
  });
});

describe('Paymentsense pay at table: PatServer and the simulated terminal', function () {
  this.timeout(20000);
  let sim: PaymentsenseSimulator;
  let base: string;
  const servers: PatServer[] = [];
  const open = (extra: Partial<ConstructorParameters<typeof PatServer>[0]> = {}) => {
    const s = new PatServer({ environment: 'custom', url: base, token: SIMULATOR_TOKEN, softwareHouseId: 'SH', installerId: 'IN', backoff: { initialMs: 50, maxMs: 200 }, ...extra });
    servers.push(s);
    return s;
  };

  beforeEach(async () => {
    sim = new PaymentsenseSimulator({ stepDelayMs: 0, pingIntervalMs: 60_000, patWalk: { firstMs: 0, replyTimeoutMs: 2000 } });
    base = (await sim.start()).url;
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await sim.stop();
  });

  it('a full table walk with two payments: the flow sees every step, the final receipt comes with the flag, the ledger has both payments', async () => {
    const book = orderBook({ T1: { amount: 2501, paid: 0, locked: false }, T2: { amount: 900, paid: 0, locked: false } });
    const server = open({ finalPosReceipt: true });
    server.serve(new Set(PAT_METHODS), book.handler);
    server.start();
    await until(() => server.state.name === 'connected' && sim.patConnectionCount === 1, 'the /pat connection');
    const report = await sim.walkTables({ payments: 2 });
    assert.equal(report.ok, true, report.message);
    assert.deepEqual(book.seen.map((r) => r.method), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'transactionResponse', 'finalPOSReceiptRequest', 'tableUnlock']);
    assert.deepEqual(sim.tableLedger.map((p) => [p.tableId, p.amount, p.currency]), [['T1', 1251, 'GBP'], ['T1', 1250, 'GBP']]);
    assert.deepEqual(book.payments.map((p) => p.amount), [1251, 1250]);
    const tx = book.seen[3]!;
    assert.equal(tx.expectsAnswer, false);
    assert.equal((tx.params as any).amountPaid, 2501);
    assert.equal((tx.params as any).tableId, 'T1');
    assert.ok((tx.params as any).raw, 'the terminal\'s own frame rides along');
    assert.equal(book.seen[5]!.expectsAnswer, false);
    assert.equal(book.seen[0]!.expectsAnswer, true);
    // Paid in full: T1 is no longer offered, so the next walk takes T2 in one payment.
    const next = await sim.walkTables({ payments: 1 });
    assert.equal(next.tableId, 'T2');
    assert.equal(sim.tableLedger.length, 3);
  });

  it('without the flag the terminal asks for no final receipt', async () => {
    const book = orderBook({ T1: { amount: 500, paid: 0, locked: false } });
    const server = open();
    server.serve(new Set(PAT_METHODS), book.handler);
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    assert.equal((await sim.walkTables()).ok, true);
    assert.ok(!book.seen.some((r) => r.method === 'finalPOSReceiptRequest'));
  });

  it('a flow slower than the answer limit: the terminal gets an error in time, the status says too slow, a later answer in time clears it', async () => {
    const book = orderBook({ T1: { amount: 500, paid: 0, locked: false } });
    const server = open({ answerLimitMs: 150 });
    const events: NotificationEvent[] = [];
    server.onNotification((e) => events.push(e));
    server.serve(new Set(PAT_METHODS), book.handler);
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    book.slow(400);
    const started = Date.now();
    const report = await sim.walkTables();
    assert.equal(report.ok, false);
    assert.match(report.steps[0]!.failure ?? '', /did not answer tableListRequest in time/);
    assert.ok(Date.now() - started < 1500, 'the terminal heard back within the limit, not when the flow finished');
    assert.deepEqual(server.status.slow, { method: 'tableListRequest', limitMs: 150 });
    // The flow's answer, when it comes, is not sent but reported, so a flow can undo what it did.
    await until(() => events.some((e) => e.event === 'pat_late_answer'), 'pat_late_answer');
    assert.deepEqual(events.find((e) => e.event === 'pat_late_answer')!.data, { method: 'tableListRequest', answer: { tables: ['T1'], currency: 'GBP' } });
    book.slow(0);
    await sleep(100);
    assert.equal((await sim.walkTables()).ok, true);
    assert.equal(server.status.slow, undefined);
  });

  it('the terminal times out a reply slower than its own patience, then unlocks the table it had locked, and takes no payment', async () => {
    await sim.stop();
    sim = new PaymentsenseSimulator({ stepDelayMs: 0, pingIntervalMs: 60_000, patWalk: { firstMs: 0, replyTimeoutMs: 200 } });
    base = (await sim.start()).url;
    const book = orderBook({ T1: { amount: 900, paid: 0, locked: false } });
    const server = open({ answerLimitMs: 5000 });
    server.serve(new Set(PAT_METHODS), async (req) => {
      if (req.method === 'posReceiptRequest') await sleep(400);
      return book.handler(req);
    });
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    const report = await sim.walkTables();
    assert.equal(report.ok, false);
    assert.match(report.message, /^posReceiptRequest: no answer within 200 ms/);
    assert.deepEqual(report.steps.map((st) => st.method), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'tableUnlock']);
    await until(() => book.seen.some((r) => r.method === 'tableUnlock'), 'the unlock to reach the flow');
    assert.equal(sim.tableLedger.length, 0);
  });

  it('an answer that fails its schema is not sent: the terminal gets an error and the walk stops before any payment', async () => {
    const server = open();
    server.serve(new Set(PAT_METHODS), async (req) => (req.method === 'tableListRequest' ? { tables: ['T1'], currency: 'GBP' } : { confirmed: true, amount: '12.50', currency: 'GBP' }));
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    const report = await sim.walkTables();
    assert.equal(report.ok, false);
    assert.match(report.steps[1]!.failure ?? '', /not valid/);
    assert.equal(report.steps[1]!.result, undefined);
    assert.equal(sim.tableLedger.length, 0);
  });

  it('transactionResponse and tableUnlock are acknowledged for a flow that does not answer, within about 1 s', async () => {
    const server = open({ ackAfterMs: 200 });
    const book = orderBook({ T1: { amount: 700, paid: 0, locked: false } });
    server.serve(new Set(PAT_METHODS), (req) => (req.expectsAnswer === false ? new Promise(() => undefined) : book.handler(req)));
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    const report = await sim.walkTables();
    assert.equal(report.ok, true, report.message);
    assert.deepEqual(report.steps.filter((s) => s.method === 'transactionResponse' || s.method === 'tableUnlock').map((s) => s.result), [{}, {}]);
  });

  it('faults: lockRefused ends the walk without a payment; eposTooSlow times the EPoS out; errorMessages reach listeners as pat_error', async () => {
    const book = orderBook({ T1: { amount: 700, paid: 0, locked: false } });
    const server = open();
    const events: NotificationEvent[] = [];
    server.onNotification((e) => events.push(e));
    server.serve(new Set(PAT_METHODS), book.handler);
    server.start();
    await until(() => sim.patConnectionCount === 1, 'the /pat connection');
    sim.setFault('lockRefused', true);
    const refused = await sim.walkTables();
    assert.match(refused.message, /lock on NOT-LISTED-\d+ refused/);
    assert.equal(sim.tableLedger.length, 0);
    sim.setFault('lockRefused', false);
    sim.setFault('eposTooSlow', true);
    const slow = await sim.walkTables();
    assert.match(slow.message, /tableListRequest: no answer within 0 ms/);
    sim.setFault('eposTooSlow', false);
    sim.setFault('errorMessages', true);
    assert.equal((await sim.walkTables()).ok, true);
    await until(() => events.length > 0, 'the pat_error event');
    assert.equal(events[0]!.event, 'pat_error');
    assert.equal((events[0]!.data as any).code, 'TERMINAL_PAPER_LOW');
  });

  it('a newer PAT client displaces the older: it ends as displaced and does not reconnect', async () => {
    const first = open();
    first.start();
    await until(() => first.state.name === 'connected', 'the first client');
    const attemptsBefore = sim.connectionAttempts;
    const second = open();
    second.start();
    await until(() => first.state.name === 'displaced', 'the first client displaced');
    assert.match((first.state as { reason: string }).reason, /Connection Discontinued/);
    await until(() => second.state.name === 'connected', 'the second client');
    await sleep(800);
    assert.equal(sim.connectionAttempts - attemptsBefore, 1, 'only the second client connected: no reconnect storm');
    assert.equal(first.state.name, 'displaced');
    assert.equal(sim.patConnectionCount, 1);
  });

  it('the simulator\'s displacePat fault and a raw second client displace the EPoS the same way', async () => {
    const server = open();
    server.start();
    await until(() => server.state.name === 'connected', 'the client');
    sim.setFault('displacePat', true);
    await until(() => server.state.name === 'displaced', 'displaced by the fault');
    server.start();
    await until(() => server.state.name === 'connected', 'connected again after a restart');
    const raw = new WebSocket(`${base}/pat?token=${SIMULATOR_TOKEN}&api-version=v1&software-house-id=X&installer-id=Y`);
    await new Promise((r) => raw.once('open', r));
    await until(() => server.state.name === 'displaced', 'displaced by a raw client');
    raw.close();
  });

  it('walks on its own: first after firstMs, then every everyMs, only while a client is connected', async () => {
    await sim.stop();
    sim = new PaymentsenseSimulator({ stepDelayMs: 0, pingIntervalMs: 60_000, patWalk: { firstMs: 100, everyMs: 150, replyTimeoutMs: 1000 } });
    base = (await sim.start()).url;
    const book = orderBook({ T1: { amount: 1000, paid: 0, locked: false }, T2: { amount: 2000, paid: 0, locked: false }, T3: { amount: 3000, paid: 0, locked: false } });
    const server = open();
    server.serve(new Set(PAT_METHODS), book.handler);
    const connectedAt = Date.now();
    server.start();
    await until(() => sim.tableWalks.length >= 3, 'three walks', 3000);
    assert.ok(Date.now() - connectedAt >= 100 + 150 * 2, 'the walks keep their schedule');
    assert.deepEqual(sim.tableWalks.slice(0, 3).map((w) => [w.ok, w.tableId]), [[true, 'T1'], [true, 'T2'], [true, 'T3']]);
    await server.stop();
    await sleep(50);
    const after = sim.tableWalks.length;
    await sleep(400);
    assert.equal(sim.tableWalks.length, after, 'no walk without a client');
  });
});

describe('Paymentsense pay at table: a terminal that spells things its own way, or sends garbage', function () {
  this.timeout(10000);

  it('answers the plausible spellings, refuses what it cannot serve in JSON-RPC terms, and stays connected through garbage', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const terminal = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const seen: InboundRequest[] = [];
    const server = new PatServer({ environment: 'custom', url: `ws://127.0.0.1:${port}`, token: 'tok', softwareHouseId: 'SH', installerId: 'IN', heartbeatIntervalMs: 0 });
    server.serve(new Set(PAT_METHODS), async (req) => {
      seen.push(req);
      return req.method === 'tableListRequest' ? { tables: ['7'], currency: 'EUR' } : { confirmed: false, message: 'no' };
    });
    server.start();
    try {
      const ws = await terminal;
      const answers = new Map<unknown, Record<string, any>>();
      ws.on('message', (data) => { const f = JSON.parse(String(data)); answers.set(f.id, f); });
      const send = (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      send('{"jsonrpc": "2.0", "id": 1, this is not json');
      send([1, 2]);
      send({ jsonrpc: '2.0', id: 'a', method: 'TABLE_LIST_REQUEST', params: { waiterId: 'w1' } });
      send({ jsonrpc: '2.0', id: 'b', method: 'tableLock', params: { tableNumber: 7 } });
      send({ jsonrpc: '2.0', id: 'c', method: 'tableLockRequest', params: { nothing: true } });
      send({ jsonrpc: '2.0', id: 'd', method: 'settleEverything', params: {} });
      send({ jsonrpc: '2.0', method: 'tableLockRequest', params: { tableId: '7' } });
      send({ jsonrpc: '2.0', id: 'e', method: 'constructor', params: {} });
      await until(() => ['a', 'b', 'c', 'd', 'e'].every((id) => answers.has(id)), 'the answers');
      assert.deepEqual(answers.get('a')!.result, { tables: ['7'], currency: 'EUR' });
      assert.deepEqual(answers.get('b')!.result, { confirmed: false, message: 'no' });
      assert.equal(answers.get('c')!.error.code, -32602, 'a lock without a table: invalid params');
      assert.equal(answers.get('d')!.error.code, -32601);
      assert.equal(answers.get('e')!.error.code, -32601);
      // The flow saw the two it could serve, with the table id as a string and the waiter passed through.
      assert.deepEqual(seen.map((r) => [r.method, (r.params as any).tableId ?? null, (r.params as any).waiterId ?? null]), [['tableListRequest', null, 'w1'], ['tableLockRequest', '7', null]]);
      assert.equal(server.state.name, 'connected');
    } finally {
      await server.stop();
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('LeasedConnection (pay at table on a shared journal)', () => {
  class FakeLease implements ConnectionLease {
    holding = false;
    private listeners: Array<(h: boolean) => void> = [];
    stopped = false;
    onChange(l: (h: boolean) => void) { this.listeners.push(l); return () => { this.listeners = this.listeners.filter((x) => x !== l); }; }
    start() {}
    async stop() { this.stopped = true; }
    set(h: boolean) { this.holding = h; for (const l of this.listeners) l(h); }
  }
  class FakeSocket implements Runnable {
    state: ConnectionState = { name: 'idle' };
    starts = 0;
    stops = 0;
    private listeners: Array<(s: ConnectionState) => void> = [];
    start() { this.starts += 1; this.set({ name: 'connected' }); }
    async stop() { this.stops += 1; this.set({ name: 'closed' }); }
    onState(l: (s: ConnectionState) => void) { this.listeners.push(l); return () => undefined; }
    set(s: ConnectionState) { this.state = s; for (const l of this.listeners) l(s); }
  }
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  it('connects only while the lease is held, and frees the lease after closing', async () => {
    const lease = new FakeLease();
    const inner = new FakeSocket();
    const leased = new LeasedConnection(inner, async () => lease, quiet, 'test');
    const seen: string[] = [];
    const state = (): string => leased.state.name;
    leased.onState((s) => seen.push(s.name));
    leased.start();
    await sleep(10);
    assert.equal(state(), 'standby');
    assert.equal(inner.starts, 0);
    lease.set(true);
    await sleep(10);
    assert.equal(inner.starts, 1);
    assert.equal(state(), 'connected');
    lease.set(false);
    await sleep(10);
    assert.equal(inner.stops, 1);
    assert.equal(state(), 'standby');
    await leased.stop();
    assert.equal(lease.stopped, true);
    assert.equal(state(), 'closed');
    assert.deepEqual(seen.filter((s, i) => s !== seen[i - 1]), ['standby', 'connecting', 'connected', 'standby', 'closed']);
  });
});
