// The part of the Terminal Gateway HTTP API the adapter uses to recover a lost result
// (GET /v1/transactions/{id}), plus the terminal list, behind the documented HMAC check:
// 401 UNAUTHORIZED / TIMESTAMP_EXPIRED / INVALID_SIGNATURE [doc].

import type { IncomingMessage, ServerResponse } from 'node:http';
import { signRequest, signatureMatches, TIMESTAMP_TOLERANCE_MS } from '../../providers/modulus/signature';
import { API_PATH, HEADER, TERMINALS_PATH, TRANSACTIONS_PATH } from '../../providers/modulus/wire';
import type { SimTransaction } from './payments';
import type { SimTerminals } from './terminals';

export interface HttpApiOptions {
  apiKeys: readonly string[];
  apiSecret: string;
  /** Default true; false serves look-ups without checking signatures. */
  checkSignatures: boolean;
  find(transactionId: string): SimTransaction | undefined;
  terminals: SimTerminals;
  log(line: string): void;
}

export function handleHttp(req: IncomingMessage, res: ServerResponse, opts: HttpApiOptions): void {
  const rawPath = (req.url ?? '/').split('?')[0] as string;
  if (rawPath === API_PATH) return json(res, 426, { error: 'UPGRADE_REQUIRED', message: 'Use a WebSocket client for /v1' });
  const isTransaction = rawPath.startsWith(TRANSACTIONS_PATH) && rawPath.length > TRANSACTIONS_PATH.length;
  if (!isTransaction && rawPath !== TERMINALS_PATH) return json(res, 404, { error: 'NOT_FOUND', message: 'Not Found' });
  if (req.method !== 'GET') return json(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'Only GET is simulated here' });
  const key = header(req, HEADER.apiKey);
  const refusal = checkAuth(req, rawPath, key, opts);
  if (refusal) {
    opts.log(`HTTP GET ${rawPath}: 401 ${refusal}`);
    return json(res, 401, { error: refusal, message: MESSAGES[refusal] });
  }
  const now = new Date().toISOString();
  if (!isTransaction) {
    const terminals = opts.terminals.all().map((t) => opts.terminals.entry(t, true));
    return json(res, 200, { terminals, count: terminals.length, timestamp: now });
  }
  let id: string;
  try {
    id = decodeURIComponent(rawPath.slice(TRANSACTIONS_PATH.length));
  } catch {
    return json(res, 404, { error: 'NOT_FOUND', message: 'Transaction not found' });
  }
  const txn = opts.find(id);
  // A transaction belongs to the key that sent it.
  if (!txn || (opts.checkSignatures && txn.key !== key)) {
    opts.log(`HTTP GET transaction ${id.slice(0, 64)}: 404`);
    return json(res, 404, { error: 'NOT_FOUND', message: 'Transaction not found' });
  }
  const { entry } = txn;
  opts.log(`HTTP GET transaction ${id}: ${entry.status}`);
  json(res, 200, {
    transactionId: entry.transactionId,
    status: entry.status,
    request: txn.request,
    ...(txn.response ? { response: txn.response } : {}),
    createdAt: txn.createdAt,
    updatedAt: txn.updatedAt,
    ...(txn.completedAt ? { completedAt: txn.completedAt } : {}),
    ...(entry.voidedAt ? { voidedAt: entry.voidedAt, voidReason: entry.voidReason } : {}),
    timestamp: now,
  });
}

type Refusal = 'UNAUTHORIZED' | 'TIMESTAMP_EXPIRED' | 'INVALID_SIGNATURE';

const MESSAGES: Record<Refusal, string> = {
  UNAUTHORIZED: 'Invalid or missing API key',
  TIMESTAMP_EXPIRED: 'Request timestamp is outside the allowed window',
  INVALID_SIGNATURE: 'Request signature is invalid',
};

function checkAuth(req: IncomingMessage, path: string, key: string | undefined, opts: HttpApiOptions): Refusal | undefined {
  if (!opts.checkSignatures) return undefined;
  if (!key || !opts.apiKeys.includes(key)) return 'UNAUTHORIZED';
  const timestamp = header(req, HEADER.timestamp);
  const at = timestamp ? Date.parse(timestamp) : NaN;
  if (!timestamp || !Number.isFinite(at) || Math.abs(Date.now() - at) > TIMESTAMP_TOLERANCE_MS) return 'TIMESTAMP_EXPIRED';
  const given = header(req, HEADER.signature);
  const expected = signRequest(opts.apiSecret, req.method ?? 'GET', path, timestamp, '');
  if (!given || !signatureMatches(expected, given)) return 'INVALID_SIGNATURE';
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
