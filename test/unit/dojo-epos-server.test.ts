import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { PosError } from '../../lib/core/errors';
import { InboundError, type InboundRequest } from '../../lib/core/inbound';
import { JsonRpcError, RPC_ERRORS } from '../../lib/core/jsonrpc';
import type { ConnectionState, Logger } from '../../lib/core/types';
import { AnswerCache } from '../../lib/providers/dojo/answer-cache';
import { DEBUG_MESSAGE_MAX, EposRpcError, rpcErrorToEpos, toEposError } from '../../lib/providers/dojo/epos-errors';
import { EposServer, type DojoEvent, type EposServerOptions } from '../../lib/providers/dojo/epos-server';

// A ws server on 127.0.0.1 plays Dojo: it sends JSON-RPC requests and reads our answers.
// Every wait is bounded; every server and EposServer is closed after each test.

const KEY = 'sk_sandbox_Secret-Key-0123456789';
const SHI = 'shi-test-1';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
/** Every line any EposServer logged during the test (checked for the key after each test). */
let lines: string[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  const leaked = lines.filter((l) => l.includes(KEY) || l.includes('Secret-Key'));
  lines = [];
  assert.deepEqual(leaked, [], 'the API key appeared in a log line');
});

const logger: Logger = {
  debug: (m) => lines.push(`debug ${m}`),
  info: (m) => lines.push(`info ${m}`),
  warn: (m) => lines.push(`warn ${m}`),
  error: (m) => lines.push(`error ${m}`),
};

interface Frame {
  jsonrpc?: string;
  id?: unknown;
  method?: string;
  result?: unknown;
  error?: Record<string, unknown>;
}

interface Conn {
  ws: WebSocket;
  headers: IncomingHttpHeaders;
  frames: Frame[];
  pings: number;
}

interface FakeDojo {
  url: string;
  conns: Conn[];
  last: () => Conn;
}

async function fakeDojo(): Promise<FakeDojo> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const conns: Conn[] = [];
  wss.on('connection', (ws, req) => {
    const conn: Conn = { ws, headers: req.headers, frames: [], pings: 0 };
    conns.push(conn);
    ws.on('error', () => {});
    ws.on('ping', () => conn.pings++);
    ws.on('message', (data) => {
      try {
        conn.frames.push(JSON.parse(data.toString()) as Frame);
      } catch {
        conn.frames.push({ method: `unparseable: ${data.toString()}` });
      }
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );
  const port = (wss.address() as AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}/epos`, conns, last: () => conns[conns.length - 1] };
}

interface Registration {
  names: string[];
  versions: string[];
}

interface Harness {
  server: EposServer;
  dojo: FakeDojo;
  registrations: Registration[];
  states: ConnectionState[];
  /** What the fake register does with each call; default: succeed. */
  registerBehaviour: { fn: (n: number) => Promise<void> };
}

async function setup(overrides: Partial<EposServerOptions> = {}): Promise<Harness> {
  const dojo = await fakeDojo();
  const registrations: Registration[] = [];
  const registerBehaviour = { fn: (_n: number) => Promise.resolve() };
  const server = new EposServer({
    url: () => dojo.url,
    apiKey: KEY,
    softwareHouseId: SHI,
    register: (caps) => {
      registrations.push({ names: caps.map((c) => c.name), versions: caps.map((c) => c.version) });
      return registerBehaviour.fn(registrations.length);
    },
    logger,
    heartbeatIntervalMs: 100,
    handshakeTimeoutMs: 1000,
    backoff: { initialMs: 50, maxMs: 200 },
    ...overrides,
  });
  const states: ConnectionState[] = [];
  server.onState((s) => states.push(s));
  cleanups.push(() => server.stop());
  return { server, dojo, registrations, states, registerBehaviour };
}

async function connected(h: Harness, connections = 1): Promise<Conn> {
  await waitFor(`connection ${connections}`, () => h.dojo.conns.length >= connections && h.server.state.name === 'connected');
  return h.dojo.conns[connections - 1];
}

function send(conn: Conn, frame: unknown): void {
  conn.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
}

function answersTo(conn: Conn, id: unknown): Frame[] {
  return conn.frames.filter((f) => f.id === id);
}

async function answerTo(conn: Conn, id: unknown, timeoutMs = 2000): Promise<Frame> {
  await waitFor(`the answer to id ${JSON.stringify(id)}`, () => answersTo(conn, id).length > 0, timeoutMs);
  return answersTo(conn, id)[0];
}

async function call(conn: Conn, method: string, params: unknown, id: string): Promise<Frame> {
  send(conn, { jsonrpc: '2.0', id, method, params });
  return answerTo(conn, id);
}

const SEARCH = { payableOnly: true, headers: { waiterId: 'w1' } };
const ORDER = { id: 'o1', status: 'New', details: { orderType: 'DineIn', dineIn: { tableId: 't1' } } };
const event = (id: string) => ({
  id,
  accountId: 'acc_1',
  event: 'payment_intent.status_updated',
  data: { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' },
  createdAt: '2025-01-01T10:00:00Z',
  headers: {},
});

describe('Dojo EPOS server', () => {
  describe('connection', () => {
    it('sends Authorization literally as "Basic <key>", software-house-id, and no reseller-id unless set', async () => {
      const h = await setup();
      h.server.start();
      const conn = await connected(h);
      assert.equal(conn.headers.authorization, `Basic ${KEY}`);
      assert.equal(conn.headers['software-house-id'], SHI);
      assert.equal(conn.headers['reseller-id'], undefined);

      const h2 = await setup({ resellerId: 'reseller-9' });
      h2.server.start();
      const conn2 = await connected(h2);
      assert.equal(conn2.headers['reseller-id'], 'reseller-9');
      assert.equal(conn2.headers.authorization, `Basic ${KEY}`);
    });

    it('pings Dojo on the heartbeat interval, never slower than every 30 s', async () => {
      const h = await setup({ heartbeatIntervalMs: 40 });
      h.server.start();
      const conn = await connected(h);
      await waitFor('three pings', () => conn.pings >= 3, 1000);
      const slow = new EposServer({ url: () => 'ws://127.0.0.1:1/', apiKey: KEY, softwareHouseId: SHI, register: async () => {}, heartbeatIntervalMs: 120000 });
      const byDefault = new EposServer({ url: () => 'ws://127.0.0.1:1/', apiKey: KEY, softwareHouseId: SHI, register: async () => {} });
      // Not started: the interval is only observable after 30 s, so read the socket's setting.
      assert.equal((slow as unknown as { socket: { heartbeatIntervalMs: number } }).socket.heartbeatIntervalMs, 30000);
      assert.equal((byDefault as unknown as { socket: { heartbeatIntervalMs: number } }).socket.heartbeatIntervalMs, 25000);
    });

    it('stops retrying when Dojo refuses the upgrade with 401', async () => {
      let attempts = 0;
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => (attempts++, cb(false, 401)) });
      await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
      cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
      const server = new EposServer({
        url: () => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/epos`,
        apiKey: KEY, softwareHouseId: SHI, register: async () => {}, logger, backoff: { initialMs: 20 },
      });
      cleanups.push(() => server.stop());
      server.start();
      await waitFor('unauthorized', () => server.state.name === 'unauthorized');
      await sleep(200);
      assert.equal(attempts, 1);
      assert.match((server.state as { reason: string }).reason, /401/);
    });

    it('refuses a missing key or software-house-id before connecting', () => {
      const base = { url: () => 'ws://127.0.0.1:1/', register: async () => {} };
      assert.throws(() => new EposServer({ ...base, apiKey: ' ', softwareHouseId: SHI }), /API key/);
      assert.throws(() => new EposServer({ ...base, apiKey: KEY, softwareHouseId: '' }), /software-house-id/);
    });

    it('stop() resolves within 2 s with a handler still running, and its late answer goes nowhere', async () => {
      let release!: (v: unknown) => void;
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const h = await setup();
      const baseline = timers();
      h.server.serve(new Set(['SearchOrdersV1']), () => new Promise((resolve) => (release = resolve)));
      h.server.start();
      const conn = await connected(h);
      send(conn, { jsonrpc: '2.0', id: 'slow', method: 'SearchOrdersV1', params: SEARCH });
      await waitFor('the handler to start', () => release !== undefined);
      const started = Date.now();
      await h.server.stop();
      assert.ok(Date.now() - started < 2000, `stop took ${Date.now() - started} ms`);
      assert.equal(h.server.state.name, 'closed');
      assert.ok(timers() <= baseline, `timers left behind: ${timers()} > ${baseline}`);
      release({ data: [] });
      await sleep(50);
      assert.equal(answersTo(conn, 'slow').length, 0);
      assert.equal(h.dojo.conns.length, 1);
    });
  });

  describe('capability registration', () => {
    it('registers the full, sorted, de-duplicated capability list on open, with names that differ from the methods', async () => {
      const h = await setup();
      h.server.serve(new Set(['SearchOrdersV1', 'RecordOrderPaymentByIdV1', 'GetOrderBillByIdV1', 'UpdatePartyV1', 'NoSuchMethodV1']), async () => ({}));
      h.server.setEventHandler(() => {});
      h.server.start();
      await connected(h);
      await waitFor('a registration', () => h.registrations.length === 1);
      const expected = [
        'GetOrderBill',
        'HandleEvent:payment_intent.created',
        'HandleEvent:payment_intent.status_updated',
        'RecordOrderPayment',
        'SearchOrders',
        'UpdatePartyById',
      ];
      assert.deepEqual(h.registrations[0].names, expected);
      assert.ok(h.registrations[0].versions.every((v) => v === 'v1'));
      await waitFor('registered', () => h.server.registered.length === expected.length);
      assert.deepEqual([...h.server.registered], expected);
      assert.ok(lines.some((l) => l.includes('NoSuchMethodV1') && l.startsWith('warn')));
      assert.ok(!h.server.methods.includes('HandleEventV1'));
      assert.ok(h.server.methods.includes('SearchOrdersV1'));
    });

    it('registers an empty list when nothing is served, and uses capabilityVersion', async () => {
      const h = await setup({ capabilityVersion: '1.0.0' });
      h.server.start();
      await connected(h);
      await waitFor('a registration', () => h.registrations.length === 1);
      assert.deepEqual(h.registrations[0].names, []);
      h.server.serve(new Set(['ListAreasV1']), async () => []);
      await waitFor('a second registration', () => h.registrations.length === 2);
      assert.deepEqual(h.registrations[1], { names: ['ListAreas'], versions: ['1.0.0'] });
    });

    it('re-PUTs once for a burst of serve() calls, with the last state; nothing when the set does not change', async () => {
      const h = await setup();
      h.server.serve(new Set(['SearchOrdersV1']), async () => ({}));
      h.server.start();
      await connected(h);
      await waitFor('first registration', () => h.registrations.length === 1 && h.server.registered.length === 1);
      const methods = ['GetOrderByIdV1', 'CreateOrderLockV1', 'DeleteOrderLockV1', 'ExtendOrderLockV1', 'RecordOrderPaymentByIdV1'];
      const served = new Set(['SearchOrdersV1']);
      for (const m of methods) {
        served.add(m);
        h.server.serve(new Set(served), async () => ({}));
        await new Promise((resolve) => setImmediate(resolve)); // a deploy spreads over a few ticks
      }
      await sleep(150);
      assert.equal(h.registrations.length, 2);
      assert.deepEqual(h.registrations[1].names, [
        'CreateOrderLock', 'DeleteOrderLock', 'ExtendOrderLock', 'GetOrderById', 'RecordOrderPayment', 'SearchOrders',
      ]);
      h.server.serve(new Set(served), async () => ({}));
      await sleep(100);
      assert.equal(h.registrations.length, 2, 'an unchanged set is not registered again');
      h.server.setEventHandler(() => {});
      await waitFor('third registration', () => h.registrations.length === 3);
      assert.ok(h.registrations[2].names.includes('HandleEvent:payment_intent.created'));
      h.server.setEventHandler(undefined);
      await waitFor('fourth registration', () => h.registrations.length === 4);
      assert.deepEqual(h.registrations[3].names, h.registrations[1].names);
    });

    it('never overlaps two PUTs: a change during a slow PUT waits for it, and the last state wins', async () => {
      const h = await setup();
      let inFlight = 0;
      let maxInFlight = 0;
      h.registerBehaviour.fn = async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(60);
        inFlight--;
      };
      h.server.start();
      await connected(h);
      await waitFor('first PUT started', () => h.registrations.length === 1);
      h.server.serve(new Set(['SearchOrdersV1']), async () => ({}));
      await sleep(30);
      h.server.serve(new Set(['SearchTablesV1']), async () => ({}));
      await waitFor('settled on SearchTables', () => h.server.registered.join() === 'SearchTables', 2000);
      await sleep(100);
      assert.equal(maxInFlight, 1);
      assert.deepEqual(h.registrations[h.registrations.length - 1].names, ['SearchTables']);
      assert.ok(h.registrations.length <= 3);
    });

    it('re-PUTs the full list on every reconnect', async () => {
      const h = await setup();
      h.server.serve(new Set(['SearchOrdersV1', 'GetOrderByIdV1']), async () => ({}));
      h.server.start();
      const first = await connected(h);
      await waitFor('first registration', () => h.registrations.length === 1);
      first.ws.terminate();
      await connected(h, 2);
      await waitFor('second registration', () => h.registrations.length === 2);
      h.dojo.conns[1].ws.terminate();
      await connected(h, 3);
      await waitFor('third registration', () => h.registrations.length === 3);
      for (const r of h.registrations) assert.deepEqual(r.names, ['GetOrderById', 'SearchOrders']);
    });

    it('retries a failed registration with backoff while connected, and reports the last success', async () => {
      const h = await setup();
      h.registerBehaviour.fn = async (n) => {
        if (n <= 2) throw new PosError('provider_error', 'Dojo answered 503');
      };
      h.server.serve(new Set(['SearchOrdersV1']), async () => ({}));
      h.server.start();
      await connected(h);
      await waitFor('third attempt succeeded', () => h.server.registered.length === 1, 3000);
      assert.equal(h.registrations.length, 3);
      assert.ok(lines.some((l) => l.startsWith('warn') && l.includes('Dojo answered 503')));
      assert.equal(h.server.state.name, 'connected');
    });

    it('halts as unauthorized when Dojo refuses the registration, without reconnecting', async () => {
      const h = await setup();
      h.registerBehaviour.fn = async () => {
        throw new PosError('unauthorized', `Dojo refused the API key ${KEY} (401)`);
      };
      h.server.start();
      await waitFor('unauthorized', () => h.server.state.name === 'unauthorized');
      await sleep(400); // 8 backoff periods
      assert.equal(h.dojo.conns.length, 1);
      assert.equal(h.registrations.length, 1);
      assert.equal(h.server.state.name, 'unauthorized');
      const state = h.server.state as { reason: string };
      assert.ok(!state.reason.includes(KEY));
      assert.match(state.reason, /capability registration/);
    });
  });

  describe('answering requests', () => {
    it('answers 200 concurrent requests, each exactly once with its own id, slow ones not blocking fast ones', async () => {
      const h = await setup();
      const started: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      h.server.serve(new Set(['SearchOrdersV1', 'GetOrderByIdV1']), async (req: InboundRequest) => {
        started.push(req.id);
        const n = Number(req.id.slice(2));
        // r-0 cannot finish before the others were answered: a serial dispatch would stall here.
        if (n === 0) await gate;
        else if (n % 3 === 0) await sleep(Math.floor(Math.random() * 60));
        if (req.method === 'GetOrderByIdV1') return { ...ORDER, id: (req.params as { orderId: string }).orderId };
        return { data: [], after: req.id };
      });
      h.server.start();
      const conn = await connected(h);
      for (let i = 0; i < 200; i++) {
        const id = `r-${i}`;
        if (i % 2 === 0) send(conn, { jsonrpc: '2.0', id, method: 'SearchOrdersV1', params: SEARCH });
        else send(conn, { jsonrpc: '2.0', id, method: 'GetOrderByIdV1', params: { orderId: `o-${i}`, headers: {} } });
      }
      await waitFor('199 answers while r-0 is still computing', () => conn.frames.length >= 199, 5000);
      assert.equal(answersTo(conn, 'r-0').length, 0);
      release();
      await waitFor('200 answers', () => conn.frames.length >= 200, 5000);
      await sleep(50);
      assert.equal(conn.frames.length, 200);
      assert.equal(started.length, 200);
      for (let i = 0; i < 200; i++) {
        const found = answersTo(conn, `r-${i}`);
        assert.equal(found.length, 1, `r-${i} answered ${found.length} times`);
        const f = found[0];
        assert.equal(f.jsonrpc, '2.0');
        assert.equal(f.error, undefined);
        if (i % 2 === 0) assert.deepEqual(f.result, { data: [], after: `r-${i}` });
        else assert.equal((f.result as { id: string }).id, `o-${i}`);
        assert.equal(f.method, i % 2 === 0 ? 'SearchOrdersV1' : 'GetOrderByIdV1');
      }
    });

    it('answers a request repeated after a reconnect from the first answer; the flow runs once', async () => {
      const h = await setup();
      let runs = 0;
      h.server.serve(new Set(['RecordOrderPaymentByIdV1']), async () => {
        runs++;
        return { ...ORDER, paidAmount: { value: 1250, currencyCode: 'GBP' } };
      });
      h.server.start();
      const first = await connected(h);
      const params = { orderId: 'o1', paymentIntentId: 'pi_1', paidAmount: { value: 1250, currencyCode: 'GBP' }, headers: {} };
      const a1 = await call(first, 'RecordOrderPaymentByIdV1', params, 'pay-1');
      first.ws.terminate();
      const second = await connected(h, 2);
      const a2 = await call(second, 'RecordOrderPaymentByIdV1', params, 'pay-1');
      assert.equal(runs, 1);
      assert.deepEqual(a2, a1);
      assert.equal((a2.result as { paidAmount: { value: number } }).paidAmount.value, 1250);
    });

    it('answers on the new connection when the first answer was lost with the old one', async () => {
      const h = await setup();
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      h.server.serve(new Set(['GetOrderByIdV1']), async () => {
        runs++;
        await gate;
        return ORDER;
      });
      h.server.start();
      const first = await connected(h);
      send(first, { jsonrpc: '2.0', id: 'g-1', method: 'GetOrderByIdV1', params: { orderId: 'o1', headers: {} } });
      await waitFor('the flow to start', () => runs === 1);
      first.ws.terminate();
      const second = await connected(h, 2);
      send(second, { jsonrpc: '2.0', id: 'g-1', method: 'GetOrderByIdV1', params: { orderId: 'o1', headers: {} } });
      await sleep(30);
      release();
      const answer = await answerTo(second, 'g-1');
      assert.deepEqual(answer.result, ORDER);
      await sleep(50);
      assert.equal(answersTo(second, 'g-1').length, 1, 'exactly one answer on the new connection');
      assert.equal(runs, 1);
    });

    it('a repeat while the first is still computing joins it', async () => {
      const h = await setup();
      let runs = 0;
      h.server.serve(new Set(['GetOrderByIdV1']), async () => {
        runs++;
        await sleep(80);
        return ORDER;
      });
      h.server.start();
      const conn = await connected(h);
      const frame = { jsonrpc: '2.0', id: 'j-1', method: 'GetOrderByIdV1', params: { orderId: 'o1', headers: {} } };
      send(conn, frame);
      await sleep(20);
      send(conn, frame);
      await waitFor('two answers', () => answersTo(conn, 'j-1').length === 2);
      assert.equal(runs, 1);
      for (const f of answersTo(conn, 'j-1')) assert.deepEqual(f.result, ORDER);
    });

    it('refuses an id reused for another method without running the flow', async () => {
      const h = await setup();
      let runs = 0;
      h.server.serve(new Set(['GetOrderByIdV1', 'CancelOrderByIdV1']), async () => {
        runs++;
        return ORDER;
      });
      h.server.start();
      const conn = await connected(h);
      await call(conn, 'GetOrderByIdV1', { orderId: 'o1', headers: {} }, 'same');
      send(conn, { jsonrpc: '2.0', id: 'same', method: 'CancelOrderByIdV1', params: { orderId: 'o1', headers: {} } });
      await waitFor('second answer', () => answersTo(conn, 'same').length === 2);
      const refused = answersTo(conn, 'same')[1];
      assert.equal(refused.error?.errorType, 'InvalidRequest');
      assert.match(String(refused.error?.debugMessage), /already used for GetOrderByIdV1/);
      assert.equal(runs, 1);
    });

    it('forgets answers after answerTtlMs, so a much later request with the same id runs again', async () => {
      const h = await setup({ answerTtlMs: 60 });
      let runs = 0;
      h.server.serve(new Set(['GetOrderByIdV1']), async () => {
        runs++;
        return ORDER;
      });
      h.server.start();
      const conn = await connected(h);
      await call(conn, 'GetOrderByIdV1', { orderId: 'o1', headers: {} }, 't-1');
      await sleep(120);
      send(conn, { jsonrpc: '2.0', id: 't-1', method: 'GetOrderByIdV1', params: { orderId: 'o1', headers: {} } });
      await waitFor('second answer', () => answersTo(conn, 't-1').length === 2);
      assert.equal(runs, 2);
    });

    it('answers malformed frames, missing ids, unknown/unserved methods and bad params in EPOSError shape; the connection stays up', async () => {
      const h = await setup();
      let runs = 0;
      h.server.serve(new Set(['SearchOrdersV1']), async () => {
        runs++;
        return { data: [] };
      });
      h.server.start();
      const conn = await connected(h);
      const isEposError = (f: Frame, type: string) => {
        assert.equal(f.error?.errorType, type, JSON.stringify(f));
        assert.equal(typeof f.error?.debugMessage, 'string');
        assert.equal(f.error?.code, undefined, 'never the generic {code, message}');
        assert.equal(f.result, undefined);
      };

      send(conn, '{"jsonrpc":"2.0","id":"m-1","method":');
      await waitFor('an answer to the parse error', () => answersTo(conn, null).length === 1);
      isEposError(answersTo(conn, null)[0], 'InvalidRequest');

      send(conn, { jsonrpc: '2.0', method: 'SearchOrdersV1', params: SEARCH }); // no id: nothing to answer
      await waitFor('a log line about the notification', () => lines.some((l) => l.includes('without an id')));

      send(conn, { jsonrpc: '2.0', id: { bad: true }, method: 'SearchOrdersV1', params: SEARCH });
      await waitFor('an answer to the invalid id', () => answersTo(conn, null).length === 2);
      isEposError(answersTo(conn, null)[1], 'InvalidRequest');

      const unknown = await call(conn, 'NoSuchThingV9', { headers: {} }, 'u-1');
      isEposError(unknown, 'InvalidRequest');
      assert.equal(unknown.method, 'NoSuchThingV9');

      const unserved = await call(conn, 'ListAreasV1', { headers: {} }, 'u-2');
      isEposError(unserved, 'InvalidRequest');
      assert.match(String(unserved.error?.debugMessage), /ListAreasV1 is not served by this EPOS \(no flow handles it\)/);

      const badParams = await call(conn, 'SearchOrdersV1', { payableOnly: 'yes', headers: {} }, 'u-3');
      isEposError(badParams, 'InvalidRequest');
      assert.match(String(badParams.error?.debugMessage), /payableOnly must be boolean/);

      const noHeaders = await call(conn, 'SearchOrdersV1', { payableOnly: true }, 'u-4');
      isEposError(noHeaders, 'InvalidRequest');
      assert.match(String(noHeaders.error?.debugMessage), /headers/);

      send(conn, { jsonrpc: '2.0', id: 'u-5', method: 42 });
      await waitFor('an answer to a non-string method', () => answersTo(conn, 'u-5').length === 1);
      isEposError(answersTo(conn, 'u-5')[0], 'InvalidRequest');

      assert.equal(runs, 0);
      const ok = await call(conn, 'SearchOrdersV1', SEARCH, 'ok-1');
      assert.deepEqual(ok.result, { data: [] });
      assert.equal(ok.method, 'SearchOrdersV1');
      assert.equal(runs, 1);
      assert.equal(h.dojo.conns.length, 1);
      assert.equal(h.server.state.name, 'connected');
    });

    it('turns a result that does not match the schema into UnexpectedError and warns', async () => {
      const h = await setup();
      h.server.serve(new Set(['SearchOrdersV1']), async () => ({ data: 'not a list' }));
      h.server.start();
      const conn = await connected(h);
      const f = await call(conn, 'SearchOrdersV1', SEARCH, 'bad-result');
      assert.equal(f.error?.errorType, 'UnexpectedError');
      assert.match(String(f.error?.debugMessage), /the answer to SearchOrdersV1 did not match Dojo's schema: .*data must be array/);
      assert.ok(lines.some((l) => l.startsWith('warn') && l.includes("did not match Dojo's schema")));
    });

    it('maps flow errors to Dojo error types and redacts the key from debugMessage', async () => {
      const h = await setup();
      const failures: Record<string, () => unknown> = {
        conflict: () => new InboundError('Conflict', 'the order is locked by another payment'),
        notfound: () => new PosError('not_found', 'no order o9'),
        badinput: () => new PosError('bad_input', 'the flow did not like it'),
        typeerror: () => new TypeError("Cannot read properties of undefined (reading 'x')"),
        strange: () => new InboundError('Teapot', 'short and stout'),
        secret: () => new Error(`upstream said ${KEY} is wrong`),
        thrown: () => {
          throw new RangeError('thrown synchronously');
        },
      };
      h.server.serve(new Set(['GetOrderByIdV1']), (req) => {
        const make = failures[(req.params as { orderId: string }).orderId];
        if (make === failures.thrown) make();
        return Promise.reject(make());
      });
      h.server.start();
      const conn = await connected(h);
      const ask = (orderId: string) => call(conn, 'GetOrderByIdV1', { orderId, headers: {} }, `e-${orderId}`);
      assert.deepEqual((await ask('conflict')).error, { errorType: 'Conflict', debugMessage: 'the order is locked by another payment' });
      assert.deepEqual((await ask('notfound')).error, { errorType: 'NotFound', debugMessage: 'no order o9' });
      assert.equal((await ask('badinput')).error?.errorType, 'InvalidRequest');
      const te = (await ask('typeerror')).error;
      assert.equal(te?.errorType, 'UnexpectedError');
      assert.match(String(te?.debugMessage), /Cannot read properties/);
      const strange = (await ask('strange')).error;
      assert.equal(strange?.errorType, 'UnexpectedError');
      assert.match(String(strange?.debugMessage), /Teapot/);
      const secret = (await ask('secret')).error;
      assert.equal(secret?.errorType, 'UnexpectedError');
      assert.ok(!String(secret?.debugMessage).includes(KEY));
      assert.match(String(secret?.debugMessage), /upstream said \*\*\* is wrong/);
      assert.equal((await ask('thrown')).error?.errorType, 'UnexpectedError');
    });

    it('answers UnexpectedError when no flow answers within handlerTimeoutMs', async () => {
      const h = await setup({ handlerTimeoutMs: 80 });
      h.server.serve(new Set(['GetOrderByIdV1']), () => new Promise(() => {}));
      h.server.start();
      const conn = await connected(h);
      const started = Date.now();
      const f = await call(conn, 'GetOrderByIdV1', { orderId: 'o1', headers: {} }, 'never');
      assert.ok(Date.now() - started >= 70);
      assert.equal(f.error?.errorType, 'UnexpectedError');
      assert.match(String(f.error?.debugMessage), /no flow answered GetOrderByIdV1 in time/);
    });
  });

  describe('HandleEventV1', () => {
    it('passes each event id on once and answers {} every time', async () => {
      const h = await setup();
      const events: DojoEvent[] = [];
      h.server.setEventHandler((e) => events.push(e));
      h.server.start();
      const conn = await connected(h);
      const a = await call(conn, 'HandleEventV1', event('evt_1'), 'h-1');
      const b = await call(conn, 'HandleEventV1', event('evt_1'), 'h-2'); // at-least-once delivery
      const c = await call(conn, 'HandleEventV1', event('evt_1'), 'h-1'); // a repeated request id
      for (const f of [a, b, c]) {
        assert.deepEqual(f.result, {});
        assert.equal(f.method, 'HandleEventV1');
      }
      assert.equal(events.length, 1);
      assert.equal(events[0].id, 'evt_1');
      assert.equal(events[0].accountId, 'acc_1');
      assert.equal(events[0].event, 'payment_intent.status_updated');
      assert.deepEqual(events[0].data, { paymentIntentId: 'pi_1', paymentStatus: 'Captured', captureMode: 'Auto' });
      assert.equal(events[0].createdAt, '2025-01-01T10:00:00Z');
      await call(conn, 'HandleEventV1', event('evt_2'), 'h-3');
      assert.deepEqual(events.map((e) => e.id), ['evt_1', 'evt_2']);
    });

    it('refuses events with invalid params or when no event handler is set; a throwing handler still gets {} answered', async () => {
      const h = await setup();
      h.server.start();
      const conn = await connected(h);
      const refused = await call(conn, 'HandleEventV1', event('evt_1'), 'h-1');
      assert.equal(refused.error?.errorType, 'InvalidRequest');
      assert.match(String(refused.error?.debugMessage), /not registered/);
      let calls = 0;
      h.server.setEventHandler(() => {
        calls++;
        throw new Error('flow broke');
      });
      const bad = await call(conn, 'HandleEventV1', { ...event('evt_2'), data: { paymentIntentId: 'pi_1' } }, 'h-2');
      assert.equal(bad.error?.errorType, 'InvalidRequest');
      assert.equal(calls, 0);
      const ok = await call(conn, 'HandleEventV1', event('evt_3'), 'h-3');
      assert.deepEqual(ok.result, {});
      assert.equal(calls, 1);
      assert.ok(lines.some((l) => l.startsWith('error') && l.includes('flow broke')));
    });
  });
});

describe('Dojo EPOS errors', () => {
  it('maps InboundError, PosError, JsonRpcError codes and other errors, bounded and redacted', () => {
    const redact = (t: string) => t.split('hush').join('***');
    assert.deepEqual(toEposError(new InboundError('NotFound', 'gone')), { errorType: 'NotFound', debugMessage: 'gone' });
    assert.equal(toEposError(new InboundError('Bogus', 'x')).errorType, 'UnexpectedError');
    assert.match(toEposError(new InboundError('Bogus', 'x')).debugMessage, /"Bogus"/);
    assert.equal(toEposError(new PosError('not_found', 'x')).errorType, 'NotFound');
    assert.equal(toEposError(new PosError('bad_input', 'x')).errorType, 'InvalidRequest');
    const timeout = toEposError(new PosError('timeout', 'after 30 s'));
    assert.equal(timeout.errorType, 'UnexpectedError');
    assert.match(timeout.debugMessage, /no flow answered in time/);
    assert.equal(toEposError(new PosError('provider_error', 'x')).errorType, 'UnexpectedError');
    assert.equal(toEposError('a string').debugMessage, 'a string');
    assert.equal(toEposError(new Error('say hush now'), redact).debugMessage, 'say *** now');
    const long = toEposError(new Error('y'.repeat(5000)));
    assert.ok(long.debugMessage.length <= DEBUG_MESSAGE_MAX);
    for (const code of [RPC_ERRORS.parseError, RPC_ERRORS.invalidRequest, RPC_ERRORS.methodNotFound, RPC_ERRORS.invalidParams]) {
      assert.equal(rpcErrorToEpos(new JsonRpcError(code, 'm')).errorType, 'InvalidRequest');
    }
    assert.equal(rpcErrorToEpos(new JsonRpcError(RPC_ERRORS.internalError, 'm')).errorType, 'UnexpectedError');
    assert.deepEqual(rpcErrorToEpos(new EposRpcError({ errorType: 'Conflict', debugMessage: 'locked' })), { errorType: 'Conflict', debugMessage: 'locked' });
  });
});

describe('AnswerCache', () => {
  it('expires entries after the TTL and drops the oldest beyond the size cap', () => {
    let now = 1000;
    const cache = new AnswerCache<number>({ ttlMs: 100, maxEntries: 3, now: () => now });
    cache.set('a', 1);
    now += 50;
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), 1);
    now += 50;
    cache.set('a', 11); // refreshed: now the newest, with a fresh TTL
    cache.set('d', 4); // over the cap: the oldest ('b') goes
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(['a', 'c', 'd'].map((k) => cache.get(k)), [11, 3, 4]);
    now += 49;
    assert.equal(cache.get('c'), 3);
    now += 1;
    assert.equal(cache.get('c'), undefined, 'c expired 100 ms after it was set');
    assert.equal(cache.get('a'), 11);
    assert.equal(cache.size, 2);
    now += 50;
    assert.equal(cache.size, 0);
    assert.equal(cache.has('a'), false);
    cache.set('e', 5);
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
