import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonRpcError, JsonRpcPeer, RPC_ERRORS, RawJson, type JsonRpcPeerOptions } from '../../lib/core/jsonrpc';
import { PosError } from '../../lib/core/errors';
import type { Logger } from '../../lib/core/types';

// ---- helpers ------------------------------------------------------------------------------

type Level = keyof Logger;
interface Captured {
  logger: Logger;
  lines: { level: Level; msg: string }[];
  at(level: Level): string[];
}

function captureLogger(): Captured {
  const lines: { level: Level; msg: string }[] = [];
  const push = (level: Level) => (msg: string) => void lines.push({ level, msg });
  return {
    lines,
    logger: { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') },
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.msg),
  };
}

const created: JsonRpcPeer[] = [];
function track(p: JsonRpcPeer): JsonRpcPeer {
  created.push(p);
  return p;
}

/** One peer whose outbound frames are collected synchronously. */
function solo(opts: Partial<JsonRpcPeerOptions> = {}) {
  const out: string[] = [];
  const peer = track(
    new JsonRpcPeer({
      ...opts,
      send: (t) => {
        out.push(t);
        return true;
      },
    }),
  );
  const parsed = () => out.map((t) => JSON.parse(t) as unknown);
  return { peer, out, parsed };
}

/** Two peers wired like a socket: each send is delivered on a later turn of the event loop. */
function pair(aOpts: Partial<JsonRpcPeerOptions> = {}, bOpts: Partial<JsonRpcPeerOptions> = {}) {
  const wire = { open: true, aToB: [] as string[], bToA: [] as string[] };
  const a: JsonRpcPeer = track(
    new JsonRpcPeer({
      ...aOpts,
      send: (t) => {
        if (!wire.open) return false;
        wire.aToB.push(t);
        setImmediate(() => b.receive(t));
        return true;
      },
    }),
  );
  const b: JsonRpcPeer = track(
    new JsonRpcPeer({
      ...bOpts,
      send: (t) => {
        if (!wire.open) return false;
        wire.bToA.push(t);
        setImmediate(() => a.receive(t));
        return true;
      },
    }),
  );
  return { a, b, wire };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
async function flush(turns = 6): Promise<void> {
  for (let i = 0; i < turns; i++) await tick();
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function rejectsWith(p: Promise<unknown>, check: (e: unknown) => void): Promise<void> {
  let caught: unknown;
  let rejected = false;
  try {
    await p;
  } catch (e) {
    rejected = true;
    caught = e;
  }
  assert.ok(rejected, 'expected the promise to reject');
  check(caught);
}
const isPos = (code: string) => (e: unknown) => {
  assert.ok(e instanceof PosError, `expected PosError, got ${String(e)}`);
  assert.equal(e.code, code);
  return true;
};

/**
 * Counts the timers created while `fn` runs synchronously (the peer's request timers), and
 * forgets them when they fire or are cleared. Mocha's own timers are outside the window.
 */
function timerSpy() {
  const active = new Set<unknown>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  let recording = false;
  (globalThis as { setTimeout: unknown }).setTimeout = function (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) {
    if (!recording) return realSet(cb, ms, ...args);
    const h: unknown = realSet(
      (...a: unknown[]) => {
        active.delete(h);
        cb(...a);
      },
      ms,
      ...args,
    );
    active.add(h);
    return h;
  };
  (globalThis as { clearTimeout: unknown }).clearTimeout = function (h: Parameters<typeof clearTimeout>[0]) {
    active.delete(h);
    return realClear(h);
  };
  return {
    active,
    during<T>(fn: () => T): T {
      recording = true;
      try {
        return fn();
      } finally {
        recording = false;
      }
    },
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/** Structural check of everything a peer may send in reply: a response or a non-empty batch of them. */
function assertValidReplyFrame(text: string): void {
  const v: unknown = JSON.parse(text);
  if (Array.isArray(v)) {
    assert.ok(v.length > 0, 'a batch reply is never empty');
    for (const item of v) assertValidResponse(item);
  } else assertValidResponse(v);
}

function assertValidResponse(v: unknown): void {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), 'a response is an object');
  const r = v as Record<string, unknown>;
  assert.equal(r.jsonrpc, '2.0');
  assert.ok('id' in r, 'a response always carries an id');
  assert.ok(r.id === null || typeof r.id === 'string' || typeof r.id === 'number', 'id type');
  assert.ok(('result' in r) !== ('error' in r), 'exactly one of result / error');
  assert.ok(!('method' in r), 'not a request');
  if ('error' in r) {
    const e = r.error as Record<string, unknown>;
    assert.ok(typeof e === 'object' && e !== null && !Array.isArray(e));
    assert.ok(Number.isInteger(e.code), 'error.code is an integer');
    assert.equal(typeof e.message, 'string');
  }
}

// ---- tests --------------------------------------------------------------------------------

describe('JsonRpcPeer', () => {
  afterEach(() => {
    for (const p of created.splice(0)) p.close();
  });

  describe('client and server basics', () => {
    it('correlates a request with its result, over the exact wire shape', async () => {
      const { a, b, wire } = pair();
      b.handle('subtract', (p) => (p as number[])[0] - (p as number[])[1]);
      assert.equal(await a.request('subtract', [42, 23]), 19);
      assert.deepEqual(JSON.parse(wire.aToB[0]), { jsonrpc: '2.0', id: 1, method: 'subtract', params: [42, 23] });
      assert.deepEqual(JSON.parse(wire.bToA[0]), { jsonrpc: '2.0', id: 1, result: 19 });
      assert.equal(a.pendingCount, 0);
    });

    it('uses increasing integer ids, omits absent params, and honours idPrefix and a chosen id', async () => {
      const s = solo();
      void s.peer.request('x').catch(() => undefined);
      void s.peer.request('x', {}).catch(() => undefined);
      assert.deepEqual(s.parsed(), [
        { jsonrpc: '2.0', id: 1, method: 'x' },
        { jsonrpc: '2.0', id: 2, method: 'x', params: {} },
      ]);
      const p = solo({ idPrefix: 'epos-' });
      void p.peer.request('x').catch(() => undefined);
      void p.peer.request('x', [], { id: 'chosen' }).catch(() => undefined);
      assert.deepEqual(
        p.parsed().map((f) => (f as { id: unknown }).id),
        ['epos-1', 'chosen'],
      );
    });

    it('refuses a chosen id that is already pending, and skips it when generating ids', async () => {
      const s = solo();
      void s.peer.request('x', undefined, { id: 1 }).catch(() => undefined);
      await rejectsWith(s.peer.request('x', undefined, { id: 1 }), isPos('bad_input'));
      void s.peer.request('x').catch(() => undefined);
      assert.deepEqual(
        s.parsed().map((f) => (f as { id: unknown }).id),
        [1, 2],
      );
      assert.equal(s.peer.pendingCount, 2);
    });

    it('rejects bad arguments with bad_input before sending anything', async () => {
      const s = solo();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await rejectsWith(s.peer.request(''), isPos('bad_input'));
      await rejectsWith(s.peer.request('x', 'bar'), isPos('bad_input'));
      await rejectsWith(s.peer.request('x', 5), isPos('bad_input'));
      await rejectsWith(s.peer.request('x', circular), isPos('bad_input'));
      await rejectsWith(s.peer.request('x', { n: 1n }), isPos('bad_input'));
      assert.throws(() => s.peer.notify('x', 'bar'), isPos('bad_input'));
      assert.equal(s.out.length, 0);
      assert.equal(s.peer.pendingCount, 0);
    });

    it('rejects with a JsonRpcError carrying code, message and data for an error response', async () => {
      const { a, b, wire } = pair();
      b.handle('pay', () => {
        throw new JsonRpcError(RPC_ERRORS.invalidParams, 'amount must be an integer', { field: 'amount' });
      });
      await rejectsWith(a.request('pay', { amount: 1.5 }), (e) => {
        assert.ok(e instanceof JsonRpcError);
        assert.equal(e.code, -32602);
        assert.equal(e.message, 'amount must be an integer');
        assert.deepEqual(e.data, { field: 'amount' });
        assert.deepEqual(e.raw, { code: -32602, message: 'amount must be an integer', data: { field: 'amount' } });
      });
      assert.deepEqual(JSON.parse(wire.bToA[0]), {
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32602, message: 'amount must be an integer', data: { field: 'amount' } },
      });
    });

    it('answers -32603 with a generic message when a handler throws anything else, and logs the cause', async () => {
      const log = captureLogger();
      const { a, b, wire } = pair({}, { logger: log.logger });
      b.handle('boom', () => {
        throw new Error('db password=hunter2 rejected');
      });
      b.handle('boomAsync', async () => {
        throw 'a string, not an Error';
      });
      b.handle('boomUndefined', () => {
        throw undefined;
      });
      for (const m of ['boom', 'boomAsync', 'boomUndefined']) {
        await rejectsWith(a.request(m), (e) => {
          assert.ok(e instanceof JsonRpcError);
          assert.equal(e.code, RPC_ERRORS.internalError);
          assert.equal(e.message, 'Internal error');
        });
      }
      assert.ok(wire.bToA.every((t) => !t.includes('hunter2') && !t.includes('a string')));
      assert.ok(log.at('error').some((m) => m.includes('hunter2')));
    });

    it('answers result null when a handler returns nothing', async () => {
      const { a, b, wire } = pair();
      b.handle('noop', () => undefined);
      assert.equal(await a.request('noop'), null);
      assert.ok('result' in JSON.parse(wire.bToA[0]));
    });

    it('answers -32603 when the result cannot be serialised', async () => {
      const { a, b } = pair();
      b.handle('big', () => ({ n: 1n }));
      await rejectsWith(a.request('big'), (e) => assert.equal((e as JsonRpcError).code, RPC_ERRORS.internalError));
    });

    it('answers -32601 for a method nobody handles, and routes to the fallback when set', async () => {
      const { a, b } = pair();
      await rejectsWith(a.request('nope'), (e) => {
        assert.ok(e instanceof JsonRpcError);
        assert.equal(e.code, RPC_ERRORS.methodNotFound);
      });
      const seen: unknown[] = [];
      b.setFallback((params, ctx) => {
        seen.push([ctx.method, ctx.id, params]);
        return 'fallback';
      });
      assert.equal(await a.request('nope', { q: 1 }), 'fallback');
      assert.deepEqual(seen, [['nope', 2, { q: 1 }]]);
      b.handle('own', () => 'own');
      assert.equal(await a.request('own'), 'own');
      b.setFallback(undefined);
      await rejectsWith(a.request('nope'), (e) => assert.equal((e as JsonRpcError).code, RPC_ERRORS.methodNotFound));
    });

    it('refuses two handlers for one method; unregister removes only its own registration', async () => {
      const { a, b } = pair();
      const off1 = b.handle('m', () => 1);
      assert.throws(() => b.handle('m', () => 2), isPos('bad_input'));
      off1();
      const off2 = b.handle('m', () => 2);
      off1(); // stale: must not remove the new handler
      assert.equal(await a.request('m'), 2);
      off2();
      await rejectsWith(a.request('m'), (e) => assert.equal((e as JsonRpcError).code, RPC_ERRORS.methodNotFound));
    });

    it('delivers notifications to every listener, answers none, and survives a throwing listener', async () => {
      const log = captureLogger();
      const { a, b, wire } = pair({}, { logger: log.logger });
      const got: unknown[] = [];
      b.onNotification(() => {
        throw new Error('listener bug');
      });
      const off = b.onNotification((m, p) => got.push([m, p]));
      let handled = false;
      b.handle('progress', () => {
        handled = true;
      });
      assert.equal(a.notify('progress', { event: 'PIN_ENTRY' }), true);
      assert.equal(a.notify('unknownNote'), true);
      await flush();
      assert.deepEqual(got, [
        ['progress', { event: 'PIN_ENTRY' }],
        ['unknownNote', undefined],
      ]);
      assert.equal(handled, false, 'a notification goes to listeners, not to request handlers');
      assert.equal(wire.bToA.length, 0, 'notifications are never answered');
      assert.equal(JSON.parse(wire.aToB[0]).id, undefined);
      assert.ok(log.at('error').some((m) => m.includes('listener bug')));
      off();
      a.notify('progress', [1]);
      await flush();
      assert.equal(got.length, 2);
    });

    it('lets a listener unsubscribe while notifications are being dispatched', async () => {
      const { a, b } = pair();
      const got: string[] = [];
      const offFirst = b.onNotification(() => {
        got.push('first');
        offFirst();
      });
      b.onNotification(() => got.push('second'));
      a.notify('n');
      a.notify('n');
      await flush();
      assert.deepEqual(got, ['first', 'second', 'second']);
    });
  });

  describe('timeouts and timers', () => {
    let spy: ReturnType<typeof timerSpy>;
    beforeEach(() => {
      spy = timerSpy();
    });
    afterEach(() => spy.restore());

    it('rejects with PosError timeout, removes the entry, then logs and drops the late response', async () => {
      const log = captureLogger();
      const late: unknown[] = [];
      const s = solo({ logger: log.logger, onUnmatchedResponse: (r, info) => late.push([r.id, info]) });
      const started = Date.now();
      const p = spy.during(() => s.peer.request('sale', { amount: 100 }, { timeoutMs: 40 }));
      assert.equal(spy.active.size, 1, 'one timer armed');
      await rejectsWith(p, (e) => {
        isPos('timeout')(e);
        assert.match((e as Error).message, /sale/);
      });
      assert.ok(Date.now() - started >= 35);
      assert.equal(s.peer.pendingCount, 0);
      assert.equal(spy.active.size, 0);
      s.peer.receive('{"jsonrpc":"2.0","id":1,"result":{"transactionResult":"SUCCESSFUL"}}');
      assert.deepEqual(late, [[1, { late: true, method: 'sale' }]]);
      assert.ok(log.at('warn').some((m) => /late response/.test(m) && /sale/.test(m)));
      assert.equal(s.out.length, 1, 'only the request itself was sent; a response is never answered');
    });

    it('uses defaultTimeoutMs, lets a request override it, and never arms a timer for Infinity', async () => {
      const s = solo({ defaultTimeoutMs: 30 });
      const fast = spy.during(() => s.peer.request('a'));
      const slow = spy.during(() => s.peer.request('b', undefined, { timeoutMs: 150 }));
      const never = spy.during(() => s.peer.request('c', undefined, { timeoutMs: Infinity }));
      assert.equal(spy.active.size, 1, 'one timer for every pending request, armed for the earliest deadline');
      const t0 = Date.now();
      await rejectsWith(fast, isPos('timeout'));
      assert.equal(s.peer.pendingCount, 2);
      await rejectsWith(slow, isPos('timeout'));
      assert.ok(Date.now() - t0 >= 100);
      assert.equal(s.peer.pendingCount, 1);
      s.peer.receive('{"jsonrpc":"2.0","id":3,"result":"late but fine"}');
      assert.equal(await never, 'late but fine');
    });

    it('holds the process open only while a request is pending, whichever way it ends; close() clears the timer', async () => {
      const holding = () => [...spy.active].filter((h) => (h as NodeJS.Timeout).hasRef()).length;
      const s = solo();
      const ok = spy.during(() => s.peer.request('ok'));
      const bad = spy.during(() => s.peer.request('bad'));
      const malformed = spy.during(() => s.peer.request('malformed'));
      const failed = spy.during(() => s.peer.request('failed'));
      assert.equal(spy.active.size, 1, 'one timer for the four');
      assert.equal(holding(), 1);
      s.peer.receive('{"jsonrpc":"2.0","id":1,"result":1}');
      s.peer.receive('{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"no"}}');
      s.peer.receive('{"jsonrpc":"2.0","id":3,"result":1,"error":{"code":1,"message":"both"}}');
      assert.equal(holding(), 1, 'one request is still pending');
      s.peer.failPending(new PosError('not_connected', 'socket dropped'));
      assert.equal(await ok, 1);
      await rejectsWith(bad, (e) => assert.ok(e instanceof JsonRpcError));
      await rejectsWith(malformed, isPos('protocol_error'));
      await rejectsWith(failed, isPos('not_connected'));
      assert.equal(holding(), 0, 'nothing pending: the armed timer no longer holds the process');

      const closed = spy.during(() => s.peer.request('closed'));
      assert.equal(holding(), 1, 'pending again');
      s.peer.close();
      await rejectsWith(closed, isPos('closed'));
      assert.equal(spy.active.size, 0, 'close() clears the timer');

      const offline = new JsonRpcPeer({ send: () => false });
      await rejectsWith(
        spy.during(() => offline.request('x')),
        isPos('not_connected'),
      );
      assert.equal(holding(), 0);
      offline.close();
      assert.equal(spy.active.size, 0);
    });

    it('ends overdue requests as their deadlines pass, with one timer re-armed for the next', async () => {
      const s = solo();
      const order: string[] = [];
      const started = performance.now();
      const watch = (p: Promise<unknown>, name: string) => p.catch((e) => { isPos('timeout')(e); order.push(`${name}@${Math.round(performance.now() - started)}`); });
      const all = spy.during(() => [
        watch(s.peer.request('late', undefined, { timeoutMs: 120 }), 'late'),
        watch(s.peer.request('early', undefined, { timeoutMs: 30 }), 'early'),
        watch(s.peer.request('middle', undefined, { timeoutMs: 60 }), 'middle'),
      ]);
      // The second request's earlier deadline re-armed the one timer.
      assert.equal(spy.active.size, 1);
      await Promise.all(all);
      assert.deepEqual(order.map((o) => o.split('@')[0]), ['early', 'middle', 'late']);
      const at = order.map((o) => Number(o.split('@')[1]));
      assert.ok(at[0]! >= 29 && at[1]! >= 59 && at[2]! >= 119, `each no earlier than its own timeout: ${order.join(', ')}`);
      assert.equal(s.peer.pendingCount, 0);
    });
  });

  describe('transport state', () => {
    it('rejects not_connected at once when send() returns false, and when it throws', async () => {
      let open = false;
      const peer = track(
        new JsonRpcPeer({
          send: () => {
            if (open === false) return false;
            throw new Error('socket exploded');
          },
        }),
      );
      await rejectsWith(peer.request('x', undefined, { timeoutMs: 10_000 }), isPos('not_connected'));
      assert.equal(peer.pendingCount, 0);
      assert.equal(peer.notify('x'), false);
      open = true;
      await rejectsWith(peer.request('x', undefined, { timeoutMs: 10_000 }), isPos('not_connected'));
      assert.equal(peer.notify('x'), false);
      assert.equal(peer.pendingCount, 0);
    });

    it('works over a transport that delivers synchronously inside send()', async () => {
      let a!: JsonRpcPeer;
      const b: JsonRpcPeer = track(new JsonRpcPeer({ send: (t) => void a.receive(t) }));
      a = track(new JsonRpcPeer({ send: (t) => void b.receive(t) }));
      b.handle('echo', (p) => p);
      assert.deepEqual(await a.request('echo', { v: 1 }), { v: 1 });
      assert.equal(a.pendingCount, 0);
    });

    it('failPending rejects every pending request with the given error and keeps the peer usable', async () => {
      const { a, b, wire } = pair();
      b.handle('slow', () => new Promise(() => undefined));
      b.handle('echo', (p) => p);
      const p1 = a.request('slow');
      const p2 = a.request('slow');
      assert.equal(a.pendingCount, 2);
      const dropped = new PosError('not_connected', 'connection lost');
      a.failPending(dropped);
      await rejectsWith(p1, (e) => assert.equal(e, dropped));
      await rejectsWith(p2, (e) => assert.equal(e, dropped));
      assert.equal(a.pendingCount, 0);
      assert.deepEqual(await a.request('echo', [1]), [1]);
      wire.open = false;
      await rejectsWith(a.request('echo', [2]), isPos('not_connected'));
    });

    it('close() fails pending requests with closed, refuses new ones and ignores inbound frames', async () => {
      const s = solo();
      const pending = s.peer.request('x');
      s.peer.handle('y', () => 1);
      s.peer.close();
      await rejectsWith(pending, isPos('closed'));
      await rejectsWith(s.peer.request('x'), isPos('closed'));
      assert.equal(s.peer.notify('x'), false);
      s.peer.receive('{"jsonrpc":"2.0","id":9,"method":"y"}');
      s.peer.receive('not json');
      assert.equal(s.out.length, 1);
      s.peer.close(); // idempotent
    });

    it('drops the reply of a handler that finishes after close()', async () => {
      const s = solo();
      let release!: () => void;
      s.peer.handle('slow', () => new Promise<string>((r) => (release = () => r('done'))));
      s.peer.receive('{"jsonrpc":"2.0","id":1,"method":"slow"}');
      s.peer.close();
      release();
      await flush();
      assert.equal(s.out.length, 0);
    });
  });

  describe('concurrency', () => {
    it('a slow handler blocks neither the next inbound request nor our own responses', async () => {
      const { a, b } = pair();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      b.handle('slow', async () => {
        await gate;
        return 'slow done';
      });
      b.handle('fast', () => 'fast done');
      a.handle('ask', () => 'answered by a');
      const order: string[] = [];
      const slow = a.request<string>('slow').then((v) => (order.push(v), v));
      const fast = a.request<string>('fast').then((v) => (order.push(v), v));
      assert.equal(await fast, 'fast done');
      // b's own request to a is answered and settled while b's slow handler still waits.
      assert.equal(await b.request('ask'), 'answered by a');
      assert.equal(a.pendingCount, 1);
      release();
      assert.equal(await slow, 'slow done');
      assert.deepEqual(order, ['fast done', 'slow done']);
    });

    it('answers the server’s request while our own request is pending (Paymentsense signature flow)', async () => {
      const { a: epos, b: connect } = pair();
      connect.handle('sale', async (params) => {
        const verdict = await connect.request<{ accepted: boolean }>('signatureVerification', { tid: (params as { tid: string }).tid });
        return { transactionResult: verdict.accepted ? 'SUCCESSFUL' : 'VOID' };
      });
      epos.handle('signatureVerification', async (params) => {
        assert.deepEqual(params, { tid: 'T1' });
        assert.equal(epos.pendingCount, 1, 'our sale is still pending');
        return { accepted: true };
      });
      assert.deepEqual(await epos.request('sale', { tid: 'T1', amount: 1053 }), { transactionResult: 'SUCCESSFUL' });
    });

    it('keeps 64 requests in flight in both directions at once', async () => {
      const { a, b } = pair();
      const delay = (v: unknown, n: number) => new Promise((r) => setTimeout(() => r(v), n % 7));
      b.handle('echo', (p) => delay(p, (p as number[])[0]));
      a.handle('echo', (p) => delay(p, (p as number[])[0]));
      const fromA = Array.from({ length: 64 }, (_, i) => a.request('echo', [i]));
      const fromB = Array.from({ length: 64 }, (_, i) => b.request('echo', [i]));
      assert.equal(a.pendingCount, 64);
      const [ra, rb] = await Promise.all([Promise.all(fromA), Promise.all(fromB)]);
      ra.forEach((r, i) => assert.deepEqual(r, [i]));
      rb.forEach((r, i) => assert.deepEqual(r, [i]));
      assert.equal(a.pendingCount + b.pendingCount, 0);
    });
  });

  describe('batches', () => {
    it('answers a batch with one array, with nothing for its notifications', async () => {
      const s = solo();
      const notes: string[] = [];
      s.peer.onNotification((m) => notes.push(m));
      s.peer.handle('sum', (p) => (p as number[]).reduce((x, y) => x + y, 0));
      s.peer.handle('later', async () => {
        await sleep(10);
        return 'later';
      });
      s.peer.receive(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'later', id: 'L' },
          { jsonrpc: '2.0', method: 'sum', params: [1, 2], id: 1 },
          { jsonrpc: '2.0', method: 'note', params: [7] },
        ]),
      );
      await sleep(30);
      assert.equal(s.out.length, 1, 'one frame for the whole batch');
      const reply = JSON.parse(s.out[0]) as { id: unknown; result: unknown }[];
      assert.ok(Array.isArray(reply));
      assert.deepEqual(
        [...reply].sort((x, y) => String(x.id).localeCompare(String(y.id))),
        [
          { jsonrpc: '2.0', id: 1, result: 3 },
          { jsonrpc: '2.0', id: 'L', result: 'later' },
        ],
      );
      assert.deepEqual(notes, ['note']);
    });

    it('follows every example of the JSON-RPC 2.0 specification', async () => {
      const cases: [string, unknown][] = [
        ['{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}', { jsonrpc: '2.0', result: 19, id: 1 }],
        ['{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}', { jsonrpc: '2.0', result: 19, id: 3 }],
        ['{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', undefined],
        ['{"jsonrpc": "2.0", "method": "foobar"}', undefined],
        ['{"jsonrpc": "2.0", "method": "foobar", "id": "1"}', { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: '1' }],
        ['{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }],
        ['{"jsonrpc": "2.0", "method": 1, "params": "bar"}', { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }],
        [
          '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]',
          { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null },
        ],
        ['[]', { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }],
        ['[1]', [{ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }]],
        ['[1,2,3]', [1, 2, 3].map(() => ({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }))],
        [
          `[
            {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
            {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
            {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
          ]`,
          [
            { jsonrpc: '2.0', result: 7, id: '1' },
            { jsonrpc: '2.0', result: 19, id: '2' },
            { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null },
            { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: '5' },
            { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
          ],
        ],
        ['[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]', undefined],
      ];
      for (const [input, expected] of cases) {
        const s = solo();
        s.peer.handle('subtract', (p) =>
          Array.isArray(p) ? p[0] - p[1] : (p as { minuend: number }).minuend - (p as { subtrahend: number }).subtrahend,
        );
        s.peer.handle('sum', (p) => (p as number[]).reduce((x, y) => x + y, 0));
        s.peer.handle('get_data', async () => ['hello', 5]);
        s.peer.handle('update', () => assert.fail('a notification is not a request'));
        s.peer.receive(input);
        await flush();
        if (expected === undefined) assert.deepEqual(s.out, [], input);
        else {
          assert.equal(s.out.length, 1, input);
          assert.deepEqual(JSON.parse(s.out[0]), expected, input);
        }
      }
    });

    it('correlates a batch of responses item by item', async () => {
      const s = solo();
      const ps = [s.peer.request('a'), s.peer.request('b'), s.peer.request('c')];
      s.peer.receive(
        JSON.stringify([
          { jsonrpc: '2.0', id: 3, result: 'c' },
          { jsonrpc: '2.0', id: 1, result: 'a' },
          { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'b failed' } },
          { jsonrpc: '2.0', id: 99, result: 'nobody asked' },
        ]),
      );
      assert.equal(await ps[0], 'a');
      await rejectsWith(ps[1], (e) => assert.equal((e as JsonRpcError).message, 'b failed'));
      assert.equal(await ps[2], 'c');
      assert.equal(s.out.length, 3, 'a batch of responses is not answered');
    });

    it('handles a mixed batch of requests and responses', async () => {
      const s = solo();
      s.peer.handle('echo', (p) => p);
      const mine = s.peer.request('mine');
      s.peer.receive(
        JSON.stringify([
          { jsonrpc: '2.0', id: 1, result: 'yours' },
          { jsonrpc: '2.0', id: 1, method: 'echo', params: ['theirs'] },
        ]),
      );
      assert.equal(await mine, 'yours');
      assert.deepEqual(JSON.parse(s.out[1]), [{ jsonrpc: '2.0', id: 1, result: ['theirs'] }]);
    });
  });

  describe('malformed and unexpected input', () => {
    it('answers -32600 with the id echoed when it is valid, else null', async () => {
      const s = solo();
      s.peer.handle('m', () => 'ok');
      const cases: [unknown, unknown][] = [
        [{ jsonrpc: '1.0', method: 'm', id: 7 }, 7],
        [{ method: 'm', id: 'x' }, 'x'],
        [{ jsonrpc: '2.0', method: 5, id: 8 }, 8],
        [{ jsonrpc: '2.0', method: 'm', params: 'bar', id: 9 }, 9],
        [{ jsonrpc: '2.0', method: 'm', params: null, id: 10 }, 10],
        [{ jsonrpc: '2.0', method: 'm', params: 3 }, null],
        [{ jsonrpc: '2.0', method: 'm', id: { nested: 1 } }, null],
        [{ jsonrpc: '2.0', method: 'm', id: true }, null],
        [{ jsonrpc: '2.0' }, null],
        // No method: it may be a broken response, and its id then lives in the other side's id
        // space; echoing it could settle one of *their* requests, so it is never echoed.
        [{ jsonrpc: '2.0', id: 12 }, null],
        [{}, null],
        [null, null],
        ['just a string', null],
        [42, null],
      ];
      for (const [frame, id] of cases) {
        s.out.length = 0;
        s.peer.receive(JSON.stringify(frame));
        assert.equal(s.out.length, 1, JSON.stringify(frame));
        assert.deepEqual(JSON.parse(s.out[0]), { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid Request' } }, JSON.stringify(frame));
      }
    });

    it('tolerates unknown members in requests, notifications and responses', async () => {
      const { a, b } = pair();
      b.handle('m', (p) => p);
      const notes: unknown[] = [];
      b.onNotification((m, p) => notes.push([m, p]));
      b.receive('{"jsonrpc":"2.0","method":"n","params":[1],"x-trace":"abc"}');
      assert.deepEqual(notes, [['n', [1]]]);
      const p = a.request('m', [2]);
      a.receive('{"jsonrpc":"2.0","id":1,"result":"extra","server":"v9","meta":{"t":1}}');
      assert.equal(await p, 'extra');
      const s = solo();
      s.peer.handle('m', (q) => q);
      s.peer.receive('{"jsonrpc":"2.0","id":4,"method":"m","params":{"k":1},"extension":[1,2]}');
      assert.deepEqual(JSON.parse(s.out[0]), { jsonrpc: '2.0', id: 4, result: { k: 1 } });
    });

    it('never answers a response, even a malformed one or one matching nothing', () => {
      const log = captureLogger();
      const unmatched: unknown[] = [];
      const s = solo({ logger: log.logger, onUnmatchedResponse: (r, info) => unmatched.push([r.id, info.late]) });
      const frames = [
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Connection Discontinued"}}',
        '{"jsonrpc":"2.0","id":5,"result":1}',
        '{"jsonrpc":"2.0","result":1}',
        '{"jsonrpc":"2.0","id":5,"error":"bad"}',
        '{"jsonrpc":"1.0","id":6,"result":1,"error":null}',
        '[{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}]',
      ];
      for (const f of frames) s.peer.receive(f);
      assert.deepEqual(s.out, []);
      assert.equal(log.at('warn').length, frames.length);
      assert.deepEqual(unmatched[0], [null, false]);
      assert.equal(unmatched.length, frames.length);
    });

    it('rejects a pending request with protocol_error when its response is malformed', async () => {
      const s = solo();
      const bad = [
        '{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}',
        '{"jsonrpc":"2.0","id":2,"error":"not an object"}',
        '{"jsonrpc":"1.0","id":3,"result":1}',
        '{"id":4,"result":1}',
        '{"jsonrpc":"2.0","id":5}',
        '{"jsonrpc":"2.0","id":6,"error":null}',
      ];
      const ps = bad.map(() => s.peer.request('x'));
      for (const f of bad) s.peer.receive(f);
      for (const p of ps) await rejectsWith(p, isPos('protocol_error'));
      assert.equal(s.out.length, bad.length, 'no reply to any of them');
      assert.equal(s.peer.pendingCount, 0);
    });

    it('accepts common server quirks: error null beside a result, result null beside an error, "7" for 7', async () => {
      const s = solo();
      const p1 = s.peer.request('a');
      const p2 = s.peer.request('b');
      const p3 = s.peer.request('c');
      const p4 = solo({ idPrefix: '' });
      const q = p4.peer.request('d');
      s.peer.receive('{"jsonrpc":"2.0","id":1,"result":"ok","error":null}');
      s.peer.receive('{"jsonrpc":"2.0","id":2,"result":null,"error":{"code":-1,"message":"no"}}');
      s.peer.receive('{"jsonrpc":"2.0","id":"3","result":"string id"}');
      p4.peer.receive('{"jsonrpc":"2.0","id":1,"result":"number id"}');
      assert.equal(await p1, 'ok');
      await rejectsWith(p2, (e) => assert.equal((e as JsonRpcError).code, -1));
      assert.equal(await p3, 'string id');
      assert.equal(await q, 'number id');
    });

    it('turns a provider-specific error object into a JsonRpcError keeping the original in raw', async () => {
      const s = solo();
      const p = s.peer.request('GetOrderByIdV1');
      s.peer.receive('{"jsonrpc":"2.0","id":1,"error":{"errorType":"NotFound","debugMessage":"no order 12"}}');
      await rejectsWith(p, (e) => {
        assert.ok(e instanceof JsonRpcError);
        assert.equal(e.code, -32000);
        assert.deepEqual(e.raw, { errorType: 'NotFound', debugMessage: 'no order 12' });
        assert.equal(typeof e.message, 'string');
      });
    });

    it('answers -32700 with id null to invalid JSON and stays usable; two peers never loop on errors', async () => {
      const { a, b, wire } = pair();
      b.handle('echo', (p) => p);
      b.receive('{"jsonrpc":"2.0",');
      await flush();
      assert.deepEqual(JSON.parse(wire.bToA[0]), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      assert.equal(wire.aToB.length, 0, 'a does not answer the error response');
      assert.deepEqual(await a.request('echo', [1]), [1]);
      // Garbage a -> b: b answers once, a stays silent.
      wire.aToB.length = 0;
      wire.bToA.length = 0;
      b.receive('{"jsonrpc":"2.0","id":{"bad":1},"method":"echo"}');
      await flush(10);
      assert.equal(wire.bToA.length, 1);
      assert.equal(wire.aToB.length, 0);
    });

    it('never throws out of receive(), whatever the logger, redactor, listener, handler or transport do', async () => {
      const throwing: Logger = {
        debug: () => {
          throw new Error('logger');
        },
        info: () => {
          throw new Error('logger');
        },
        warn: () => {
          throw new Error('logger');
        },
        error: () => {
          throw new Error('logger');
        },
      };
      const peer = track(
        new JsonRpcPeer({
          send: () => {
            throw new Error('transport');
          },
          logger: throwing,
          redact: () => {
            throw new Error('redactor');
          },
          formatError: () => {
            throw new Error('formatter');
          },
          onUnmatchedResponse: () => {
            throw new Error('hook');
          },
        }),
      );
      peer.onNotification(() => {
        throw new Error('listener');
      });
      peer.handle('sync', () => {
        throw new Error('handler');
      });
      peer.handle('thenableThrows', () => ({
        then() {
          throw new Error('then');
        },
      }));
      peer.handle('thenGetter', () => ({
        get then() {
          throw new Error('getter');
        },
      }));
      peer.handle('circular', () => {
        const o: Record<string, unknown> = {};
        o.o = o;
        return o;
      });
      peer.handle('rejects', () => Promise.reject(new Error('async')));
      const inputs = [
        'garbage',
        '{"jsonrpc":"2.0","method":"n"}',
        '{"jsonrpc":"2.0","id":1,"method":"sync"}',
        '{"jsonrpc":"2.0","id":2,"method":"thenableThrows"}',
        '{"jsonrpc":"2.0","id":3,"method":"thenGetter"}',
        '{"jsonrpc":"2.0","id":4,"method":"circular"}',
        '{"jsonrpc":"2.0","id":5,"method":"rejects"}',
        '{"jsonrpc":"2.0","id":6,"result":1}',
        '[{"jsonrpc":"2.0","id":7,"method":"rejects"},{"jsonrpc":"2.0","id":8,"method":"sync"}]',
        '[]',
        '{"__proto__":{"method":"sync"},"constructor":{"prototype":{}},"jsonrpc":"2.0","id":9}',
        '{"jsonrpc":"2.0","id":10,"method":"__proto__"}',
        '{"jsonrpc":"2.0","id":11,"method":"hasOwnProperty"}',
      ];
      for (const t of inputs) assert.doesNotThrow(() => peer.receive(t), t);
      assert.doesNotThrow(() => peer.receive(undefined as unknown as string));
      assert.doesNotThrow(() => peer.receive(Symbol('x') as unknown as string));
      await flush();
      assert.equal(({} as Record<string, unknown>).method, undefined, 'no prototype pollution');
    });

    it('redacts before truncating what it logs, and keeps logged frames short', () => {
      const log = captureLogger();
      const secret = 'sk_live_supersecretvalue';
      const s = solo({ logger: log.logger, redact: (t) => t.split(secret).join('***') });
      const huge = '{' + 'x'.repeat(190) + secret + 'y'.repeat(5000);
      s.peer.receive(huge);
      s.peer.receive(JSON.stringify({ jsonrpc: '2.0', method: 1, token: secret }));
      s.peer.handle('leak', () => {
        throw new Error(`auth failed for ${secret}`);
      });
      s.peer.receive('{"jsonrpc":"2.0","id":1,"method":"leak"}');
      const all = log.lines.map((l) => l.msg).join('\n');
      assert.ok(!all.includes('sk_live'), 'no part of the secret is logged');
      assert.ok(all.includes('***'));
      const first = log.at('warn')[0];
      assert.ok(first.length < 320, `logged ${first.length} chars`);
      assert.match(first, /chars\)/);
      assert.ok(!s.out.join('').includes('sk_live'), 'the peer never sees our internal error text');
    });
  });

  describe('provider options', () => {
    it('formatError shapes every error we send; echoMethod repeats the method (Dojo EPOS Data)', async () => {
      const toEpos = (e: JsonRpcError) => ({
        errorType: e.code === RPC_ERRORS.internalError ? 'UnexpectedError' : e.code === -32004 ? 'NotFound' : 'InvalidRequest',
        debugMessage: e.message,
      });
      const s = solo({ formatError: toEpos, echoMethod: true });
      s.peer.handle('GetOrderByIdV1', (p) => {
        if ((p as { orderId: string }).orderId !== 'o1') throw new JsonRpcError(-32004, 'no such order');
        return { id: 'o1' };
      });
      s.peer.receive('{"jsonrpc":"2.0","id":"u1","method":"GetOrderByIdV1","params":{"orderId":"o1"}}');
      s.peer.receive('{"jsonrpc":"2.0","id":"u2","method":"GetOrderByIdV1","params":{"orderId":"o2"}}');
      s.peer.receive('{"jsonrpc":"2.0","id":"u3","method":"SearchTablesV1","params":{}}');
      s.peer.receive('nonsense');
      assert.deepEqual(s.parsed(), [
        { jsonrpc: '2.0', id: 'u1', method: 'GetOrderByIdV1', result: { id: 'o1' } },
        { jsonrpc: '2.0', id: 'u2', method: 'GetOrderByIdV1', error: { errorType: 'NotFound', debugMessage: 'no such order' } },
        { jsonrpc: '2.0', id: 'u3', method: 'SearchTablesV1', error: { errorType: 'InvalidRequest', debugMessage: 'Method not found' } },
        { jsonrpc: '2.0', id: null, error: { errorType: 'InvalidRequest', debugMessage: 'Parse error' } },
      ]);
    });

    it('a handler may answer with RawJson: its text is the result, sent as is', async () => {
      const s = solo({ echoMethod: true });
      s.peer.handle('GetOrderByIdV1', () => new RawJson('{"id":"o1","status":"Accepted"}'));
      s.peer.handle('SearchOrdersV1', () => Promise.resolve(new RawJson('{"data":[]}')));
      s.peer.receive('{"jsonrpc":"2.0","id":"r1","method":"GetOrderByIdV1","params":{"orderId":"o1"}}');
      s.peer.receive('{"jsonrpc":"2.0","id":"r2","method":"SearchOrdersV1","params":{}}');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(s.out, [
        '{"jsonrpc":"2.0","id":"r1","method":"GetOrderByIdV1","result":{"id":"o1","status":"Accepted"}}',
        '{"jsonrpc":"2.0","id":"r2","method":"SearchOrdersV1","result":{"data":[]}}',
      ]);
    });

    it('a client accepts responses that echo the method', async () => {
      const { a, b } = pair({}, { echoMethod: true });
      b.handle('SearchOrdersV1', () => ({ data: [] }));
      assert.deepEqual(await a.request('SearchOrdersV1', { headers: {} }, { id: 'c0ffee' }), { data: [] });
    });
  });

  describe('properties', () => {
    // Weighted towards the near-valid, where the interesting decisions are.
    const idArb = fc.oneof(
      { arbitrary: fc.integer(), weight: 3 },
      { arbitrary: fc.string({ maxLength: 4 }), weight: 3 },
      fc.constant(null),
      fc.double(),
      fc.boolean(),
      fc.object({ maxDepth: 1 }),
    );
    const versionArb = fc.oneof({ arbitrary: fc.constant('2.0'), weight: 6 }, fc.constant('1.0'), fc.jsonValue({ maxDepth: 1 }));
    const methodArb = fc.oneof(
      { arbitrary: fc.constantFrom('echo', 'echoAsync', 'fail', 'rpcFail', 'nope', '__proto__', 'toString'), weight: 6 },
      fc.jsonValue({ maxDepth: 1 }),
    );
    const paramsArb = fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const errorArb = fc.oneof(fc.record({ code: fc.integer(), message: fc.string() }), fc.jsonValue({ maxDepth: 2 }));
    const extraArb = fc.jsonValue({ maxDepth: 1 });
    const requestLikeArb = fc.record(
      { jsonrpc: versionArb, method: methodArb, params: paramsArb, id: idArb, extra: extraArb },
      { requiredKeys: ['jsonrpc', 'method'] },
    );
    const responseLikeArb = fc.record(
      { jsonrpc: versionArb, id: idArb, result: fc.jsonValue({ maxDepth: 2 }), error: errorArb, extra: extraArb },
      { requiredKeys: ['jsonrpc'] },
    );
    const anyMembersArb = fc.record(
      { jsonrpc: versionArb, method: methodArb, params: paramsArb, id: idArb, result: fc.jsonValue({ maxDepth: 2 }), error: errorArb, extra: extraArb },
      { requiredKeys: [] },
    );
    const frameObjectArb = fc.oneof({ arbitrary: requestLikeArb, weight: 4 }, { arbitrary: responseLikeArb, weight: 2 }, anyMembersArb);
    const frameValueArb = fc.oneof(frameObjectArb, fc.array(frameObjectArb, { maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }));

    function answering() {
      const s = solo();
      s.peer.handle('echo', (p) => p);
      s.peer.handle('echoAsync', async (p) => {
        await tick();
        return p;
      });
      s.peer.handle('fail', () => {
        throw new Error('internal');
      });
      s.peer.handle('rpcFail', () => {
        throw new JsonRpcError(RPC_ERRORS.invalidParams, 'bad params', { hint: 1 });
      });
      // Responses with these ids find a pending request; their outcome is irrelevant here.
      for (let i = 0; i < 3; i++) void s.peer.request('pending', undefined, { timeoutMs: 5000 }).catch(() => undefined);
      s.out.length = 0;
      return s;
    }

    function idsIn(value: unknown): Set<string> {
      const ids = new Set<string>(['null']);
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (typeof item === 'object' && item !== null && !Array.isArray(item) && 'id' in item) {
          ids.add(JSON.stringify((item as { id: unknown }).id));
        }
      }
      return ids;
    }

    it('receive() never throws on arbitrary text, and only ever sends valid JSON-RPC responses', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 64 }), fc.json()), async (text) => {
          const s = answering();
          s.peer.receive(text);
          await flush(3);
          for (const t of s.out) assertValidReplyFrame(t);
          assert.ok(s.out.length <= 1, 'at most one reply per frame');
        }),
        { numRuns: 300 },
      );
    });

    it('receive() never throws on arbitrary JSON-RPC-like values; replies are valid, echo only input ids, and never answer responses', async () => {
      await fc.assert(
        fc.asyncProperty(frameValueArb, async (value) => {
          const s = answering();
          const text = JSON.stringify(value) ?? 'null';
          assert.doesNotThrow(() => s.peer.receive(text));
          await flush(3);
          assert.ok(s.out.length <= 1, 'at most one reply per frame');
          for (const t of s.out) assertValidReplyFrame(t);
          const allowed = idsIn(JSON.parse(text));
          for (const t of s.out) {
            const replies = ([] as unknown[]).concat(JSON.parse(t));
            for (const r of replies) assert.ok(allowed.has(JSON.stringify((r as { id: unknown }).id)), `reply id ${t} not from ${text}`);
          }
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
            const o = parsed as Record<string, unknown>;
            const isResponse = o.result !== undefined || o.error !== undefined;
            const isNotification = !isResponse && !('id' in o) && o.jsonrpc === '2.0' && typeof o.method === 'string' && (o.params === undefined || (typeof o.params === 'object' && o.params !== null));
            if (isResponse || isNotification) assert.deepEqual(s.out, [], `answered ${text}`);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('concurrent requests answered in any order and any batching each get their own result', async () => {
      const specArb = fc.record({ payload: fc.jsonValue({ maxDepth: 2 }), fail: fc.boolean(), order: fc.nat(1000), cut: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 64 }), fc.option(fc.string({ maxLength: 3 })), async (specs, prefix) => {
          const s = solo(prefix === null ? {} : { idPrefix: prefix });
          const outcomes = specs.map((spec, i) =>
            s.peer.request('op', { i, v: spec.payload }, { timeoutMs: 5000 }).then(
              (r) => ({ ok: r as unknown }),
              (e: unknown) => ({ err: e }),
            ),
          );
          const requests = s.parsed() as { id: string | number; params: { i: number; v: unknown } }[];
          const answers = requests.map((req) =>
            specs[req.params.i].fail
              ? { jsonrpc: '2.0', id: req.id, error: { code: -32000 - req.params.i, message: 'no', data: req.params } }
              : { jsonrpc: '2.0', id: req.id, result: req.params },
          );
          const order = answers.map((_, i) => i).sort((x, y) => specs[x].order - specs[y].order || x - y);
          let batch: unknown[] = [];
          for (const idx of order) {
            batch.push(answers[idx]);
            if (specs[idx].cut) {
              s.peer.receive(JSON.stringify(batch.length === 1 && specs[idx].order % 2 === 0 ? batch[0] : batch));
              batch = [];
            }
          }
          if (batch.length > 0) s.peer.receive(JSON.stringify(batch));
          const got = await Promise.all(outcomes);
          got.forEach((g, i) => {
            const expected = { i, v: JSON.parse(JSON.stringify(specs[i].payload)) as unknown };
            if (specs[i].fail) {
              assert.ok('err' in g && g.err instanceof JsonRpcError);
              assert.equal(g.err.code, -32000 - i);
              assert.deepEqual(g.err.data, expected);
            } else {
              assert.ok('ok' in g);
              assert.deepEqual(g.ok, expected);
            }
          });
          assert.equal(s.peer.pendingCount, 0);
          assert.equal(s.out.length, specs.length, 'responses are never answered');
          s.peer.close();
        }),
        { numRuns: 200 },
      );
    });

    it('concurrent requests between two peers whose server answers in random order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat(5)), { minLength: 1, maxLength: 32 }), async (items) => {
          const { a, b } = pair();
          b.handle('work', async (p) => {
            const { delay } = p as { delay: number };
            for (let i = 0; i < delay; i++) await tick();
            return p;
          });
          const results = await Promise.all(items.map(([v, delay]) => a.request('work', { v, delay })));
          results.forEach((r, i) => assert.deepEqual(r, { v: JSON.parse(JSON.stringify(items[i][0])), delay: items[i][1] }));
          assert.equal(a.pendingCount, 0);
        }),
        { numRuns: 100 },
      );
    });
  });
});
