// DESIGN: a message that arrives while the connection is still being made (just after a
// deploy, or reconnecting) waits for it, within the node's timeout and at most 30 s, and then
// fails as not_connected with nothing sent. A connection that is unauthorized, displaced, in
// error or closed fails at once: waiting cannot fix a refused key or another client's takeover.
// One wait for everything that needs the connection (payments, terminal lists, reports), so
// they cannot drift apart.

import { PosError, type PosErrorCode } from './errors';
import type { PaymentProvider } from './provider';
import type { ConnectionState } from './types';

/** The longest any message waits for a connection, whatever its timeout (DESIGN). */
export const CONNECT_WAIT_MAX_MS = 30_000;

/** States that are on their way to connected: worth waiting for. */
export const isComing = (s: ConnectionState): boolean => s.name === 'idle' || s.name === 'connecting' || s.name === 'reconnecting';

const isConnected = (s: ConnectionState): boolean => s.name === 'connected';

export interface WaitOptions {
  /** How long the caller may wait (its timeout); capped at CONNECT_WAIT_MAX_MS. */
  limitMs: number;
  /** Ends every error message, e.g. "nothing was sent" or "no report was started". */
  nothingSent: string;
  /** When the caller can go on; default: connected. (Payments also go on standby with a shared journal.) */
  ready?: (s: ConnectionState) => boolean;
  /** Ends the wait at once with code `closed` (the connection is being shut down). */
  signal?: AbortSignal;
}

/** Why a state refuses work, with the stable code a Catch node sees. */
export function refusal(provider: Pick<PaymentProvider, 'name'>, s: ConnectionState, nothingSent: string, waitedMs?: number): PosError {
  // The reason (already redacted) tells the person what to fix: a refused key, a missing package.
  const why = 'reason' in s && s.name !== 'reconnecting' ? `: ${s.reason}` : '';
  const code: PosErrorCode = s.name === 'unauthorized' || s.name === 'displaced' || s.name === 'standby' ? s.name : 'not_connected';
  const waited = waitedMs === undefined ? '' : ` after waiting ${formatSeconds(waitedMs)} for the connection`;
  return new PosError(code, `not connected to ${provider.name} (${s.name}${why})${waited}; ${nothingSent}`);
}

/**
 * Resolves at once when ready; waits while the connection is being made, and rejects when it
 * is refused meanwhile or does not come in time. Removes its listener and timer either way.
 */
export function whenConnected(provider: Pick<PaymentProvider, 'name' | 'state' | 'onState'>, opts: WaitOptions): Promise<void> {
  const ready = opts.ready ?? isConnected;
  const now = provider.state;
  if (ready(now)) return Promise.resolve();
  if (!isComing(now)) return Promise.reject(refusal(provider, now, opts.nothingSent));
  const closed = () => new PosError('closed', `the ${provider.name} connection is closing; ${opts.nothingSent}`);
  if (opts.signal?.aborted) return Promise.reject(closed());
  const limitMs = Math.max(0, Math.min(opts.limitMs, CONNECT_WAIT_MAX_MS));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let off: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const onAbort = () => finish(closed());
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      off?.();
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    opts.signal?.addEventListener('abort', onAbort);
    timer = setTimeout(() => finish(refusal(provider, provider.state, opts.nothingSent, Date.now() - started)), limitMs);
    off = provider.onState((s) => {
      if (ready(s)) finish();
      else if (!isComing(s)) finish(refusal(provider, s, opts.nothingSent));
    });
    // A state that changed between the first look and the listener (a synchronous start) is not missed.
    if (settled) off();
    else if (ready(provider.state)) finish();
  });
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`;
}
