// Where QuickPay lives: the Pusher WebSocket host and the REST base that signs channel
// subscriptions, for the sandbox, production, or a custom base (a proxy, a test server, the
// simulator) to which the pack adds QuickPay's own paths exactly as for the real hosts.

import { PosError } from '../../core/errors';

export type QuickPayEnvironment = 'test' | 'production' | 'custom';

export const QUICKPAY_HOSTS: Readonly<Record<'test' | 'production', { ws: string; rest: string }>> = Object.freeze({
  test: { ws: 'sandbox-ws.quickpay.best', rest: 'https://sandbox-api.quickpay.best' },
  production: { ws: 'ws.quickpay.best', rest: 'https://api.quickpay.best' },
});

/** The channel-authorisation endpoint, below the REST base [doc][seed]. */
export const AUTH_PATH = '/v1/websocket/auth';

export interface QuickPayEndpoints {
  /** What pusher-js needs: it builds ws(s)://host:port<path>/app/<key>?protocol=7&... itself. */
  ws: { host: string; port: number; tls: boolean; path: string };
  /** REST base without a trailing slash, e.g. https://api.quickpay.best */
  restBase: string;
  /** For log lines only. */
  wsUrl: string;
}

const SECURE: Record<string, boolean> = { 'http:': false, 'https:': true, 'ws:': false, 'wss:': true };

export function quickpayEndpoints(opts: { environment: QuickPayEnvironment; url?: string }, appKey: string): QuickPayEndpoints {
  if (opts.environment === 'test' || opts.environment === 'production') {
    const h = QUICKPAY_HOSTS[opts.environment];
    return { ws: { host: h.ws, port: 443, tls: true, path: '' }, restBase: h.rest, wsUrl: `wss://${h.ws}/app/${appKey}` };
  }
  if (opts.environment !== 'custom') {
    throw new PosError('bad_input', `the QuickPay environment must be test, production or custom, got "${String(opts.environment).slice(0, 40)}"`);
  }
  const text = (opts.url ?? '').trim();
  if (!text) throw new PosError('bad_input', 'a base URL such as http://127.0.0.1:8705 is needed for the custom QuickPay environment');
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new PosError('bad_input', `"${text.slice(0, 200)}" is not a URL; use a base URL such as http://127.0.0.1:8705`);
  }
  const tls = SECURE[base.protocol];
  if (tls === undefined) throw new PosError('bad_input', `the QuickPay URL must start with http://, https://, ws:// or wss://, got ${base.protocol}//`);
  if (base.username || base.password) throw new PosError('bad_input', 'the QuickPay URL must not contain a user name or password');
  if (base.search || base.hash) throw new PosError('bad_input', 'the QuickPay base URL must not have a query string or fragment: the pack adds /app/<key> and its parameters itself');
  const path = base.pathname.replace(/\/+$/, '');
  if (/\/app(\/|$)/.test(path)) {
    // A pasted stream URL would otherwise become .../app/<key>/app/<key>.
    throw new PosError('bad_input', 'the QuickPay base URL must stop before /app/<key> (e.g. wss://host:port), the pack adds that part');
  }
  // URL.hostname keeps the brackets of an IPv6 address, which pusher-js needs in host:port.
  const host = base.hostname;
  const port = base.port ? Number(base.port) : tls ? 443 : 80;
  const httpScheme = tls ? 'https:' : 'http:';
  const wsScheme = tls ? 'wss:' : 'ws:';
  const hostPort = base.port ? `${host}:${port}` : host;
  return {
    ws: { host, port, tls, path },
    restBase: `${httpScheme}//${hostPort}${path}`,
    wsUrl: `${wsScheme}//${hostPort}${path}/app/${appKey}`,
  };
}
