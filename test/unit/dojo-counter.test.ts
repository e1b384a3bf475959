import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import type { PaymentAttempt } from '../../lib/core/provider';
import { silentLogger, type NotificationEvent, type PaymentRequest, type ProgressEvent } from '../../lib/core/types';
import { DojoProvider } from '../../lib/providers/dojo/client';
import { DojoCounter } from '../../lib/providers/dojo/counter';
import { DojoRest } from '../../lib/providers/dojo/rest';
import { DojoSimulator, SIMULATOR_API_KEY } from '../../lib/simulators/dojo';

const T1 = 'tm_sim_counter_1';
const T2 = 'tm_sim_counter_2';

function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const sale = (amount: number, extra: Partial<PaymentRequest> = {}): PaymentRequest =>
  ({ kind: 'sale', amount, currency: 'GBP', reference: `R-${randomUUID().slice(0, 8)}`, terminalId: T1, ...extra });

describe('dojo pay at counter (against the Dojo simulator)', function () {
  this.timeout(10000);
  let sim: DojoSimulator;
  let provider: DojoProvider;
  let service: PaymentService;
  let warnings: string[];

  before(async () => {
    sim = new DojoSimulator({ port: 0, stepDelayMs: 15, sessionExpiryMs: 400, signatureTimeoutMs: 5000 });
    const { url } = await sim.start();
    warnings = [];
    provider = new DojoProvider({
      environment: 'custom', url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'softwareHouse1', resellerId: 'reseller1',
      pollIntervalMs: 10, restTimeoutMs: 3000, heartbeatIntervalMs: 5000, backoff: { initialMs: 20, maxMs: 100 },
      logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
    });
    provider.start();
    await waitFor(() => provider.state.name === 'connected', 5000, 'the EPOS socket');
    service = new PaymentService(provider, new MemoryJournal(), silentLogger);
  });

  after(async () => {
    await provider.stop();
    await sim.stop();
  });

  afterEach(() => {
    for (const w of warnings) assert.ok(!w.includes(SIMULATOR_API_KEY), `key in a log line: ${w}`);
  });

  const pay = (request: PaymentRequest, onProgress: (e: ProgressEvent) => void = () => {}, timeoutMs = 5000) =>
    service.pay(request, { timeoutMs, onProgress });

  it('approved: progress in Paymentsense names, then the result with card, receipt and the intent id', async () => {
    const events: string[] = [];
    const request = sale(1000, { tip: 150 });
    const { result } = await pay(request, (e) => events.push(e.event));
    assert.equal(result.outcome, 'approved');
    assert.equal(result.approved, true);
    assert.equal(result.amount, 1000);
    assert.equal(result.provider, 'dojo');
    assert.equal(result.terminalId, T1);
    assert.match(result.transactionId ?? '', /^pi_/);
    assert.ok(result.card.last4 && /^\d{4}$/.test(result.card.last4), JSON.stringify(result.card));
    assert.ok((result.receipt.customer ?? result.receipt.merchant ?? []).length > 0, 'a receipt');
    for (const e of ['present_card', 'pin_entry', 'please_wait', 'approved']) assert.ok(events.includes(e), `${e} in ${events.join(',')}`);
    const entries = sim.ledger.filter((l) => 'reference' in l && l.reference === request.reference);
    assert.equal(entries.length, 1);
    assert.equal((entries[0] as { status: string }).status, 'Captured');
    const raw = result.raw as { session: { id: string }; paymentIntent: { id: string; status: string } };
    assert.equal(raw.paymentIntent.id, result.transactionId);
    assert.equal(raw.paymentIntent.status, 'Captured');
  });

  it('declined (..51) is a result, not an error', async () => {
    const { result } = await pay(sale(1051));
    assert.equal(result.outcome, 'declined');
    assert.equal(result.approved, false);
  });

  it('signature accepted (..53): signature_required, then approved', async () => {
    const request = sale(1053);
    let asked: ProgressEvent | undefined;
    const { result } = await pay(request, (e) => {
      if (e.event === 'signature_required') {
        asked = e;
        provider.answerSignature(request.reference, true).catch(() => {});
      }
    });
    assert.ok(asked, 'signature_required was sent');
    assert.match(asked!.message, /accept-signature/);
    assert.equal(result.outcome, 'approved');
  });

  it('signature rejected (..53): voided, like Paymentsense', async () => {
    const request = sale(2053);
    const { result } = await pay(request, (e) => {
      if (e.event === 'signature_required') provider.answerSignature(request.reference, false).catch(() => {});
    });
    assert.equal(result.outcome, 'voided');
    assert.match(result.message, /signature rejected/i);
  });

  it('a cancel that comes too late (signature stage) says so; the payment goes on', async () => {
    const request = sale(3053);
    let cancelError: unknown;
    const { result } = await pay(request, (e) => {
      if (e.event === 'signature_required') {
        provider.cancel(request.reference).then(() => { cancelError = 'no error'; }, (err: unknown) => { cancelError = err; })
          .finally(() => provider.answerSignature(request.reference, true).catch(() => {}));
      }
    });
    assert.ok(cancelError instanceof PosError, String(cancelError));
    assert.equal((cancelError as PosError).code, 'provider_error');
    assert.match((cancelError as PosError).message, /too late to cancel/);
    assert.equal(result.outcome, 'approved');
  });

  it('the EPOS socket dropping mid-payment (..55) does not disturb it: REST polling carries on', async () => {
    const states: string[] = [];
    const off = provider.onState((st) => states.push(st.name));
    try {
      const { result } = await pay(sale(1055));
      assert.equal(result.outcome, 'approved');
      assert.ok(states.includes('reconnecting'), states.join(','));
      await waitFor(() => provider.state.name === 'connected', 5000, 'the socket back');
    } finally {
      off();
    }
  });

  it('cancelled on the terminal (..54)', async () => {
    const { result } = await pay(sale(1054));
    assert.equal(result.outcome, 'cancelled');
  });

  it('cancel from the flow while the terminal waits for the card', async () => {
    const request = sale(1052);
    const events: string[] = [];
    const { result } = await pay(request, (e) => {
      events.push(e.event);
      if (e.event === 'present_card') provider.cancel(request.reference).catch(() => {});
    });
    assert.equal(result.outcome, 'cancelled');
    assert.ok(events.includes('cancelling'), events.join(','));
  });

  it('expired (..52): timed_out', async () => {
    const { result } = await pay(sale(1152));
    assert.equal(result.outcome, 'timed_out');
  });

  it('at the flow deadline the session is cancelled and its real end reported', async () => {
    const started = Date.now();
    const { result } = await pay(sale(1252), () => {}, 100);
    assert.equal(result.outcome, 'cancelled');
    assert.ok(Date.now() - started < 2000);
  });

  it('a reference Dojo cannot take (over 60 characters) is refused before anything is created', async () => {
    const before = sim.counter.intentCount();
    await assert.rejects(pay(sale(1000, { reference: 'x'.repeat(61) })), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
    assert.equal(sim.counter.intentCount(), before);
  });

  it('the same reference twice creates exactly one payment intent (session refused the first time)', async () => {
    const reference = `R-${randomUUID().slice(0, 8)}`;
    const before = sim.counter.intentCount();
    await assert.rejects(pay(sale(1000, { reference, terminalId: 'tm_sim_offline' })), (e: unknown) =>
      e instanceof PosError && e.code === 'provider_error' && /Offline|409/.test(e.message));
    assert.equal(sim.counter.intentCount(), before + 1);
    const { result } = await pay(sale(1000, { reference, terminalId: T2 }));
    assert.equal(result.outcome, 'approved');
    assert.equal(sim.counter.intentCount(), before + 1, 'the retry reused the intent');
    const again = await pay(sale(1000, { reference, terminalId: T2 }));
    assert.equal(again.duplicate, true);
    assert.equal(sim.counter.intentCount(), before + 1);
    assert.equal(sim.ledger.filter((l) => 'reference' in l && l.reference === reference && l.kind === 'sale').length, 1);
  });

  it('an unknown terminal is refused (provider_error, reference free), not an unknown outcome', async () => {
    const reference = `R-${randomUUID().slice(0, 8)}`;
    await assert.rejects(pay(sale(1000, { reference, terminalId: 'tm_nope' })), (e: unknown) =>
      e instanceof PosError && e.code === 'provider_error' && /does not know the terminal tm_nope/.test(e.message));
    const { result } = await pay(sale(1000, { reference }));
    assert.equal(result.outcome, 'approved');
  });

  it('without a terminalId the first available terminal takes the payment', async () => {
    const { result } = await pay(sale(1000, { terminalId: undefined }));
    assert.equal(result.outcome, 'approved');
    assert.ok([T1, T2].includes(result.terminalId ?? ''), result.terminalId);
  });

  it('a cancel before the terminal was asked starts no session and cancels the intent', async () => {
    const request = sale(1000);
    const notes: Record<string, unknown> = {};
    const running = provider.pay({ request, attemptId: randomUUID(), deadline: Date.now() + 3000, onProgress: () => {}, note: async (n) => { Object.assign(notes, n); } });
    await provider.cancel(request.reference);
    const result = await running;
    assert.equal(result.outcome, 'cancelled');
    assert.match(result.message, /before the terminal/);
    assert.equal(notes.terminalSessionId, undefined);
    assert.equal(sim.ledger.filter((l) => 'reference' in l && l.reference === request.reference).length, 0, 'no session, no ledger entry');
    const found = await provider.lookup({ request, attemptId: 'a', startedAt: new Date().toISOString(), notes });
    assert.equal(found.found === 'result' && found.result.outcome, 'cancelled', JSON.stringify(found).slice(0, 200));
  });

  it('cancel and signature answers for a reference that is not running are not_found', async () => {
    await assert.rejects(provider.cancel('nobody'), (e: unknown) => e instanceof PosError && e.code === 'not_found');
    await assert.rejects(provider.answerSignature('nobody', true), (e: unknown) => e instanceof PosError && e.code === 'not_found');
  });

  it('lists the terminals with tid names and mapped statuses', async () => {
    const terminals = await provider.listTerminals();
    const byId = new Map(terminals.map((t) => [t.id, t]));
    assert.equal(byId.get(T1)?.status, 'available');
    assert.equal(byId.get(T1)?.name, '00000001');
    assert.equal(byId.get('tm_sim_offline')?.status, 'offline');
    assert.ok(terminals.every((t) => t.provider === 'dojo'));
  });

  describe('refunds', () => {
    let paid: { reference: string; intentId: string };
    before(async () => {
      const request = sale(5000);
      const { result } = await pay(request);
      assert.equal(result.outcome, 'approved');
      paid = { reference: request.reference, intentId: result.transactionId as string };
    });
    const refundLedger = () => sim.ledger.filter((l) => l.kind === 'refund' && 'mode' in l);

    it('online (no terminal): one refund in Dojo even when the same reference is sent twice', async () => {
      const reference = `RF-${randomUUID().slice(0, 8)}`;
      const request: PaymentRequest = { kind: 'refund', amount: 700, currency: 'GBP', reference, options: { paymentIntentId: paid.intentId, refundReason: 'faulty' } };
      const first = await pay(request);
      assert.equal(first.result.outcome, 'approved');
      assert.match(first.result.transactionId ?? '', /.+/);
      const second = await pay(request);
      assert.equal(second.duplicate, true);
      // Past the journal too: Dojo's idempotencyKey de-duplicates on its side.
      const notes: Record<string, unknown> = {};
      const direct = await provider.pay({ request, attemptId: randomUUID(), deadline: Date.now() + 3000, onProgress: () => {}, note: async (n) => { Object.assign(notes, n); } });
      assert.equal(direct.transactionId, first.result.transactionId);
      assert.equal(notes.refundId, first.result.transactionId);
      const mine = refundLedger().filter((l) => 'mode' in l && l.mode === 'online' && l.amount === 700 && l.paymentIntentId === paid.intentId);
      assert.equal(mine.length, 1);
    });

    it('matched (with a terminal) runs a MatchedRefund session', async () => {
      const request: PaymentRequest = { kind: 'refund', amount: 300, currency: 'GBP', reference: `RF-${randomUUID().slice(0, 8)}`, terminalId: T2, options: { paymentIntentId: paid.intentId } };
      const { result } = await pay(request);
      assert.equal(result.outcome, 'approved');
      assert.equal(result.terminalId, T2);
      assert.ok(refundLedger().some((l) => 'mode' in l && l.mode === 'matched' && l.amount === 300 && l.paymentIntentId === paid.intentId));
    });

    it('unlinked (no original payment) runs an UnlinkedRefund session', async () => {
      const request: PaymentRequest = { kind: 'refund', amount: 420, currency: 'GBP', reference: `RF-${randomUUID().slice(0, 8)}` };
      const { result } = await pay(request);
      assert.equal(result.outcome, 'approved');
      assert.ok(refundLedger().some((l) => 'mode' in l && l.mode === 'unlinked' && l.amount === 420));
    });

    it('a refund Dojo refuses (more than was paid) is an error and frees the reference', async () => {
      const request: PaymentRequest = { kind: 'refund', amount: 999999, currency: 'GBP', reference: `RF-${randomUUID().slice(0, 8)}`, options: { paymentIntentId: paid.intentId } };
      await assert.rejects(pay(request), (e: unknown) => e instanceof PosError && e.code === 'provider_error' && /Dojo refused to refund/.test(e.message));
    });

    it('a refund mode that does not exist is bad input', async () => {
      const request: PaymentRequest = { kind: 'refund', amount: 100, currency: 'GBP', reference: `RF-${randomUUID().slice(0, 8)}`, options: { refundMode: 'sideways' } };
      await assert.rejects(pay(request), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
    });
  });

  describe('lookup after a lost result', () => {
    const attempt = (request: PaymentRequest, notes: Record<string, unknown>, deadlineMs = 5000): PaymentAttempt => ({
      request, attemptId: randomUUID(), deadline: Date.now() + deadlineMs, onProgress: () => {}, note: async (n) => { Object.assign(notes, n); },
    });

    it('with notes: the session says what happened', async () => {
      const request = sale(1000);
      const notes: Record<string, unknown> = {};
      const startedAt = new Date().toISOString();
      const paid = await provider.pay(attempt(request, notes));
      assert.match(String(notes.paymentIntentId), /^pi_/);
      assert.match(String(notes.terminalSessionId), /.+/);
      const found = await provider.lookup({ request, attemptId: 'a', startedAt, notes });
      assert.equal(found.found, 'result');
      assert.equal(found.found === 'result' && found.result.outcome, 'approved');
      assert.equal(found.found === 'result' && found.result.transactionId, paid.transactionId);
      const byIntent = await provider.lookup({ request, attemptId: 'a', startedAt, notes: { paymentIntentId: notes.paymentIntentId } });
      assert.equal(byIntent.found === 'result' && byIntent.result.outcome, 'approved');
    });

    it('with notes of a session still running: in_progress', async () => {
      const request = sale(1352);
      const notes: Record<string, unknown> = {};
      const running = provider.pay(attempt(request, notes));
      await waitFor(() => typeof notes.terminalSessionId === 'string', 3000, 'the session id note');
      const found = await provider.lookup({ request, attemptId: 'a', startedAt: new Date().toISOString(), notes });
      assert.equal(found.found, 'in_progress');
      await provider.cancel(request.reference);
      assert.equal((await running).outcome, 'cancelled');
    });

    it('without notes: found by searching for the reference; an unknown reference is nothing', async () => {
      const request = sale(1000);
      const startedAt = new Date().toISOString();
      await provider.pay(attempt(request, {}));
      const found = await provider.lookup({ request, attemptId: 'a', startedAt });
      assert.equal(found.found, 'result');
      assert.equal(found.found === 'result' && found.result.outcome, 'approved');
      const none = await provider.lookup({ request: sale(1000), attemptId: 'b', startedAt });
      assert.equal(none.found, 'nothing');
    });

    it('an online refund without its refund id cannot be asked about', async () => {
      const found = await provider.lookup({ request: { kind: 'refund', amount: 1, currency: 'GBP', reference: 'x', options: { paymentIntentId: 'pi_x' } }, attemptId: 'a', startedAt: new Date().toISOString(), notes: { refundMode: 'online' } });
      assert.equal(found.found, 'cannot_ask');
    });
  });

  it('payment events name our reference once the flow wants notifications', async () => {
    const events: NotificationEvent[] = [];
    const off = provider.onNotification((e) => events.push(e));
    provider.setNotificationInterest(true);
    try {
      await sim.waitForCapabilities(['HandleEvent:payment_intent.status_updated'], 3000);
      const request = sale(1000);
      const { result } = await pay(request);
      await waitFor(() => events.some((e) => e.reference === request.reference && e.event === 'payment_intent.status_updated'), 3000, 'a status event');
      const e = events.find((x) => x.reference === request.reference)!;
      assert.equal(e.provider, 'dojo');
      assert.equal((e.data as { data: { paymentIntentId: string } }).data.paymentIntentId, result.transactionId);
    } finally {
      off();
      provider.setNotificationInterest(false);
    }
  });

  it('construction refuses a config that cannot work', () => {
    const base = { environment: 'custom' as const, url: 'http://127.0.0.1:1', apiKey: 'sk_sandbox_x', softwareHouseId: 'sh' };
    for (const bad of [{ apiKey: '' }, { softwareHouseId: ' ' }, { url: 'ftp://x' }, { apiKey: 'sk_sandbox_x\r\nX-Evil: 1' }]) {
      assert.throws(() => new DojoProvider({ ...base, ...bad }), (e: unknown) => e instanceof PosError && e.code === 'bad_input', JSON.stringify(bad));
    }
    assert.deepEqual(new DojoProvider(base).capabilities, { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: true,
      preauth: true, completion: true, release: true, verify: false, reports: false });
  });
});

describe('dojo provider lifecycle', function () {
  this.timeout(10000);
  let sim: DojoSimulator | undefined;
  let provider: DojoProvider | undefined;
  afterEach(async () => {
    await provider?.stop();
    await sim?.stop();
    provider = undefined;
    sim = undefined;
  });
  const attempt = (request: PaymentRequest, notes: Record<string, unknown> = {}): PaymentAttempt => ({
    request, attemptId: randomUUID(), deadline: Date.now() + 5000, onProgress: () => {}, note: async (n) => { Object.assign(notes, n); },
  });

  it('no terminal available: creates nothing at Dojo and says why (base URL from prepare)', async () => {
    sim = new DojoSimulator({ port: 0, stepDelayMs: 10, terminals: [{ id: 'tm_off', tid: '00000009', status: 'Offline' }] });
    const { url } = await sim.start();
    provider = new DojoProvider({ environment: 'custom', url: 'http://127.0.0.1:1', apiKey: SIMULATOR_API_KEY, softwareHouseId: 'sh', pollIntervalMs: 10 }, async () => ({ url }));
    provider.start();
    await waitFor(() => provider!.state.name === 'connected', 5000, 'the EPOS socket (after prepare)');
    const request: PaymentRequest = { kind: 'sale', amount: 1000, currency: 'GBP', reference: 'NT-1' };
    await assert.rejects(provider.pay(attempt(request)),
      (e: unknown) => e instanceof PosError && e.code === 'provider_error' && /no Dojo terminal is available/.test(e.message));
    assert.equal(sim.counter.intentCount(), 0);
  });

  it('stop() ends a running payment at once with an outcome-unknown error; after start() payments work again', async () => {
    sim = new DojoSimulator({ port: 0, stepDelayMs: 10, sessionExpiryMs: 5000 });
    const { url } = await sim.start();
    provider = new DojoProvider({ environment: 'custom', url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'sh', pollIntervalMs: 10, backoff: { initialMs: 20, maxMs: 100 } });
    provider.start();
    await waitFor(() => provider!.state.name === 'connected', 5000, 'the EPOS socket');
    const notes: Record<string, unknown> = {};
    const running = provider.pay(attempt({ kind: 'sale', amount: 1052, currency: 'GBP', reference: 'ST-1', terminalId: T1 }, notes));
    await waitFor(() => typeof notes.terminalSessionId === 'string', 3000, 'the session');
    const settled = running.then(() => undefined, (e: unknown) => e);
    const started = Date.now();
    await provider.stop();
    const err = await settled;
    assert.ok(err instanceof PosError && err.code === 'protocol_error' && /closed/.test(err.message), String(err));
    assert.ok(Date.now() - started < 2000);
    provider.start();
    await waitFor(() => provider!.state.name === 'connected', 5000, 'the EPOS socket again');
    const result = await provider.pay(attempt({ kind: 'sale', amount: 1000, currency: 'GBP', reference: 'ST-2', terminalId: T2 }));
    assert.equal(result.outcome, 'approved');
  });
});

describe('dojo counter against a scripted Dojo (statuses the simulator never plays)', function () {
  this.timeout(10000);
  let server: http.Server;
  let base: string;
  let rest: DojoRest;
  /** Session statuses served one per read; the last one repeats. */
  let statuses: string[];
  let reads: number;
  const calls: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls.push(`${req.method} ${req.url}`);
        const send = (status: number, body: unknown) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
        const session = (status: string) => ({
          id: 'ts_1', terminalId: 'tm_1', status, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', expireAt: '2026-01-01T00:05:00Z',
          notificationEvents: [], statusEvents: [], details: { sessionType: 'Sale', sale: { paymentIntentId: 'pi_1' } },
        });
        if (req.url === '/payment-intents') return send(200, { id: 'pi_1', status: 'Created' });
        if (req.url?.startsWith('/payment-intents/pi_1')) return send(200, { id: 'pi_1', status: 'Captured' });
        if (req.url === '/terminal-sessions') return send(200, session('InitiateRequested'));
        if (req.url === '/terminal-sessions/ts_1/cancel') return send(422, { title: 'Session cannot be cancelled', status: 422 });
        if (req.url === '/terminal-sessions/ts_1') return send(200, session(statuses[Math.min(reads++, statuses.length - 1)]));
        return send(404, { title: 'Not Found' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    rest = new DojoRest({ restBase: () => base, apiKey: 'sk_sandbox_scripted', softwareHouseId: 'sh' });
  });
  after(async () => {
    rest.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => { reads = 0; calls.length = 0; });

  const run = (counter: DojoCounter, timeoutMs: number, options?: Record<string, unknown>) => counter.pay({
    request: { kind: 'sale', amount: 1000, currency: 'GBP', reference: `S-${randomUUID().slice(0, 8)}`, terminalId: 'tm_1', ...(options ? { options } : {}) },
    attemptId: 'a', deadline: Date.now() + timeoutMs, onProgress: () => {}, note: async () => {},
  });

  it('a status this pack does not know is not final: at the deadline it cancels, waits a bounded grace, then gives up with timeout', async () => {
    statuses = ['Initiated', 'SomethingNew'];
    const counter = new DojoCounter({ rest, pollIntervalMs: 10, cancelGraceMs: 100 });
    const started = Date.now();
    await assert.rejects(run(counter, 150), (e: unknown) => e instanceof PosError && e.code === 'timeout' && /SomethingNew/.test(e.message));
    const took = Date.now() - started;
    assert.ok(took >= 240 && took < 1500, `took ${took} ms`);
    assert.ok(calls.includes('PUT /terminal-sessions/ts_1/cancel'), 'asked to cancel at the deadline');
  });

  it('under Auto capture, Authorized gets a few more reads to become Captured', async () => {
    statuses = ['Initiated', 'Authorized', 'Captured'];
    const result = await run(new DojoCounter({ rest, pollIntervalMs: 10 }), 3000);
    assert.equal(result.outcome, 'approved');
    assert.equal(result.message, 'Approved');
  });

  it('Authorized that stays so (or Manual capture) is approved, said to be not yet captured', async () => {
    statuses = ['Authorized'];
    const auto = await run(new DojoCounter({ rest, pollIntervalMs: 10, authorizedGracePolls: 2 }), 3000);
    assert.equal(auto.outcome, 'approved');
    assert.match(auto.message, /not yet captured/);
    assert.equal(reads, 3, 'the first read and two more');
    reads = 0;
    const manual = await run(new DojoCounter({ rest, pollIntervalMs: 10 }), 3000, { captureMode: 'Manual' });
    assert.match(manual.message, /not yet captured/);
    assert.equal(reads, 1);
  });
});
