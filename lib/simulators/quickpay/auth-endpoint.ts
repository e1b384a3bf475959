// QuickPay's channel auth endpoint, POST /v1/websocket/auth [doc][seed]: a JSON body
// {socket_id, channel_name}, the API key in X-API-KEY, a per-request RS256 JWT in
// Authorization, and a Pusher `key:signature` in return. The error statuses and the
// {error, message} body are not documented [inferred].

import type { IncomingMessage, ServerResponse } from 'node:http';
import { channelAuth, isPresenceChannel, isPublicChannel } from './channel-auth';
import { JWT_REFUSAL_MESSAGES, type JwtVerifier } from './jwt-verify';
import { isAuthBody } from './schemas';
import { isObject } from '../socket-util';

export const AUTH_PATH = '/v1/websocket/auth';
/** Far more than {socket_id, channel_name} needs; a larger body is refused unread. */
const MAX_BODY_BYTES = 16 * 1024;

export interface AuthCall {
  socketId: string;
  channel: string;
  ok: boolean;
  reason?: string;
}

export interface AuthEndpointOptions {
  appKey: string;
  appSecret: string;
  apiKeys: readonly string[];
  merchantId: string;
  verifier: JwtVerifier;
  socketExists(socketId: string): boolean;
  /** The rejectAuth fault: every call fails as unauthenticated. */
  rejectAll(): boolean;
  record(call: AuthCall): void;
  log(line: string): void;
}

interface Refusal {
  status: number;
  error: string;
  message: string;
}

const refuse = (status: number, error: string, message: string): Refusal => ({ status, error, message });

/** The private channels a merchant may join [doc][seed]; any other private channel is refused. */
export function merchantChannels(merchantId: string): string[] {
  return ['private-exchange-rate', `private-merchant.${merchantId}`, `private-payments.${merchantId}`, `private-notifications.${merchantId}`];
}

export function handleHttp(req: IncomingMessage, res: ServerResponse, opts: AuthEndpointOptions): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== AUTH_PATH) return json(res, 404, { error: 'not_found', message: 'Not found' });
  if (req.method !== 'POST') return json(res, 405, { error: 'method_not_allowed', message: 'Use POST' }, { Allow: 'POST' });
  readBody(req, (raw) => {
    if (raw === undefined) {
      opts.log(`auth call refused: body larger than ${MAX_BODY_BYTES} bytes`);
      return json(res, 413, { error: 'payload_too_large', message: 'The request body is too large' }, { Connection: 'close' });
    }
    const outcome = authorise(req, raw, opts);
    const { socketId, channel } = outcome;
    if ('auth' in outcome) {
      opts.record({ socketId, channel, ok: true });
      opts.log(`auth call: socket ${socketId} may join ${channel}`);
      return json(res, 200, { auth: outcome.auth });
    }
    const { status, error, message } = outcome.refusal;
    opts.record({ socketId, channel, ok: false, reason: error });
    opts.log(`auth call refused: ${status} ${error}${channel ? ` (channel ${channel})` : ''}`);
    json(res, status, { error, message });
  });
}

type Outcome = { socketId: string; channel: string } & ({ auth: string } | { refusal: Refusal });

function authorise(req: IncomingMessage, raw: Buffer, opts: AuthEndpointOptions): Outcome {
  const body = parseJson(raw);
  // For the history even when the request fails before the body matters.
  const socketId = typeof body?.socket_id === 'string' ? body.socket_id.slice(0, 64) : '';
  const channel = typeof body?.channel_name === 'string' ? body.channel_name.slice(0, 200) : '';
  const fail = (refusal: Refusal): Outcome => ({ socketId, channel, refusal });

  if (opts.rejectAll()) return fail(refuse(401, 'authentication_failed', 'Authentication failed'));
  if (mediaType(req) !== 'application/json') return fail(refuse(415, 'unsupported_media_type', 'Content-Type must be application/json'));
  const apiKey = header(req, 'x-api-key');
  if (!apiKey || !opts.apiKeys.includes(apiKey)) return fail(refuse(401, 'invalid_api_key', 'Missing or unknown X-API-KEY'));
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
  if (!bearer) return fail(refuse(401, 'missing_token', 'Authorization must be Bearer <JWT>'));
  const jwtRefusal = opts.verifier.check({ token: bearer[1] as string, apiKey, rawBody: raw, nowS: Math.floor(Date.now() / 1000) });
  if (jwtRefusal) return fail(refuse(401, jwtRefusal, JWT_REFUSAL_MESSAGES[jwtRefusal]));
  if (body === undefined) return fail(refuse(400, 'invalid_json', 'The body must be a JSON object'));
  if (!isAuthBody(body)) return fail(refuse(400, 'invalid_request', `The body must be {socket_id, channel_name}: ${isAuthBody.explain()}`));
  if (isPresenceChannel(channel) || (!isPublicChannel(channel) && !merchantChannels(opts.merchantId).includes(channel))) {
    return fail(refuse(403, 'channel_access_denied', 'Channel access denied'));
  }
  if (!opts.socketExists(socketId)) return fail(refuse(400, 'unknown_socket', 'No open connection has this socket_id'));
  // A public channel needs no auth, but the seed shows the endpoint signing test-channel too.
  return { socketId, channel, auth: channelAuth(opts.appKey, opts.appSecret, socketId, channel) };
}

function readBody(req: IncomingMessage, done: (raw: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) over = true;
    else chunks.push(chunk);
  });
  req.on('end', () => done(over ? undefined : Buffer.concat(chunks)));
  req.on('error', () => undefined);
}

function parseJson(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function mediaType(req: IncomingMessage): string {
  return (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(text);
}
