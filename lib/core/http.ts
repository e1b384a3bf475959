// JSON over HTTP(S) for providers' REST APIs, on node:http / node:https rather than the global
// fetch: fetch cannot turn certificate verification off for one request without undici's
// Agent, and undici is not a dependency of this pack. Every request is bounded in time and in
// the size of the answer, so a stuck or hostile server can neither hang a payment nor fill
// memory.

import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { PosError } from './errors';

export interface JsonRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON when present. */
  body?: unknown;
  /** The whole exchange: connect, send, answer. The request is destroyed when it passes. */
  timeoutMs: number;
  /** Default true. False turns off certificate verification for this request only. */
  verifyTls?: boolean;
  /** Default 5 MB. A larger answer is cut off and reported as a protocol error. */
  maxBytes?: number;
  /** Lets a client keep connections alive between polls; one per client, destroyed on stop. */
  agent?: http.Agent;
}

export interface JsonResponse {
  status: number;
  /** The parsed JSON, or undefined for an empty or non-JSON answer (the text is kept). */
  body: unknown;
  text: string;
}

/** Why a request produced no HTTP answer, in `PosError.details` of the rejection. */
export interface TransportFailure {
  kind: 'timeout' | 'network' | 'too_large';
  /**
   * False when the failure came before a connection existed (refused, no such host, TLS
   * certificate rejected): the server cannot have seen the request.
   */
  reached: boolean;
  /** The Node error code (ECONNREFUSED, CERT_HAS_EXPIRED, ...), when there is one. */
  code?: string;
}

export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

export function isTransportFailure(details: unknown): details is TransportFailure {
  return !!details && typeof details === 'object' && typeof (details as TransportFailure).kind === 'string' &&
    typeof (details as TransportFailure).reached === 'boolean';
}

export function requestJson(opts: JsonRequest): Promise<JsonResponse> {
  const url = new URL(opts.url);
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') return Promise.reject(new PosError('bad_input', `not an HTTP URL: ${url.protocol}//`));
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body), 'utf8');
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const headers: Record<string, string | number> = {
    Accept: 'application/json',
    ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
    ...opts.headers,
  };

  return new Promise<JsonResponse>((resolve, reject) => {
    let settled = false;
    let reached = false;
    const fail = (kind: TransportFailure['kind'], message: string, code?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const details: TransportFailure = { kind, reached, ...(code ? { code } : {}) };
      reject(new PosError('protocol_error', message, details));
      req.destroy();
    };
    const options: https.RequestOptions = {
      method: opts.method,
      headers,
      ...(opts.agent ? { agent: opts.agent } : {}),
      ...(secure ? { rejectUnauthorized: opts.verifyTls !== false } : {}),
    };
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail('too_large', `the answer was larger than ${Math.round(maxBytes / 1024 / 1024 * 10) / 10} MB and was dropped`);
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail('network', `the answer was cut off (${err.code ?? err.message})`, err.code));
      res.on('close', () => { if (!res.complete) fail('network', 'the answer was cut off'); });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        if (text.trim()) {
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
    });
    req.on('socket', (socket: Socket) => {
      // A reused keep-alive socket is already connected; a new one counts once its handshake is done.
      if (!socket.connecting && !(secure && !(socket as { encrypted?: boolean }).encrypted)) reached = true;
      else socket.once(secure ? 'secureConnect' : 'connect', () => { reached = true; });
    });
    req.on('error', (err: NodeJS.ErrnoException) => fail('network', describeNetworkError(err), err.code));
    const timer = setTimeout(() => fail('timeout', `no answer within ${Math.round(opts.timeoutMs / 100) / 10} s`), opts.timeoutMs);
    req.end(payload);
  });
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED': return 'the connection was refused';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the host name could not be resolved';
    case 'ECONNRESET': return 'the connection was reset';
    case 'ETIMEDOUT': return 'the connection timed out';
    default:
      if (err.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code)) {
        return `the TLS certificate was not accepted (${err.code}); turn off certificate verification only for a test server you trust`;
      }
      return err.code ? `${err.message} (${err.code})` : err.message;
  }
}
