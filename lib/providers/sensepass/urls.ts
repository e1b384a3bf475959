// Where SensePass lives: REST under <host>/api and Socket.IO on the host itself (default
// namespace and engine path), for the sandbox, production, or a custom base (a proxy, a test
// server, the simulator) to which the pack adds SensePass's own paths.

import { PosError } from '../../core/errors';

export type SensePassEnvironment = 'test' | 'production' | 'custom';

export const SENSEPASS_HOSTS: Readonly<Record<'test' | 'production', string>> = Object.freeze({
  // The sandbox REST base is not stated by the docs; it follows the sandbox socket host [inferred].
  test: 'https://api.sandbox.sensepass.com',
  production: 'https://api.sensepass.com',
});

export const SOCKET_IO_PATH = '/socket.io/';

export interface SensePassEndpoints {
  /** REST base without a trailing slash, e.g. https://api.sensepass.com/api */
  restBase: string;
  /** Scheme, host and port only: a path here would be read by Socket.IO as a namespace. */
  socketOrigin: string;
  /** Engine.IO path; a custom base's path prefix goes in front of /socket.io/. */
  socketPath: string;
}

const SECURE: Record<string, boolean> = { 'http:': false, 'https:': true, 'ws:': false, 'wss:': true };

export function sensepassEndpoints(opts: { environment: SensePassEnvironment; url?: string; socketPath?: string }): SensePassEndpoints {
  let origin: string;
  let prefix = '';
  if (opts.environment === 'test' || opts.environment === 'production') {
    origin = SENSEPASS_HOSTS[opts.environment];
  } else if (opts.environment === 'custom') {
    const text = (opts.url ?? '').trim();
    if (!text) throw new PosError('bad_input', 'a base URL such as http://127.0.0.1:8080 is needed for the custom SensePass environment');
    let base: URL;
    try {
      base = new URL(text);
    } catch {
      throw new PosError('bad_input', `"${text.slice(0, 200)}" is not a URL; use a base URL such as http://127.0.0.1:8080`);
    }
    const secure = SECURE[base.protocol];
    if (secure === undefined) throw new PosError('bad_input', `the SensePass URL must start with http:// or https://, got ${base.protocol}//`);
    if (base.username || base.password) throw new PosError('bad_input', 'the SensePass URL must not contain a user name or password');
    // The device id goes in the socket query by the pack itself; one typed here would end up in logs.
    if (base.search || base.hash) throw new PosError('bad_input', 'the SensePass base URL must not have a query string or fragment');
    origin = `${secure ? 'https:' : 'http:'}//${base.host}`;
    prefix = base.pathname.replace(/\/+$/, '');
  } else {
    throw new PosError('bad_input', `the SensePass environment must be test, production or custom, got "${String(opts.environment).slice(0, 40)}"`);
  }
  const socketPath = opts.socketPath?.trim() ? opts.socketPath.trim() : `${prefix}${SOCKET_IO_PATH}`;
  return { restBase: `${origin}${prefix}/api`, socketOrigin: origin, socketPath };
}
