// The shared journal: one PostgreSQL table that several Node-RED instances use at once, so a
// reference is charged at most once whichever instance receives it. A claim is one INSERT
// that the primary key makes atomic across instances; every instance heartbeats a row of its
// own, and the pending payments of an instance whose heartbeat stopped are taken over (once,
// by one live instance) and resolved by asking the provider. Timestamps that instances compare
// come from the database clock, never from the hosts' clocks.
//
// `pg` is loaded on the first connection only, so importing this module costs nothing for the
// many installations that keep the file journal.

import { createHash } from 'node:crypto';
import type { Client, Pool, PoolClient, QueryResultRow } from 'pg';
import { PosError } from '../core/errors';
import { journalUnavailable, newestFirst, recentLimit, slimResult, type Claim, type Journal, type JournalEntry } from '../core/journal';
import { requireOptional } from '../core/optional-module';
import { makeRedactor, type Redactor } from '../core/redact';
import { silentLogger, type Logger, type PaymentRequest, type PaymentResult } from '../core/types';
import { PostgresHandOff, awaitedSql, heardSql, pickupSql, type HandOffRow } from './postgres-handoff';

type Pg = typeof import('pg');

export const DEFAULT_TABLE = 'pos_payments_journal';
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** PostgreSQL silently cuts names at 63 bytes: `<table>_instances` must stay distinct from `<table>`. */
const LONGEST_SUFFIX = '_instances';
const DEFAULT_LEASE_SECONDS = 10;
const CONNECT_TIMEOUT_MS = 3000;
const QUERY_TIMEOUT_MS = 6000;
const BACKLOG_RETRY_MS = 2000;
const POLL_MS = 500;
const LISTEN_RETRY_MS = 2000;
const SWEEP_BATCH = 1000;
/** Marks an owner that left its unfinished payments to the lease holder (no instance has that name, so it counts as stopped). */
const LEFT_SUFFIX = ' (left to the holder)';
/** A sweep that hits this stops and lets the next sweep go on, rather than run for minutes. */
const SWEEP_MAX_BATCHES = 1000;
const CLOSE_MS = 2000;
/** SQLSTATEs of two instances creating the same table at the same moment. */
const CREATE_RACE = new Set(['23505', '42P07', '42710']);

export interface PostgresJournalOptions {
  /** A PostgreSQL URL (or keyword/value string); its password never appears in a message. */
  connectionString: string;
  /** Default `pos_payments_journal`; lower-case letters, digits and `_` only. */
  table?: string;
  /** The provider account this journal serves: every row is scoped by it. */
  account: string;
  /** Unique per Node-RED process; a restart that reuses it recovers what the previous run left pending. */
  instanceId: string;
  /** An instance whose heartbeat is older than this is dead. Default 10. */
  leaseSeconds?: number;
  logger?: Logger;
}

interface Row extends QueryResultRow, HandOffRow {
  result: PaymentResult | null;
}

// ---- helpers shared with postgres-lease.ts -------------------------------------------------

export function loadPg(): Pg {
  return requireOptional<Pg>('pg', 'npm install pg', 'The PostgreSQL journal');
}

/** Refuses a table name that is not a plain identifier: it is put into SQL text as is. */
export function checkTableName(table: string | undefined): string {
  const name = table ?? DEFAULT_TABLE;
  if (typeof name !== 'string' || !TABLE_NAME.test(name) || name.length + LONGEST_SUFFIX.length > 63) {
    throw new PosError('bad_input', `the journal table name ${JSON.stringify(name)} is not allowed: use lower-case letters, digits and _ ` +
      `(not starting with a digit), at most ${63 - LONGEST_SUFFIX.length} characters`);
  }
  return name;
}

export function checkLeaseSeconds(value: number | undefined): number {
  const s = value ?? DEFAULT_LEASE_SECONDS;
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) throw new PosError('bad_input', `leaseSeconds must be a positive number of seconds (got ${String(value)})`);
  return s;
}

export function checkText(what: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new PosError('bad_input', `${what} must be a non-empty string`);
  return value;
}

/** Masks the password of the connection string (URL or keyword form) and of PGPASSWORD. */
export function connectionRedactor(connectionString: string): Redactor {
  const secrets: string[] = [];
  try {
    const url = new URL(connectionString);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
  } catch {
    // A keyword/value string: handled below.
  }
  for (const m of connectionString.matchAll(/password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)/gi)) secrets.push(m[1].replace(/^'|'$/g, ''));
  if (process.env.PGPASSWORD) secrets.push(process.env.PGPASSWORD);
  const redact = makeRedactor(secrets);
  // Short passwords escape makeRedactor; a URL echoed whole still loses its userinfo password.
  return (text) => redact(text).replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

export function describePgError(err: unknown, redact: Redactor): string {
  const e = err as { message?: unknown; code?: unknown; errors?: Array<{ message?: unknown }> } | undefined;
  let text = typeof e?.message === 'string' && e.message !== '' ? e.message : '';
  // Node reports a refused connection to several addresses as an AggregateError with no message.
  if (!text && Array.isArray(e?.errors)) text = e.errors.map((x) => String(x?.message ?? x)).join('; ');
  if (!text) text = typeof e?.code === 'string' ? e.code : String(err);
  return redact(text);
}

export interface PoolTimeouts {
  connectMs: number;
  queryMs: number;
}

export function openPool(connectionString: string, max: number, timeouts: PoolTimeouts, logger: Logger, redact: Redactor): Pool {
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: timeouts.connectMs,
    // Client-side, so it also ends the wait for a server that stopped answering. (statement_timeout
    // would be a startup parameter, which connection poolers such as PgBouncer refuse by default.)
    query_timeout: timeouts.queryMs,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    keepAlive: true,
    application_name: 'node-red-contrib-pos-payments',
  });
  // An idle connection the server dropped; without a listener it would crash Node-RED.
  pool.on('error', (err) => logger.debug(`PostgreSQL: idle connection lost (${describePgError(err, redact)})`));
  return pool;
}

/** CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE: the loser of the race retries once. */
export async function createTables(pool: Pool, ddl: string): Promise<void> {
  try {
    await pool.query(ddl);
  } catch (err) {
    if (!CREATE_RACE.has(String((err as { code?: unknown }).code))) throw err;
    await pool.query(ddl);
  }
}

/** Resolves with what `work` gives, or with `fallback` once `ms` have passed (or when it fails). */
export function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

// ---- the journal ----------------------------------------------------------------------------

/** Open journals per heartbeat row: several accounts in one process share one instance row. */
const instanceRowUsers = new Map<string, number>();

/** `refused` rows are never read as entries (select() leaves them out): they only carry an error to a standby. */
function toEntry(row: HandOffRow): JournalEntry {
  const entry: JournalEntry = {
    reference: row.reference,
    state: row.state === 'refused' ? 'pending' : row.state,
    attemptId: row.attempt_id,
    request: row.request,
    startedAt: row.started_at.toISOString(),
    owner: row.owner,
  };
  if (row.finished_at) entry.finishedAt = row.finished_at.toISOString();
  if (row.result) entry.result = row.result as PaymentResult;
  if (row.notes) entry.notes = row.notes;
  if (row.awaited) entry.awaited = true;
  return entry;
}

/** Enough of a result for a person to reconcile it by hand when it could not be stored. */
function describeDone(e: JournalEntry): string {
  const r = e.result;
  return `${e.reference} (${r?.outcome}, ${r?.amount} ${r?.currency} in minor units, transaction ${r?.transactionId ?? 'unknown'})`;
}

export class PostgresJournal implements Journal {
  readonly table: string;
  readonly account: string;
  readonly instanceId: string;
  readonly leaseSeconds: number;
  readonly handOff: PostgresHandOff;
  private readonly connectionString: string;
  private readonly logger: Logger;
  private readonly redact: Redactor;
  private readonly rowKey: string;
  private readonly instances: string;
  private pool: Pool | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatFailing = false;
  /**
   * When the heartbeat came back after failing. If the database itself was away, every
   * instance's heartbeat stopped at once: none is taken for dead until each had time to beat again.
   */
  private restoredAt = 0;
  private beating = false;
  /** References recoverable() took from another instance: their runner may yet finish them itself. */
  private readonly takenOver = new Set<string>();
  /** References this object is running: claimed here or handed out by recoverable(); reference -> attemptId. */
  private readonly running = new Map<string, string>();
  /** Finished entries the database refused: answered from here and written when it is back. */
  private readonly backlog = new Map<string, JournalEntry>();
  private backlogTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** waitForResult callers by notification key. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly endWaits = new Set<() => void>();
  private listener: Client | undefined;
  private listenerConnecting = false;
  private listenTriedAt = 0;
  private closed = false;

  private constructor(opts: PostgresJournalOptions) {
    this.connectionString = checkText('connectionString', opts.connectionString);
    this.table = checkTableName(opts.table);
    this.account = checkText('account', opts.account);
    this.instanceId = checkText('instanceId', opts.instanceId);
    this.leaseSeconds = checkLeaseSeconds(opts.leaseSeconds);
    this.logger = opts.logger ?? silentLogger;
    this.redact = connectionRedactor(this.connectionString);
    this.instances = `${this.table}_instances`;
    this.rowKey = `${this.connectionString}\0${this.table}\0${this.instanceId}`;
    const self = this;
    this.handOff = new PostgresHandOff({
      table: this.table, account: this.account, instanceId: this.instanceId, leaseSeconds: this.leaseSeconds, logger: this.logger,
      get closed() { return self.closed; },
      pool: () => this.open(),
      subscribe: (key, wake) => this.subscribe(key, wake),
      notifyKey: (reference) => this.notifyKey(reference),
      claimWith: (reference, insert) => this.claimWith(reference, insert),
      markRunning: (reference, attemptId) => { this.running.set(reference, attemptId); },
      toEntry,
      unavailable: (how, err) => this.unavailable(how, err),
    });
  }

  /** Creates the tables if needed, writes the first heartbeat, and resolves when claims can be taken. */
  static async open(opts: PostgresJournalOptions): Promise<PostgresJournal> {
    const journal = new PostgresJournal(opts);
    await journal.start();
    return journal;
  }

  private async start(): Promise<void> {
    const t = this.table;
    this.pool = openPool(this.connectionString, 4, { connectMs: CONNECT_TIMEOUT_MS, queryMs: QUERY_TIMEOUT_MS }, this.logger, this.redact);
    try {
      await createTables(this.pool, `
        CREATE TABLE IF NOT EXISTS ${t} (
          account text NOT NULL,
          reference text NOT NULL,
          state text NOT NULL CHECK (state IN ('pending', 'done', 'queued', 'refused')),
          attempt_id text NOT NULL,
          owner text NOT NULL,
          request jsonb NOT NULL,
          notes jsonb,
          result jsonb,
          started_at timestamptz NOT NULL DEFAULT now(),
          finished_at timestamptz,
          handoff jsonb,
          PRIMARY KEY (account, reference)
        );
        CREATE INDEX IF NOT EXISTS ${t}_queued ON ${t} (account, started_at) WHERE state = 'queued';
        CREATE INDEX IF NOT EXISTS ${t}_pending ON ${t} (account, owner) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS ${t}_done ON ${t} (account, finished_at) WHERE state = 'done';
        CREATE TABLE IF NOT EXISTS ${this.instances} (instance_id text PRIMARY KEY, alive_at timestamptz NOT NULL);`);
      // Before the first claim: an owner with no heartbeat row counts as dead.
      await this.heartbeat();
    } catch (err) {
      const pool = this.pool;
      this.pool = undefined;
      await within(pool.end(), 500, undefined);
      throw journalUnavailable(describePgError(err, this.redact));
    }
    instanceRowUsers.set(this.rowKey, (instanceRowUsers.get(this.rowKey) ?? 0) + 1);
    this.heartbeatTimer = setInterval(() => void this.beat(), (this.leaseSeconds * 1000) / 3);
    this.heartbeatTimer.unref();
  }

  claim(request: PaymentRequest, attemptId: string): Promise<Claim> {
    return this.claimWith(request.reference, async (pool) => {
      const { rows } = await pool.query<Row>(
        `INSERT INTO ${this.table} (account, reference, state, attempt_id, owner, request)
         VALUES ($1, $2, 'pending', $3, $4, $5::jsonb)
         ON CONFLICT (account, reference) DO NOTHING RETURNING *`,
        [this.account, request.reference, attemptId, this.instanceId, JSON.stringify(request)]);
      return rows[0];
    });
  }

  /**
   * Takes the reference with `insert` (an INSERT ... ON CONFLICT DO NOTHING), or returns the
   * entry that holds it. A row left only to carry a refusal to a standby, or a queued one past
   * its pickup window (its standby is gone), gives way.
   */
  private async claimWith(reference: string, insert: (pool: Pool) => Promise<HandOffRow | undefined>): Promise<Claim> {
    const pool = this.open();
    const parked = this.backlog.get(reference);
    if (parked) return { claimed: false, entry: structuredClone(parked) };
    try {
      // Bounded: a reference can only slip away between the statements if its holder releases it.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await insert(pool);
        if (inserted) {
          // A queued row is the holder's to run: marked here, this instance's recovery would skip it forever once it holds the lease.
          if (inserted.state === 'pending') this.running.set(reference, inserted.attempt_id);
          return { claimed: true, entry: toEntry(inserted) };
        }
        // A new statement, so a fresh snapshot: it sees the row that made the INSERT do nothing.
        const held = await this.select(pool, reference);
        if (held && !(held.state === 'queued' && held.stale)) return { claimed: false, entry: toEntry(held) };
        await pool.query(
          `DELETE FROM ${this.table} WHERE account = $1 AND reference = $2
             AND (state = 'refused' OR (state = 'queued' AND started_at < clock_timestamp() - make_interval(secs => ${pickupSql('$3')})))`,
          [this.account, reference, this.leaseSeconds]);
      }
    } catch (err) {
      throw journalUnavailable(describePgError(err, this.redact));
    }
    throw journalUnavailable('the reference was taken and freed again three times while it was claimed');
  }

  async get(reference: string): Promise<JournalEntry | undefined> {
    const pool = this.open();
    const parked = this.backlog.get(reference);
    if (parked) return structuredClone(parked);
    try {
      const row = await this.select(pool, reference);
      return row ? toEntry(row) : undefined;
    } catch (err) {
      throw this.unavailable('read', err);
    }
  }

  async note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry> {
    const pool = this.open();
    let rows: Row[];
    try {
      ({ rows } = await pool.query<Row>(
        `UPDATE ${this.table} SET notes = coalesce(notes, '{}'::jsonb) || $4::jsonb
         WHERE account = $1 AND reference = $2 AND attempt_id = $3 RETURNING *`,
        [this.account, entry.reference, entry.attemptId, JSON.stringify(notes)]));
    } catch (err) {
      throw this.unavailable('written', err);
    }
    if (rows[0]) return toEntry(rows[0]);
    this.logger.warn(`payment journal: ${entry.reference} is no longer held by attempt ${entry.attemptId}; its notes were not stored`);
    return { ...entry, notes: { ...entry.notes, ...notes } };
  }

  async finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    const done: JournalEntry = {
      ...entry, state: 'done', finishedAt: new Date().toISOString(), result: slimResult(result), owner: entry.owner ?? this.instanceId,
    };
    if (this.running.get(entry.reference) === entry.attemptId) this.running.delete(entry.reference);
    if (this.closed) {
      this.logger.error(`payment journal: closed before the result of ${describeDone(done)} could be stored; it is only in this log`);
      throw new PosError('closed', `the payment journal is closed; the result of ${entry.reference} was not stored`);
    }
    try {
      const takenOver = this.takenOver.delete(entry.reference);
      const stored = await this.writeDone(done, false, this.open(), takenOver);
      if (this.backlog.get(entry.reference)?.attemptId === entry.attemptId) this.backlog.delete(entry.reference);
      return stored;
    } catch (err) {
      this.backlog.set(entry.reference, structuredClone(done));
      this.scheduleBacklog();
      throw new PosError('journal_unavailable', `the payment journal cannot be written (${describePgError(err, this.redact)}); the result of ` +
        `${entry.reference} is kept in memory and written when the database is back`);
    }
  }

  async release(entry: JournalEntry): Promise<void> {
    const pool = this.open();
    if (this.running.get(entry.reference) === entry.attemptId) this.running.delete(entry.reference);
    try {
      // Only a pending entry: a release must never throw away a result.
      // Waiters are woken too: a reference that is free again has no result to wait for.
      await pool.query(
        `WITH gone AS (
           DELETE FROM ${this.table} WHERE account = $1 AND reference = $2 AND attempt_id = $3 AND state = 'pending' RETURNING reference
         ) SELECT reference, pg_notify($4, $5) FROM gone`,
        [this.account, entry.reference, entry.attemptId, this.table, this.notifyKey(entry.reference)]);
    } catch (err) {
      throw this.unavailable('written', err);
    }
  }

  /**
   * Pending entries this object is not running and may now resolve: its own (left by an
   * earlier run with the same instanceId, or handed back) and those of dead instances, which
   * become its own. Recoveries of one account run one at a time (an advisory lock), so each
   * entry goes to exactly one live instance. An entry is handed out once; handBack() frees it.
   */
  async recoverable(): Promise<JournalEntry[]> {
    const pool = this.open();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw this.unavailable('read', err);
    }
    let rows: Array<Row & { was: string }>;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [this.table, this.account]);
      // A taker must be alive itself, so that nobody takes from it what it is taking now.
      await client.query(
        `INSERT INTO ${this.instances} (instance_id, alive_at) VALUES ($1, clock_timestamp())
         ON CONFLICT (instance_id) DO UPDATE SET alive_at = excluded.alive_at`, [this.instanceId]);
      ({ rows } = await client.query<Row & { was: string }>(
        `WITH orphans AS (
           SELECT j.reference, j.owner AS was FROM ${this.table} j
           WHERE j.account = $1 AND j.state = 'pending'
             AND CASE WHEN j.owner = $2 THEN NOT (j.reference = ANY($4::text[]))
                 ELSE $5::boolean AND NOT EXISTS (SELECT 1 FROM ${this.instances} i
                                  WHERE i.instance_id = j.owner AND i.alive_at >= clock_timestamp() - make_interval(secs => $3)) END
           FOR UPDATE
         )
         UPDATE ${this.table} j SET owner = $2,
           -- Reported as recovered now unless the flow that handed it over may still hear it.
           handoff = CASE WHEN j.handoff IS NULL OR ${awaitedSql('j', this.instances, '$3')} THEN j.handoff ELSE j.handoff || '{"heard": true}'::jsonb END
         FROM orphans
         WHERE j.account = $1 AND j.reference = orphans.reference
         RETURNING j.*, orphans.was, ${awaitedSql('j', this.instances, '$3')} AS awaited`,
        [this.account, this.instanceId, this.leaseSeconds, [...this.running.keys()], this.mayTakeOthers()]));
      // Handed-over payments finished whose flow cannot hear the result any more (its instance
      // died, or its wait ended): reported once, by whichever instance gets here first.
      // (Not right after an outage: a standby that was waiting may not have beaten again yet.)
      if (this.mayTakeOthers()) rows.push(...(await client.query<Row & { was: string }>(
        `UPDATE ${this.table} j SET handoff = j.handoff || '{"heard": true}'::jsonb
         WHERE j.account = $1 AND j.state = 'done' AND j.handoff IS NOT NULL AND NOT ${heardSql('j')}
           AND NOT ${awaitedSql('j', this.instances, '$2')}
         RETURNING j.*, j.owner AS was`,
        [this.account, this.leaseSeconds])).rows);
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      // Destroyed rather than reused: the server ends the open transaction with the connection.
      client.release(err as Error);
      throw this.unavailable('read', err);
    }
    const taken = rows.filter((r) => r.state === 'pending' && r.was !== this.instanceId);
    if (taken.length > 0) {
      const from = [...new Set(taken.map((r) => r.was))].join(', ');
      this.logger.warn(`payment journal: took over ${taken.length} pending payment(s) of ${this.account} from instance(s) that stopped: ${from}`);
    }
    const out: JournalEntry[] = [];
    for (const row of taken) this.takenOver.add(row.reference);
    for (const row of rows) {
      if (row.state === 'done') {
        out.push(toEntry(row));
        continue;
      }
      if (this.running.has(row.reference)) continue;
      this.running.set(row.reference, row.attempt_id);
      out.push(toEntry(row));
    }
    return out;
  }

  /**
   * On standby: this instance cannot ask the provider, so its own unfinished payments (left by
   * an earlier run) are marked as left, and the holder's recovery takes them as a dead
   * instance's. Returns how many.
   */
  async leaveToHolder(): Promise<number> {
    const pool = this.open();
    try {
      const { rowCount } = await pool.query(
        `UPDATE ${this.table} SET owner = $2 || '${LEFT_SUFFIX}'
         WHERE account = $1 AND state = 'pending' AND owner = $2 AND NOT (reference = ANY($3::text[]))`,
        [this.account, this.instanceId, [...this.running.keys()]]);
      if ((rowCount ?? 0) > 0) this.logger.info(`payment journal: left ${rowCount} unfinished payment(s) of ${this.account} to the instance holding the connection`);
      return rowCount ?? 0;
    } catch (err) {
      throw this.unavailable('written', err);
    }
  }

  /**
   * Two queries that each use an index and stop after `limit` rows: unfinished entries by start
   * (the partial `_pending` / `_queued` indexes keep them few) and finished ones by finish (the
   * `_done` index); merged here with results held in memory while the database refused them.
   */
  async recent(limit: number): Promise<JournalEntry[]> {
    const n = recentLimit(limit);
    const pool = this.open();
    let rows: Row[];
    try {
      const open = await pool.query<Row>(
        `SELECT * FROM ${this.table} WHERE account = $1 AND state IN ('pending', 'queued') ORDER BY started_at DESC LIMIT $2`, [this.account, n]);
      const done = await pool.query<Row>(
        `SELECT * FROM ${this.table} WHERE account = $1 AND state = 'done' ORDER BY finished_at DESC LIMIT $2`, [this.account, n]);
      rows = [...open.rows, ...done.rows];
    } catch (err) {
      throw this.unavailable('read', err);
    }
    const byReference = new Map(rows.map((row) => [row.reference, toEntry(row)]));
    for (const parked of this.backlog.values()) byReference.set(parked.reference, structuredClone(parked));
    return [...byReference.values()].sort(newestFirst).slice(0, n);
  }

  /** Not while this instance's own heartbeat is failing, nor within leaseSeconds of it coming back. */
  private mayTakeOthers(): boolean {
    return !this.heartbeatFailing && Date.now() - this.restoredAt >= this.leaseSeconds * 1000;
  }

  handBack(entry: JournalEntry): void {
    if (this.running.get(entry.reference) === entry.attemptId) this.running.delete(entry.reference);
  }

  async sweep(finishedBefore: Date): Promise<number> {
    const pool = this.open();
    let total = 0;
    try {
      // In batches: one DELETE of a million rows would hold its locks (and the WAL) for long.
      for (let batch = 0; batch < SWEEP_MAX_BATCHES; batch++) {
        const { rowCount } = await pool.query(
          `DELETE FROM ${this.table} WHERE account = $1 AND state = 'done' AND reference IN (
             SELECT reference FROM ${this.table} WHERE account = $1 AND state = 'done' AND finished_at < $2 LIMIT ${SWEEP_BATCH})`,
          [this.account, finishedBefore]);
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < SWEEP_BATCH) break;
      }
      // Hand-off leftovers whose standby died before reading them; the next claim would give way to them anyway.
      const { rowCount } = await pool.query(`DELETE FROM ${this.table} WHERE account = $1 AND state IN ('queued', 'refused') AND started_at < $2`,
        [this.account, finishedBefore]);
      total += rowCount ?? 0;
    } catch (err) {
      if (total > 0) return total;
      throw this.unavailable('written', err);
    }
    return total;
  }

  /**
   * Resolves once the entry is done (or gone), or with the entry as it is when `timeoutMs` is
   * up. Woken by NOTIFY, and polled too, since a LISTEN connection can drop unnoticed.
   */
  waitForResult(reference: string, timeoutMs: number): Promise<JournalEntry | undefined> {
    if (this.closed) return Promise.reject(new PosError('closed', 'the payment journal is closed'));
    return new Promise((resolve) => {
      const key = this.notifyKey(reference);
      let last: JournalEntry | undefined;
      let settled = false;
      let checking = false;
      let again = false;
      const settle = (entry: JournalEntry | undefined) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        clearTimeout(deadline);
        unsubscribe();
        this.endWaits.delete(end);
        resolve(entry);
      };
      const check = () => {
        if (settled) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        this.get(reference).then((entry) => {
          last = entry;
          if (!entry || entry.state === 'done') settle(entry);
        }, () => { /* the database is away: the next poll asks again */ }).finally(() => {
          checking = false;
          if (again) {
            again = false;
            check();
          }
        });
      };
      const end = () => settle(last);
      const poll = setInterval(() => {
        this.listen();
        check();
      }, POLL_MS);
      const deadline = setTimeout(() => {
        void within(this.get(reference), 1000, last).then(settle);
      }, Math.max(0, timeoutMs));
      const unsubscribe = this.subscribe(key, () => check());
      this.endWaits.add(end);
      check();
    });
  }

  /** Calls `wake` on every NOTIFY of `key` (the LISTEN connection stays open while anyone is subscribed). */
  private subscribe(key: string, wake: () => void): () => void {
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    set.add(wake);
    this.listen();
    return () => {
      const mine = this.waiters.get(key);
      mine?.delete(wake);
      if (mine?.size === 0) this.waiters.delete(key);
    };
  }

  /** Writes what is still in the backlog (briefly), ends the heartbeat and lets go of every connection within 2 s. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.backlogTimer);
    for (const end of [...this.endWaits]) end();
    const pool = this.pool;
    this.pool = undefined;
    const listener = this.listener;
    this.listener = undefined;
    if (listener) void within(listener.end(), 500, undefined);
    if (!pool) return;
    const started = Date.now();
    await within((async () => {
      await this.flushBacklog(pool);
      const users = (instanceRowUsers.get(this.rowKey) ?? 1) - 1;
      if (users > 0) instanceRowUsers.set(this.rowKey, users);
      else {
        instanceRowUsers.delete(this.rowKey);
        await pool.query(`DELETE FROM ${this.instances} WHERE instance_id = $1`, [this.instanceId]);
      }
    })(), CLOSE_MS - 500, undefined);
    if (this.backlog.size > 0) {
      const lost = [...this.backlog.values()].map(describeDone);
      this.logger.error(`payment journal: ${lost.length} result(s) could not be written to PostgreSQL before closing and are only in this log: ${lost.join(', ')}`);
    }
    await within(pool.end(), Math.max(100, CLOSE_MS - (Date.now() - started)), undefined);
  }

  // ---- internals ---------------------------------------------------------------------------

  private open(): Pool {
    if (this.closed || !this.pool) throw new PosError('closed', 'the payment journal is closed');
    return this.pool;
  }

  private unavailable(how: 'read' | 'written', err: unknown): PosError {
    return new PosError('journal_unavailable', `the payment journal cannot be ${how} (${describePgError(err, this.redact)})`);
  }

  /** The row that holds the reference (a refused one does not); `stale`: queued past its pickup window. */
  private async select(pool: Pool, reference: string): Promise<(Row & { stale: boolean }) | undefined> {
    const { rows } = await pool.query<Row & { stale: boolean }>(
      `SELECT *, (state = 'queued' AND started_at < clock_timestamp() - make_interval(secs => ${pickupSql('$3')})) AS stale
       FROM ${this.table} WHERE account = $1 AND reference = $2 AND state <> 'refused'`, [this.account, reference, this.leaseSeconds]);
    return rows[0];
  }

  private notifyKey(reference: string): string {
    // Fixed length, whatever the reference: a NOTIFY payload over 8000 bytes would fail the write.
    return createHash('sha256').update(this.account).update('\n').update(reference).digest('base64url');
  }

  /**
   * Stores a finished entry, whether its row is still there or not (a result is never thrown
   * away), unless another attempt holds the reference. Wakes the waiters on commit.
   */
  /** `unlessDone`: for an entry taken over from another instance, which may have finished it itself meanwhile. */
  private async writeDone(done: JournalEntry, keepTime: boolean, pool: Pool = this.open(), unlessDone = false): Promise<JournalEntry> {
    const { rows } = await pool.query<Row>(
      `WITH w AS (
         INSERT INTO ${this.table} AS j (account, reference, state, attempt_id, owner, request, notes, result, started_at, finished_at)
         VALUES ($1, $2, 'done', $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::timestamptz, coalesce($9::timestamptz, now()))
         ON CONFLICT (account, reference) DO UPDATE
           SET state = 'done', result = excluded.result, finished_at = excluded.finished_at,
               notes = CASE WHEN excluded.notes IS NULL THEN j.notes ELSE coalesce(j.notes, '{}'::jsonb) || excluded.notes END
           WHERE j.attempt_id = excluded.attempt_id${unlessDone ? " AND j.state <> 'done'" : ''}
         RETURNING j.*
       ) SELECT w.*, pg_notify($10, $11) FROM w`,
      [this.account, done.reference, done.attemptId, done.owner, JSON.stringify(done.request), done.notes ? JSON.stringify(done.notes) : null,
        JSON.stringify(done.result), done.startedAt, keepTime ? done.finishedAt : null, this.table, this.notifyKey(done.reference)]);
    if (rows[0]) return toEntry(rows[0]);
    if (unlessDone) {
      const now = await this.select(pool, done.reference);
      if (now?.state === 'done' && now.attempt_id === done.attemptId) return { ...toEntry(now), finishedElsewhere: true };
    }
    this.logger.error(`payment journal: ${done.reference} is held by another attempt than ${done.attemptId}; this result was not stored: ${describeDone(done)}`);
    return done;
  }

  private scheduleBacklog(): void {
    if (this.backlogTimer || this.closed) return;
    this.backlogTimer = setInterval(() => {
      if (this.pool) void this.flushBacklog(this.pool);
    }, BACKLOG_RETRY_MS);
    this.backlogTimer.unref();
  }

  private flushBacklog(pool: Pool): Promise<void> {
    this.flushing ??= (async () => {
      for (const [reference, done] of [...this.backlog]) {
        try {
          await this.writeDone(done, true, pool);
        } catch {
          return; // still away: the next round tries again
        }
        if (this.backlog.get(reference) === done) this.backlog.delete(reference);
        this.logger.info(`payment journal: the result of ${reference} is now stored in PostgreSQL`);
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.backlog.size === 0) {
        clearInterval(this.backlogTimer);
        this.backlogTimer = undefined;
      }
    });
    return this.flushing;
  }

  private async heartbeat(): Promise<void> {
    await this.open().query(
      `INSERT INTO ${this.instances} (instance_id, alive_at) VALUES ($1, now())
       ON CONFLICT (instance_id) DO UPDATE SET alive_at = excluded.alive_at`, [this.instanceId]);
  }

  private async beat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      await this.heartbeat();
      if (this.heartbeatFailing) {
        this.logger.info('payment journal: PostgreSQL heartbeat restored');
        this.restoredAt = Date.now();
      }
      this.heartbeatFailing = false;
    } catch (err) {
      if (!this.heartbeatFailing && !this.closed) {
        this.logger.warn(`payment journal: PostgreSQL heartbeat failed (${describePgError(err, this.redact)}); after ${this.leaseSeconds} s ` +
          'other instances take over the payments this one has pending');
      }
      this.heartbeatFailing = true;
    } finally {
      this.beating = false;
    }
  }

  /** A dedicated LISTEN connection, (re)opened on demand while someone waits; polling covers the gaps. */
  private listen(): void {
    if (this.listener || this.listenerConnecting || this.closed || this.waiters.size === 0) return;
    if (Date.now() - this.listenTriedAt < LISTEN_RETRY_MS) return;
    this.listenTriedAt = Date.now();
    this.listenerConnecting = true;
    const client = new (loadPg().Client)({
      connectionString: this.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, application_name: 'node-red-contrib-pos-payments',
    });
    const drop = (err?: Error) => {
      if (err) this.logger.debug(`payment journal: LISTEN connection lost (${describePgError(err, this.redact)}); polling meanwhile`);
      if (this.listener === client) this.listener = undefined;
      // Whoever still listens (a holder serving hand-offs may poll for hours) gets it back without asking.
      if (!this.closed && this.waiters.size > 0) setTimeout(() => this.listen(), LISTEN_RETRY_MS).unref();
    };
    client.on('error', (err) => {
      drop(err);
      client.end().catch(() => {});
    });
    client.on('end', () => drop());
    client.on('notification', (msg) => {
      if (msg.channel !== this.table || !msg.payload) return;
      for (const wake of [...(this.waiters.get(msg.payload) ?? [])]) wake();
    });
    client.connect()
      .then(() => client.query(`LISTEN ${this.table}`))
      .then(() => {
        if (this.closed) client.end().catch(() => {});
        else this.listener = client;
      }, (err: Error) => {
        drop(err);
        client.end().catch(() => {});
      })
      .finally(() => { this.listenerConnecting = false; });
  }
}
