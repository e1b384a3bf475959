// Pay at the counter over Dojo REST: a payment intent, a terminal session on a chosen terminal,
// then polling the session until it ends (Dojo has no push for sessions). Refunds run online
// (no terminal) or as a matched / unlinked refund session. Nothing here re-sends a payment on
// its own: a lost answer is asked about, never repeated.

import { setTimeout as sleep } from 'node:timers/promises';
import { PosError, isPosError } from '../../core/errors';
import type { AttemptRecord, LookupResult, PaymentAttempt } from '../../core/provider';
import { silentLogger, type Logger, type PaymentRequest, type PaymentResult, type ProgressEvent, type Terminal } from '../../core/types';
import {
  intentEnding, isFinalStatus, mapIntentResult, mapRefundResult, mapSessionResult, mapTerminal,
  notificationProgress, statusProgress,
} from './mapping';
import { lookupSettlement, settle } from './manual-capture';
import { dojoStatus, type DojoPaymentIntent, type DojoRest, type DojoTerminalSession, type TerminalSessionBody } from './rest';

export type RefundMode = 'online' | 'matched' | 'unlinked';

export interface CounterOptions {
  rest: DojoRest;
  logger?: Logger;
  /** Between two reads of a running terminal session. Default 1000. */
  pollIntervalMs?: number;
  /** After the deadline: how long to keep reading a session we asked to cancel. Default 5000. */
  cancelGraceMs?: number;
  /** Under captureMode Auto, how many more reads wait for Authorized to become Captured. Default 3. */
  authorizedGracePolls?: number;
}

/** Dojo's limit on a payment intent reference [spec]. */
const MAX_REFERENCE = 60;
/** Dojo's limit on a refund idempotency key [spec]. */
const MAX_IDEMPOTENCY_KEY = 100;
/** Bounded in-memory maps: enough for a busy day at a few tills, never unbounded. */
const MAX_REMEMBERED = 1000;
const SEARCH_PAGES = 10;
const SEARCH_PAGE_SIZE = 100;
const SEARCH_SLACK_MS = 5 * 60 * 1000;
/** Keys of request.options the adapter reads itself; everything else goes to Dojo as it is. */
const CONTROL_OPTIONS = new Set(['paymentIntentId', 'refundMode', 'refundReason', 'notes', 'cardholderNotPresent']);

interface Running {
  attempt: PaymentAttempt;
  terminalId?: string;
  sessionId?: string;
  /** Set by cancel() before the session exists, so none is started. */
  cancelWanted: boolean;
  /** What the flow has been told of the session so far (set once it is followed). */
  seen?: { notifications: number; status: string | undefined };
}

interface Unstarted { intentId: string; amount: number; currency: string; tip: number; cashback: number }

export class DojoCounter {
  private readonly rest: DojoRest;
  private readonly logger: Logger;
  private readonly pollMs: number;
  private readonly cancelGraceMs: number;
  private readonly authorizedGracePolls: number;
  private readonly running = new Map<string, Running>();
  /**
   * reference -> a payment intent created for it whose session never started (the terminal
   * was busy, Dojo refused the session). The pack's journal frees such a reference for a retry
   * because no card flow began; reusing the intent on that retry keeps one reference = one
   * payment intent at Dojo, instead of leaving an orphan intent per attempt.
   */
  private readonly unstarted = new Map<string, Unstarted>();
  /** payment intent id -> our reference, so Dojo's events can name the payment. */
  private readonly intentRefs = new Map<string, string>();
  private abort = new AbortController();
  /** Payment intents being created now: Dojo may announce one before our POST returns its id. */
  private readonly creating = new Set<Promise<unknown>>();

  constructor(opts: CounterOptions) {
    this.rest = opts.rest;
    this.logger = opts.logger ?? silentLogger;
    this.pollMs = Math.max(10, opts.pollIntervalMs ?? 1000);
    this.cancelGraceMs = Math.max(0, opts.cancelGraceMs ?? 5000);
    this.authorizedGracePolls = Math.max(0, opts.authorizedGracePolls ?? 3);
  }

  /** Our reference for a payment intent this process created, if it still remembers it. */
  referenceOf(paymentIntentId: string): string | undefined {
    return this.intentRefs.get(paymentIntentId);
  }

  /** Resolves once every payment intent being created now has its id (or failed), at most `limitMs` later. */
  async creationsSettled(limitMs: number): Promise<void> {
    if (this.creating.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => { timer = setTimeout(resolve, limitMs); });
    await Promise.race([Promise.allSettled([...this.creating]), limit]);
    clearTimeout(timer);
  }

  /** Makes waits usable again after stop(). */
  reopen(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
  }

  /** Ends every wait at once; running payments reject with an outcome-unknown error. */
  stop(): void {
    this.abort.abort();
  }

  async listTerminals(): Promise<Terminal[]> {
    return (await this.rest.listTerminals()).map(mapTerminal);
  }

  async pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    const { reference } = attempt.request;
    if (this.running.has(reference)) throw new PosError('bad_input', `a payment with reference "${reference}" is already running`);
    const run: Running = { attempt, cancelWanted: false };
    this.running.set(reference, run);
    try {
      switch (attempt.request.kind) {
        // A pre-auth is a sale whose intent is captured later (captureMode Manual).
        case 'sale': case 'preauth': return await this.sale(run);
        case 'refund': return await this.refund(run);
        case 'completion': case 'release': return await settle(this.rest, attempt);
        default: throw new PosError('capability_missing', `dojo does not support ${attempt.request.kind} in this pack; nothing was sent`);
      }
    } finally {
      this.running.delete(reference);
    }
  }

  async cancel(reference: string): Promise<void> {
    const run = this.running.get(reference);
    if (!run) throw new PosError('not_found', `no Dojo payment with reference "${reference}" is running, so there is nothing to cancel`);
    if (!run.sessionId) {
      run.cancelWanted = true;
      return;
    }
    let answer: DojoTerminalSession | undefined;
    try {
      answer = await this.rest.cancelTerminalSession(run.sessionId);
    } catch (err) {
      if (dojoStatus(err) === 422) {
        throw new PosError('provider_error', `too late to cancel "${reference}": the terminal is already completing the payment; its result follows`);
      }
      throw err;
    }
    // The answer says CancelRequested: the flow hears "cancelling" now, not only if a poll
    // happens to land in the moment before the terminal ends the session.
    if (answer && run.seen && this.running.get(reference) === run && !isFinalStatus(run.seen.status ?? '') && !isFinalStatus(answer.status)) {
      this.report(run, answer, run.seen);
    }
    // The outcome (Canceled, or Captured if the card was quicker) still arrives through polling.
  }

  async answerSignature(reference: string, accepted: boolean): Promise<void> {
    const run = this.running.get(reference);
    if (!run?.sessionId) throw new PosError('not_found', `no Dojo payment with reference "${reference}" is waiting for a signature check`);
    try {
      await this.rest.answerSignature(run.sessionId, accepted);
    } catch (err) {
      if (dojoStatus(err) === 422) {
        throw new PosError('provider_error', `too late to answer the signature check for "${reference}": Dojo has already decided (it accepts automatically when nobody answers in time)`);
      }
      throw err;
    }
  }

  // ---- sale ----------------------------------------------------------------------------

  private async sale(run: Running): Promise<PaymentResult> {
    const { request } = run.attempt;
    if (request.reference.length < 1 || request.reference.length > MAX_REFERENCE) {
      throw new PosError('bad_input', `Dojo accepts payment references of 1 to ${MAX_REFERENCE} characters; "${request.reference.slice(0, 70)}" has ${request.reference.length}`);
    }
    // The terminal first: with none available, nothing is created at Dojo.
    const terminalId = await this.chooseTerminal(request);
    run.terminalId = terminalId;
    const intentId = await this.intentFor(request);
    await run.attempt.note({ paymentIntentId: intentId, terminalId });
    if (run.cancelWanted) return this.cancelledBeforeStart(run, intentId);
    const session = await refused(this.rest.createTerminalSession({ terminalId, details: { sessionType: 'Sale', sale: { paymentIntentId: intentId } } }));
    // From here the intent belongs to a card flow; the journal answers any repeat of the reference.
    this.unstarted.delete(request.reference);
    return this.follow(run, session, intentId);
  }

  private async intentFor(request: PaymentRequest): Promise<string> {
    const earlier = this.unstarted.get(request.reference);
    const same = earlier && earlier.amount === request.amount && earlier.currency === request.currency &&
      earlier.tip === (request.tip ?? 0) && earlier.cashback === (request.cashback ?? 0);
    if (earlier && same) {
      this.logger.info(`payment ${request.reference}: reusing Dojo payment intent ${earlier.intentId}, whose terminal session never started`);
      return earlier.intentId;
    }
    if (earlier) {
      // Same reference, different money: the old intent must not be taken by anyone later.
      this.unstarted.delete(request.reference);
      this.rest.cancelPaymentIntent(earlier.intentId).catch((err: Error) =>
        this.logger.warn(`could not cancel the unused Dojo payment intent ${earlier.intentId}: ${err.message}`));
    }
    const options = passThrough(request.options);
    const money = (value: number) => ({ value, currencyCode: request.currency });
    const creation = refused(this.rest.createPaymentIntent({
      captureMode: 'Auto',
      ...options,
      ...(request.kind === 'preauth' ? { captureMode: 'Manual' as const } : {}),
      amount: money(request.amount),
      reference: request.reference,
      ...(request.tip ? { tipsAmount: money(request.tip) } : {}),
      ...(request.cashback ? { cashbackAmount: money(request.cashback) } : {}),
    }));
    this.creating.add(creation);
    const intent = await creation.finally(() => this.creating.delete(creation));
    remember(this.unstarted, request.reference, { intentId: intent.id, amount: request.amount, currency: request.currency, tip: request.tip ?? 0, cashback: request.cashback ?? 0 });
    remember(this.intentRefs, intent.id, request.reference);
    return intent.id;
  }

  private async cancelledBeforeStart(run: Running, intentId: string | undefined): Promise<PaymentResult> {
    const { request } = run.attempt;
    if (intentId) {
      this.unstarted.delete(request.reference);
      await this.rest.cancelPaymentIntent(intentId).catch((err: Error) =>
        this.logger.warn(`could not cancel the unused Dojo payment intent ${intentId}: ${err.message}`));
    }
    return {
      outcome: 'cancelled', approved: false, amount: request.amount, currency: request.currency, reference: request.reference,
      ...(run.terminalId ? { terminalId: run.terminalId } : {}), provider: 'dojo',
      ...(intentId ? { transactionId: intentId } : {}),
      card: {}, receipt: {}, message: 'Cancelled before the terminal was asked to take the payment', raw: { session: null, paymentIntent: intentId ? { id: intentId } : null },
    };
  }

  private async chooseTerminal(request: PaymentRequest): Promise<string> {
    if (request.terminalId) return request.terminalId;
    const available = await this.rest.listTerminals(['Available']);
    const first = available.find((t) => t.status === undefined || t.status === 'Available');
    if (!first) {
      throw new PosError('provider_error', 'no Dojo terminal is available right now (all busy or offline); nothing was sent. Try again, or set terminalId (the terminals node lists them)');
    }
    return first.id;
  }

  // ---- refunds -------------------------------------------------------------------------

  private async refund(run: Running): Promise<PaymentResult> {
    const { request } = run.attempt;
    const options = request.options ?? {};
    const intentId = typeof options.paymentIntentId === 'string' && options.paymentIntentId ? options.paymentIntentId : undefined;
    const mode = refundMode(options.refundMode, intentId, request.terminalId);
    if (mode !== 'unlinked' && !intentId) {
      throw new PosError('bad_input', `a ${mode} Dojo refund needs options.paymentIntentId: the transactionId of the payment being refunded`);
    }
    if (mode === 'online') return this.onlineRefund(run, intentId as string);
    const terminalId = await this.chooseTerminal(request);
    run.terminalId = terminalId;
    const money = { value: request.amount, currencyCode: request.currency };
    const body: TerminalSessionBody = mode === 'matched'
      ? { terminalId, details: { sessionType: 'MatchedRefund', matchedRefund: { paymentIntentId: intentId as string, amount: money } } }
      : { terminalId, details: { sessionType: 'UnlinkedRefund', unlinkedRefund: { amount: money, ...(options.cardholderNotPresent === true ? { cardholderNotPresent: true } : {}) } } };
    await run.attempt.note({ refundMode: mode, terminalId, ...(intentId ? { paymentIntentId: intentId } : {}) });
    if (run.cancelWanted) return this.cancelledBeforeStart(run, undefined);
    const session = await refused(this.rest.createTerminalSession(body));
    return this.follow(run, session, intentId);
  }

  private async onlineRefund(run: Running, intentId: string): Promise<PaymentResult> {
    const { request } = run.attempt;
    if (request.reference.length > MAX_IDEMPOTENCY_KEY) {
      throw new PosError('bad_input', `the reference of a Dojo online refund is its idempotency key, at most ${MAX_IDEMPOTENCY_KEY} characters; this one has ${request.reference.length}`);
    }
    const options = request.options ?? {};
    await run.attempt.note({ refundMode: 'online', paymentIntentId: intentId });
    // Dojo de-duplicates on the key, so a retry of this reference can never refund twice.
    const refund = await refused(this.rest.createRefund(intentId, {
      amount: request.amount,
      ...(typeof options.refundReason === 'string' ? { refundReason: options.refundReason } : {}),
      ...(typeof options.notes === 'string' ? { notes: options.notes } : {}),
    }, request.reference));
    if (typeof refund.refundId === 'string' && refund.refundId) await run.attempt.note({ refundId: refund.refundId });
    return mapRefundResult(refund, intentId, request);
  }

  // ---- following a terminal session ----------------------------------------------------

  private async follow(run: Running, first: DojoTerminalSession, intentId: string | undefined): Promise<PaymentResult> {
    const { attempt } = run;
    run.sessionId = first.id;
    run.terminalId = first.terminalId ?? run.terminalId;
    await attempt.note({ terminalSessionId: first.id });
    const seen = { notifications: 0, status: undefined as string | undefined };
    run.seen = seen;
    let session = first;
    let authorizedPolls = 0;
    let cancelSent = false;
    if (run.cancelWanted) cancelSent = await this.tryCancel(first.id);
    let graceEnd = attempt.deadline;
    let inGrace = false;
    for (;;) {
      this.report(run, session, seen);
      if (isFinalStatus(session.status)) {
        // Under Auto capture, Authorized is usually a step on the way to Captured: give it a few reads.
        const manual = attempt.request.kind === 'preauth' || attempt.request.options?.captureMode === 'Manual';
        const awaitCapture = session.status === 'Authorized' && !manual && authorizedPolls < this.authorizedGracePolls && Date.now() < attempt.deadline;
        if (!awaitCapture) break;
        authorizedPolls += 1;
      } else if (Date.now() >= graceEnd) {
        if (inGrace) break;
        // The flow's wait is over: ask Dojo to stop, then give the answer a few seconds to arrive.
        this.logger.warn(`payment ${attempt.request.reference}: no final status from Dojo by the deadline (${session.status}); asking to cancel`);
        if (!cancelSent) cancelSent = await this.tryCancel(session.id);
        inGrace = true;
        graceEnd = Date.now() + this.cancelGraceMs;
      }
      await this.pause(Math.min(this.pollMs, Math.max(1, graceEnd - Date.now())));
      session = await this.poll(session);
    }
    if (!isFinalStatus(session.status)) {
      throw new PosError('timeout', `the Dojo terminal session ${session.id} was still "${session.status}" when the wait ran out; it was asked to cancel`);
    }
    let intent: DojoPaymentIntent | undefined;
    if (intentId) {
      try {
        intent = await this.rest.getPaymentIntent(intentId);
      } catch (err) {
        this.logger.warn(`payment ${attempt.request.reference}: could not read Dojo payment intent ${intentId} after the session ended (${(err as Error).message}); the result comes from the session alone`);
      }
    }
    return mapSessionResult(session, intent, attempt.request);
  }

  /** One read of the session; a failed read is retried on the next turn, while time is left. */
  private async poll(session: DojoTerminalSession): Promise<DojoTerminalSession> {
    try {
      return await this.rest.getTerminalSession(session.id);
    } catch (err) {
      if (this.abort.signal.aborted) throw closed();
      this.logger.warn(`could not read Dojo terminal session ${session.id}: ${(err as Error).message}; asking again`);
      return session;
    }
  }

  private async tryCancel(sessionId: string): Promise<boolean> {
    try {
      await this.rest.cancelTerminalSession(sessionId);
    } catch (err) {
      this.logger.warn(`could not cancel Dojo terminal session ${sessionId}: ${(err as Error).message}`);
    }
    return true;
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal, ref: false });
    } catch {
      throw closed();
    }
  }

  /** Progress for each notification not seen before and for status changes worth telling. */
  private report(run: Running, session: DojoTerminalSession, seen: { notifications: number; status: string | undefined }): void {
    const { attempt } = run;
    // One poll can bring several changes: tell them in the order they happened on the terminal
    // (a status first when it shares its moment with a prompt: "started", then "present card").
    const news: Array<{ at: string; event: ProgressEvent }> = [];
    if (session.status !== seen.status) {
      seen.status = session.status;
      const p = statusProgress(session.status, attempt.request, run.terminalId, session);
      const changes = Array.isArray(session.statusEvents) ? session.statusEvents : [];
      const change = [...changes].reverse().find((c) => c && c.status === session.status);
      if (p) news.push({ at: str(change?.createdAt) ?? str(session.updatedAt) ?? '', event: p });
    }
    const events = Array.isArray(session.notificationEvents) ? session.notificationEvents : [];
    for (const event of events.slice(seen.notifications)) {
      const type = event && typeof event.notificationType === 'string' ? event.notificationType : undefined;
      if (type) news.push({ at: str(event.createdAt) ?? '', event: notificationProgress(type, attempt.request, run.terminalId, event) });
    }
    seen.notifications = Math.max(seen.notifications, events.length);
    news.sort((a, b) => (a.at && b.at ? (a.at < b.at ? -1 : a.at > b.at ? 1 : 0) : 0));
    for (const n of news) attempt.onProgress(n.event);
  }

  // ---- lookup --------------------------------------------------------------------------

  async lookup(record: AttemptRecord): Promise<LookupResult> {
    try {
      return await this.lookupOnce(record);
    } catch (err) {
      if (isPosError(err) && err.code === 'not_found') return { found: 'nothing' };
      return { found: 'cannot_ask', reason: (err as Error).message };
    }
  }

  private async lookupOnce(record: AttemptRecord): Promise<LookupResult> {
    const { request } = record;
    if (request.kind === 'completion' || request.kind === 'release') return lookupSettlement(this.rest, record);
    const notes = record.notes ?? {};
    const sessionId = str(notes.terminalSessionId);
    const intentId = str(notes.paymentIntentId);
    if (sessionId) {
      const session = await this.rest.getTerminalSession(sessionId);
      if (!isFinalStatus(session.status)) return { found: 'in_progress' };
      let intent: DojoPaymentIntent | undefined;
      if (intentId) intent = await this.rest.getPaymentIntent(intentId).catch(() => undefined);
      return { found: 'result', result: mapSessionResult(session, intent, request) };
    }
    if (request.kind === 'refund') {
      const refundId = str(notes.refundId);
      if (refundId) {
        const refund = await this.rest.getRefund(refundId);
        return { found: 'result', result: mapRefundResult(refund, intentId ?? str(refund.paymentIntentId) ?? '', request) };
      }
      return { found: 'cannot_ask', reason: 'Dojo cannot be searched for a refund whose id was never received' };
    }
    const intent = intentId ? await this.rest.getPaymentIntent(intentId) : await this.searchIntent(record);
    if (!intent) return { found: 'nothing' };
    remember(this.intentRefs, intent.id, request.reference);
    return fromIntent(intent, request);
  }

  /** The newest payment intent with our reference, created since shortly before the attempt. */
  private async searchIntent(record: AttemptRecord): Promise<DojoPaymentIntent | undefined> {
    const started = Date.parse(record.startedAt);
    const startDate = new Date((Number.isFinite(started) ? started : Date.now()) - SEARCH_SLACK_MS).toISOString();
    const matches: DojoPaymentIntent[] = [];
    let after: string | undefined;
    for (let page = 0; page < SEARCH_PAGES; page++) {
      const result = await this.rest.searchPaymentIntents({ startDate, cursor: { limit: SEARCH_PAGE_SIZE, ...(after ? { after } : {}) } });
      const data = Array.isArray(result.data) ? result.data : [];
      for (const intent of data) {
        if (intent && typeof intent.id === 'string' && intent.reference === record.request.reference) matches.push(intent);
      }
      after = typeof result.after === 'string' && result.after ? result.after : undefined;
      if (!after || data.length === 0) break;
    }
    // A started one says more than one left Created by a refused session.
    matches.sort((a, b) => Number(a.status !== 'Created') - Number(b.status !== 'Created') || String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')));
    return matches[matches.length - 1];
  }
}

function fromIntent(intent: DojoPaymentIntent, request: PaymentRequest): LookupResult {
  if (intentEnding(intent.status)) return { found: 'result', result: mapIntentResult(intent, request) };
  if (intent.status === 'Created') {
    // A session may be running on it (the intent changes only when the card is authorised).
    const history = Array.isArray(intent.terminalSessionHistory) ? intent.terminalSessionHistory : [];
    return history.length > 0 ? { found: 'in_progress' } : { found: 'nothing' };
  }
  return { found: 'cannot_ask', reason: `the Dojo payment intent ${intent.id} is "${String(intent.status).slice(0, 60)}", which this pack cannot read as an outcome` };
}

export function refundMode(value: unknown, intentId: string | undefined, terminalId: string | undefined): RefundMode {
  if (value !== undefined && value !== null && value !== '') {
    if (value === 'online' || value === 'matched' || value === 'unlinked') return value;
    throw new PosError('bad_input', `options.refundMode must be "online", "matched" or "unlinked", got ${JSON.stringify(value).slice(0, 40)}`);
  }
  if (!intentId) return 'unlinked';
  return terminalId ? 'matched' : 'online';
}

/**
 * A 404 while creating something (an unknown terminal, an unknown payment intent) means Dojo
 * refused the request and nothing started: a provider error, which frees the reference, rather
 * than not_found, which the payment service would treat as an outcome it cannot establish.
 */
async function refused<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isPosError(err) && err.code === 'not_found') throw new PosError('provider_error', err.message, err.details);
    throw err;
  }
}

function passThrough(options: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options ?? {})) if (!CONTROL_OPTIONS.has(k)) out[k] = v;
  return out;
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

const closed = () => new PosError('protocol_error', 'the Dojo connection was closed while the payment was running; send the same reference again to ask Dojo for its result');
