// Idempotent payments on top of any provider: the journal decides whether a reference may be
// sent, the provider runs it, and nothing here ever sends the same reference twice.

import { randomUUID } from 'node:crypto';
import { PosError, isPosError } from './errors';
import { Journal, type JournalEntry } from './journal';
import type { LookupResult, PaymentProvider } from './provider';
import type { Logger, PaymentRequest, PaymentResult, ProgressEvent } from './types';

export interface PayOptions {
  timeoutMs: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface PayOutcome {
  result: PaymentResult;
  /** True when this reference had been seen before and the earlier result is returned. */
  duplicate: boolean;
}

/**
 * Errors that prove no card flow started (nothing sent, or the provider refused the request
 * outright), so the reference stays free for a retry.
 */
const NOT_SENT = new Set(['bad_input', 'not_connected', 'unauthorized', 'capability_missing', 'closed', 'provider_error']);

export function unknownResult(request: PaymentRequest, provider: PaymentResult['provider'], message: string, raw: unknown = null): PaymentResult {
  return {
    outcome: 'unknown', approved: false, amount: request.amount, currency: request.currency, reference: request.reference,
    ...(request.terminalId ? { terminalId: request.terminalId } : {}),
    provider, card: {}, receipt: {}, message, raw,
  };
}

const ASK_A_PERSON =
  'Check the terminal or the provider portal before taking this payment again, and use a new reference if you do.';

export interface RetentionOptions {
  /** How long a finished reference is remembered (and so refused a second charge). Default 7 days. */
  keepMs?: number;
  /** At most one sweep of the journal per this interval. Default 1 hour. */
  sweepEveryMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class PaymentService {
  private readonly inflight = new Map<string, { request: PaymentRequest; result: Promise<PaymentResult> }>();
  private readonly keepMs: number;
  private readonly sweepEveryMs: number;
  private lastSweep = 0;

  constructor(
    private readonly provider: PaymentProvider,
    private readonly journal: Journal,
    private readonly logger: Logger,
    retention: RetentionOptions = {},
  ) {
    this.keepMs = retention.keepMs ?? 7 * DAY_MS;
    this.sweepEveryMs = retention.sweepEveryMs ?? 60 * 60 * 1000;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  pay(request: PaymentRequest, opts: PayOptions): Promise<PayOutcome> {
    const capability = request.kind === 'sale' ? 'pay' : 'refund';
    if (!this.provider.capabilities[capability]) {
      return Promise.reject(new PosError('capability_missing', `${this.provider.name} cannot take a ${request.kind === 'sale' ? 'payment' : 'refund'} through this pack`));
    }
    // Checked and registered synchronously so two messages with one reference can never both pass.
    const running = this.inflight.get(request.reference);
    if (running) {
      try {
        assertSameRequest(request, running.request);
      } catch (err) {
        return Promise.reject(err);
      }
      return running.result.then((result) => ({ result, duplicate: true }));
    }
    const work = this.run(request, opts);
    const result = work.then((o) => o.result);
    result.catch(() => {}); // the caller of the first message sees the error; this copy only feeds duplicates
    this.inflight.set(request.reference, { request, result });
    const clear = () => this.inflight.delete(request.reference);
    work.then(clear, clear);
    return work;
  }

  private async run(request: PaymentRequest, opts: PayOptions): Promise<PayOutcome> {
    const prior = await this.journal.get(request.reference);
    if (prior) {
      assertSameRequest(request, prior.request);
      // A known outcome is final; an unknown one is asked about again, since the provider may know by now.
      if (prior.state === 'done' && prior.result && prior.result.outcome !== 'unknown') return { result: prior.result, duplicate: true };
      return { result: await this.resolvePending(prior), duplicate: true };
    }
    const state = this.provider.state;
    if (state.name !== 'connected') {
      // The reason (already redacted) is what tells the person what to fix: a refused key, a missing package.
      const why = 'reason' in state && (state.name === 'error' || state.name === 'unauthorized' || state.name === 'displaced') ? `: ${state.reason}` : '';
      throw new PosError('not_connected', `not connected to ${this.provider.name} (${state.name}${why}); nothing was sent`);
    }
    let entry = await this.journal.begin(request, randomUUID());
    let result: PaymentResult;
    try {
      result = await this.provider.pay({
        request,
        attemptId: entry.attemptId,
        deadline: Date.now() + opts.timeoutMs,
        onProgress: opts.onProgress ?? (() => {}),
        note: async (notes) => {
          entry = await this.journal.note(entry, notes);
        },
      });
    } catch (err) {
      if (isPosError(err) && NOT_SENT.has(err.code)) {
        await this.journal.forget(request.reference);
        throw err;
      }
      this.logger.warn(`payment ${request.reference}: ${(err as Error).message}`);
      result = unknownResult(request, this.provider.name, `The result of this payment could not be established (${(err as Error).message}). ${ASK_A_PERSON}`);
    }
    await this.journal.finish(entry, result);
    this.sweep();
    return { result, duplicate: false };
  }

  /**
   * The journal would otherwise grow by one entry per payment forever. Sweeping is lazy (after
   * a payment, at most once per interval) so an idle pack does no work and keeps no timer.
   */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.journal.prune(new Date(now - this.keepMs)).then(
      (n) => { if (n > 0) this.logger.debug(`forgot ${n} payment reference(s) finished more than ${Math.round(this.keepMs / DAY_MS * 10) / 10} days ago`); },
      (err: Error) => this.logger.warn(`could not tidy the payment journal: ${err.message}`),
    );
  }

  /** A reference left pending by a restart, or answered `unknown` before: ask, never resend. */
  async resolvePending(entry: JournalEntry): Promise<PaymentResult> {
    let found: LookupResult;
    try {
      found = await this.provider.lookup({
        request: entry.request, attemptId: entry.attemptId, startedAt: entry.startedAt, ...(entry.notes ? { notes: entry.notes } : {}),
      });
    } catch (err) {
      found = { found: 'cannot_ask', reason: (err as Error).message };
    }
    if (found.found === 'result') {
      await this.journal.finish(entry, found.result);
      return found.result;
    }
    // Still unknown: an earlier unknown answer stands as it was; a pending entry records one.
    if (entry.state === 'done' && entry.result) return entry.result;
    const result = unknownResult(entry.request, this.provider.name,
      found.found === 'in_progress' ? `This payment is still in progress on the terminal. Wait for it to finish, then send the same reference again to get its result.`
      : found.found === 'nothing' ? `${this.provider.name} has no record of this payment; it was probably never sent. ${ASK_A_PERSON}`
      : `The result of this payment was lost and ${this.provider.name} cannot be asked (${found.reason}). ${ASK_A_PERSON}`);
    if (found.found !== 'in_progress') await this.journal.finish(entry, result);
    return result;
  }

  /** Every reference a previous run left pending and nobody is running now. */
  async recoverPending(onRecovered: (result: PaymentResult) => void): Promise<void> {
    for (const entry of await this.journal.pending()) {
      if (this.inflight.has(entry.reference)) continue;
      const work = this.resolvePending(entry);
      this.inflight.set(entry.reference, { request: entry.request, result: work });
      try {
        onRecovered(await work);
      } finally {
        this.inflight.delete(entry.reference);
      }
    }
  }
}

function assertSameRequest(request: PaymentRequest, prior: PaymentRequest): void {
  if (prior.kind !== request.kind || prior.amount !== request.amount || prior.currency !== request.currency) {
    throw new PosError('bad_input',
      `reference "${request.reference}" was already used for a ${prior.kind} of ${prior.amount} ${prior.currency}; use a new reference for a different payment`);
  }
}
