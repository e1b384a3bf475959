// The first two steps of every check, done with Node's own sockets rather than through the
// adapter, because Node's error codes (ENOTFOUND, ECONNREFUSED, CERT_...) say exactly which
// part failed and the adapters fold them into one "connection failed".

import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { CheckStep } from './types';

interface Target {
  host: string;
  port: number;
  secure: boolean;
}

export function targetOf(address: string): Target {
  const u = new URL(address);
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: u.port ? Number(u.port) : secure ? 443 : 80, secure };
}

/** Plain sentences for the errors a person can act on; the code stays in brackets for support. */
export function explainNetworkError(err: unknown, host: string, port: number): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no such host: ${host} cannot be found in DNS (${code}); check the account name or URL`;
    case 'ECONNREFUSED':
      return `${host} refused the connection on port ${port} (ECONNREFUSED); check the URL and port, or whether the server runs`;
    case 'ECONNRESET':
      return `${host} closed the connection at once (ECONNRESET); a firewall or proxy may be in the way`;
    case 'ETIMEDOUT':
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `${host}:${port} cannot be reached (${code}); check the network, firewall or proxy`;
    case 'CERT_HAS_EXPIRED':
      return `the server's TLS certificate has expired (${code})`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the server's TLS certificate is self-signed (${code}); use a trusted certificate, or untick "Verify TLS" for a test server you trust`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the server's TLS certificate is not signed by a trusted authority (${code}); set NODE_EXTRA_CA_CERTS for a company proxy, or untick "Verify TLS" for a test server you trust`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's TLS certificate is not for ${host} (${code}); check the host name`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `the server at ${host}:${port} does not speak TLS there (${code}); use ws:// or http:// for a plain server, or the TLS port`;
    default:
      return `${(e?.message ?? String(err)).slice(0, 200)}${code ? ` (${code})` : ''}`;
  }
}

/**
 * `address reached` (DNS and TCP) and `tls` (when the address is wss:// or https://). Each
 * socket it opens is destroyed before it resolves, so a check leaves nothing behind.
 */
export async function probeNetwork(address: string, opts: { verifyTls: boolean; timeoutMs: number; lookup?: (host: string) => Promise<unknown> }): Promise<CheckStep[]> {
  let target: Target;
  try {
    target = targetOf(address);
  } catch {
    return [{ name: 'address', ok: false, detail: 'the URL cannot be read; use a base URL such as wss://host or http://127.0.0.1:8080' }];
  }
  const { host, port, secure } = target;
  try {
    if (!net.isIP(host)) await withTimeout((opts.lookup ?? lookup)(host), opts.timeoutMs, 'ETIMEDOUT');
    await connectOnce(() => net.connect({ host, port }), 'connect', opts.timeoutMs);
  } catch (err) {
    return [{ name: 'address', ok: false, detail: explainNetworkError(err, host, port) }];
  }
  const steps: CheckStep[] = [{ name: 'address', ok: true, detail: `${host}:${port} reached` }];
  if (!secure) {
    steps.push({ name: 'tls', ok: true, detail: 'not used: the address is plain ws:// or http://' });
    return steps;
  }
  try {
    const servername = net.isIP(host) ? undefined : host;
    const socket = await connectOnce(() => tls.connect({ host, port, ...(servername ? { servername } : {}), rejectUnauthorized: opts.verifyTls, ALPNProtocols: ['http/1.1'] }), 'secureConnect', opts.timeoutMs);
    void socket;
    steps.push({ name: 'tls', ok: true, detail: opts.verifyTls ? 'certificate verified' : 'connected WITHOUT verifying the certificate ("Verify TLS" is off)' });
  } catch (err) {
    steps.push({ name: 'tls', ok: false, detail: explainNetworkError(err, host, port) });
  }
  return steps;
}

/** Opens a socket, waits for `event`, and destroys it whatever happens. */
function connectOnce(open: () => net.Socket, event: 'connect' | 'secureConnect', timeoutMs: number): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = open();
    const timer = setTimeout(() => finish(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.removeAllListeners(event);
      socket.removeAllListeners('error');
      // An error after destroy must not become an uncaught exception.
      socket.on('error', () => undefined);
      socket.destroy();
      if (err) reject(err);
      else resolve(true);
    };
    socket.once(event, () => finish());
    socket.once('error', (err) => finish(err));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, code: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code })), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
