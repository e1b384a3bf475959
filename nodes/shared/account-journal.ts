// Where a config node's payments are journalled: the pack's own file journal in the Node-RED
// user directory, one folder per provider account (provider, environment and the account's
// identity, hashed so no key or device id shows in a folder name). Keyed by account, not by
// node id, so deleting and re-creating a config node keeps every payment it took.

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Journal, JournalEntry } from '../../lib/core/journal';
import type { ConnectionLease } from '../../lib/core/leased-provider';
import { FileJournal } from '../../lib/journal/file-journal';
import { acquireJournal, type JournalLease } from '../../lib/journal/open-journals';
import type { JournalNode } from './journal-node';
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
  /**
   * Resolves once payments left from an earlier run may be looked at and reported: the entries
   * of an earlier version's context journal are taken over, and the flows have started, so the
   * notification-in nodes that report payment_recovered are listening.
   */
  imported: Promise<void>;
  /**
   * A shared journal only: the lease by which one instance at a time holds a connection the
   * provider allows only once per account. Opened once the journal is.
   */
  openLease?: () => Promise<ConnectionLease>;
}

/** Longest wait for `flows:started` (a runtime that never says so must not hold recovery back). */
const FLOWS_STARTED_LIMIT_MS = 5000;

function flowsStarted(RED: RedApi): Promise<void> {
  const events = RED.events;
  if (!events) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      events.removeListener('flows:started', done);
      resolve();
    };
    const timer = setTimeout(done, FLOWS_STARTED_LIMIT_MS);
    timer.unref();
    events.once('flows:started', done);
  });
}

/**
 * The journal of one provider account. `journalId` is the provider config node's `journal`
 * property: a pos-journal node, or empty for the built-in file journal.
 */
export function accountJournal(RED: RedApi, node: Node, provider: string, environment: string, identity: Array<string | undefined>, journalId?: string): AccountJournal {
  const account = accountKey(provider, environment, identity);
  const logger = nodeLogger(node);
  const chosen = journalId ? (RED.nodes.getNode(journalId) as JournalNode | null) : null;
  let lease: JournalLease;
  let openLease: AccountJournal['openLease'];
  if (journalId && !chosen) {
    lease = acquireJournal(`missing:${journalId}`, () => Promise.reject(new Error(`the journal node ${journalId} this connection names is not deployed`)));
  } else if (chosen?.store === 'postgres') {
    const { connectionString, table, leaseSeconds } = chosen;
    const key = `postgres:${createHash('sha256').update(`${connectionString}\0${table}`).digest('hex').slice(0, 16)}:${account}`;
    lease = acquireJournal(key, async (): Promise<Journal> => {
      if (!connectionString) throw new Error('the journal node has no PostgreSQL connection string');
      // Loaded here: only a PostgreSQL journal pays for pg.
      const { PostgresJournal } = require('../../lib/journal/postgres-journal') as typeof import('../../lib/journal/postgres-journal');
      return PostgresJournal.open({ connectionString, table, account, instanceId: instanceId(RED), leaseSeconds, logger });
    });
    const journal = lease.journal;
    openLease = async () => {
      // The lease is worth having only with a journal to hand payments over through.
      await journal.whenOpen();
      const { PostgresLease } = require('../../lib/journal/postgres-lease') as typeof import('../../lib/journal/postgres-lease');
      return PostgresLease.open({ connectionString: connectionString as string, table, name: account, instanceId: instanceId(RED), leaseSeconds, logger });
    };
  } else {
    const dir = path.join(packDir(RED), 'journal', account);
    lease = acquireJournal(dir, () => FileJournal.open(dir, { logger }));
  }
  const imported = Promise.all([
    importContextJournal(node, lease.journal).then(
      (n) => { if (n > 0) logger.info(`took ${n} payment(s) over from the context journal of an earlier version`); },
      (err: Error) => logger.warn(`could not take over the context journal of an earlier version: ${err.message}`),
    ),
    flowsStarted(RED),
  ]).then(() => undefined);
  return { ...lease, imported, ...(openLease ? { openLease } : {}) };
}

let ownId: string | undefined;

/**
 * This Node-RED's name in a shared journal: kept in the user directory, so after a restart it
 * takes back its own unfinished payments at once instead of waiting for its old heartbeat to
 * run out.
 */
export function instanceId(RED: RedApi): string {
  if (ownId) return ownId;
  const file = path.join(packDir(RED), 'instance-id');
  try {
    ownId = fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    // First start: made below.
  }
  if (!ownId) {
    ownId = `${os.hostname()}-${randomBytes(4).toString('hex')}`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, ownId);
    } catch {
      // Unwritable: this run keeps its id in memory; its payments are taken over by heartbeat after a restart.
    }
  }
  return ownId;
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
  const opened = await journal.whenOpen();
  const added = opened instanceof FileJournal ? await opened.importEntries(entries) : 0;
  for (const key of old) await new Promise<void>((resolve) => ctx.set(key, undefined, undefined, () => resolve()));
  return added;
}
