// Where a config node's payments are journalled: the pack's own file journal in the Node-RED
// user directory, one folder per provider account (provider, environment and the account's
// identity, hashed so no key or device id shows in a folder name). Keyed by account, not by
// node id, so deleting and re-creating a config node keeps every payment it took.

import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { JournalEntry } from '../../lib/core/journal';
import { FileJournal } from '../../lib/journal/file-journal';
import { acquireJournal, type JournalLease } from '../../lib/journal/open-journals';
import { nodeLogger } from './connection';
import type { Node, RedApi } from './red';

/** The folder of all the pack's files: <userDir>/pos-payments, or POS_PAYMENTS_DIR (the tests, a separate disk). */
export function packDir(RED: RedApi): string {
  if (process.env.POS_PAYMENTS_DIR) return path.resolve(process.env.POS_PAYMENTS_DIR);
  return path.join(RED.settings?.userDir || path.join(os.homedir(), '.node-red'), 'pos-payments');
}

export function accountKey(provider: string, environment: string, identity: Array<string | undefined>): string {
  const hash = createHash('sha256').update(JSON.stringify([provider, environment, ...identity.map((p) => p ?? '')])).digest('hex').slice(0, 16);
  return `${provider}-${environment}-${hash}`;
}

export interface AccountJournal extends JournalLease {
  /** Resolves once entries of the context journal of earlier versions have been taken over. */
  imported: Promise<void>;
}

export function accountJournal(RED: RedApi, node: Node, provider: string, environment: string, identity: Array<string | undefined>): AccountJournal {
  const dir = path.join(packDir(RED), 'journal', accountKey(provider, environment, identity));
  const logger = nodeLogger(node);
  const lease = acquireJournal(dir, () => FileJournal.open(dir, { logger }));
  const imported = importContextJournal(node, lease.journal).then(
    (n) => { if (n > 0) logger.info(`took ${n} payment(s) over from the context journal of an earlier version into ${dir}`); },
    (err: Error) => logger.warn(`could not take over the context journal of an earlier version: ${err.message}`),
  );
  return { ...lease, imported };
}

/** Earlier versions kept the journal in the config node's context, one `posj_<ref>` key per payment. Read once, then removed. */
async function importContextJournal(node: Node, journal: AccountJournal['journal']): Promise<number> {
  const ctx = node.context();
  const keys = await new Promise<string[]>((resolve) => ctx.keys(undefined, (err, k) => resolve(err ? [] : (k ?? []))));
  const old = keys.filter((k) => k.startsWith('posj_'));
  if (old.length === 0) return 0;
  const entries: JournalEntry[] = [];
  for (const key of old) {
    const value = await new Promise<unknown>((resolve) => ctx.get(key, undefined, (err, v) => resolve(err ? undefined : v)));
    const e = value as JournalEntry | undefined;
    if (e && typeof e.reference === 'string' && (e.state === 'pending' || e.state === 'done') && e.request) entries.push(e);
  }
  const file = await journal.whenOpen();
  const added = file instanceof FileJournal ? await file.importEntries(entries) : 0;
  for (const key of old) await new Promise<void>((resolve) => ctx.set(key, undefined, undefined, () => resolve()));
  return added;
}
