// Reconnect delays: exponential with jitter so that many clients dropped by the same outage do
// not come back in lock-step, capped so a long outage still retries every half minute.

import { PosError } from './errors';

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** No delay ever exceeds this, jitter included. */
  maxMs: number;
  /** Growth per attempt (>= 1). */
  factor: number;
  /** Fraction of the delay added or removed at random (0..1): 0.25 gives +/-25 %. */
  jitter: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random: () => number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 1000,
  maxMs: 30000,
  factor: 2,
  jitter: 0.25,
  random: Math.random,
});

export class Backoff {
  private readonly opts: BackoffOptions;
  private count = 0;

  constructor(options: Partial<BackoffOptions> = {}) {
    const opts: BackoffOptions = { ...DEFAULT_BACKOFF };
    // An explicit `undefined` (e.g. from a spread config object) means "use the default".
    for (const key of Object.keys(options) as (keyof BackoffOptions)[]) {
      if (options[key] !== undefined) (opts as unknown as Record<string, unknown>)[key] = options[key];
    }
    const finiteAtLeast = (v: number, min: number) => typeof v === 'number' && Number.isFinite(v) && v >= min;
    if (!finiteAtLeast(opts.initialMs, 0)) throw new PosError('bad_input', `backoff initialMs must be a number >= 0, got ${opts.initialMs}`);
    if (!finiteAtLeast(opts.maxMs, 0)) throw new PosError('bad_input', `backoff maxMs must be a number >= 0, got ${opts.maxMs}`);
    if (!finiteAtLeast(opts.factor, 1)) throw new PosError('bad_input', `backoff factor must be a number >= 1, got ${opts.factor}`);
    if (!finiteAtLeast(opts.jitter, 0) || opts.jitter > 1) throw new PosError('bad_input', `backoff jitter must be between 0 and 1, got ${opts.jitter}`);
    if (typeof opts.random !== 'function') throw new PosError('bad_input', 'backoff random must be a function');
    this.opts = opts;
  }

  /** How many delays have been handed out since the last reset (the current retry number). */
  get attempt(): number {
    return this.count;
  }

  /** The un-jittered delay for a given attempt (1-based): initialMs * factor^(attempt-1), capped. */
  baseDelay(attempt: number): number {
    const { initialMs, maxMs, factor } = this.opts;
    if (initialMs === 0) return 0;
    const raw = initialMs * Math.pow(factor, Math.max(0, attempt - 1));
    // Overflow to Infinity for very high attempt counts simply means "capped".
    return Number.isFinite(raw) ? Math.min(maxMs, raw) : maxMs;
  }

  /** Advances to the next attempt and returns its delay in whole milliseconds, in [0, maxMs]. */
  next(): number {
    this.count += 1;
    const base = this.baseDelay(this.count);
    const r = this.opts.random();
    // A misbehaving random source must not produce NaN or negative delays.
    const unit = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0.5;
    const delay = base * (1 + this.opts.jitter * (2 * unit - 1));
    return Math.min(this.opts.maxMs, Math.max(0, Math.round(delay)));
  }

  reset(): void {
    this.count = 0;
  }
}
