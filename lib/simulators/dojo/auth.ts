// Dojo's credential checks, shared by the EPOS WebSocket upgrade and the REST routes
// (protocol notes 1 and 12). `Authorization: Basic <key>` carries the key as is: the scheme
// name invites base64-encoding it, which is the mistake integrators make most, so a refused
// base64 key is named as such in the simulator's log (never the key itself).

import type { IncomingHttpHeaders } from 'node:http';

export type AuthVerdict =
  | { ok: true; softwareHouseId?: string; resellerId?: string }
  | { ok: false; status: number; title: string; detail: string };

export interface AuthOptions {
  apiKeys: readonly string[];
  /** When set, `software-house-id` must equal it; otherwise any non-empty value passes. */
  softwareHouseId?: string;
  /** Fault switch: refuse every key. */
  refuseAll: boolean;
}

const UNAUTHORIZED = 'Unauthorized';

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.trim() : undefined;
}

/** Checks `Authorization` only (every REST route and the upgrade). */
export function checkApiKey(headers: IncomingHttpHeaders, opts: AuthOptions): AuthVerdict {
  const raw = header(headers, 'authorization');
  if (!raw) return refused('the Authorization header is missing; Dojo expects "Basic <api key>"');
  const match = /^basic\s+(\S+)$/i.exec(raw);
  if (!match) return refused('the Authorization header must be "Basic <api key>" (the literal word Basic, a space, the key)');
  const key = match[1] as string;
  if (opts.refuseAll) return refused('the API key was refused (simulator fault refuseKey)');
  if (opts.apiKeys.includes(key)) return { ok: true };
  if (looksBase64Encoded(key, opts.apiKeys)) {
    return refused('the API key is base64-encoded; Dojo wants "Basic <api key>" with the key as is, not base64 (a common mistake: do not use a client\'s basic-auth option)');
  }
  return refused('the API key is not valid');
}

/** The WebSocket upgrade also needs `software-house-id`; `reseller-id` is optional. */
export function checkUpgrade(headers: IncomingHttpHeaders, opts: AuthOptions): AuthVerdict {
  const key = checkApiKey(headers, opts);
  if (!key.ok) return key;
  const softwareHouseId = header(headers, 'software-house-id');
  if (!softwareHouseId) return refused('the software-house-id header is required');
  if (opts.softwareHouseId !== undefined && softwareHouseId !== opts.softwareHouseId) {
    return refused('the software-house-id is not the one issued for this API key');
  }
  const resellerId = header(headers, 'reseller-id');
  return { ok: true, softwareHouseId, ...(resellerId ? { resellerId } : {}) };
}

function refused(detail: string): AuthVerdict {
  return { ok: false, status: 401, title: UNAUTHORIZED, detail };
}

/**
 * True when the value decodes to a known key, alone or as HTTP Basic's `user:password` with
 * the key on either side, or to anything shaped like a Dojo key.
 */
function looksBase64Encoded(value: string, keys: readonly string[]): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  if (keys.includes(decoded)) return true;
  const parts = decoded.split(':');
  if (parts.some((p) => keys.includes(p))) return true;
  return /^sk_(sandbox|prod)_/.test(decoded) || parts.some((p) => /^sk_(sandbox|prod)_/.test(p));
}
