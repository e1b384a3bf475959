// Payments passed from a standby instance to the one holding the provider's only connection,
// through the shared journal's table. The standby inserts the reference as `queued` (the same
// atomic claim as any payment, so no other instance can send it); the holder turns queued rows
// into its own pending ones in one UPDATE, so each is taken once, and runs them; the standby
// waits for the row to be done. A queued row nobody takes within the pickup window is
// withdrawn by the standby (or, if the standby died, given way by the next claim): a payment is
// never started long after the flow that sent it gave up.

import type { Pool } from 'pg';
import type { Claim, HandOff, HandOffEnd, JournalEntry } from '../core/journal';
import type { Logger, PaymentRequest } from '../core/types';
import type { PosError } from '../core/errors';

/** What the hand-off needs of the journal that owns it (postgres-journal.ts). */
export interface HandOffAccess {
  readonly table: string;
  readonly account: string;
  readonly instanceId: string;
  readonly leaseSeconds: number;
  readonly logger: Logger;
  readonly closed: boolean;
  pool(): Pool;
  /** Calls `wake` on every NOTIFY of `key` until the returned function is called. */
  subscribe(key: string, wake: () => void): () => void;
  notifyKey(reference: string): string;
  /** The claim of postgres-journal.ts with another INSERT: the row that holds the reference wins, leftovers give way. */
  claimWith(reference: string, insert: (pool: Pool) => Promise<HandOffRow | undefined>): Promise<Claim>;
  /** Entries this instance runs, so that its own recovery leaves them alone. */
  markRunning(reference: string, attemptId: string): void;
  toEntry(row: HandOffRow): JournalEntry;
  unavailable(how: 'read' | 'written', err: unknown): PosError;
}

export interface HandOffRow {
  reference: string;
  state: 'pending' | 'done' | 'queued' | 'refused';
  attempt_id: string;
  owner: string;
  request: PaymentRequest;
  notes: Record<string, unknown> | null;
  result: unknown;
  handoff: { from: string; timeoutMs: number; refused?: { code: string; message: string } } | null;
  started_at: Date;
  finished_at: Date | null;
  /** Computed by recoverable(): the standby that handed it over is alive and still waiting for it. */
  awaited?: boolean;
}

const POLL_MS = 500;
const TAKE_BATCH = 32;
/** After the payment's own timeout, for the holder to write its result and the standby to read it. */
const RESULT_GRACE_MS = 10_000;

/**
 * How long a queued payment waits for a holder: long enough for a lease to change hands (it
 * expires after leaseSeconds and is tried every third of that) plus a reconnect, never longer
 * than the payment's own timeout.
 */
export function pickupMs(leaseSeconds: number, timeoutMs: number): number {
  return Math.min(timeoutMs, Math.round((leaseSeconds * 4000) / 3) + 5000);
}

/** SQL: the pickup window of a queued row in seconds (the same rule as pickupMs), given $lease. */
export const pickupSql = (lease: string) =>
  `least((${lease}::float8 * 4 / 3) + 5, coalesce((handoff->>'timeoutMs')::float8, 0) / 1000)`;

/**
 * SQL: the row `t` was handed over by an instance that is alive and still within its wait (the
 * payment's timeout plus the result grace), so its flow may yet hear the result: it is not
 * reported as recovered. `$lease` is the heartbeat limit in seconds.
 */
export const awaitedSql = (t: string, instances: string, lease: string) =>
  `(${t}.handoff IS NOT NULL
    AND ${t}.started_at + make_interval(secs => (coalesce((${t}.handoff->>'timeoutMs')::float8, 0) + ${RESULT_GRACE_MS}) / 1000) > clock_timestamp()
    AND EXISTS (SELECT 1 FROM ${instances} i
                WHERE i.instance_id = ${t}.handoff->>'from' AND i.alive_at >= clock_timestamp() - make_interval(secs => ${lease})))`;

/** SQL: the flow that handed row `t` over has its result (`heard`), or it was reported as recovered. */
export const heardSql = (t: string) => `coalesce((${t}.handoff->>'heard')::boolean, false)`;

export class PostgresHandOff implements HandOff {
  private readonly queueKey: string;

  constructor(private readonly db: HandOffAccess) {
    this.queueKey = `queue:${db.notifyKey('')}`;
  }

  enqueue(request: PaymentRequest, attemptId: string, timeoutMs: number): Promise<Claim> {
    const db = this.db;
    return db.claimWith(request.reference, async (pool) => {
      const { rows } = await pool.query<HandOffRow>(
        `WITH ins AS (
           INSERT INTO ${db.table} (account, reference, state, attempt_id, owner, request, handoff)
           VALUES ($1, $2, 'queued', $3, $4, $5::jsonb, $6::jsonb)
           ON CONFLICT (account, reference) DO NOTHING RETURNING *
         ) SELECT ins.*, pg_notify($7, $8) FROM ins`,
        [db.account, request.reference, attemptId, db.instanceId, JSON.stringify(request),
          JSON.stringify({ from: db.instanceId, timeoutMs }), db.table, this.queueKey]);
      return rows[0];
    });
  }

  async await(entry: JournalEntry, timeoutMs: number): Promise<HandOffEnd> {
    const started = Date.now();
    const mine = (row: HandOffRow | undefined): row is HandOffRow => row?.attempt_id === entry.attemptId;
    // Until a holder takes it (or the row goes: given way after the standby seemed dead).
    let seen = await this.waitRow(entry.reference, (row) => !mine(row) || row.state !== 'queued', pickupMs(this.db.leaseSeconds, timeoutMs));
    if (mine(seen) && seen.state === 'queued') {
      if (await this.withdraw(entry)) return { ended: 'not_taken' };
      seen = await this.read(entry.reference).catch(() => seen);
    }
    if (!mine(seen)) return { ended: 'not_taken' };
    if (seen.state !== 'done' && seen.state !== 'refused') {
      const left = timeoutMs + RESULT_GRACE_MS - (Date.now() - started);
      seen = await this.waitRow(entry.reference, (row) => !mine(row) || row.state === 'done' || row.state === 'refused', left);
    }
    if (!mine(seen)) return { ended: 'not_taken' };
    if (seen.state === 'done') {
      // Heard here: no instance reports it as recovered. Unmarked (the database away), it is reported later as well.
      await this.db.pool().query(`UPDATE ${this.db.table} SET handoff = handoff || '{"heard": true}'::jsonb WHERE account = $1 AND reference = $2 AND attempt_id = $3`,
        [this.db.account, entry.reference, entry.attemptId]).catch(() => {});
      return { ended: 'done', entry: this.db.toEntry(seen) };
    }
    if (seen.state === 'refused') {
      const why = seen.handoff?.refused ?? { code: 'provider_error', message: 'the instance holding the connection refused it' };
      // Read: the reference is free again for the next message that carries it.
      await this.db.pool().query(`DELETE FROM ${this.db.table} WHERE account = $1 AND reference = $2 AND attempt_id = $3 AND state = 'refused'`,
        [this.db.account, entry.reference, entry.attemptId]).catch(() => { /* the next claim gives way to it */ });
      return { ended: 'refused', code: why.code, message: why.message };
    }
    return { ended: 'running', entry: this.db.toEntry(seen) };
  }

  serve(run: (entry: JournalEntry, remainingMs: number) => void): () => void {
    let stopped = false;
    let taking = false;
    let again = false;
    let failing = false;
    const take = async () => {
      if (stopped) return;
      if (taking) {
        again = true;
        return;
      }
      taking = true;
      try {
        let rows: Array<HandOffRow & { waited_ms: number }>;
        do {
          again = false;
          rows = await this.takeSome();
          failing = false;
          // Every taken row is run, even if serving stopped meanwhile: it is ours now, and run() refuses what it cannot send.
          for (const row of rows) {
            this.db.markRunning(row.reference, row.attempt_id);
            run(this.db.toEntry(row), Math.max(0, (row.handoff?.timeoutMs ?? 0) - row.waited_ms));
          }
        } while (!stopped && (again || rows.length === TAKE_BATCH));
      } catch (err) {
        if (!failing && !this.db.closed) this.db.logger.warn(`payment hand-off: cannot take queued payments (${this.db.unavailable('read', err).message})`);
        failing = true;
      } finally {
        taking = false;
      }
    };
    const off = this.db.subscribe(this.queueKey, () => void take());
    const timer = setInterval(() => void take(), POLL_MS);
    timer.unref();
    void take();
    return () => {
      stopped = true;
      off();
      clearInterval(timer);
    };
  }

  async refuse(entry: JournalEntry, code: string, message: string): Promise<void> {
    const db = this.db;
    try {
      await db.pool().query(
        `WITH r AS (
           UPDATE ${db.table} SET state = 'refused', finished_at = now(),
             handoff = coalesce(handoff, '{}'::jsonb) || jsonb_build_object('refused', $4::jsonb)
           WHERE account = $1 AND reference = $2 AND attempt_id = $3 AND state = 'pending' RETURNING reference
         ) SELECT reference, pg_notify($5, $6) FROM r`,
        [db.account, entry.reference, entry.attemptId, JSON.stringify({ code, message }), db.table, db.notifyKey(entry.reference)]);
    } catch (err) {
      throw db.unavailable('written', err);
    }
  }

  private async takeSome(): Promise<Array<HandOffRow & { waited_ms: number }>> {
    const db = this.db;
    const { rows } = await db.pool().query<HandOffRow & { waited_ms: number }>(
      `WITH q AS (
         SELECT reference FROM ${db.table}
         WHERE account = $1 AND state = 'queued' AND started_at > clock_timestamp() - make_interval(secs => ${pickupSql('$3')})
         ORDER BY started_at LIMIT ${TAKE_BATCH} FOR UPDATE SKIP LOCKED
       )
       UPDATE ${db.table} j SET state = 'pending', owner = $2 FROM q
       WHERE j.account = $1 AND j.reference = q.reference
       RETURNING j.*, (extract(epoch FROM clock_timestamp() - j.started_at) * 1000)::float8 AS waited_ms`,
      [db.account, db.instanceId, db.leaseSeconds]);
    return rows;
  }

  private async withdraw(entry: JournalEntry): Promise<boolean> {
    const { rowCount } = await this.db.pool().query(
      `DELETE FROM ${this.db.table} WHERE account = $1 AND reference = $2 AND attempt_id = $3 AND state = 'queued'`,
      [this.db.account, entry.reference, entry.attemptId]).catch(() => ({ rowCount: 0 }));
    return (rowCount ?? 0) > 0;
  }

  private async read(reference: string): Promise<HandOffRow | undefined> {
    const { rows } = await this.db.pool().query<HandOffRow>(`SELECT * FROM ${this.db.table} WHERE account = $1 AND reference = $2`, [this.db.account, reference]);
    return rows[0];
  }

  /** The row once `settled` holds for it, or as last read when `ms` is up (or the journal closes). Woken by NOTIFY, polled too. */
  private async waitRow(reference: string, settled: (row: HandOffRow | undefined) => boolean, ms: number): Promise<HandOffRow | undefined> {
    const until = Date.now() + ms;
    let wake = () => {};
    const off = this.db.subscribe(this.db.notifyKey(reference), () => wake());
    let last: HandOffRow | undefined;
    try {
      for (;;) {
        try {
          last = await this.read(reference);
          if (settled(last)) return last;
        } catch {
          // The database is away: asked again at the next poll.
        }
        const left = until - Date.now();
        if (left <= 0 || this.db.closed) return last;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(POLL_MS, left));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      off();
    }
  }
}
