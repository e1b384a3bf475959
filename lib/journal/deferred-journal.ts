// A journal whose opening takes time (reading the files, connecting to PostgreSQL) while a
// config node must be built at once: every call waits for the opening, and when it failed,
// every call says why (journal_unavailable) instead of a payment going out unjournalled.

import { PosError } from '../core/errors';
import type { Claim, Journal, JournalEntry } from '../core/journal';
import type { PaymentRequest, PaymentResult } from '../core/types';

export class DeferredJournal implements Journal {
  private ready: Journal | undefined;
  private failure: string | undefined;

  constructor(private readonly opening: Promise<Journal>) {
    opening.then((j) => { this.ready = j; }, (err: Error) => { this.failure = err.message; });
  }

  /** Resolves when the journal is open; rejects with the reason it cannot be. */
  async whenOpen(): Promise<Journal> {
    if (this.ready) return this.ready;
    try {
      return await this.opening;
    } catch (err) {
      throw new PosError('journal_unavailable', `the payment journal cannot be opened (${(err as Error).message}); nothing was sent`);
    }
  }

  get openFailure(): string | undefined {
    return this.failure;
  }

  // The two calls of every payment go straight to the open journal: no await of whenOpen() in
  // between, which cost each payment two more promise turns once the journal is open.
  claim(request: PaymentRequest, attemptId: string): Promise<Claim> {
    return this.ready ? this.ready.claim(request, attemptId) : this.whenOpen().then((j) => j.claim(request, attemptId));
  }
  async get(reference: string): Promise<JournalEntry | undefined> { return (await this.whenOpen()).get(reference); }
  async note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry> { return (await this.whenOpen()).note(entry, notes); }
  finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    return this.ready ? this.ready.finish(entry, result) : this.whenOpen().then((j) => j.finish(entry, result));
  }
  async release(entry: JournalEntry): Promise<void> { return (await this.whenOpen()).release(entry); }
  async recoverable(): Promise<JournalEntry[]> { return (await this.whenOpen()).recoverable(); }
  async sweep(finishedBefore: Date): Promise<number> { return (await this.whenOpen()).sweep(finishedBefore); }
  async recent(limit: number): Promise<JournalEntry[]> { return (await this.whenOpen()).recent(limit); }
  handBack(entry: JournalEntry): void { this.ready?.handBack?.(entry); }
  async close(): Promise<void> {
    const j = await this.opening.catch(() => undefined);
    await j?.close();
  }

  get instanceId(): string | undefined {
    return this.ready?.instanceId;
  }

  get handOff(): Journal['handOff'] {
    return this.ready?.handOff;
  }

  /** Called on standby, which may come before the journal is open (the lease itself waits for it). */
  async leaveToHolder(): Promise<number> {
    const j = await this.whenOpen();
    return j.leaveToHolder ? j.leaveToHolder() : 0;
  }

  get waitForResult(): Journal['waitForResult'] {
    // Only a shared journal waits for another instance; known once open.
    const wait = this.ready?.waitForResult;
    return wait ? wait.bind(this.ready) : undefined;
  }
}
