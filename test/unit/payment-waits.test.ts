// Payments that arrive before the connection is up, or while their terminal is busy, wait
// (issue 13): for the connection within the timeout (at most 30 s), for the terminal in
// arrival order; whatever runs out of time was never sent. Refused connections fail at once.

import assert from 'node:assert/strict';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal } from '../../lib/core/journal';
import { Listeners } from '../../lib/core/listeners';
import { PaymentService } from '../../lib/core/payments';
import type { PaymentAttempt, PaymentProvider } from '../../lib/core/provider';
import { TerminalQueue } from '../../lib/core/terminal-queue';
import type { ConnectionState, PaymentRequest, PaymentResult, ProgressEvent } from '../../lib/core/types';
import { silentLogger } from '../../lib/core/types';
import { CONNECT_WAIT_MAX_MS, whenConnected } from '../../lib/core/when-connected';

/** A provider whose state the test moves, telling its listeners as a real adapter does. */
class MovingProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  capabilities = { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false };
  private current: ConnectionState = { name: 'idle' };
  private readonly states = new Listeners<ConnectionState>(() => {});
  /** Every attempt with when it began and ended. */
  readonly attempts: Array<{ reference: string; began: number; ended?: number }> = [];
  payMs = 150;
  get state() { return this.current; }
  set(state: ConnectionState) { this.current = state; this.states.emit(state); }
  get listenerCount() { return this.states.size; }
  start() {}
  async stop() {}
  async pay(a: PaymentAttempt): Promise<PaymentResult> {
    const row: { reference: string; began: number; ended?: number } = { reference: a.request.reference, began: Date.now() };
    this.attempts.push(row);
    await sleep(this.payMs);
    row.ended = Date.now();
    const r = a.request;
    return { outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense', card: {}, receipt: {}, message: 'ok', raw: null };
  }
  async cancel() {}
  async answerSignature() {}
  async listTerminals() { return []; }
  async lookup() { return { found: 'nothing' as const }; }
  onState(l: (s: ConnectionState) => void) { return this.states.add(l); }
  onNotification() { return () => {}; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sale = (reference: string, terminalId = 'T1'): PaymentRequest => ({ kind: 'sale', amount: 1000, currency: 'GBP', reference, terminalId });
const isPos = (code: string, text?: RegExp) => (e: unknown) => e instanceof PosError && e.code === code && (!text || text.test(e.message));

describe('payments wait for the connection (issue 13)', () => {
  let provider: MovingProvider;
  let journal: MemoryJournal;
  let service: PaymentService;
  beforeEach(() => {
    provider = new MovingProvider();
    journal = new MemoryJournal();
    service = new PaymentService(provider, journal, silentLogger);
  });
  afterEach(() => service.close());

  it('a payment sent before the connection is up goes out once it connects, and says it waited', async () => {
    const progress: ProgressEvent[] = [];
    const paid = service.pay(sale('EARLY-1'), { timeoutMs: 5000, onProgress: (e) => progress.push(e) });
    setTimeout(() => provider.set({ name: 'connecting', attempt: 0 }), 50);
    setTimeout(() => provider.set({ name: 'connected' }), 200);
    const t0 = Date.now();
    const { result } = await paid;
    assert.equal(result.outcome, 'approved');
    assert.ok(Date.now() - t0 >= 150, 'it waited for the connection');
    assert.equal(provider.attempts.length, 1);
    assert.deepEqual(progress.map((e) => e.event), ['waiting_for_connection']);
    assert.equal(provider.listenerCount, 0, 'the wait removed its listener');
  });

  it('a reconnect in the middle: the payment waits and is sent once', async () => {
    provider.set({ name: 'reconnecting', attempt: 1, delayMs: 1000, reason: 'socket closed' });
    const paid = service.pay(sale('RECON-1'), { timeoutMs: 5000 });
    setTimeout(() => provider.set({ name: 'connected' }), 100);
    assert.equal((await paid).result.outcome, 'approved');
    assert.equal(provider.attempts.length, 1);
  });

  it('a connection that does not come within the timeout: not_connected, how long it waited, nothing sent, reference free', async () => {
    provider.set({ name: 'connecting', attempt: 0 });
    const t0 = Date.now();
    await assert.rejects(service.pay(sale('LATE-1'), { timeoutMs: 300 }), isPos('not_connected', /\(connecting\) after waiting 0\.3 s for the connection; nothing was sent/));
    const waited = Date.now() - t0;
    assert.ok(waited >= 290 && waited < 1000, `waited ${waited} ms`);
    assert.equal(provider.attempts.length, 0);
    assert.equal(await journal.get('LATE-1'), undefined);
    assert.equal(provider.listenerCount, 0);
  });

  for (const state of [
    { name: 'unauthorized', reason: 'HTTP 401' },
    { name: 'displaced', reason: 'another client took over' },
    { name: 'error', reason: 'socket.io-client-v2 is not installed' },
  ] as ConnectionState[]) {
    it(`${state.name}: fails at once, nothing sent`, async () => {
      provider.set(state);
      const t0 = Date.now();
      await assert.rejects(service.pay(sale(`NOW-${state.name}`), { timeoutMs: 5000 }),
        isPos(state.name === 'error' ? 'not_connected' : state.name, /nothing was sent/));
      assert.ok(Date.now() - t0 < 100);
      assert.equal(provider.attempts.length, 0);
    });
  }

  it('a connection refused while waiting ends the wait at once', async () => {
    const paid = service.pay(sale('REFUSED-1'), { timeoutMs: 5000 });
    setTimeout(() => provider.set({ name: 'unauthorized', reason: 'HTTP 401' }), 50);
    const t0 = Date.now();
    await assert.rejects(paid, isPos('unauthorized', /HTTP 401/));
    assert.ok(Date.now() - t0 < 500);
    assert.equal(provider.attempts.length, 0);
  });

  it('closing while a payment waits: it fails at once as closed, nothing sent', async () => {
    const paid = service.pay(sale('CLOSING-1'), { timeoutMs: 5000 });
    await sleep(20);
    const t0 = Date.now();
    await service.close();
    await assert.rejects(paid, isPos('closed', /nothing was sent/));
    assert.ok(Date.now() - t0 < 500);
    assert.equal(provider.attempts.length, 0);
  });

  it('the wait never exceeds 30 s, whatever the timeout', async () => {
    assert.equal(CONNECT_WAIT_MAX_MS, 30_000);
    // A timer is what bounds the wait: capture the delay it is given for a one-hour timeout.
    const real = global.setTimeout;
    let asked = -1;
    (global as { setTimeout: unknown }).setTimeout = (fn: () => void, ms: number) => { asked = ms; return real(fn, 0); };
    try {
      const p = { name: 'paymentsense' as const, state: { name: 'connecting', attempt: 0 } as ConnectionState, onState: () => () => {} };
      await assert.rejects(whenConnected(p, { limitMs: 3_600_000, nothingSent: 'nothing was sent' }), isPos('not_connected'));
    } finally {
      global.setTimeout = real;
    }
    assert.equal(asked, 30_000);
  });
});

describe('one payment per terminal (issue 13)', () => {
  let provider: MovingProvider;
  let journal: MemoryJournal;
  let service: PaymentService;
  beforeEach(() => {
    provider = new MovingProvider();
    provider.set({ name: 'connected' });
    journal = new MemoryJournal();
    service = new PaymentService(provider, journal, silentLogger);
  });
  afterEach(() => service.close());

  it('queue (the default): a second payment 0.1 s later waits for the first and then runs', async () => {
    const progress: ProgressEvent[] = [];
    const first = service.pay(sale('Q-1'), { timeoutMs: 5000 });
    await sleep(100);
    const second = service.pay(sale('Q-2'), { timeoutMs: 5000, onProgress: (e) => progress.push(e) });
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.result.outcome, 'approved');
    assert.equal(b.result.outcome, 'approved');
    const [one, two] = provider.attempts;
    assert.ok(two!.began >= one!.ended!, 'the second reached the terminal only after the first ended');
    assert.equal(progress[0]?.event, 'queued');
    assert.match(progress[0]!.message, /payment "Q-1" is running/);
  });

  it('queue: three payments keep their arrival order', async () => {
    provider.payMs = 60;
    const all = ['O-1', 'O-2', 'O-3'].map((r) => service.pay(sale(r), { timeoutMs: 5000 }));
    await Promise.all(all);
    assert.deepEqual(provider.attempts.map((a) => a.reference), ['O-1', 'O-2', 'O-3']);
  });

  it('queue: different terminals do not wait for each other', async () => {
    await Promise.all([service.pay(sale('D-1', 'T1'), { timeoutMs: 5000 }), service.pay(sale('D-2', 'T2'), { timeoutMs: 5000 })]);
    const [one, two] = provider.attempts;
    assert.ok(two!.began < one!.ended!, 'both ran together');
  });

  it('fail: a busy terminal refuses at once, nothing sent, the reference stays free', async () => {
    const first = service.pay(sale('F-1'), { timeoutMs: 5000 });
    await sleep(20);
    const t0 = Date.now();
    await assert.rejects(service.pay(sale('F-2'), { timeoutMs: 5000, busy: 'fail' }), isPos('bad_input', /terminal T1 is busy with payment "F-1"; nothing was sent/));
    assert.ok(Date.now() - t0 < 50);
    await first;
    assert.deepEqual(provider.attempts.map((a) => a.reference), ['F-1']);
    assert.equal(await journal.get('F-2'), undefined);
    // Free again: the same reference is taken now.
    assert.equal((await service.pay(sale('F-2'), { timeoutMs: 5000, busy: 'fail' })).result.outcome, 'approved');
  });

  it('a payment whose time runs out in the queue was never sent, and the queue goes on', async () => {
    provider.payMs = 400;
    const first = service.pay(sale('T-1'), { timeoutMs: 5000 });
    const late = service.pay(sale('T-2'), { timeoutMs: 150 });
    const third = service.pay(sale('T-3'), { timeoutMs: 5000 });
    await assert.rejects(late, isPos('timeout', /terminal T1 was still busy with payment "T-1" after this payment waited 0\.\d s for it; nothing was sent/));
    await Promise.all([first, third]);
    assert.deepEqual(provider.attempts.map((a) => a.reference), ['T-1', 'T-3']);
    assert.equal(await journal.get('T-2'), undefined);
  });

  it('the queue forgets a terminal once its last payment ends', async () => {
    const queue = new TerminalQueue();
    const release = await queue.acquire(' t1 ', 'A', { mode: 'queue', limitMs: 1000 });
    assert.equal(queue.holderOf('T1'), 'A', 'ids compared without spaces or case');
    const next = queue.acquire('T1', 'B', { mode: 'queue', limitMs: 1000 });
    assert.equal(queue.waitingCount, 1);
    release();
    release(); // a second call changes nothing
    (await next)();
    assert.equal(queue.holderOf('T1'), undefined);
    assert.equal(queue.waitingCount, 0);
  });
});
