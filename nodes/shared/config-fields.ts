// Reading a config node's saved fields the same way in every provider: flows written by hand
// or by older editors may hold "false" for false, a number as text, or an unknown environment.

export type Environment = 'simulator' | 'test' | 'production' | 'custom';

const ENVIRONMENTS: readonly Environment[] = ['simulator', 'test', 'production', 'custom'];

/** The saved environment; anything unknown is the simulator, which can take no real payment. */
export function environmentOf(value: unknown): Environment {
  return ENVIRONMENTS.includes(value as Environment) ? (value as Environment) : 'simulator';
}

/** A checkbox that defaults to ticked (verifyTls, autoCommit): only false or "false" unticks it. */
export function unlessFalse(value: unknown): boolean {
  return value !== false && value !== 'false';
}

/** A checkbox that defaults to unticked (keyInQuery): only true or "true" ticks it. */
export function onlyIfTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/**
 * A seconds field as milliseconds: a number above zero and at least `min` seconds, capped at
 * `max`; anything else (empty, text, zero) takes the default.
 */
export function secondsMs(value: unknown, limits: { fallback: number; min?: number; max: number }): number {
  const seconds = Number(value);
  const ok = Number.isFinite(seconds) && seconds > 0 && seconds >= (limits.min ?? 0);
  return Math.round((ok ? Math.min(seconds, limits.max) : limits.fallback) * 1000);
}
