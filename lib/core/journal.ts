// The payment journal: one entry per reference, written before anything is sent, so that a
// reference is charged at most once — across duplicate messages, redeploys and, with a
// persistent context store, restarts. The store is an interface so the library stays free
// of Node-RED; the nodes hand it their context storage.

import type { PaymentRequest, PaymentResult } from './types';

export interface JournalStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  keys(): Promise<string[]>;
}

export interface JournalEntry {
  reference: string;
  state: 'pending' | 'done';
  attemptId: string;
  request: PaymentRequest;
  startedAt: string;
  finishedAt?: string;
  result?: PaymentResult;
  /** What the provider noted while the payment ran (its own ids), so a lost result can be looked up. */
  notes?: Record<string, unknown>;
}

const PREFIX = 'posj_';

/**
 * Context keys are property paths ("a.b" means nested), so the reference is encoded into a
 * key that has no dots or brackets.
 */
export const journalKey = (reference: string): string =>
  PREFIX + Buffer.from(reference, 'utf8').toString('base64url');

export class Journal {
  constructor(private readonly store: JournalStore) {}

  async get(reference: string): Promise<JournalEntry | undefined> {
    const value = await this.store.get(journalKey(reference));
    return isEntry(value) ? value : undefined;
  }

  async begin(request: PaymentRequest, attemptId: string): Promise<JournalEntry> {
    const entry: JournalEntry = { reference: request.reference, state: 'pending', attemptId, request, startedAt: new Date().toISOString() };
    await this.store.set(journalKey(request.reference), entry);
    return entry;
  }

  /** Merges provider notes into a pending entry; returns the updated entry. */
  async note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry> {
    const noted: JournalEntry = { ...entry, notes: { ...entry.notes, ...notes } };
    await this.store.set(journalKey(entry.reference), noted);
    return noted;
  }

  async finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    const done: JournalEntry = { ...entry, state: 'done', finishedAt: new Date().toISOString(), result };
    await this.store.set(journalKey(entry.reference), done);
    return done;
  }

  /** Only for an attempt proven never sent, so the reference may be used again. */
  async forget(reference: string): Promise<void> {
    await this.store.set(journalKey(reference), undefined);
  }

  /**
   * Drops finished entries older than the cutoff. Pending ones are kept whatever their age:
   * they are payments whose outcome is still to be established.
   */
  async prune(finishedBefore: Date): Promise<number> {
    const cutoff = finishedBefore.toISOString();
    let dropped = 0;
    for (const key of (await this.store.keys()).filter((k) => k.startsWith(PREFIX))) {
      const entry = await this.store.get(key);
      if (isEntry(entry) && entry.state === 'done' && (entry.finishedAt ?? '') < cutoff) {
        await this.store.set(key, undefined);
        dropped += 1;
      }
    }
    return dropped;
  }

  async pending(): Promise<JournalEntry[]> {
    const keys = (await this.store.keys()).filter((k) => k.startsWith(PREFIX));
    const entries = await Promise.all(keys.map((k) => this.store.get(k)));
    return entries.filter((e): e is JournalEntry => isEntry(e) && e.state === 'pending');
  }
}

function isEntry(value: unknown): value is JournalEntry {
  return !!value && typeof value === 'object' && typeof (value as JournalEntry).reference === 'string' &&
    ((value as JournalEntry).state === 'pending' || (value as JournalEntry).state === 'done');
}

/** For the library's own tests and for callers without a context store. */
export class MemoryJournalStore implements JournalStore {
  private readonly map = new Map<string, unknown>();
  async get(key: string) { return structuredClone(this.map.get(key)); }
  async set(key: string, value: unknown) { if (value === undefined) this.map.delete(key); else this.map.set(key, structuredClone(value)); }
  async keys() { return [...this.map.keys()]; }
}
