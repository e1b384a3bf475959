// QuickPay's channel authorisation [doc][seed]: POST {socket_id, channel_name} as JSON to
// <REST base>/v1/websocket/auth with a fresh RS256 JWT bound to exactly those bytes, and get a
// Pusher `key:signature` back. pusher-js's own auth transport posts a form body, so the adapter
// hands pusher-js this as channelAuthorization.customHandler.

import type { KeyObject } from 'node:crypto';
import type http from 'node:http';
import { isPosError } from '../../core/errors';
import { requestJson } from '../../core/http';
import type { Redactor } from '../../core/redact';
import { oneLine } from './close-codes';
import { requestClaims, signJwt } from './jwt';
import { checkAuthAnswer } from './schemas';
import { AUTH_PATH } from './urls';

export interface ChannelAuthRequest {
  /** Read per call: the base is only known once an in-process simulator listens. */
  restBase: string;
  apiKey: string;
  key: KeyObject;
  socketId: string;
  channelName: string;
  timeoutMs: number;
  verifyTls: boolean;
  redact: Redactor;
  /** Default AUTH_PATH. */
  authPath?: string;
  /** The JWT `uri` claim; the docs do not say whether /v1 belongs to it [inferred]. Default AUTH_PATH. */
  jwtUri?: string;
  /** The caller's own agent, destroyed on stop so no socket outlives the connection. */
  agent?: http.Agent;
}

/**
 * - ok: the signature to subscribe with.
 * - refused: 401/403, the credentials or the channel permission; retrying cannot help.
 * - failed: anything else (network, timeout, 5xx, 4xx that may pass, an answer without auth);
 *   worth another try later.
 */
export type ChannelAuthOutcome =
  | { kind: 'ok'; auth: string }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'failed'; status?: number; message: string };

/** The exact body: JSON.stringify of this object is what is hashed and what is sent. */
export function authBody(socketId: string, channelName: string): { socket_id: string; channel_name: string } {
  return { socket_id: socketId, channel_name: channelName };
}

export async function requestChannelAuth(req: ChannelAuthRequest): Promise<ChannelAuthOutcome> {
  const body = authBody(req.socketId, req.channelName);
  // requestJson sends JSON.stringify(body); stringify is deterministic for one object, so these
  // are the bytes on the wire (a test checks it against a server that hashes what it received).
  const bytes = JSON.stringify(body);
  const path = req.authPath ?? AUTH_PATH;
  let token: string;
  try {
    token = signJwt(requestClaims({ uri: req.jwtUri ?? path, apiKey: req.apiKey, body: bytes }), req.key);
  } catch (err) {
    return { kind: 'failed', message: `signing the request failed (${(err as { code?: string })?.code ?? 'crypto error'})` };
  }
  let status: number;
  let answer: unknown;
  let text: string;
  try {
    const res = await requestJson({
      method: 'POST',
      url: `${req.restBase}${path}`,
      headers: { Authorization: `Bearer ${token}`, 'X-API-KEY': req.apiKey },
      body,
      timeoutMs: req.timeoutMs,
      verifyTls: req.verifyTls,
      maxBytes: 64 * 1024,
      ...(req.agent ? { agent: req.agent } : {}),
    });
    ({ status, body: answer, text } = res);
  } catch (err) {
    const message = isPosError(err) || err instanceof Error ? err.message : String(err);
    return { kind: 'failed', message: req.redact(`the auth endpoint could not be reached: ${message}`) };
  }
  if (status === 200 && checkAuthAnswer(answer)) return { kind: 'ok', auth: answer.auth };
  const said = req.redact(serverWords(answer, text));
  if (status === 401 || status === 403) return { kind: 'refused', status, message: `HTTP ${status}${said ? ` ${said}` : ''}` };
  if (status === 200) return { kind: 'failed', status, message: `the auth endpoint answered without a valid auth string (${checkAuthAnswer.explain()})` };
  return { kind: 'failed', status, message: `the auth endpoint answered HTTP ${status}${said ? ` ${said}` : ''}` };
}

/** The server's own explanation, if its error body has one; never the whole body. */
function serverWords(answer: unknown, text: string): string {
  if (answer && typeof answer === 'object' && !Array.isArray(answer)) {
    const a = answer as Record<string, unknown>;
    const parts = [a.error, a.message].filter((v): v is string => typeof v === 'string' && v.trim() !== '');
    if (parts.length) return `(${oneLine(parts.join(': '), 160)})`;
  }
  return text.trim() && answer === undefined && text.length < 200 && !/[<>]/.test(text) ? `(${oneLine(text, 160)})` : '';
}
