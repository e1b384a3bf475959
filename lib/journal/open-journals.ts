// One open journal per provider account in this process, however many config nodes point at
// that account: they must share it, since the file journal is one writer per folder and the
// no-double-charge promise is per account. Opened by the first user, closed after the last.

import type { Journal } from '../core/journal';
import { DeferredJournal } from './deferred-journal';

interface Shared {
  journal: DeferredJournal;
  users: number;
}

const open = new Map<string, Shared>();
/** Closings still running, so a reopen of the same key waits for the files and locks to be let go. */
const closing = new Map<string, Promise<void>>();

export interface JournalLease {
  journal: DeferredJournal;
  /** The last release closes the journal; resolves when it is closed. */
  release(): Promise<void>;
}

export function acquireJournal(key: string, opener: () => Promise<Journal>): JournalLease {
  let shared = open.get(key);
  if (!shared) {
    const before = closing.get(key) ?? Promise.resolve();
    shared = { journal: new DeferredJournal(before.then(opener)), users: 0 };
    open.set(key, shared);
  }
  shared.users++;
  const mine = shared;
  let released = false;
  return {
    journal: mine.journal,
    release: async () => {
      if (released) return;
      released = true;
      if (--mine.users > 0 || open.get(key) !== mine) return;
      open.delete(key);
      const done = mine.journal.close().catch(() => undefined).finally(() => {
        if (closing.get(key) === done) closing.delete(key);
      });
      closing.set(key, done);
      await done;
    },
  };
}
