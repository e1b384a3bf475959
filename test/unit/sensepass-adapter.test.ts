import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import type { PaymentAttempt } from '../../lib/core/provider';
import type { ConnectionState, Logger, NotificationEvent, PaymentRequest, ProgressEvent } from '../../lib/core/types';
import { SensePassProvider, type SensePassOptions } from '../../lib/providers/sensepass/client';
import { SensePassSimulator } from '../../lib/simulators/sensepass';

const DEVICE = 'sp_SECRET_device_7f3a9c';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sale = (amount: number, extra: Partial<PaymentRequest> = {}): PaymentRequest =>
  ({ kind: 'sale', amount, currency: 'USD', reference: `R-${randomUUID().slice(0, 8)}`, ...extra });

interface Run {
  attempt: PaymentAttempt;
  progress: ProgressEvent[];
  notes: Record<string, unknown>;
}

function attemptFor(request: PaymentRequest, timeoutMs = 5000, onProgress: (e: ProgressEvent) => void = () => {}): Run {
  const run: Run = {
    progress: [],
    notes: {},
    attempt: {
      request, attemptId: randomUUID(), deadline: Date.now() + timeoutMs,
      onProgress: (e) => {
        run.progress.push(e);
        onProgress(e);
      },
      note: async (n) => {
        Object.assign(run.notes, n);
      },
    },
  };
  return run;
}

/** Collects every log line and every state, to check the device id never shows. */
function recorder() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`), info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`),
  };
  return { lines, logger };
}

function assertNoDevice(texts: unknown[]): void {
  for (const t of texts) {
    const s = typeof t === 'string' ? t : JSON.stringify(t);
    assert.ok(!s.includes(DEVICE) && !s.includes(encodeURIComponent(DEVICE)), `device id in: ${s.slice(0, 300)}`);
  }
}

async function connect(sim: SensePassSimulator, extra: Partial<SensePassOptions> = {}) {
  const { url } = await sim.start();
  const rec = recorder();
  const states: ConnectionState[] = [];
  const notifications: NotificationEvent[] = [];
  const provider = new SensePassProvider({
    environment: 'custom', url, deviceId: DEVICE, logger: rec.logger, requestTimeoutMs: 3000,
    backoff: { initialMs: 20, maxMs: 100 }, handshakeTimeoutMs: 3000, ...extra,
  });
  provider.onState((s) => states.push(s));
  provider.onNotification((e) => notifications.push(e));
  provider.start();
  await waitFor(() => provider.state.name === 'connected', 5000, 'the socket');
  return { provider, states, notifications, lines: rec.lines };
}

describe('sensepass adapter (against the SensePass simulator)', function () {
  this.timeout(20000);
  let sim: SensePassSimulator;
  let c: Awaited<ReturnType<typeof connect>>;

  beforeEach(async () => {
    sim = new SensePassSimulator({ deviceIds: [DEVICE], stepDelayMs: 20, settleAfterMs: 100 });
    c = await connect(sim);
  });

  afterEach(async () => {
    await c.provider.stop();
    await sim.stop();
    assertNoDevice(c.lines);
    assertNoDevice(c.states);
  });

  it('approved: init body as documented, progress in order, the result from the entity, committed once', async () => {
    const request = sale(1250, { options: { reason: 'coffee', posData: { till: 3 } } });
    const r = attemptFor(request);
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'approved');
    assert.equal(result.approved, true);
    assert.equal(result.amount, 1250);
    assert.equal(result.currency, 'USD');
    assert.equal(result.provider, 'sensepass');
    assert.equal(result.terminalId, 'POS 1, Simulator', 'entity.pos when the request names no terminal');
    assert.equal(sim.ledger.length, 1);
    assert.equal(result.transactionId, sim.ledger[0]!.transactionNumber);
    assert.match(result.authCode ?? '', /^\d{6}$/);
    assert.deepEqual(result.card, { scheme: 'Visa', last4: '4242' });
    assert.equal((result.raw as { TransactionNumber: string }).TransactionNumber, result.transactionId);
    assert.deepEqual(r.notes, { transactionNumber: result.transactionId });
    assert.deepEqual(r.progress.map((e) => e.event), ['initialize', 'waiting_for_tap', 'tap_detected', 'user_approved', 'processing_payment']);
    assert.ok(r.progress.every((e) => e.reference === request.reference && e.provider === 'sensepass'));

    const init = sim.restCalls.find((x) => x.path === '/api/transactions/init')!;
    const body = init.body as Record<string, unknown>;
    assert.equal(body.amount, 1250);
    assert.equal(body.isCent, true);
    assert.equal(body.currency, 'USD');
    assert.equal(body.methodType, 'payment');
    assert.equal(body.deviceId, DEVICE);
    assert.equal(body.reason, 'coffee', 'other options pass through');
    assert.ok(typeof body.timeOut === 'number' && body.timeOut >= 30, `timeOut ${body.timeOut}`);
    assert.deepEqual(body.posData, { till: 3, reference: request.reference, attemptId: r.attempt.attemptId });

    assert.equal(sim.ledger[0]!.committed, true);
    const commits = sim.restCalls.filter((x) => x.path.startsWith('/api/transactions/commitPayment/'));
    assert.equal(commits.length, 1, 'committed once');
    assert.equal(commits[0]!.method, 'GET');
    assert.equal(commits[0]!.body, undefined, 'a plain GET');

    // Notifications carry our reference; the settlement message comes later as its own event.
    await waitFor(() => c.notifications.some((n) => n.event === 'settled'), 3000, 'the settlement message');
    const ours = c.notifications.filter((n) => n.reference === request.reference).map((n) => n.event);
    assert.deepEqual(ours, ['initialize', 'waiting_for_tap', 'tap_detected', 'user_approved', 'processing_payment', 'transaction_approved', 'settled']);
    const settled = c.notifications.find((n) => n.event === 'settled')!;
    assert.equal(settled.terminalId, 'POS 1, Simulator');
  });

  it('autoCommit false leaves the approved payment uncommitted', async () => {
    await c.provider.stop();
    c = await connect(sim, { autoCommit: false });
    const result = await c.provider.pay(attemptFor(sale(1250)).attempt);
    assert.equal(result.outcome, 'approved');
    assert.equal(sim.ledger[0]!.committed, false);
    assert.equal(sim.restCalls.filter((x) => x.path.includes('commitPayment')).length, 0);
  });

  it('a failed commit still approves, and the message says the commit failed within secondsToCommit', async () => {
    // The simulator answers 404 to an unknown commit link; make the link unknown by changing the answer in flight.
    const original = sim.sendToDevice.bind(sim);
    sim.sendToDevice = (deviceId, payload) => {
      const p = payload as { status?: number; paymentCommit?: { commitLink?: string } };
      if (p && p.status === 5 && p.paymentCommit?.commitLink) p.paymentCommit.commitLink += 'x';
      original(deviceId, payload);
    };
    const result = await c.provider.pay(attemptFor(sale(1250)).attempt);
    assert.equal(result.outcome, 'approved');
    assert.match(result.message, /committing it failed .*within 60 s/);
    assert.equal(sim.ledger[0]!.committed, false);
    assert.ok(c.lines.some((l) => l.startsWith('warn') && /committing payment/.test(l)));
  });

  it('declined (…51), failed (fault), timed out (…52) and cancelled on the terminal (…54) are results of their own kinds', async () => {
    const declined = await c.provider.pay(attemptFor(sale(1051)).attempt);
    assert.equal(declined.outcome, 'declined');
    assert.equal(declined.approved, false);
    const timedOut = await c.provider.pay(attemptFor(sale(1052)).attempt);
    assert.equal(timedOut.outcome, 'timed_out');
    const cancelled = await c.provider.pay(attemptFor(sale(1054)).attempt);
    assert.equal(cancelled.outcome, 'cancelled');
    sim.setFault('failPayments', true);
    const failed = await c.provider.pay(attemptFor(sale(1250)).attempt);
    assert.equal(failed.outcome, 'failed');
    assert.deepEqual(sim.ledger.map((l) => l.status), [6, 8, 9, 7]);
    assert.ok(sim.ledger.every((l) => !l.committed));
  });

  it('a consumer declining (3) is progress, not the end: another pays and it is approved', async () => {
    const r = attemptFor(sale(1253));
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'approved');
    const events = r.progress.map((e) => e.event);
    assert.deepEqual(events, ['initialize', 'waiting_for_tap', 'tap_detected', 'user_declined', 'tap_detected', 'user_approved', 'processing_payment']);
    assert.match(r.progress[3]!.message, /another person may still pay/);
  });

  it('the seed case: status 0 named "Transaction Approved" is not an approval', async () => {
    sim.setFault('approvedNameOnZero', true);
    const r = attemptFor(sale(1054));
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'cancelled');
    assert.equal(r.progress[0]!.event, 'initialize');
    assert.equal((r.progress[0]!.raw as { statusName: string }).statusName, 'Transaction Approved');
    const first = c.notifications.find((n) => (n.data as { status: number }).status === 0)!;
    assert.equal(first.event, 'initialize');
  });

  it('another transaction\'s events never reach pay(), but reach onNotification', async () => {
    sim.setFault('foreignEvents', true);
    const request = sale(1052);
    const r = attemptFor(request);
    const paying = c.provider.pay(r.attempt);
    await waitFor(() => r.progress.length > 0, 3000, 'our payment under way');
    const foreignNumber = 'f'.repeat(56);
    sim.sendToDevice(DEVICE, { TransactionNumber: foreignNumber, status: 5, statusName: 'Transaction Approved', pos: 'another POS', posData: { reference: 'not-ours' } });
    const result = await paying;
    assert.equal(result.outcome, 'timed_out', 'foreign approvals did not end ours');
    assert.equal(result.transactionId, sim.ledger[0]!.transactionNumber);
    assert.ok(!r.progress.some((e) => e.event === 'transaction_approved'));
    const foreign = c.notifications.find((n) => (n.data as { TransactionNumber: string }).TransactionNumber === foreignNumber)!;
    assert.equal(foreign.event, 'transaction_approved');
    assert.equal(foreign.reference, 'not-ours');
    assert.equal(foreign.terminalId, 'another POS');
    // The fault's own foreign event (a random number, posData.reference foreign-…) reached notifications too.
    assert.ok(c.notifications.some((n) => /^foreign-/.test(n.reference ?? '') && n.event === 'transaction_approved'));
  });

  it('malformed messages are logged and dropped; the connection stays and the payment completes', async () => {
    sim.setFault('malformedFrames', true);
    const connections = sim.socketConnections;
    const result = await c.provider.pay(attemptFor(sale(1250)).attempt);
    assert.equal(result.outcome, 'approved');
    sim.sendToDevice(DEVICE, 'also not json');
    sim.sendToDevice(DEVICE, JSON.stringify({ TransactionNumber: 'e'.repeat(56), status: 6 }));
    await waitFor(() => c.notifications.some((n) => n.event === 'transaction_declined'), 2000, 'the JSON-string message');
    const dropped = c.lines.filter((l) => l.startsWith('warn') && /dropped a message/.test(l));
    assert.ok(dropped.length >= 3, dropped.join('\n'));
    assert.ok(dropped.some((l) => /not JSON/.test(l)) && dropped.some((l) => /not a transaction/.test(l)));
    assert.equal(c.provider.state.name, 'connected');
    assert.equal(sim.socketConnections, connections, 'no reconnect');
    assert.equal(sim.connectedSockets, 1);
  });

  it('cancel from the flow before the tap ends cancelled (by number, and by device while the init is in flight)', async () => {
    sim.tapDelayMs = 400;
    const request = sale(1250);
    const r = attemptFor(request, 5000, (e) => {
      if (e.event === 'waiting_for_tap') c.provider.cancel(request.reference).catch(() => {});
    });
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'cancelled');
    assert.ok(sim.restCalls.some((x) => x.path === `/api/transactions/cancel/${result.transactionId}`));

    const second = sale(1250);
    const paying = c.provider.pay(attemptFor(second).attempt);
    await c.provider.cancel(second.reference);
    const result2 = await paying;
    assert.equal(result2.outcome, 'cancelled');
    assert.ok(sim.restCalls.some((x) => x.path === `/api/transactions/cancelByDeviceId/${DEVICE}`));
    assert.deepEqual(sim.ledger.map((l) => l.status), [9, 9]);
  });

  it('cancel after the tap is too late (501 -> provider_error); the payment goes on to approved', async () => {
    sim.stepDelayMs = 150;
    const request = sale(1250);
    let cancelError: unknown;
    const r = attemptFor(request, 5000, (e) => {
      if (e.event === 'tap_detected') c.provider.cancel(request.reference).catch((err) => { cancelError = err; });
    });
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'approved');
    assert.ok(cancelError instanceof PosError, String(cancelError));
    assert.equal((cancelError as PosError).code, 'provider_error');
    assert.match((cancelError as PosError).message, /too late to cancel: the customer is already paying/);
    await assert.rejects(c.provider.cancel('no-such-reference'), (e: unknown) => e instanceof PosError && e.code === 'not_found');
  });

  it('a drop mid-payment (…55): the missed approval is read after the reconnect; one transaction', async () => {
    const connections = sim.socketConnections;
    const r = attemptFor(sale(1255));
    const result = await c.provider.pay(r.attempt);
    assert.equal(result.outcome, 'approved');
    assert.equal(sim.ledger.length, 1);
    assert.ok(sim.socketConnections > connections, 'reconnected');
    assert.ok(c.states.some((s) => s.name === 'reconnecting'), JSON.stringify(c.states));
    assert.ok(sim.restCalls.some((x) => x.method === 'GET' && x.path === `/api/transactions/${result.transactionId}`), 'read by GET');
    assert.ok(!r.progress.some((e) => e.event === 'processing_payment'), 'the statuses while away were missed, not replayed');
    const get = sim.restCalls.find((x) => x.method === 'GET' && x.path === `/api/transactions/${result.transactionId}`)!;
    assert.deepEqual(get.body, { deviceId: DEVICE }, 'the device id went in the query string');
  });

  it('refunds: full (-> 11), partial (-> 13), declined (errorCode 22), and a missing transactionNumber', async () => {
    const paid = await c.provider.pay(attemptFor(sale(2000)).attempt);
    assert.equal(paid.outcome, 'approved');
    const partialRun = attemptFor({ kind: 'refund', amount: 500, currency: 'USD', reference: 'RF-1', options: { transactionNumber: paid.transactionId } });
    const partial = await c.provider.pay(partialRun.attempt);
    assert.equal(partial.outcome, 'approved');
    assert.match(partial.transactionId ?? '', /^RF-/);
    assert.deepEqual(partialRun.notes, { transactionNumber: paid.transactionId, refund: true, refundConfirmation: partial.transactionId });
    const lookedUp = await c.provider.lookup({ request: partialRun.attempt.request, attemptId: partialRun.attempt.attemptId, startedAt: new Date().toISOString(), notes: partialRun.notes });
    assert.equal(lookedUp.found === 'result' && lookedUp.result.outcome, 'approved');
    const unnoted = await c.provider.lookup({ request: partialRun.attempt.request, attemptId: partialRun.attempt.attemptId, startedAt: new Date().toISOString(), notes: { transactionNumber: paid.transactionId, refund: true } });
    assert.equal(unnoted.found, 'cannot_ask');
    const body = sim.restCalls.find((x) => x.path === '/api/transactions/refund')!.body as Record<string, unknown>;
    assert.deepEqual(body, { transactionNumber: paid.transactionId, isPartial: true, refundAmount: 500, isCent: true, deviceId: DEVICE });
    await waitFor(() => c.notifications.some((n) => n.event === 'partially_refunded'), 2000, 'status 13');

    const tooMuch = await c.provider.pay(attemptFor({ kind: 'refund', amount: 1600, currency: 'USD', reference: 'RF-2', options: { transactionId: paid.transactionId } }).attempt);
    assert.equal(tooMuch.outcome, 'declined');
    assert.match(tooMuch.message, /refund operation declined by Processor.*22/);

    const full = await c.provider.pay(attemptFor({ kind: 'refund', amount: 1500, currency: 'USD', reference: 'RF-3', options: { transactionNumber: paid.transactionId } }).attempt);
    assert.equal(full.outcome, 'approved');
    await waitFor(() => c.notifications.some((n) => n.event === 'transaction_refunded'), 2000, 'status 11');
    assert.equal(c.notifications.find((n) => n.event === 'transaction_refunded')!.reference, paid.reference, 'refund statuses name the payment');
    assert.deepEqual(sim.ledger[0]!.refunds, [{ amount: 500, result: 'Approved' }, { amount: 1600, result: 'Declined' }, { amount: 1500, result: 'Approved' }]);

    const other = await c.provider.pay(attemptFor(sale(1000)).attempt);
    const fullAtOnce = await c.provider.pay(attemptFor({ kind: 'refund', amount: 1000, currency: 'USD', reference: 'RF-4', options: { transactionNumber: other.transactionId } }).attempt);
    assert.equal(fullAtOnce.outcome, 'approved');
    assert.equal((sim.restCalls.filter((x) => x.path === '/api/transactions/refund').pop()!.body as { isPartial: boolean }).isPartial, false);

    sim.setFault('declineRefunds', true);
    const third = await c.provider.pay(attemptFor(sale(1000)).attempt);
    const refused = await c.provider.pay(attemptFor({ kind: 'refund', amount: 100, currency: 'USD', reference: 'RF-5', options: { transactionNumber: third.transactionId } }).attempt);
    assert.equal(refused.outcome, 'declined');

    const refunds = sim.restCalls.filter((x) => x.path === '/api/transactions/refund').length;
    await assert.rejects(c.provider.pay(attemptFor({ kind: 'refund', amount: 100, currency: 'USD', reference: 'RF-6' }).attempt),
      (e: unknown) => e instanceof PosError && e.code === 'bad_input' && /transactionNumber/.test(e.message));
    await assert.rejects(c.provider.pay(attemptFor({ kind: 'refund', amount: 100, currency: 'EUR', reference: 'RF-7', options: { transactionNumber: third.transactionId } }).attempt),
      (e: unknown) => e instanceof PosError && e.code === 'bad_input' && /USD/.test(e.message));
    await assert.rejects(c.provider.pay(attemptFor({ kind: 'refund', amount: 100, currency: 'USD', reference: 'RF-8', options: { transactionNumber: 'a'.repeat(56) } }).attempt),
      (e: unknown) => e instanceof PosError && e.code === 'provider_error');
    assert.equal(sim.restCalls.filter((x) => x.path === '/api/transactions/refund').length, refunds, 'nothing sent for refused input');
  });

  it('lookup: by the noted number, by reference search without one, in progress, and nothing', async () => {
    const request = sale(1250);
    const r = attemptFor(request);
    const paid = await c.provider.pay(r.attempt);
    const startedAt = new Date(Date.now() - 5000).toISOString();
    const byNumber = await c.provider.lookup({ request, attemptId: r.attempt.attemptId, startedAt, notes: r.notes });
    assert.equal(byNumber.found, 'result');
    assert.equal(byNumber.found === 'result' && byNumber.result.outcome, 'approved');
    assert.equal(byNumber.found === 'result' && byNumber.result.transactionId, paid.transactionId);

    const bySearch = await c.provider.lookup({ request, attemptId: r.attempt.attemptId, startedAt });
    assert.equal(bySearch.found === 'result' && bySearch.result.transactionId, paid.transactionId);
    assert.ok(sim.restCalls.some((x) => x.method === 'POST' && x.path === '/api/transactions'), 'searched the list');

    const nothing = await c.provider.lookup({ request: sale(1250), attemptId: randomUUID(), startedAt });
    assert.equal(nothing.found, 'nothing');
    const unknownNumber = await c.provider.lookup({ request: sale(1250), attemptId: randomUUID(), startedAt, notes: { transactionNumber: 'b'.repeat(56) } });
    assert.equal(unknownNumber.found, 'nothing');

    sim.tapDelayMs = 2000;
    const slow = sale(1250);
    const slowRun = attemptFor(slow);
    const paying = c.provider.pay(slowRun.attempt);
    await waitFor(() => typeof slowRun.notes.transactionNumber === 'string', 2000, 'the transaction number');
    const running = await c.provider.lookup({ request: slow, attemptId: slowRun.attempt.attemptId, startedAt, notes: slowRun.notes });
    assert.equal(running.found, 'in_progress');
    await c.provider.cancel(slow.reference);
    assert.equal((await paying).outcome, 'cancelled');
  });

  it('the deadline: one last read, then a timeout error (the payment service makes it unknown)', async () => {
    sim.tapDelayMs = 3000;
    const r = attemptFor(sale(1250), 300);
    const reads = () => sim.restCalls.filter((x) => x.method === 'GET' && x.path.startsWith('/api/transactions/') && !x.path.includes('commit')).length;
    await assert.rejects(c.provider.pay(r.attempt), (e: unknown) => e instanceof PosError && e.code === 'timeout' && /waiting_for_tap/.test(e.message));
    assert.equal(reads(), 1);
    const body = sim.restCalls.find((x) => x.path === '/api/transactions/init')!.body as { timeOut: number };
    assert.equal(body.timeOut, 30, 'never less than 30 s');
  });

  it('through the payment service: tip refused before anything is sent; a refused init frees the reference', async () => {
    const service = new PaymentService(c.provider, new MemoryJournal(), recorder().logger);
    await assert.rejects(service.pay(sale(1250, { tip: 100 }), { timeoutMs: 5000 }), (e: unknown) => e instanceof PosError && e.code === 'bad_input' && /tip/.test(e.message));
    const refused = sale(1250, { options: { methodType: 'tokenize' } });
    await assert.rejects(service.pay(refused, { timeoutMs: 5000 }),
      (e: unknown) => e instanceof PosError && e.code === 'provider_error' && /not supported by the simulator/.test(e.message));
    assert.equal(sim.ledger.length, 0);
    const again = await service.pay({ ...refused, options: {} }, { timeoutMs: 5000 });
    assert.equal(again.result.outcome, 'approved', 'the same reference could be used again');
    const duplicate = await service.pay({ ...refused, options: {} }, { timeoutMs: 5000 });
    assert.equal(duplicate.duplicate, true);
    assert.equal(sim.ledger.length, 1, 'never charged twice');
    await assert.rejects(c.provider.answerSignature('x', true), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    await assert.rejects(c.provider.listTerminals(), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    assert.deepEqual(c.provider.capabilities, { pay: true, refund: true, cancel: true, signature: false, terminals: false, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false });
  });
});

describe('sensepass connection', function () {
  this.timeout(20000);
  let sim: SensePassSimulator;

  beforeEach(async () => {
    sim = new SensePassSimulator({ deviceIds: [DEVICE], stepDelayMs: 20, settleAfterMs: 100 });
  });
  afterEach(async () => {
    await sim.stop();
  });

  for (const [clientVersion, transports] of [['2', 'default'], ['2', 'websocket'], ['2', 'polling'], ['4', 'websocket'], ['4', 'polling']] as const) {
    it(`socket.io-client v${clientVersion}, transports ${transports}: a full approved payment against the v4 simulator`, async () => {
      const c = await connect(sim, { clientVersion, transports });
      try {
        const request = sale(1250);
        const r = attemptFor(request);
        const result = await c.provider.pay(r.attempt);
        assert.equal(result.outcome, 'approved');
        assert.ok(r.progress.some((e) => e.event === 'processing_payment'), 'progress came over the socket');
        assert.ok(c.notifications.some((n) => n.event === 'transaction_approved' && n.reference === request.reference));
        assert.equal(sim.ledger[0]!.committed, true);
        assert.equal(sim.connectedSockets, 1);
        if (clientVersion === '2' && transports === 'default') {
          // The v2 drop: reconnects by itself and reads the payment.
          const dropped = await c.provider.pay(attemptFor(sale(1255)).attempt);
          assert.equal(dropped.outcome, 'approved');
        }
      } finally {
        await c.provider.stop();
      }
      assertNoDevice(c.lines);
    });
  }

  it('a refused device: unauthorized, the socket closed, no retry loop; the device id never shown', async () => {
    sim.setFault('refuseDevice', true);
    const { url } = await sim.start();
    const rec = recorder();
    const states: ConnectionState[] = [];
    const provider = new SensePassProvider({ environment: 'custom', url, deviceId: DEVICE, logger: rec.logger, backoff: { initialMs: 20, maxMs: 40 } });
    provider.onState((s) => states.push(s));
    provider.start();
    try {
      await waitFor(() => provider.state.name === 'unauthorized', 3000, 'unauthorized');
      const seen = sim.socketConnections;
      await sleep(400); // ten backoff periods
      assert.ok(sim.socketConnections - seen <= 1, `socket connections kept coming: ${sim.socketConnections - seen}`);
      assert.equal(provider.state.name, 'unauthorized');
      assert.equal(sim.connectedSockets, 0);
      assert.match((provider.state as { reason: string }).reason, /device id/);
      assertNoDevice(rec.lines);
      assertNoDevice(states);
      assertNoDevice([(provider.state as { reason: string }).reason]);
      // Fixed on the SensePass side: start() again connects.
      sim.setFault('refuseDevice', false);
      provider.start();
      await waitFor(() => provider.state.name === 'connected', 3000, 'connected after the fix');
    } finally {
      await provider.stop();
    }
    assert.equal(provider.state.name, 'closed');
  });

  it('an unknown device id is refused by REST and by the socket alike', async () => {
    const { url } = await sim.start();
    const provider = new SensePassProvider({ environment: 'custom', url, deviceId: 'sp_another_device', backoff: { initialMs: 20, maxMs: 40 } });
    provider.start();
    try {
      await waitFor(() => provider.state.name === 'unauthorized', 3000, 'unauthorized');
      await assert.rejects(provider.pay(attemptFor(sale(1250)).attempt), (e: unknown) => e instanceof PosError && e.code === 'unauthorized');
      assert.equal(sim.ledger.length, 0);
    } finally {
      await provider.stop();
    }
  });

  it('a server that cannot be reached: reconnecting with growing delays, then closed by stop()', async () => {
    const { url } = await sim.start();
    await sim.stop();
    const states: ConnectionState[] = [];
    const provider = new SensePassProvider({ environment: 'custom', url, deviceId: DEVICE, backoff: { initialMs: 20, maxMs: 80 }, handshakeTimeoutMs: 500 });
    provider.onState((s) => states.push(s));
    provider.start();
    await waitFor(() => states.filter((s) => s.name === 'reconnecting').length >= 3, 3000, 'three retries');
    await provider.stop();
    const retries = states.filter((s): s is Extract<ConnectionState, { name: 'reconnecting' }> => s.name === 'reconnecting');
    assert.deepEqual(retries.slice(0, 3).map((s) => s.attempt), [1, 2, 3]);
    assert.ok(retries.every((s) => s.delayMs <= 80 && s.reason.length > 0));
    assert.equal(provider.state.name, 'closed');
    const count = states.length;
    await sleep(200);
    assert.equal(states.length, count, 'nothing after stop');
  });

  it('a lost init answer is found by searching for the reference, never sent twice', async () => {
    const { url } = await sim.start();
    const upstream = new URL(url);
    // A proxy that forwards everything but cuts the init's answer off after SensePass has acted on it.
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (ch: Buffer) => chunks.push(ch));
      req.on('end', () => {
        const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          if (req.url === '/api/transactions/init') {
            up.resume();
            up.on('end', () => req.socket.destroy());
            return;
          }
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const provider = new SensePassProvider({ environment: 'custom', url: proxyUrl, deviceId: DEVICE, transports: 'polling', backoff: { initialMs: 20, maxMs: 40 } });
    provider.start();
    try {
      await waitFor(() => provider.state.name === 'connected', 5000, 'connected through the proxy');
      const r = attemptFor(sale(1250));
      const result = await provider.pay(r.attempt);
      assert.equal(result.outcome, 'approved');
      assert.equal(sim.ledger.length, 1, 'one transaction');
      assert.equal(result.transactionId, sim.ledger[0]!.transactionNumber);
      assert.equal(r.notes.transactionNumber, result.transactionId);
      assert.equal(sim.restCalls.filter((x) => x.path === '/api/transactions/init').length, 1);
    } finally {
      await provider.stop();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('stop() is quick, fails a running payment as not established, and leaves no handles behind', async () => {
    const kinds = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
    const count = () => {
      const all = process.getActiveResourcesInfo();
      return Object.fromEntries(kinds.map((k) => [k, all.filter((r) => r === k).length]));
    };
    await sleep(50);
    const before = count();
    const c = await connect(sim, { transports: 'polling' });
    sim.tapDelayMs = 5000;
    const running = c.provider.pay(attemptFor(sale(1250), 10000).attempt);
    running.catch(() => {}); // asserted below, after stop()
    await waitFor(() => sim.ledger.length === 1, 2000, 'the payment created');
    const started = Date.now();
    await c.provider.stop();
    assert.ok(Date.now() - started < 2000, `stop took ${Date.now() - started} ms`);
    await assert.rejects(running, (e: unknown) => e instanceof PosError && e.code === 'protocol_error' && /same reference/.test(e.message));
    assert.equal(c.provider.state.name, 'closed');
    await sim.stop();
    await sleep(100);
    assert.deepEqual(count(), before);
  });
});
