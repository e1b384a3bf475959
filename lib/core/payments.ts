// Idempotent payments on top of any provider: the journal decides whether a reference may be
// sent, the provider runs it, and nothing here ever sends the same reference twice.

import { randomUUID } from 'node:crypto';
import { PosError, isPosError, isPosErrorCode } from './errors';
import type { HandOff, Journal, JournalEntry } from './journal';
import { capabilityOf, type LookupResult, type PaymentProvider } from './provider';
import { Settlements, isLinked, isSettlementReference } from './settlements';
import { TerminalQueue, type BusyMode } from './terminal-queue';
import type { ConnectionState, Logger, PaymentRequest, PaymentResult, ProgressEvent } from './types';
import { whenConnected } from './when-connected';

export interface PayOptions {
  /**
   * The node's timeout. Waiting for the connection (at most 30 s) and for a busy terminal
   * happens within it; once the payment reaches the terminal it has the whole timeout again,
   * so a customer at the end of a queue is not cut short.
   */
  timeoutMs: number;
  onProgress?: (event: ProgressEvent) => void;
  /** A terminal already taking a payment: wait for it in arrival order (default) or fail at once. */
  busy?: BusyMode;
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
    kind: request.kind, outcome: 'unknown', approved: false, amount: request.amount, currency: request.currency, reference: request.reference,
    ...(request.terminalId ? { terminalId: request.terminalId } : {}),
    provider, card: {}, receipt: {}, message, raw,
  };
}

/** Every result that leaves the service says which kind of transaction it answers. */
function withKind(result: PaymentResult, request: PaymentRequest): PaymentResult {
  return result.kind === request.kind ? result : { ...result, kind: request.kind };
}

/** Whether this instance, on standby, passes its payments to the holder of the connection (it has a shared journal's hand-off). */
const standbyHandsOver = (s: ConnectionState): boolean => s.name === 'standby' && !s.paysHere;
const refusesHandOff = (): boolean => false;
const ignoreProgress = (): void => {};

const ASK_A_PERSON =
  'Check the terminal or the provider portal before taking this payment again, and use a new reference if you do.';

export interface RetentionOptions {
  /** How often a payment still running on the terminal after a restart is asked about again. Default 5 s. */
  watchEveryMs?: number;
  /** How long it is watched before it is left for the next recovery (reconnect or restart). Default 30 min. */
  watchForMs?: number;
  /** How long close() waits for results in flight. Default 2 s. */
  drainMs?: number;
  /** How long a finished reference is remembered (and so refused a second charge). Default 7 days. */
  keepMs?: number;
  /** At most one sweep of the journal per this interval. Default 1 hour. */
  sweepEveryMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class PaymentService {
  /** Payments (and recoveries) running here, by reference; a duplicate message shares `work`'s result. */
  private readonly inflight = new Map<string, { request: PaymentRequest; work: Promise<{ result: PaymentResult }> }>();
  private readonly keepMs: number;
  private readonly sweepEveryMs: number;
  private readonly watchEveryMs: number;
  private readonly watchForMs: number;
  private readonly drainMs: number;
  private lastSweep = 0;
  private closing = false;
  /** Payments still running on the terminal after a restart, asked about until they finish. */
  private readonly watched = new Map<string, { entry: JournalEntry; timer: NodeJS.Timeout }>();
  private recovered: (result: PaymentResult) => void = () => {};
  /** References this instance handed to the lease holder and whose flow still waits for the result. */
  private readonly awaitingHandOff = new Set<string>();
  /** Payments standby instances handed over, running here (kept apart: this instance's own flow may wait on the same reference). */
  private readonly handedOver = new Map<string, Promise<PaymentResult>>();
  private readonly settlements: Settlements;
  /** One payment at a time per terminal, the others waiting their turn. */
  private readonly terminals = new TerminalQueue();
  /** Aborted by close(): a payment still waiting for the connection or a terminal fails at once, nothing sent. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly provider: PaymentProvider,
    private readonly journal: Journal,
    private readonly logger: Logger,
    retention: RetentionOptions = {},
  ) {
    this.keepMs = retention.keepMs ?? 7 * DAY_MS;
    this.sweepEveryMs = retention.sweepEveryMs ?? 60 * 60 * 1000;
    this.watchEveryMs = retention.watchEveryMs ?? 5000;
    this.watchForMs = retention.watchForMs ?? 30 * 60 * 1000;
    this.drainMs = retention.drainMs ?? 2000;
    this.settlements = new Settlements(journal, provider.name);
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Where results of payments whose pay node never heard them go (payment_recovered). */
  onRecovered(listener: (result: PaymentResult) => void): void {
    this.recovered = listener;
  }

  /** A result the flow that asked for it can no longer hear (its pay node was deleted meanwhile): reported as payment_recovered. */
  reportUnheard(result: PaymentResult): void {
    this.recovered(result);
  }

  pay(request: PaymentRequest, opts: PayOptions): Promise<PayOutcome> {
    const capability = capabilityOf(request.kind);
    if (!this.provider.capabilities[capability]) {
      return Promise.reject(new PosError('capability_missing', `${this.provider.name} does not support ${capability} in this pack; nothing was sent`));
    }
    // Checked and registered synchronously so two messages with one reference can never both pass.
    const running = this.inflight.get(request.reference);
    if (running) {
      try {
        assertSameRequest(request, running.request);
      } catch (err) {
        return Promise.reject(err);
      }
      return running.work.then((o) => ({ result: o.result, duplicate: true }));
    }
    // The caller of the first message sees an error; the handler below keeps it from being unhandled here.
    const work = this.run(request, opts);
    this.inflight.set(request.reference, { request, work });
    const clear = () => this.inflight.delete(request.reference);
    work.then(clear, clear);
    return work;
  }

  /**
   * Stops taking payments and waits (at most drainMs) for results in flight. A payment still
   * without a result stays pending in the journal, to be resolved and reported after the next
   * start; it is never recorded as unknown or released because of the stop.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.stopping.abort();
    this.terminals.refuseAll(() => this.closedError());
    for (const { entry, timer } of this.watched.values()) {
      clearTimeout(timer);
      this.journal.handBack?.(entry);
    }
    this.watched.clear();
    const running = [...this.inflight.values()].map((r): Promise<unknown> => r.work).concat([...this.handedOver.values()]).map((r) => r.catch(() => undefined));
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(running), new Promise((r) => { timer = setTimeout(r, this.drainMs); })]);
    clearTimeout(timer);
  }

  private async run(asked: PaymentRequest, opts: PayOptions): Promise<PayOutcome> {
    if (this.closing) throw this.closedError();
    // The waits below share the node's timeout; the payment itself gets the whole timeout once sent.
    const waitUntil = Date.now() + opts.timeoutMs;
    // A completion or release is checked against its pre-auth (and gets its ids) before it is journalled.
    const request = isLinked(asked) ? await this.settlements.link(asked) : asked;
    const handOff = this.journal.handOff;
    const handsOver = handOff === undefined ? refusesHandOff : standbyHandsOver;
    if (!canSend(this.provider.state) && !handsOver(this.provider.state)) {
      // A repeat is answered from the journal even while offline; a new payment waits for the connection.
      const prior = await this.journal.get(request.reference);
      if (prior) return this.repeat(request, prior, opts);
      await this.connected(request, waitUntil, opts, (s) => canSend(s) || handsOver(s));
    }
    if (handsOver(this.provider.state) && handOff) return this.handOff(request, opts, handOff);
    const release = await this.takeTerminal(request, waitUntil, opts);
    try {
      const claim = await this.journal.claim(request, randomUUID());
      if (!claim.claimed) return await this.repeat(request, claim.entry, opts);
      return { result: await this.send(request, claim.entry, opts), duplicate: false };
    } finally {
      release();
    }
  }

  /** Waits (DESIGN: within the timeout, at most 30 s) while the connection is being made; refused states fail at once. */
  private async connected(request: PaymentRequest, waitUntil: number, opts: PayOptions, ready: (s: ConnectionState) => boolean): Promise<void> {
    const state = this.provider.state;
    if (state.name === 'idle' || state.name === 'connecting' || state.name === 'reconnecting') {
      opts.onProgress?.(this.progress(request, 'waiting_for_connection', `waiting for the ${this.provider.name} connection`));
    }
    await whenConnected(this.provider, { limitMs: waitUntil - Date.now(), nothingSent: 'nothing was sent', ready, signal: this.stopping.signal });
    if (this.closing) throw this.closedError();
  }

  /** The terminal this payment names, once no other payment of this instance runs on it. */
  private takeTerminal(request: PaymentRequest, waitUntil: number, opts: PayOptions): Promise<() => void> {
    const terminalId = request.terminalId?.trim();
    if (!terminalId) return Promise.resolve(() => {});
    return this.terminals.acquire(terminalId, request.reference, {
      mode: opts.busy ?? 'queue',
      limitMs: waitUntil - Date.now(),
      onQueued: (holder) => opts.onProgress?.(this.progress(request, 'queued', `waiting for terminal ${terminalId}: payment "${holder}" is running on it`)),
    });
  }

  private progress(request: PaymentRequest, event: string, message: string): ProgressEvent {
    return { reference: request.reference, ...(request.terminalId ? { terminalId: request.terminalId } : {}), provider: this.provider.name, event, message, raw: null };
  }

  private closedError(): PosError {
    return new PosError('closed', `the ${this.provider.name} connection is closing; nothing was sent`);
  }

  /**
   * Standby: the instance holding the provider's one connection sends it. Progress prompts stay
   * there; this flow gets the result.
   */
  private async handOff(request: PaymentRequest, opts: PayOptions, handOff: HandOff): Promise<PayOutcome> {
    const claim = await handOff.enqueue(request, randomUUID(), opts.timeoutMs);
    if (!claim.claimed) return this.repeat(request, claim.entry, opts);
    opts.onProgress?.(this.progress(request, 'handed_off', 'passed to the Node-RED instance that holds the connection'));
    this.awaitingHandOff.add(request.reference);
    let end;
    try {
      end = await handOff.await(claim.entry, opts.timeoutMs);
    } finally {
      this.awaitingHandOff.delete(request.reference);
    }
    switch (end.ended) {
      case 'done': return { result: end.entry.result ? withKind(end.entry.result, request) : unknownResult(request, this.provider.name, 'The result was not stored.'), duplicate: false };
      case 'refused': throw new PosError(isPosErrorCode(end.code) ? end.code : 'provider_error', end.message);
      case 'not_taken': throw new PosError('standby', `this Node-RED instance is on standby and no instance holding the ${this.provider.name} ` +
        'connection took the payment in time; nothing was sent, and the same reference may be sent again');
      case 'running': return { result: unknownResult(request, this.provider.name, `The Node-RED instance holding the ${this.provider.name} connection ` +
        'is still running this payment. Send the same reference again to get its result.'), duplicate: false };
    }
  }

  /**
   * Holder: runs a payment a standby instance handed over (the journal made it ours). A failure
   * before anything was sent goes back to the standby; any result is recorded as for our own.
   */
  runHandedOver(entry: JournalEntry, timeoutMs: number): void {
    const handOff = this.journal.handOff;
    if (!handOff) return;
    const refuse = (err: PosError) => handOff.refuse(entry, err.code, err.message).catch((e: Error) => this.logger.warn(`payment ${entry.reference}: ${e.message}`));
    if (this.closing) {
      void refuse(this.closedError());
      return;
    }
    // This instance's own flow may be waiting on the same reference (a repeat): it gets this result through the journal.
    if (this.handedOver.has(entry.reference)) return; // cannot be: the journal gives a queued row to one taker once
    // It queues for its terminal like this instance's own payments: a busy terminal would refuse it.
    const result = this.takeTerminal(entry.request, Date.now() + timeoutMs, { timeoutMs }).then(
      (release) => this.send(entry.request, entry, { timeoutMs }, refuse).finally(release),
      async (err: PosError) => {
        await refuse(err);
        throw err;
      });
    result.catch(() => {});
    this.handedOver.set(entry.reference, result);
    const clear = () => this.handedOver.delete(entry.reference);
    result.then(clear, clear);
  }

  /** The reference is in the journal already: its result, never a second charge. */
  private async repeat(request: PaymentRequest, prior: JournalEntry, opts: PayOptions, depth = 0): Promise<PayOutcome> {
    assertSameRequest(request, prior.request);
    let entry = prior;
    // Another instance is running it (shared journal): its result is this one's.
    if (entry.state !== 'done' && this.journal.waitForResult) {
      const now = await this.journal.waitForResult(entry.reference, opts.timeoutMs);
      // Freed meanwhile (never sent): this message may take it. Bounded, each round needs another refusal.
      if (!now) {
        if (depth < 2) return this.retake(request, opts, depth + 1);
        throw new PosError('provider_error', `reference ${request.reference} was refused again and again; nothing was sent`);
      }
      entry = now;
      // Still another live instance's: only that instance (or whoever recovers it if it dies) may settle it.
      if (entry.state !== 'done' && entry.owner !== undefined && entry.owner !== this.journal.instanceId) {
        return { result: unknownResult(request, this.provider.name, 'Another Node-RED instance is still running this payment. ' +
          'Send the same reference again to get its result; if that instance stopped, its result is reported (payment_recovered).'), duplicate: true };
      }
    }
    // A known outcome is final; an unknown one is asked about again, since the provider may know by now.
    if (entry.state === 'done' && entry.result && entry.result.outcome !== 'unknown') return { result: withKind(entry.result, entry.request), duplicate: true };
    const resolved = await this.resolvePending(entry);
    // The provider never received it and the terminal is idle: this repeat takes the payment.
    if (resolved.released && !this.closing && canSend(this.provider.state)) return this.retake(request, opts, depth + 1);
    return { result: resolved.result, duplicate: true };
  }

  private async retake(request: PaymentRequest, opts: PayOptions, depth: number): Promise<PayOutcome> {
    const handOff = this.journal.handOff;
    const state = this.provider.state;
    if (state.name === 'standby' && !state.paysHere && handOff) return this.handOff(request, opts, handOff);
    if (!canSend(state)) throw new PosError('not_connected', `not connected to ${this.provider.name}; nothing was sent`);
    const claim = await this.journal.claim(request, randomUUID());
    if (claim.claimed) return { result: await this.send(request, claim.entry, opts), duplicate: false };
    return this.repeat(request, claim.entry, opts, depth);
  }

  /** `refuse`: for a payment handed over by a standby, what replaces releasing the reference when nothing was sent. */
  private async send(request: PaymentRequest, entry: JournalEntry, opts: PayOptions, refuse?: (err: PosError) => Promise<unknown>): Promise<PaymentResult> {
    let current = entry;
    let result: PaymentResult;
    let held = false;
    if (isLinked(request)) {
      // The last step before anything is sent: the pre-auth is taken for this completion, atomically.
      // Whatever stops that (another completion has it, the journal is away), nothing was sent.
      try {
        await this.settlements.hold(request);
        held = true;
      } catch (err) {
        const why = isPosError(err) ? err : new PosError('journal_unavailable', (err as Error).message);
        await (refuse ? refuse(why) : this.journal.release(current)).catch((e: Error) =>
          this.logger.warn(`payment ${request.reference}: could not free the reference (${e.message}); it is asked about after the next start`));
        throw why;
      }
    }
    try {
      result = await this.provider.pay({
        request,
        attemptId: entry.attemptId,
        deadline: Date.now() + opts.timeoutMs,
        onProgress: opts.onProgress ?? ignoreProgress,
        note: async (notes) => {
          current = await this.journal.note(current, notes);
        },
      });
    } catch (err) {
      if (this.closing) throw this.leftPending(request);
      if (isPosError(err) && NOT_SENT.has(err.code)) {
        if (held) await this.settlements.abandon(request);
        await (refuse ? refuse(err) : this.journal.release(current));
        throw err;
      }
      this.logger.warn(`payment ${request.reference}: ${(err as Error).message}`);
      result = unknownResult(request, this.provider.name, `The result of this payment could not be established (${(err as Error).message}). ${ASK_A_PERSON}`);
    }
    // A stop cut the payment off: it stays pending and is asked about after the restart.
    if (this.closing && result.outcome === 'unknown') throw this.leftPending(request);
    result = withKind(result, request);
    await this.record(current, result);
    if (held) await this.concludeSettlement(request, result);
    this.sweep();
    return result;
  }

  private leftPending(request: PaymentRequest): PosError {
    return new PosError('closed', `Node-RED stopped while payment ${request.reference} was running; it stays in the journal and its result ` +
      'is reported (payment_recovered) once the connection is back');
  }

  /** The pre-auth a completion or release holds follows its result; a failure here is logged, the result still goes out. */
  private async concludeSettlement(request: PaymentRequest, result: PaymentResult | 'released'): Promise<void> {
    try {
      if (result === 'released') await this.settlements.abandon(request);
      else await this.settlements.conclude(request, result);
    } catch (err) {
      this.logger.warn(`payment ${request.reference}: the pre-auth ${request.originalReference} could not be marked (${(err as Error).message}); ` +
        'it stays held, so it is never settled twice');
    }
  }

  /** Records a result; one that cannot be written still reaches the flow, and the journal catches up. */
  private async record(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry | undefined> {
    try {
      return await this.journal.finish(entry, result);
    } catch (err) {
      this.logger.error(`payment ${entry.reference} ended ${result.outcome} but the journal could not record it (${(err as Error).message}); ` +
        'the result is kept in memory and written as soon as the journal can be');
      return undefined;
    }
  }

  /**
   * The journal would otherwise grow by one entry per payment forever. Sweeping is lazy (after
   * a payment, at most once per interval) so an idle pack does no work and keeps no timer.
   */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.journal.sweep(new Date(now - this.keepMs)).then(
      (n) => { if (n > 0) this.logger.debug(`forgot ${n} payment reference(s) finished more than ${Math.round(this.keepMs / DAY_MS * 10) / 10} days ago`); },
      (err: Error) => this.logger.warn(`could not tidy the payment journal: ${err.message}`),
    );
  }

  /**
   * A reference left pending by a restart, or answered `unknown` before: ask, never resend.
   * `released`: the provider has no record of it and its terminal is idle, so the reference is
   * free again and a repeat takes the payment.
   */
  async resolvePending(entry: JournalEntry): Promise<Resolved> {
    const found = await this.ask(entry);
    if (found.found === 'result') {
      const result = withKind(found.result, entry.request);
      const stored = await this.record(entry, result);
      if (stored?.finishedElsewhere) return { result: withKind(stored.result ?? result, entry.request), finishedElsewhere: true };
      if (isLinked(entry.request)) await this.concludeSettlement(entry.request, result);
      return { result };
    }
    if (found.found === 'nothing' && await this.terminalIdle(entry.request)) {
      await this.journal.release(entry);
      if (isLinked(entry.request)) await this.concludeSettlement(entry.request, 'released');
      return {
        released: true,
        result: unknownResult(entry.request, this.provider.name, `${this.provider.name} has no record of this payment and the terminal is idle: ` +
          'it was never taken. Send the same reference again to take it.'),
      };
    }
    if (found.found === 'in_progress') {
      return { running: true, result: unknownResult(entry.request, this.provider.name, 'This payment is still in progress on the terminal. ' +
        'Its result is reported (payment_recovered) when it finishes; sending the same reference again also gets it then.') };
    }
    // Still unknown: an earlier unknown answer stands as it was; a pending entry records one.
    if (entry.state === 'done' && entry.result) return { result: withKind(entry.result, entry.request) };
    const result = unknownResult(entry.request, this.provider.name,
      found.found === 'nothing' ? `${this.provider.name} has no record of this payment, but its terminal could not be seen idle, so it may still be running. ${ASK_A_PERSON}`
      : `The result of this payment was lost and ${this.provider.name} cannot be asked (${found.reason}). ${ASK_A_PERSON}`);
    const stored = await this.record(entry, result);
    if (stored?.finishedElsewhere) return { result: withKind(stored.result ?? result, entry.request), finishedElsewhere: true };
    return { result };
  }

  /** Whether a wait in this process is on the payment now (a flow's, a standby's, a recovery's): its result comes without asking. */
  isRunningHere(reference: string): boolean {
    return this.inflight.has(reference) || this.handedOver.has(reference);
  }

  /** Whether askAgain() would ask the provider about this entry: unresolved, no wait here on it, not another instance's. */
  mayAskAgain(entry: JournalEntry): boolean {
    if (this.isRunningHere(entry.reference)) return false;
    if (entry.state === 'done') return !entry.result || entry.result.outcome === 'unknown';
    return entry.state === 'pending' && (entry.owner === undefined || entry.owner === this.journal.instanceId);
  }

  /** The journal's most recently active payments, newest first (the editor's Payments sidebar). */
  recent(limit: number): Promise<JournalEntry[]> {
    return this.journal.recent(limit);
  }

  /**
   * A person asks again about one payment (the editor's Payments sidebar): the look-up a repeat
   * of its reference does, never a send. Only an unfinished payment nobody here is running, or
   * one that ended `unknown`, is asked about; the flow hears a newly known result as
   * payment_recovered, as it would from a recovery.
   */
  async askAgain(reference: string): Promise<AskAgainAnswer> {
    if (this.closing) throw new PosError('closed', `the ${this.provider.name} connection is closing; nothing was asked`);
    if (this.isRunningHere(reference)) return { status: 'running_here', message: ASK_AGAIN.running_here };
    const watch = this.watched.get(reference);
    let entry: JournalEntry | undefined;
    /** The flow has heard `unknown` already (a result, or a recovery that found it still running). */
    let heardUnknown: boolean;
    if (watch) {
      // Asked about every few seconds already; asked now too, and settled here once the terminal is done.
      const found = await this.ask(watch.entry);
      if (found.found === 'in_progress') return { status: 'still_running', message: ASK_AGAIN.still_running };
      const still = this.watched.get(reference);
      // The watch got there first and reports it.
      if (!still) return { status: 'running_here', message: ASK_AGAIN.running_here };
      clearTimeout(still.timer);
      this.watched.delete(reference);
      entry = still.entry;
      heardUnknown = true;
    } else {
      entry = await this.journal.get(reference);
      if (!entry) return { status: 'not_found', message: ASK_AGAIN.not_found };
      if (entry.state === 'done' && entry.result && entry.result.outcome !== 'unknown') {
        return { status: 'final', result: withKind(entry.result, entry.request), message: ASK_AGAIN.final };
      }
      // A shared journal: another instance runs it (or queued it); only that one, or whoever recovers it, may settle it.
      if (entry.state === 'queued' || (entry.state === 'pending' && entry.owner !== undefined && entry.owner !== this.journal.instanceId)) {
        return { status: 'elsewhere', message: ASK_AGAIN.elsewhere };
      }
      heardUnknown = entry.state === 'done';
    }
    const resolved = await this.resolvePending(entry);
    if (resolved.running) {
      // Watched like a recovered payment, so its result is reported when the terminal finishes.
      if (!this.watched.has(reference)) this.watch(entry);
      return { status: 'still_running', result: resolved.result, message: ASK_AGAIN.still_running };
    }
    const status: AskAgainAnswer['status'] = resolved.released ? 'released' : resolved.result.outcome === 'unknown' ? 'still_unknown' : 'answered';
    // A different answer from what the flow heard (nothing, or `unknown`) is news to it.
    if (!heardUnknown || status !== 'still_unknown') this.recovered(resolved.result);
    return { status, result: resolved.result, message: ASK_AGAIN[status] };
  }

  /** Every reference a previous run (or, shared, a dead instance) left pending: asked about and reported once. */
  async recoverPending(): Promise<void> {
    const entries = await this.journal.recoverable();
    // Settlement entries are the journal's own, never sent: judged once their completions are resolved.
    const settlements = entries.filter((e) => isSettlementReference(e.reference));
    for (const entry of entries.filter((e) => !isSettlementReference(e.reference))) {
      if (this.closing) {
        this.journal.handBack?.(entry);
        continue;
      }
      // Finished for a flow that can no longer hear it (a shared journal's hand-off): reported, nothing to ask.
      if (entry.state === 'done') {
        if (entry.result) this.recovered(entry.result);
        continue;
      }
      // A flow here waiting for a payment it handed over (this instance has since become the holder) is answered by resolving it.
      const awaitedHere = this.awaitingHandOff.has(entry.reference);
      if (this.inflight.has(entry.reference) && !awaitedHere) continue;
      const work = this.resolvePending(entry);
      if (!awaitedHere) this.inflight.set(entry.reference, { request: entry.request, work });
      try {
        const outcome = await work;
        // A flow that waits for it hears it; payment_recovered is for results that reach no flow.
        // Finished meanwhile by the instance that ran it (alive after all): its flow heard the result.
        if (!awaitedHere && !entry.awaited && !outcome.finishedElsewhere) this.recovered(outcome.result);
        if (outcome.running) this.watch(entry);
      } finally {
        if (!awaitedHere) this.inflight.delete(entry.reference);
      }
    }
    for (const entry of settlements) {
      if (this.closing) {
        this.journal.handBack?.(entry);
        continue;
      }
      await this.settlements.reconcile(entry).catch((err: Error) => {
        this.journal.handBack?.(entry);
        this.logger.warn(`could not check the settlement of pre-auth ${entry.reference.slice(9)}: ${err.message}`);
      });
    }
  }

  /** Asks again, every watchEveryMs, about a payment still running on the terminal; reports its result when it has one. */
  private watch(entry: JournalEntry): void {
    const until = Date.now() + this.watchForMs;
    const tick = async () => {
      const found = await this.ask(entry);
      if (this.closing || !this.watched.has(entry.reference)) return;
      if (found.found === 'in_progress' && Date.now() < until) {
        this.watched.set(entry.reference, { entry, timer: schedule() });
        return;
      }
      this.watched.delete(entry.reference);
      if (found.found === 'in_progress') {
        this.journal.handBack?.(entry);
        return;
      }
      const outcome = await this.resolvePending(entry);
      this.recovered(outcome.result);
    };
    const schedule = () => {
      const timer = setTimeout(() => { tick().catch((err: Error) => this.logger.warn(`payment ${entry.reference}: ${err.message}`)); }, this.watchEveryMs);
      timer.unref();
      return timer;
    };
    this.watched.set(entry.reference, { entry, timer: schedule() });
  }

  private async ask(entry: JournalEntry): Promise<LookupResult> {
    try {
      return await this.provider.lookup({
        request: entry.request, attemptId: entry.attemptId, startedAt: entry.startedAt, ...(entry.notes ? { notes: entry.notes } : {}),
      });
    } catch (err) {
      return { found: 'cannot_ask', reason: (err as Error).message };
    }
  }

  /** The terminal the payment was for reports itself available: nothing is running on it. */
  private async terminalIdle(request: PaymentRequest): Promise<boolean> {
    if (!this.provider.capabilities.terminals || !request.terminalId) return false;
    try {
      const terminals = await this.provider.listTerminals();
      return terminals.some((t) => t.id === request.terminalId && t.status === 'available');
    } catch {
      return false;
    }
  }
}

/** What askAgain() did, with a sentence for the person who asked. */
export interface AskAgainAnswer {
  status: 'answered' | 'still_unknown' | 'still_running' | 'released' | 'final' | 'running_here' | 'elsewhere' | 'not_found';
  result?: PaymentResult;
  message: string;
}

const ASK_AGAIN: Readonly<Record<AskAgainAnswer['status'], string>> = {
  answered: 'The provider knows the outcome now; it is recorded, and the flow hears it as payment_recovered.',
  still_unknown: 'The provider still cannot say what became of this payment. Check the terminal or the provider portal.',
  still_running: 'The payment is still running on the terminal; its result is reported (payment_recovered) when it finishes.',
  released: 'The provider has no record of this payment and the terminal is idle: it was never taken. Sending the same reference again takes it.',
  final: 'This payment has a known outcome already; nothing was asked.',
  running_here: 'This payment is running now; its result comes when it ends. Nothing was asked.',
  elsewhere: 'Another Node-RED instance is running this payment; only it can settle it. Nothing was asked.',
  not_found: 'The journal has no payment with this reference (it may have been forgotten after its retention time).',
};

/** Whether a payment may go out now: connected, or on standby with only another part of the provider held elsewhere. */
export function canSend(state: ConnectionState): boolean {
  return state.name === 'connected' || (state.name === 'standby' && state.paysHere === true);
}

/**
 * What resolving an unfinished payment found. `released`: the provider has no record and the
 * terminal is idle, so the reference is free again. `running`: still on the terminal.
 * `finishedElsewhere`: the instance that ran it finished it meanwhile (its flow has the result).
 */
export interface Resolved { result: PaymentResult; released?: true; running?: true; finishedElsewhere?: true }

function assertSameRequest(request: PaymentRequest, prior: PaymentRequest): void {
  if (prior.kind !== request.kind || prior.amount !== request.amount || prior.currency !== request.currency ||
    prior.originalReference !== request.originalReference) {
    throw new PosError('bad_input',
      `reference "${request.reference}" was already used for a ${prior.kind} of ${prior.amount} ${prior.currency}; use a new reference for a different payment`);
  }
}
