import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { checkParams } from '../../lib/providers/dojo/schemas';
import {
  CAPABILITY_NAMES, DojoSimulator, SIMULATOR_API_KEY, splitAmount, type DojoSimulatorOptions, type TableLedgerEntry,
} from '../../lib/simulators/dojo';

type Frame = Record<string, any>;
type Answer = { result: unknown } | { error: { errorType: string; debugMessage?: string } } | 'silent';

const SHID = 'SH-TEST-1';
const GOOD_HEADERS = { Authorization: `Basic ${SIMULATOR_API_KEY}`, 'software-house-id': SHID };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Order {
  id: string;
  status: string;
  details: Record<string, unknown>;
  totalAmount: { value: number; currencyCode: string };
  paidAmount: { value: number; currencyCode: string };
  tipsAmount?: { value: number; currencyCode: string };
  payments: Array<Record<string, unknown>>;
  payable: boolean;
}

function order(id: string, total: number, tableId: string, waiterId = 'w1'): Order {
  return {
    id, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId, waiterId } },
    totalAmount: { value: total, currencyCode: 'GBP' }, paidAmount: { value: 0, currencyCode: 'GBP' }, payments: [], payable: true,
  };
}

/**
 * A minimal EPOS: connects to /epos, answers Dojo's requests from a small order book, keeps its
 * answers by JSON-RPC id (idempotent re-sends) and can reconnect when dropped.
 */
class Epos {
  readonly texts: string[] = [];
  readonly requests: Frame[] = [];
  readonly orders = new Map<string, Order>();
  readonly locks = new Map<string, string>();
  readonly answered = new Map<string, Frame>();
  readonly eventIds = new Set<string>();
  eventsProcessed = 0;
  paymentsProcessed = 0;
  connections = 0;
  pingsSeen = 0;
  pongsSeen = 0;
  reconnect = false;
  /** Return an Answer to override the order book, undefined to use it. */
  override?: (req: Frame) => Answer | undefined;
  /** Delay before answering, per request. */
  delayMs: (req: Frame) => number = () => 0;
  ws!: WebSocket;
  private stopped = false;

  constructor(readonly sim: DojoSimulator, readonly base: string, readonly opts: { autoPong?: boolean } = {}) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/epos`, { headers: GOOD_HEADERS, autoPong: this.opts.autoPong ?? true });
      this.ws = ws;
      ws.on('message', (data) => this.onMessage(ws, data.toString()));
      ws.on('ping', () => { this.pingsSeen += 1; });
      ws.on('pong', () => { this.pongsSeen += 1; });
      ws.on('error', () => undefined);
      ws.once('open', () => { this.connections += 1; resolve(); });
      ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('close', () => {
        if (this.reconnect && !this.stopped) setTimeout(() => { if (!this.stopped) this.connect().catch(() => undefined); }, 10);
      });
    });
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  private onMessage(ws: WebSocket, text: string): void {
    this.texts.push(text);
    let f: Frame;
    try { f = JSON.parse(text); } catch { return; }
    if (typeof f.method !== 'string' || typeof f.id !== 'string') return; // notifications get no answer
    this.requests.push(f);
    const reply = (body: object) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', id: f.id, method: f.method, ...body })); };
    const known = this.answered.get(f.id);
    if (known) return reply(known); // same id again: the same answer, no second side effect
    const answer = this.override?.(f) ?? this.handle(f.method, f.params ?? {});
    if (answer === 'silent') return;
    this.answered.set(f.id, answer);
    const delay = this.delayMs(f);
    if (delay > 0) setTimeout(() => reply(answer), delay);
    else reply(answer);
  }

  private handle(method: string, p: Frame): Answer {
    const notFound = { error: { errorType: 'NotFound', debugMessage: `no order ${p.orderId}` } };
    const conflict = (why: string) => ({ error: { errorType: 'Conflict', debugMessage: why } });
    const o = typeof p.orderId === 'string' ? this.orders.get(p.orderId) : undefined;
    switch (method) {
      case 'SearchOrdersV1': {
        const data = [...this.orders.values()].filter((x) => (!p.payableOnly || x.payable)
          && (!p.dineIn?.waiterId || (x.details.dineIn as Frame).waiterId === p.dineIn.waiterId)
          && (!p.dineIn?.tableId || (x.details.dineIn as Frame).tableId === p.dineIn.tableId));
        return { result: { data } };
      }
      case 'GetOrderByIdV1':
        if (typeof p.orderId !== 'string') return { error: { errorType: 'InvalidRequest', debugMessage: 'orderId must be a string' } };
        return o ? { result: o } : notFound;
      case 'CreateOrderLockV1':
        if (!o) return notFound;
        if (this.locks.has(o.id)) return conflict('locked');
        this.locks.set(o.id, p.lockId);
        return { result: o };
      case 'ExtendOrderLockV1':
        return this.locks.get(p.orderId) === p.lockId ? { result: {} } : conflict('not locked by you');
      case 'DeleteOrderLockV1':
        if (!o) return notFound;
        this.locks.delete(o.id);
        return { result: o };
      case 'RecordOrderPaymentByIdV1': {
        if (!o) return notFound;
        const lock = this.locks.get(o.id);
        if (lock !== undefined && lock !== p.lockId) return conflict('locked under another lock');
        this.paymentsProcessed += 1;
        o.paidAmount.value += p.paidAmount.value;
        if (p.tipsAmount) o.tipsAmount = { value: (o.tipsAmount?.value ?? 0) + p.tipsAmount.value, currencyCode: 'GBP' };
        o.payments.push({ paymentIntentId: p.paymentIntentId, paidAmount: p.paidAmount, ...(p.tipsAmount ? { tipsAmount: p.tipsAmount } : {}) });
        o.payable = o.paidAmount.value < o.totalAmount.value;
        return { result: o };
      }
      case 'HandleEventV1':
        if (!this.eventIds.has(p.id)) { this.eventIds.add(p.id); this.eventsProcessed += 1; }
        return { result: {} };
      default:
        return { error: { errorType: 'InvalidRequest', debugMessage: `unknown method ${method}` } };
    }
  }
}

interface RestReply { status: number; body: any; headers: Record<string, unknown> }

function rest(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, raw?: string): Promise<RestReply> {
  return new Promise((resolve, reject) => {
    const text = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const req = request(`${base}${path}`, {
      method, agent: false,
      headers: { Authorization: `Basic ${SIMULATOR_API_KEY}`, version: '2026-02-27', 'software-house-id': SHID, 'Content-Type': 'application/json', ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: t ? JSON.parse(t) : undefined, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** What a raw ws client sees when it tries to upgrade. */
function attempt(url: string, headers: Record<string, string>): Promise<{ status?: number; body?: any; opened: boolean }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.terminate(); resolve({ opened: true }); });
    ws.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), opened: false }); req.destroy(); });
    });
    ws.on('error', () => undefined);
  });
}

function assertProblem(r: RestReply, status: number): void {
  assert.equal(r.status, status);
  for (const k of ['type', 'title', 'status', 'detail', 'traceId']) assert.ok(k in r.body, `problem details carry ${k}`);
  assert.equal(r.body.status, status);
}

/** Every request the simulator sent is a valid EPOS Data request per the AsyncAPI schemas. */
function assertSentValid(sim: DojoSimulator, givenIds: string[] = []): void {
  assert.ok(sim.sent.length > 0);
  for (const f of sim.sent) {
    assert.equal(f.jsonrpc, '2.0');
    if (!givenIds.includes(f.id as string)) assert.match(String(f.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID id');
    assert.equal(typeof (f.params as Frame).headers, 'object', 'params.headers on every request');
    assert.equal(checkParams(f.method as string, f.params), undefined);
  }
}

const ALL_TABLE = ['SearchOrders', 'GetOrderById', 'RecordOrderPayment'];
const LOCKS = ['CreateOrderLock', 'ExtendOrderLock', 'DeleteOrderLock'];
const EVENTS = ['HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated'];

describe('Dojo simulator', function () {
  let sims: DojoSimulator[] = [];
  let eposes: Epos[] = [];
  let logs: string[] = [];

  async function start(opts: DojoSimulatorOptions = {}): Promise<{ sim: DojoSimulator; base: string }> {
    const sim = new DojoSimulator({ stepDelayMs: 5, requestTimeoutMs: 2000, logger: (l) => logs.push(l), ...opts });
    sims.push(sim);
    const { url } = await sim.start();
    return { sim, base: url };
  }

  async function register(base: string, names: string[]): Promise<RestReply> {
    return rest(base, 'PUT', '/epos/integrations/ws', { capabilities: names.map((name) => ({ name, version: 'v1' })) });
  }

  /** A started simulator with a connected EPOS that registered `caps`. */
  async function withEpos(caps: string[], opts: DojoSimulatorOptions = {}, eposOpts: { autoPong?: boolean } = {}) {
    const { sim, base } = await start(opts);
    const epos = new Epos(sim, base, eposOpts);
    eposes.push(epos);
    await epos.connect();
    await sim.waitForConnection(1000);
    if (caps.length) assert.equal((await register(base, caps)).status, 200);
    epos.orders.set('ord-1', order('ord-1', 2500, 'T1'));
    epos.orders.set('ord-2', order('ord-2', 1000, 'T2', 'w2'));
    return { sim, base, epos };
  }

  afterEach(async () => {
    for (const e of eposes) e.close();
    eposes = [];
    await Promise.all(sims.map((s) => s.stop()));
    sims = [];
    logs = [];
  });

  describe('EPOS WebSocket upgrade', () => {
    it('accepts Basic <key as is> with a software-house-id at /epos and serves REST at the http base', async () => {
      const { sim, base } = await start();
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await attempt(`${base.replace('http', 'ws')}/epos`, { ...GOOD_HEADERS, 'reseller-id': 'R1' });
      assert.equal(r.opened, true);
      assert.equal(sim.connectionCount, 1);
      assert.equal(sim.upgradeAttempts, 1);
    });

    it('refuses a missing, wrong or base64-encoded key and a missing software-house-id with 401 and a JSON body', async () => {
      const { sim, base } = await start();
      const url = `${base.replace('http', 'ws')}/epos`;
      const noAuth = await attempt(url, { 'software-house-id': SHID });
      const wrong = await attempt(url, { Authorization: 'Basic sk_sandbox_wrong', 'software-house-id': SHID });
      const b64 = await attempt(url, { Authorization: `Basic ${Buffer.from(SIMULATOR_API_KEY).toString('base64')}`, 'software-house-id': SHID });
      const b64user = await attempt(url, { Authorization: `Basic ${Buffer.from(`${SIMULATOR_API_KEY}:`).toString('base64')}`, 'software-house-id': SHID });
      const bearer = await attempt(url, { Authorization: `Bearer ${SIMULATOR_API_KEY}`, 'software-house-id': SHID });
      const noShid = await attempt(url, { Authorization: `Basic ${SIMULATOR_API_KEY}` });
      for (const r of [noAuth, wrong, b64, b64user, bearer, noShid]) {
        assert.equal(r.status, 401);
        assert.equal(r.opened, false);
        assert.equal(r.body.status, 401);
        assert.equal(typeof r.body.detail, 'string');
      }
      assert.match(b64.body.detail, /base64/);
      assert.match(b64user.body.detail, /base64/);
      assert.doesNotMatch(wrong.body.detail, /base64/);
      assert.match(noShid.body.detail, /software-house-id/);
      assert.ok(logs.some((l) => /refused: 401 .*base64/.test(l)), 'the log names the base64 mistake');
      assert.ok(logs.every((l) => !l.includes(SIMULATOR_API_KEY)), 'the key never appears in the log');
      assert.equal(sim.connectionCount, 0);
      assert.equal(sim.upgradeAttempts, 6);
    });

    it('refuses other paths (404), a software-house-id that does not match the configured one, and every key under refuseKey', async () => {
      const { sim, base } = await start({ softwareHouseId: SHID });
      const ws = base.replace('http', 'ws');
      assert.equal((await attempt(`${ws}/`, GOOD_HEADERS)).status, 404);
      assert.equal((await attempt(`${ws}/epos`, { ...GOOD_HEADERS, 'software-house-id': 'other' })).status, 401);
      sim.setFault('refuseKey', true);
      assert.equal((await attempt(`${ws}/epos`, GOOD_HEADERS)).status, 401);
      assertProblem(await rest(base, 'GET', '/epos/integrations/ws'), 401);
      sim.setFault('refuseKey', false);
      assert.equal((await attempt(`${ws}/epos`, GOOD_HEADERS)).opened, true);
      assert.throws(() => sim.setFault('nope' as never, true), /unknown fault/);
    });
  });

  describe('REST: registration and POS events', () => {
    it('answers problem details for a missing key (401), a missing version (400), bad JSON (400), an unknown route (404)', async () => {
      const { base } = await start();
      assertProblem(await rest(base, 'GET', '/epos/integrations/ws', undefined, { Authorization: '' }), 401);
      assertProblem(await rest(base, 'GET', '/epos/integrations/ws', undefined, { Authorization: `Basic ${Buffer.from(SIMULATOR_API_KEY).toString('base64')}` }), 401);
      assertProblem(await rest(base, 'GET', '/epos/integrations/ws', undefined, { version: '' }), 400);
      assertProblem(await rest(base, 'PUT', '/epos/integrations/ws', undefined, {}, '{"capabilities": ['), 400);
      assertProblem(await rest(base, 'GET', '/no/such/route'), 404);
      assertProblem(await rest(base, 'DELETE', '/epos/integrations/ws'), 405);
      assertProblem(await rest(base, 'POST', '/epos/events', undefined, {}, 'x'.repeat(300 * 1024)), 413);
    });

    it('replaces the full capability list on every PUT and refuses unknown names without changing it', async () => {
      const { sim, base } = await start();
      assert.deepEqual((await rest(base, 'GET', '/epos/integrations/ws')).body, []);
      const first = await register(base, ['SearchOrders', 'GetOrderById']);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body[0].capabilities.map((c: Frame) => c.name), ['SearchOrders', 'GetOrderById']);
      assert.ok(first.body[0].capabilities.every((c: Frame) => c.version === 'v1' && !Number.isNaN(Date.parse(c.updatedAt))));
      await register(base, ['RecordOrderPayment', 'HandleEvent:payment_intent.created']);
      assert.deepEqual(sim.registeredCapabilities(), ['RecordOrderPayment', 'HandleEvent:payment_intent.created']);
      const bad = await register(base, ['RecordOrderPayment', 'GetOrder']);
      assertProblem(bad, 400);
      assert.match(bad.body.detail, /GetOrder/);
      assertProblem(await rest(base, 'PUT', '/epos/integrations/ws', { capabilities: [{ name: 'SearchOrders' }] }), 400);
      assertProblem(await rest(base, 'PUT', '/epos/integrations/ws', { nope: true }), 400);
      assert.deepEqual(sim.registeredCapabilities(), ['RecordOrderPayment', 'HandleEvent:payment_intent.created']);
      const got = await rest(base, 'GET', '/epos/integrations/ws');
      assert.deepEqual(got.body[0].capabilities.map((c: Frame) => c.name), ['RecordOrderPayment', 'HandleEvent:payment_intent.created']);
      const all = await rest(base, 'GET', '/epos/integrations');
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.wsIntegrations, got.body);
      assert.deepEqual(all.body.restIntegrations, []);
      assert.equal(sim.registrations.length, 2);
      await register(base, []);
      assert.deepEqual(sim.registeredCapabilities(), []);
      assert.equal(CAPABILITY_NAMES.length, 23);
    });

    it('waitForCapabilities resolves on registration and rejects when it does not come', async () => {
      const { sim, base } = await start();
      const waiting = sim.waitForCapabilities(['SearchOrders'], 2000);
      await register(base, ['SearchOrders']);
      await waiting;
      await assert.rejects(sim.waitForCapabilities(['GetOrderById'], 30), /GetOrderById/);
    });

    it('records POST /epos/events and refuses an event without its id', async () => {
      const { sim, base } = await start();
      const ok = await rest(base, 'POST', '/epos/events', { eventType: 'OrderUpdated', event: { orderId: 'ord-1' } });
      assert.equal(ok.status, 200);
      await rest(base, 'POST', '/epos/events', { eventType: 'ReservationUpdated', event: { reservationId: 'res-9' } });
      assertProblem(await rest(base, 'POST', '/epos/events', { eventType: 'PartyUpdated', event: { orderId: 'x' } }), 400);
      assertProblem(await rest(base, 'POST', '/epos/events', { eventType: 'TableUpdated', event: { tableId: 'x' } }), 400);
      assert.deepEqual(sim.posEvents.map((e) => [e.eventType, e.event]), [
        ['OrderUpdated', { orderId: 'ord-1' }], ['ReservationUpdated', { reservationId: 'res-9' }],
      ]);
    });
  });

  describe('Dojo as JSON-RPC client', () => {
    it('routes only registered capabilities', async () => {
      const { sim, base, epos } = await withEpos(['SearchOrders']);
      await assert.rejects(sim.call('GetOrderByIdV1', { orderId: 'ord-1' }), /GetOrderById is not registered/);
      await assert.rejects(sim.call('NoSuchMethodV1', {}), /not an EPOS Data method/);
      await assert.rejects(sim.sendEvent(), /HandleEvent:payment_intent.status_updated is not registered/);
      assert.equal(epos.requests.length, 0);
      await register(base, ['GetOrderById']); // the re-PUT drops SearchOrders
      await assert.rejects(sim.call('SearchOrdersV1', {}), /not registered/);
      const r = await sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      assert.equal((r.result as Frame).id, 'ord-1');
    });

    it('rejects when no EPOS is connected', async () => {
      const { sim, base } = await start();
      await register(base, ['SearchOrders']);
      await assert.rejects(sim.call('SearchOrdersV1', {}), /no EPOS is connected/);
      await assert.rejects(sim.waitForConnection(30), /no EPOS connection/);
    });

    it('keeps several requests in flight and correlates the answers by id', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE);
      epos.orders.set('ord-3', order('ord-3', 300, 'T3'));
      // Answers come back in the reverse order of the requests.
      epos.delayMs = (req) => ({ 'ord-1': 60, 'ord-2': 30, 'ord-3': 0 } as Record<string, number>)[req.params.orderId] ?? 0;
      const results = await Promise.all(['ord-1', 'ord-2', 'ord-3'].map((id) => sim.call('GetOrderByIdV1', { orderId: id })));
      assert.deepEqual(results.map((r) => (r.result as Frame).id), ['ord-1', 'ord-2', 'ord-3']);
      assert.equal(new Set(results.map((r) => r.id)).size, 3);
      assert.ok(results.every((r) => (r.response as Frame).method === 'GetOrderByIdV1'), 'an echoed method is tolerated');
      assert.deepEqual(epos.requests[0]?.params.headers, { deviceId: 'sim-terminal-1', deviceType: 'card-machine', dojoRequestingProduct: 'pay-at-table' });
      const own = await sim.call('GetOrderByIdV1', { orderId: 'ord-1', headers: { waiterId: 'w7' } }, { id: 'fixed-id-1' });
      assert.equal(own.id, 'fixed-id-1');
      assert.deepEqual(epos.requests.at(-1)?.params.headers, { waiterId: 'w7' });
    });

    it('parses EPOSError answers and accepts {} results', async () => {
      const { sim, epos } = await withEpos([...ALL_TABLE, ...LOCKS]);
      const missing = await sim.call('GetOrderByIdV1', { orderId: 'nope' });
      assert.deepEqual(missing.error, { errorType: 'NotFound', debugMessage: 'no order nope' });
      assert.equal(missing.result, undefined);
      epos.locks.set('ord-1', 'L1');
      const extended = await sim.call('ExtendOrderLockV1', { orderId: 'ord-1', lockId: 'L1', expiry: new Date().toISOString() });
      assert.deepEqual(extended.result, {});
      assert.equal(extended.error, undefined);
      epos.override = () => ({ error: { code: -32601, message: 'Method not found' } } as never);
      const odd = await sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      assert.deepEqual(odd.error, { errorType: 'UnexpectedError', debugMessage: 'Method not found' });
      assertSentValid(sim);
    });

    it('times out a silent request, then logs and drops the late answer, unknown ids and bad JSON', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE, { requestTimeoutMs: 50 });
      epos.override = (req) => (req.params.orderId === 'slow' ? 'silent' : undefined);
      const r = await sim.call('GetOrderByIdV1', { orderId: 'slow' });
      assert.deepEqual(r, { id: r.id, timedOut: true });
      epos.ws.send(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: {} }));
      epos.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'who-is-this', result: {} }));
      epos.ws.send('{"jsonrpc": "2.0", "id": ');
      epos.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'Hello' }));
      const ok = await sim.call('GetOrderByIdV1', { orderId: 'ord-2' }, { timeoutMs: 1000 });
      assert.equal((ok.result as Frame).id, 'ord-2');
      assert.ok(logs.some((l) => l.includes('late reply to a timed-out request')));
      assert.ok(logs.some((l) => l.includes('reply with an unknown id')));
      assert.ok(logs.some((l) => l.includes('unparseable frame')));
      assert.ok(sim.connected);
    });

    it('routes to the newest of several connections', async () => {
      const { sim, base, epos } = await withEpos(ALL_TABLE);
      const second = new Epos(sim, base);
      eposes.push(second);
      await second.connect();
      second.orders.set('ord-1', order('ord-1', 2500, 'T1'));
      assert.equal(sim.openConnections, 2);
      await sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      assert.equal(epos.requests.length, 0);
      assert.equal(second.requests.length, 1);
      second.close();
      await sleep(30);
      await sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      assert.equal(epos.requests.length, 1, 'falls back to the older one still open');
      assert.equal(sim.connectionCount, 2);
    });

    it('malformedFrames sends bad frames before the real request, and the EPOS keeps working', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE);
      sim.setFault('malformedFrames', true);
      const r = await sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      assert.equal((r.result as Frame).id, 'ord-1');
      assert.equal(sim.malformedSent.length, 4);
      const seen = epos.texts.slice(0, 4);
      assert.deepEqual(seen, sim.malformedSent);
      assert.throws(() => JSON.parse(seen[0] as string));
      const parsed = seen.slice(1).map((t) => JSON.parse(t) as Frame);
      assert.ok(!('id' in (parsed[0] as Frame)), 'a request without id');
      assert.equal(parsed[1]?.method, 'SimulatorUnknownMethodV1');
      assert.notEqual(checkParams('GetOrderByIdV1', parsed[2]?.params), undefined, 'params failing the schema');
      await sleep(30);
      // The EPOS answered the two that had an id; those answers do not disturb the real call.
      assert.deepEqual(sim.malformedReplies.map((m) => (m.error as Frame).errorType), ['InvalidRequest', 'InvalidRequest']);
      sim.setFault('malformedFrames', false);
      await sim.call('SearchOrdersV1', { payableOnly: true });
      assert.equal(sim.malformedSent.length, 4);
      assert.equal(sim.sent.length, 2, 'malformed frames are not in `sent`');
      assertSentValid(sim);
    });

    it('dropMidRequest drops the socket after the request and re-sends the same id after the EPOS reconnects', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE);
      epos.reconnect = true;
      sim.setFault('dropMidRequest', true);
      const params = { orderId: 'ord-2', paymentIntentId: 'pi_drop_1', paidAmount: { value: 1000, currencyCode: 'GBP' } };
      const r = await sim.call('RecordOrderPaymentByIdV1', params);
      assert.equal((r.result as Frame).paidAmount.value, 1000);
      const ids = epos.requests.map((f) => f.id);
      assert.deepEqual(ids, [r.id, r.id], 'the same JSON-RPC id twice');
      assert.equal(epos.paymentsProcessed, 1, 'the EPOS processed it once (idempotent by id)');
      assert.equal(epos.connections, 2);
      assert.equal(sim.connectionCount, 2);
      assert.equal(sim.faults.dropMidRequest, false, 'one-shot');
      assert.deepEqual(sim.sent.map((f) => f.id), [r.id, r.id]);
    });

    it('replayAfterReconnect returns the answer from the new connection', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE);
      epos.reconnect = true;
      const out = await sim.replayAfterReconnect('RecordOrderPaymentByIdV1', { orderId: 'ord-1', paymentIntentId: 'pi_r', paidAmount: { value: 500, currencyCode: 'GBP' } }, { id: 'replay-1' });
      assert.equal(out.id, 'replay-1');
      assert.equal(out.second.id, 'replay-1');
      assert.equal((out.second.result as Frame).paidAmount.value, 500);
      assert.equal(epos.paymentsProcessed, 1);
      assert.equal(epos.requests.length, 2);
      assertSentValid(sim, ['replay-1']);
    });

    it('duplicateEvents delivers HandleEventV1 twice with one event id', async () => {
      const { sim, epos } = await withEpos(EVENTS);
      const once = await sim.sendEvent({ event: 'payment_intent.created', data: { paymentIntentId: 'pi_1' } });
      assert.equal(once.deliveries.length, 1);
      sim.setFault('duplicateEvents', true);
      const twice = await sim.sendEvent();
      assert.equal(twice.deliveries.length, 2);
      const frames = epos.requests.filter((f) => f.params.id === twice.id);
      assert.equal(frames.length, 2);
      assert.notEqual(frames[0]?.id, frames[1]?.id, 'two deliveries, two JSON-RPC ids');
      assert.deepEqual(frames[0]?.params, frames[1]?.params);
      assert.deepEqual(twice.deliveries.map((d) => d.result), [{}, {}]);
      assert.equal(epos.eventsProcessed, 2, 'the EPOS dedupes on the event id');
      const p = epos.requests[0]?.params;
      assert.equal(p.event, 'payment_intent.created');
      assert.deepEqual(p.data, { paymentIntentId: 'pi_1', paymentStatus: 'Created', captureMode: 'Auto' });
      assert.ok(!Number.isNaN(Date.parse(p.createdAt)));
      assertSentValid(sim);
    });
  });

  describe('keepalive', () => {
    it('pings, keeps an EPOS that pongs and terminates one that does not', async () => {
      const { sim, base, epos } = await withEpos([], { pingIntervalMs: 40 });
      const silent = new Epos(sim, base, { autoPong: false });
      eposes.push(silent);
      await silent.connect();
      const closed = new Promise<void>((resolve) => silent.ws.once('close', () => resolve()));
      await closed;
      assert.ok(silent.pingsSeen >= 1);
      assert.ok(epos.open, 'the answering EPOS stays');
      assert.ok(epos.pingsSeen >= 2);
      assert.ok(logs.some((l) => /did not answer a ping/.test(l)));
    });

    it('stopPinging goes silent; ignorePings leaves the EPOS pings unanswered', async () => {
      const { sim, epos } = await withEpos([], { pingIntervalMs: 30 });
      sim.setFault('stopPinging', true);
      await sleep(40);
      const before = epos.pingsSeen;
      await sleep(100);
      assert.equal(epos.pingsSeen, before);
      epos.ws.ping();
      await sleep(30);
      assert.equal(epos.pongsSeen, 1);
      sim.setFault('ignorePings', true);
      epos.ws.ping();
      await sleep(30);
      assert.equal(epos.pongsSeen, 1);
      assert.ok(epos.open);
    });
  });

  describe('pay at table', () => {
    it('splits an amount into integer parts that sum exactly', () => {
      assert.deepEqual(splitAmount(2500, 3), [834, 833, 833]);
      assert.deepEqual(splitAmount(10, 1), [10]);
      assert.deepEqual(splitAmount(2, 5), [1, 1]);
      for (const [t, n] of [[1, 1], [99, 7], [100_001, 13], [5, 0]] as const) {
        const parts = splitAmount(t, n);
        assert.equal(parts.reduce((a, b) => a + b, 0), t);
        assert.ok(parts.every((p) => Number.isInteger(p) && p > 0));
      }
    });

    it('walks search -> get -> record x n without lock capabilities', async () => {
      const { sim, epos } = await withEpos(ALL_TABLE);
      const report = await sim.playPayAtTable({ waiterId: 'w1', payments: 3, tipsAmount: 100 });
      assert.equal(report.ok, true, report.message);
      assert.equal(report.orderId, 'ord-1');
      assert.deepEqual(report.steps.map((s) => s.method), ['SearchOrdersV1', 'GetOrderByIdV1', 'RecordOrderPaymentByIdV1', 'RecordOrderPaymentByIdV1', 'RecordOrderPaymentByIdV1']);
      assert.deepEqual(report.steps[0]?.params.dineIn, { waiterId: 'w1' });
      assert.equal(report.steps[0]?.params.payableOnly, true);
      assert.equal((report.steps[0]?.params.headers as Frame).waiterId, 'w1');
      const records = report.steps.slice(2).map((s) => s.params);
      assert.deepEqual(records.map((p) => (p.paidAmount as Frame).value), [834, 833, 833]);
      assert.ok(records.every((p) => !('lockId' in p) && (p.tipsAmount as Frame).value === 100 && /^pi_sim_/.test(p.paymentIntentId as string)));
      assert.equal(report.paid, 2500);
      const o = epos.orders.get('ord-1') as Order;
      assert.equal(o.paidAmount.value, 2500);
      assert.equal(o.payable, false);
      const table = sim.ledger.filter((e): e is TableLedgerEntry => 'kind' in e && e.kind === 'table_payment');
      assert.equal(table.length, 3);
      assert.equal(table.reduce((a, e) => a + e.amount, 0), 2500);
      assertSentValid(sim);
    });

    it('locks, extends between payments and unlocks when the lock capabilities are registered', async () => {
      const { sim, epos } = await withEpos([...ALL_TABLE, ...LOCKS]);
      epos.orders.get('ord-2')!.paidAmount.value = 400; // part paid already: only 600 remains
      const report = await sim.playPayAtTable({ tableId: 'T2', payments: 2, lockId: 'lock-fixed' });
      assert.equal(report.ok, true, report.message);
      assert.deepEqual(report.steps.map((s) => s.method), [
        'SearchOrdersV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1', 'ExtendOrderLockV1', 'RecordOrderPaymentByIdV1', 'DeleteOrderLockV1',
      ]);
      assert.deepEqual(report.steps[0]?.params.dineIn, { tableId: 'T2' });
      const lock = report.steps[1]?.params as Frame;
      assert.equal(lock.lockId, 'lock-fixed');
      assert.ok(Date.parse(lock.expiry) > Date.now());
      assert.deepEqual(report.steps.filter((s) => s.method === 'RecordOrderPaymentByIdV1').map((s) => [s.params.lockId, (s.params.paidAmount as Frame).value]), [['lock-fixed', 300], ['lock-fixed', 300]]);
      assert.equal(report.paid, 600);
      assert.equal(epos.locks.size, 0, 'released');
      assertSentValid(sim);
    });

    it('reverses a payment the EPOS answers with Conflict, and releases the lock', async () => {
      const { sim, epos } = await withEpos([...ALL_TABLE, 'CreateOrderLock', 'DeleteOrderLock']);
      let n = 0;
      epos.override = (req) => (req.method === 'RecordOrderPaymentByIdV1' && ++n === 2 ? { error: { errorType: 'Conflict', debugMessage: 'edited' } } : undefined);
      const report = await sim.playPayAtTable({ orderId: 'ord-1', payments: 2 });
      assert.equal(report.ok, false);
      assert.equal(report.paid, 1250);
      assert.equal(report.reversed.length, 1);
      assert.match(report.message, /Conflict/);
      assert.equal(report.steps.at(-1)?.method, 'DeleteOrderLockV1');
      const reversal = sim.tableLedger.find((e) => e.kind === 'reversal');
      assert.equal(reversal?.paymentIntentId, report.reversed[0]);
      assert.equal(reversal?.amount, 1250);
      assert.equal(reversal?.reason, 'Conflict');
      assert.deepEqual(sim.tableLedger.map((e) => e.kind), ['table_payment', 'reversal']);
    });

    it('reports no payable orders, a Conflict on the lock, and missing capabilities', async () => {
      const { sim, base, epos } = await withEpos([...ALL_TABLE, 'CreateOrderLock', 'DeleteOrderLock']);
      const none = await sim.playPayAtTable({ waiterId: 'nobody' });
      assert.deepEqual([none.ok, none.message, none.paid], [false, 'no payable orders', 0]);
      epos.locks.set('ord-1', 'someone-else');
      const locked = await sim.playPayAtTable({ orderId: 'ord-1' });
      assert.equal(locked.ok, false);
      assert.match(locked.message, /CreateOrderLockV1 answered Conflict/);
      assert.equal(epos.paymentsProcessed, 0);
      assert.equal(sim.tableLedger.length, 0);
      await register(base, ['SearchOrders']);
      assert.match((await sim.playPayAtTable()).message, /RecordOrderPayment/);
    });

    it('plays by itself every payAtTableIntervalMs, one walk at a time, and stops with stop()', async () => {
      const { sim, epos } = await withEpos([], { payAtTableIntervalMs: 20 });
      await sleep(60);
      assert.equal(epos.requests.length, 0, 'nothing before the capabilities are registered');
      for (let i = 3; i < 40; i += 1) epos.orders.set(`ord-${i}`, order(`ord-${i}`, 100 + i, `T${i}`));
      await register(epos.base, ALL_TABLE);
      let inFlight = 0;
      let maxInFlight = 0;
      epos.delayMs = (req) => {
        if (req.method === 'SearchOrdersV1') { inFlight += 1; maxInFlight = Math.max(maxInFlight, inFlight); }
        if (req.method === 'RecordOrderPaymentByIdV1') inFlight -= 1;
        return 15;
      };
      const deadline = Date.now() + 3000;
      while (sim.tableLedger.length < 3 && Date.now() < deadline) await sleep(10);
      assert.ok(sim.tableLedger.length >= 3);
      assert.equal(maxInFlight, 1, 'walks never overlap');
      assert.ok(logs.some((l) => /pay at table: order ord-\d+ paid/.test(l)));
      await sim.stop();
      const count = epos.requests.length;
      await sleep(80);
      assert.equal(epos.requests.length, count);
    });
  });

  describe('pay at counter wiring', () => {
    it('turns the counter\'s intent events into HandleEventV1 only for registered event capabilities', async () => {
      const { sim, base, epos } = await withEpos(['HandleEvent:payment_intent.created']);
      const created = await rest(base, 'POST', '/payment-intents', { amount: { value: 1000, currencyCode: 'GBP' }, reference: 'ref-ev-1' });
      assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
      const deadline = Date.now() + 2000;
      while (epos.requests.length === 0 && Date.now() < deadline) await sleep(5);
      const ev = epos.requests[0] as Frame;
      assert.equal(ev.method, 'HandleEventV1');
      assert.equal(ev.params.event, 'payment_intent.created');
      assert.equal(ev.params.data.paymentIntentId, created.body.id);
      assert.deepEqual(ev.params.headers, {});
      await register(base, []);
      await rest(base, 'POST', '/payment-intents', { amount: { value: 1000, currencyCode: 'GBP' }, reference: 'ref-ev-2' });
      await sleep(30);
      assert.equal(epos.requests.length, 1, 'no event once the capability is gone');
      assertSentValid(sim);
    });

    it('an amount ending in 55 drops the EPOS WebSocket mid-payment; the sale still lands in the merged ledger', async () => {
      const { sim, base, epos } = await withEpos([], { stepDelayMs: 5 });
      const closed = new Promise<void>((resolve) => epos.ws.once('close', () => resolve()));
      const intent = await rest(base, 'POST', '/payment-intents', { amount: { value: 1055, currencyCode: 'GBP' }, reference: 'ref-55' });
      const terminals = await rest(base, 'GET', '/terminals?statuses=Available', undefined, { 'reseller-id': 'R1' });
      const terminalId = (terminals.body as Frame[])[0]?.id;
      const session = await rest(base, 'POST', '/terminal-sessions', { terminalId, details: { sessionType: 'Sale', sale: { paymentIntentId: intent.body.id } } }, { 'reseller-id': 'R1' });
      assert.ok(session.status < 300, JSON.stringify(session.body));
      await closed;
      assert.ok(logs.some((l) => /dropped: payment dropped mid-way/.test(l)));
      const deadline = Date.now() + 3000;
      while (!sim.ledger.some((e) => 'status' in e && e.status === 'Captured') && Date.now() < deadline) await sleep(10);
      assert.ok(sim.ledger.some((e) => 'status' in e && e.kind === 'sale' && e.amount === 1055 && e.status === 'Captured'));
    });
  });

  describe('lifecycle', () => {
    it('stop() closes the EPOS connections and the port, settles pending calls, and is bounded', async () => {
      const { sim, base, epos } = await withEpos(ALL_TABLE);
      epos.override = () => 'silent';
      const pending = sim.call('GetOrderByIdV1', { orderId: 'ord-1' });
      const waiting = sim.waitForCapabilities(['ListAreas'], 5000).then(() => 'resolved', (err: Error) => err.message);
      await sleep(20);
      const closed = new Promise<number>((resolve) => epos.ws.once('close', (code) => resolve(code)));
      const t0 = Date.now();
      await sim.stop();
      assert.ok(Date.now() - t0 < 2000);
      assert.equal(await closed, 1001);
      assert.deepEqual(await pending, { id: (await pending).id, closed: true });
      assert.match(await waiting, /stopped/);
      await assert.rejects(rest(base, 'GET', '/epos/integrations'), /ECONNREFUSED/);
      await assert.rejects(sim.start(), /already stopped/);
      await sim.stop();
    });
  });
});
