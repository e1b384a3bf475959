// One holder at a time for something only one instance may do (the single connection a
// provider allows per account), arbitrated by a row in PostgreSQL. Taking and renewing are one
// upsert that succeeds only for the holder or once the lease has expired on the database
// clock. A holder that cannot renew stops believing it holds the lease before the database
// could give it to anyone else: its own deadline is counted from when it sent the renewal, on
// its monotonic clock, so it is never later than the expiry the database wrote.

import type { Pool } from 'pg';
import { PosError } from '../core/errors';
import { silentLogger, type Logger } from '../core/types';
import {
  checkLeaseSeconds, checkTableName, checkText, connectionRedactor, createTables, describePgError, openPool, within,
} from './postgres-journal';
import type { Redactor } from '../core/redact';

export interface PostgresLeaseOptions {
  connectionString: string;
  /** The journal table; the lease lives in `<table>_leases`. Default `pos_payments_journal`. */
  table?: string;
  /** What is held, e.g. `<provider>:<account>`. */
  name: string;
  instanceId: string;
  /** Default 10; renewed every third of it. */
  leaseSeconds?: number;
  logger?: Logger;
}

/** Given up a little before the lease's own end, for the time a timer may fire late. */
const MARGIN_MS = 200;

export class PostgresLease {
  readonly name: string;
  readonly instanceId: string;
  readonly leaseSeconds: number;
  private readonly leases: string;
  private readonly connectionString: string;
  private readonly logger: Logger;
  private readonly redact: Redactor;
  private pool: Pool | undefined;
  private readonly listeners = new Set<(holding: boolean) => void>();
  private held = false;
  /** performance.now() after which holding is over, renewed or not. */
  private until = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private failing = false;

  private constructor(opts: PostgresLeaseOptions) {
    this.connectionString = checkText('connectionString', opts.connectionString);
    this.leases = `${checkTableName(opts.table)}_leases`;
    this.name = checkText('name', opts.name);
    this.instanceId = checkText('instanceId', opts.instanceId);
    this.leaseSeconds = checkLeaseSeconds(opts.leaseSeconds);
    this.logger = opts.logger ?? silentLogger;
    this.redact = connectionRedactor(this.connectionString);
  }

  /** Creates the lease table if needed; holds nothing until start(). */
  static async open(opts: PostgresLeaseOptions): Promise<PostgresLease> {
    const lease = new PostgresLease(opts);
    const leaseMs = lease.leaseSeconds * 1000;
    // A renewal that takes longer than the lease is worthless: the deadline has passed meanwhile.
    const waitMs = Math.max(1000, Math.min(5000, leaseMs));
    lease.pool = openPool(lease.connectionString, 2, { connectMs: waitMs, queryMs: waitMs }, lease.logger, lease.redact);
    try {
      await createTables(lease.pool, `CREATE TABLE IF NOT EXISTS ${lease.leases} (name text PRIMARY KEY, holder text NOT NULL, expires_at timestamptz NOT NULL)`);
    } catch (err) {
      await within(lease.pool.end(), 500, undefined);
      throw new PosError('journal_unavailable', `the lease table cannot be created (${describePgError(err, lease.redact)})`);
    }
    return lease;
  }

  /** True while this instance holds the lease and its deadline has not passed. */
  get holding(): boolean {
    // Not only the timer: an event loop blocked past the deadline must not read a stale true.
    return this.held && performance.now() < this.until;
  }

  /** Called with true when this instance takes the lease, false when it loses or gives it up. */
  onChange(listener: (holding: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.renew();
  }

  /**
   * Stops for good: no longer holding (listeners hear it first), then frees the lease so
   * another instance takes it at once. `{ release: false }` leaves it to expire, as a crash would.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.renewTimer);
    this.setHolding(false);
    const pool = this.pool;
    this.pool = undefined;
    if (!pool) return;
    if (opts.release !== false) {
      await within(pool.query(`DELETE FROM ${this.leases} WHERE name = $1 AND holder = $2`, [this.name, this.instanceId]), 1500, undefined);
    }
    await within(pool.end(), 500, undefined);
  }

  private async renew(): Promise<void> {
    const pool = this.pool;
    if (this.stopped || !pool) return;
    const sentAt = performance.now();
    try {
      const { rows } = await pool.query(
        `INSERT INTO ${this.leases} AS l (name, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE l.holder = excluded.holder OR l.expires_at < now()
         RETURNING holder`,
        [this.name, this.instanceId, this.leaseSeconds]);
      if (this.failing) this.logger.info(`lease ${this.name}: PostgreSQL reachable again`);
      this.failing = false;
      if (this.stopped) return;
      const until = sentAt + this.leaseSeconds * 1000 - MARGIN_MS;
      if (rows.length > 0 && performance.now() < until) this.holdUntil(until);
      else this.setHolding(false);
    } catch (err) {
      // Not renewed: whatever was held stays held only until its deadline (the expiry timer).
      if (!this.failing) this.logger.warn(`lease ${this.name}: cannot reach PostgreSQL (${describePgError(err, this.redact)})`);
      this.failing = true;
    } finally {
      if (!this.stopped) {
        this.renewTimer = setTimeout(() => void this.renew(), (this.leaseSeconds * 1000) / 3);
        this.renewTimer.unref();
      }
    }
  }

  private holdUntil(until: number): void {
    this.until = until;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.setHolding(false), Math.max(0, until - performance.now()));
    this.expiryTimer.unref();
    this.setHolding(true);
  }

  private setHolding(holding: boolean): void {
    if (!holding) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    if (holding === this.held) return;
    this.held = holding;
    this.logger.info(`lease ${this.name}: ${holding ? 'held by this instance' : 'not held by this instance'}`);
    for (const listener of [...this.listeners]) {
      try {
        listener(holding);
      } catch (err) {
        this.logger.error(`lease ${this.name}: a listener failed (${(err as Error).message})`);
      }
    }
  }
}
