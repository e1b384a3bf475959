// The payment journal: one entry per reference, durable before anything of the payment is
// sent, so a reference is charged at most once across duplicate messages, redeploys, crashes
// and (with a shared store) several Node-RED instances. One Journal serves one provider account.
// Implementations: MemoryJournal (below: tests, library callers without a disk),
// lib/journal/file-journal.ts (the default, in the Node-RED user directory) and
// lib/journal/postgres-journal.ts (shared by several instances).

import { PosError } from './errors';
import type { PaymentRequest, PaymentResult } from './types';

export interface JournalEntry {
  reference: string;
  /** `queued`: a shared journal only, a payment waiting for the instance that holds the provider's one connection (HandOff). */
  state: 'pending' | 'done' | 'queued';
  attemptId: string;
  request: PaymentRequest;
  /** ISO 8601. */
  startedAt: string;
  finishedAt?: string;
  /** The slim result (see slimResult): what a repeat of the reference gets back. */
  result?: PaymentResult;
  /** What the provider noted while the payment ran (its own ids), so a lost result can be looked up. */
  notes?: Record<string, unknown>;
  /** The instance that runs (or ran) the payment; only a shared journal sets it. */
  owner?: string;
  /**
   * Set by a shared journal's recoverable(): the live instance that handed this payment over may
   * still be waiting for it, so the result reaches that flow, not payment_recovered.
   */
  awaited?: boolean;
  /**
   * Set by a shared journal's finish() for an entry recovered from an instance taken for dead:
   * that instance was alive after all and finished it first. Its result stands (and its flow
   * heard it); the recovery must not report it again.
   */
  finishedElsewhere?: true;
}

/** claim(): either this call now holds the reference, or `entry` is whoever held it first. */
export type Claim = { claimed: true; entry: JournalEntry } | { claimed: false; entry: JournalEntry };

export interface Journal {
  /**
   * Atomically takes the reference: a new pending entry, on stable storage before this
   * resolves, or the entry that already holds it. Rejects with `journal_unavailable` when the
   * entry cannot be stored; nothing may then be sent.
   */
  claim(request: PaymentRequest, attemptId: string): Promise<Claim>;
  get(reference: string): Promise<JournalEntry | undefined>;
  /** Merges provider notes into a pending entry (durable before it resolves). */
  note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry>;
  /**
   * Records the final result (slimmed). Never loses it: when the store cannot be written the
   * entry is kept in memory, answered from there, and written when the store is back; the
   * returned promise then rejects so the caller can say so loudly.
   */
  finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry>;
  /** Frees the reference, only for an attempt proven never sent (or never received, terminal idle). */
  release(entry: JournalEntry): Promise<void>;
  /**
   * Pending entries that nobody is running: this instance's from before a restart (and, shared,
   * those of a dead instance). A shared journal also returns, once, finished entries handed over
   * by a standby whose flow can no longer hear the result: they are only to be reported.
   */
  recoverable(): Promise<JournalEntry[]>;
  /** A recovered entry that is still unresolved (running on the terminal): a later recovery may take it. */
  handBack?(entry: JournalEntry): void;
  /** Forgets finished entries older than the cutoff; never pending ones. Returns how many. */
  sweep(finishedBefore: Date): Promise<number>;
  /**
   * The entries most recently active (finished, or started while unfinished), newest first:
   * what the editor's Payments sidebar lists. At most `limit` (clamped to 1..RECENT_MAX), and
   * never by reading the whole journal: a busy shop's journal holds tens of thousands.
   */
  recent(limit: number): Promise<JournalEntry[]>;
  /** Writes what is still queued and lets go of files, locks and connections. */
  close(): Promise<void>;
  /**
   * A shared journal only: waits until another instance finishes the reference (or the wait
   * ends) and returns the entry as it then is.
   */
  waitForResult?(reference: string, timeoutMs: number): Promise<JournalEntry | undefined>;
  /** A shared journal only: this instance's name, as entries' `owner` carry it. */
  readonly instanceId?: string;
  /** A shared journal only: payments passed from standby instances to the one that holds the connection. */
  readonly handOff?: HandOff;
  /**
   * A shared journal only, on standby: this instance's own unfinished payments (left by an earlier
   * run) are left to the instance holding the connection, the only one that can ask about them.
   */
  leaveToHolder?(): Promise<number>;
}

/** How a handed-off payment ended, as its standby instance sees it. */
export type HandOffEnd =
  | { ended: 'done'; entry: JournalEntry }
  /** The holder refused it before anything was sent (its error); the reference is free again. */
  | { ended: 'refused'; code: string; message: string }
  /** No instance took it within the pickup window; nothing was sent and the reference is free again. */
  | { ended: 'not_taken' }
  /** Taken, but no result by the end of the wait: the holder still runs it. */
  | { ended: 'running'; entry: JournalEntry };

/**
 * For providers that allow one connection per account: the instance on standby queues a
 * payment in the shared journal, the instance holding the connection takes it (one atomic
 * step, so it is sent at most once) and runs it, and the standby waits for the result.
 */
export interface HandOff {
  /** Standby side: the reference queued for the holder, or (`claimed: false`) the entry that already has it. */
  enqueue(request: PaymentRequest, attemptId: string, timeoutMs: number): Promise<Claim>;
  /** Standby side: waits for the holder to take the queued entry and finish it; withdraws it if nobody takes it in time. */
  await(entry: JournalEntry, timeoutMs: number): Promise<HandOffEnd>;
  /** Holder side: takes queued payments (now pending and owned here) until the returned function is called. */
  serve(run: (entry: JournalEntry, remainingMs: number) => void): () => void;
  /** Holder side: a taken payment failed before anything was sent; its standby hears why and the reference is free again. */
  refuse(entry: JournalEntry, code: string, message: string): Promise<void>;
}

/**
 * What a repeat of a reference returns, and all a finished entry keeps: the outcome, ids,
 * amounts and receipt. The provider's raw answer (often kilobytes) is not kept.
 */
export function slimResult(result: PaymentResult): PaymentResult {
  const slim: PaymentResult = {
    outcome: result.outcome,
    approved: result.approved,
    amount: result.amount,
    currency: result.currency,
    reference: result.reference,
    provider: result.provider,
    card: { ...result.card },
    receipt: slimReceipt(result.receipt),
    message: result.message,
    raw: null,
  };
  if (result.terminalId !== undefined) slim.terminalId = result.terminalId;
  if (result.transactionId !== undefined) slim.transactionId = result.transactionId;
  if (result.authCode !== undefined) slim.authCode = result.authCode;
  const kind = (result as { kind?: unknown }).kind;
  if (kind !== undefined) (slim as unknown as { kind: unknown }).kind = kind;
  return slim;
}

/** The receipt's lines, copied, keys in the same order; no throwaway objects (this runs for every payment). */
function slimReceipt(receipt: PaymentResult['receipt']): PaymentResult['receipt'] {
  const out: PaymentResult['receipt'] = {};
  if (receipt.merchant) out.merchant = receipt.merchant.slice();
  if (receipt.customer) out.customer = receipt.customer.slice();
  return out;
}

/** The most entries recent() returns, whatever is asked. */
export const RECENT_MAX = 200;

/** A limit recent() can use: a whole number from 1 to RECENT_MAX (anything else: 50). */
export function recentLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) return 50;
  return Math.min(RECENT_MAX, Math.floor(limit));
}

/** When an entry last changed: its finish, or its start while it runs. ISO 8601 strings sort as times. */
export function lastActive(entry: JournalEntry): string {
  return entry.finishedAt ?? entry.startedAt;
}

/** Sort order for recent(): the most recently active first. */
export function newestFirst(a: JournalEntry, b: JournalEntry): number {
  const x = lastActive(a);
  const y = lastActive(b);
  return x < y ? 1 : x > y ? -1 : 0;
}

export function journalUnavailable(why: string): PosError {
  return new PosError('journal_unavailable', `the payment journal cannot be written (${why}); nothing was sent`);
}

/** In memory only: for tests and library callers that keep no disk. Not durable. */
export class MemoryJournal implements Journal {
  private readonly entries = new Map<string, JournalEntry>();
  /** Set to make every write fail, as a full disk would. */
  failing: string | undefined;

  async claim(request: PaymentRequest, attemptId: string): Promise<Claim> {
    const prior = this.entries.get(request.reference);
    if (prior) return { claimed: false, entry: structuredClone(prior) };
    if (this.failing) throw journalUnavailable(this.failing);
    const entry: JournalEntry = { reference: request.reference, state: 'pending', attemptId, request: structuredClone(request), startedAt: new Date().toISOString() };
    this.entries.set(request.reference, entry);
    return { claimed: true, entry: structuredClone(entry) };
  }

  async get(reference: string): Promise<JournalEntry | undefined> {
    const e = this.entries.get(reference);
    return e ? structuredClone(e) : undefined;
  }

  async note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry> {
    const noted: JournalEntry = { ...entry, notes: { ...entry.notes, ...notes } };
    this.put(noted);
    return noted;
  }

  async finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    const done: JournalEntry = { ...entry, state: 'done', finishedAt: new Date().toISOString(), result: slimResult(result) };
    this.entries.set(entry.reference, structuredClone(done));
    if (this.failing) throw journalUnavailable(this.failing);
    return done;
  }

  async release(entry: JournalEntry): Promise<void> {
    if (this.entries.get(entry.reference)?.attemptId === entry.attemptId) this.entries.delete(entry.reference);
  }

  async recoverable(): Promise<JournalEntry[]> {
    return [...this.entries.values()].filter((e) => e.state === 'pending').map((e) => structuredClone(e));
  }

  async sweep(finishedBefore: Date): Promise<number> {
    const cutoff = finishedBefore.toISOString();
    let dropped = 0;
    for (const [ref, e] of this.entries) {
      if (e.state === 'done' && (e.finishedAt ?? '') < cutoff) {
        this.entries.delete(ref);
        dropped++;
      }
    }
    return dropped;
  }

  async recent(limit: number): Promise<JournalEntry[]> {
    // Memory only holds what a test or a short-lived caller put in it: sorting all of it is fine.
    return [...this.entries.values()].sort(newestFirst).slice(0, recentLimit(limit)).map((e) => structuredClone(e));
  }

  async close(): Promise<void> {}

  /** Test aid: backdates an entry's finish time. */
  backdate(reference: string, finishedAt: Date): void {
    const e = this.entries.get(reference);
    if (e) e.finishedAt = finishedAt.toISOString();
  }

  private put(entry: JournalEntry): void {
    if (this.failing) throw journalUnavailable(this.failing);
    this.entries.set(entry.reference, structuredClone(entry));
  }
}
