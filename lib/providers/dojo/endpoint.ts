// Where Dojo lives: one REST base and one EPOS Data WebSocket for sandbox and production alike
// (Dojo tells the two apart by the API key's prefix), or a custom base for a proxy, a test
// server or the simulator, to which the pack adds Dojo's own paths.

import { PosError } from '../../core/errors';

export type DojoEnvironment = 'test' | 'production' | 'custom';

export interface DojoEndpointOptions {
  environment: DojoEnvironment;
  /** With `custom`: http(s)://host[:port][/prefix] or ws(s)://host[:port][/prefix]. */
  url?: string;
}

export interface DojoEndpoints {
  /** REST base without a trailing slash, e.g. https://api.dojo.tech */
  restBase: string;
  /** The EPOS Data WebSocket, e.g. wss://eu.ws.dojo.tech/epos */
  wsUrl: string;
}

export const DOJO_REST_BASE = 'https://api.dojo.tech';
export const DOJO_WS_URL = 'wss://eu.ws.dojo.tech/epos';
export const EPOS_PATH = '/epos';

const SECURE: Record<string, boolean> = { 'http:': false, 'https:': true, 'ws:': false, 'wss:': true };

export function dojoEndpoints(opts: DojoEndpointOptions): DojoEndpoints {
  if (opts.environment === 'test' || opts.environment === 'production') return { restBase: DOJO_REST_BASE, wsUrl: DOJO_WS_URL };
  if (opts.environment !== 'custom') {
    throw new PosError('bad_input', `the Dojo environment must be test, production or custom, got "${String(opts.environment).slice(0, 40)}"`);
  }
  const text = (opts.url ?? '').trim();
  if (!text) throw new PosError('bad_input', 'a base URL such as http://127.0.0.1:8080 is needed for the custom Dojo environment');
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new PosError('bad_input', `"${text.slice(0, 200)}" is not a URL; use a base URL such as http://127.0.0.1:8080`);
  }
  const secure = SECURE[base.protocol];
  if (secure === undefined) {
    throw new PosError('bad_input', `the Dojo URL must start with http://, https://, ws:// or wss://, got ${base.protocol}//`);
  }
  if (base.username || base.password) {
    // Credentials in a URL end up in logs; Dojo's key travels in the Authorization header.
    throw new PosError('bad_input', 'the Dojo URL must not contain a user name or password; the API key is sent as a header');
  }
  if (base.search || base.hash) throw new PosError('bad_input', 'the Dojo base URL must not have a query string or fragment');
  const prefix = base.pathname.replace(/\/+$/, '');
  const hostPart = `//${base.host}${prefix}`;
  return {
    restBase: `${secure ? 'https:' : 'http:'}${hostPart}`,
    wsUrl: `${secure ? 'wss:' : 'ws:'}${hostPart}${EPOS_PATH}`,
  };
}

/**
 * A production key against the sandbox choice (or the reverse) still works, because Dojo
 * routes by the key, but it is probably not what the person meant: worth a log line.
 */
export function keyWarning(environment: DojoEnvironment, apiKey: string): string | undefined {
  if (environment === 'test' && apiKey.startsWith('sk_prod_')) {
    return 'a production API key (sk_prod_…) is set for the Dojo test environment: payments will be real';
  }
  if (environment === 'production' && apiKey.startsWith('sk_sandbox_')) {
    return 'a sandbox API key (sk_sandbox_…) is set for the Dojo production environment: payments will not be real';
  }
  return undefined;
}
