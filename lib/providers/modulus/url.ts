// Where the Terminal Gateway lives. Modulus provisions one endpoint host per customer (there
// is no public sandbox host), so 'test' and 'production' both take that host; 'custom' takes
// a base URL (a proxy, a test server, the simulator) to which the pack adds /v1.

import { PosError } from '../../core/errors';
import { API_PATH, QUERY_API_KEY } from './wire';

export type ModulusEnvironment = 'test' | 'production' | 'custom';

export interface ModulusEndpointOptions {
  environment: ModulusEnvironment;
  endpoint?: string;
  url?: string;
  apiKey: string;
  keyInQuery?: boolean;
}

export interface ModulusEndpoints {
  /** The WebSocket URL, e.g. wss://gw.example.com/v1 (with ?x-api-key=… when keyInQuery). */
  wsUrl: string;
  /** HTTP API base without /v1 and without a trailing slash, e.g. https://gw.example.com */
  httpBase: string;
}

const SECURE: Record<string, boolean> = { 'http:': false, 'https:': true, 'ws:': false, 'wss:': true };

export function modulusEndpoints(opts: ModulusEndpointOptions): ModulusEndpoints {
  const base = baseUrl(opts);
  const secure = SECURE[base.protocol] as boolean;
  const prefix = base.pathname.replace(/\/+$/, '');
  const hostPart = `//${base.host}${prefix}`;
  const ws = new URL(`${secure ? 'wss:' : 'ws:'}${hostPart}${API_PATH}`);
  if (opts.keyInQuery) ws.searchParams.set(QUERY_API_KEY, opts.apiKey);
  return { wsUrl: ws.toString(), httpBase: `${secure ? 'https:' : 'http:'}${hostPart}` };
}

function baseUrl(opts: ModulusEndpointOptions): URL {
  // 'simulator' is accepted like custom: the in-process simulator hands over a base URL.
  const env = opts.environment as string;
  if (env === 'test' || env === 'production') {
    // People paste what support sent them: "gw.example.com", "wss://gw.example.com/v1" or "https://…".
    const host = (opts.endpoint ?? '').trim().replace(/^[a-z]+:\/\//i, '').replace(/\/v1\/?$/, '').replace(/\/+$/, '');
    if (!host) throw new PosError('bad_input', 'the Modulus Labs endpoint is not set: Modulus support provisions one host per customer (support@moduluslabs.io)');
    let url: URL;
    try {
      url = new URL(`wss://${host}`);
    } catch {
      throw new PosError('bad_input', `"${host.slice(0, 100)}" is not a host name; give the endpoint host Modulus provisioned, e.g. gateway.example.com`);
    }
    if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
      throw new PosError('bad_input', 'the Modulus Labs endpoint must be a host name (optionally :port) without a path, user name or query');
    }
    return url;
  }
  if (env !== 'custom' && env !== 'simulator') {
    throw new PosError('bad_input', `the Modulus Labs environment must be test, production or custom, got "${String(env).slice(0, 40)}"`);
  }
  const text = (opts.url ?? '').trim();
  if (!text) throw new PosError('bad_input', 'a base URL such as ws://127.0.0.1:8080 is needed for the custom Modulus Labs environment');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PosError('bad_input', `"${text.slice(0, 200)}" is not a URL; use a base URL such as ws://127.0.0.1:8080`);
  }
  if (SECURE[url.protocol] === undefined) {
    throw new PosError('bad_input', `the Modulus Labs URL must start with ws://, wss://, http:// or https://, got ${url.protocol}//`);
  }
  if (url.username || url.password) {
    throw new PosError('bad_input', 'the Modulus Labs URL must not contain a user name or password; the API key is sent as a header');
  }
  if (url.search || url.hash) throw new PosError('bad_input', 'the Modulus Labs base URL must not have a query string or fragment');
  // A pasted ".../v1" must not become ".../v1/v1".
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return url;
}
