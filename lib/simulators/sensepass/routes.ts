// The simulator's REST API under /api, as SensePass documents it: JSON in and out, the POS
// device id in the body as the credential (GETs: in the query string or a body). Errors are
// { status, status_message } as in the documented cancel answer [inferred for the others].

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { isObject } from '../socket-util';
import { answer, type Answer, type TransactionBook } from './book';
import { maskDevice } from './entity';

export interface RestCall { method: string; path: string; body: unknown }

export interface RoutesOptions {
  book: TransactionBook;
  /** Known and not refused right now. */
  deviceAllowed(deviceId: string): boolean;
  /** The device /devices/match pairs. */
  pairedDevice(): string;
  record(call: RestCall): void;
  log(line: string): void;
}

const MAX_BODY_BYTES = 256 * 1024;
const PAIRING = { merchantUID: randomUUID(), branchUID: randomUUID() };

class BadRequest extends Error {}

export async function handleRest(req: IncomingMessage, res: ServerResponse, o: RoutesOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return send(res, err instanceof BadRequest ? answer(400, err.message) : answer(500, 'could not read the request'));
  }
  o.record({ method, path: url.pathname, body: body ?? (url.search ? Object.fromEntries(url.searchParams) : undefined) });
  const result = route(method, url, isObject(body) ? body : {}, o);
  o.log(`${method} ${maskPath(url.pathname)} -> ${result.status}`);
  send(res, result);
}

function route(method: string, url: URL, body: Record<string, unknown>, o: RoutesOptions): Answer {
  const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1).map((p) => safeDecode(p));
  if (parts[0] !== 'api') return answer(404, 'Not found');
  const [, a, b, c] = parts;
  // The commit link is called with a plain GET, without credentials [doc].
  if (method === 'GET' && a === 'transactions' && b === 'commitPayment' && c && parts.length === 4) return o.book.commit(c);
  if (method === 'POST' && a === 'devices' && b === 'match' && parts.length === 3) return pair(body, o);
  const deviceId = typeof body.deviceId === 'string' ? body.deviceId : url.searchParams.get('deviceId') ?? '';
  if (a !== 'transactions') return answer(404, 'Not found');
  if (!deviceId || !o.deviceAllowed(deviceId)) return answer(401, 'Device not found');
  if (method === 'POST' && parts.length === 2) return o.book.list(deviceId, body);
  if (method === 'POST' && b === 'init' && parts.length === 3) return o.book.init(deviceId, body);
  if (method === 'POST' && b === 'refund' && parts.length === 3) return o.book.refund(deviceId, body);
  if (method === 'POST' && b === 'cancel' && c && parts.length === 4) return o.book.cancel(deviceId, c);
  if (method === 'POST' && b === 'cancelByDeviceId' && c && parts.length === 4) {
    return c === deviceId ? o.book.cancelByDevice(deviceId) : answer(401, 'Device not found');
  }
  if (method === 'GET' && b && parts.length === 3) return o.book.get(deviceId, b);
  return answer(method === 'GET' || method === 'POST' ? 404 : 405, 'Not found');
}

function pair(body: Record<string, unknown>, o: RoutesOptions): Answer {
  if (typeof body.apiKey !== 'string' || !body.apiKey) return answer(401, 'apiKey is required');
  if (typeof body.pinCode !== 'string' || !/^[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}$/i.test(body.pinCode)) return answer(400, 'pinCode must look like 53K-HMD-786');
  return {
    status: 200,
    body: {
      name: typeof body.posName === 'string' && body.posName ? body.posName : 'POS 1, Simulator',
      deviceAliasKey: o.pairedDevice(), ...PAIRING, pinCode: body.pinCode, clientBoxes: [],
    },
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest('the body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new BadRequest('the body is not JSON'));
      }
    });
  });
}

function send(res: ServerResponse, a: Answer): void {
  if (res.headersSent) return;
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** Device ids appear in one path; the log shows only their last four characters. */
function maskPath(pathname: string): string {
  return pathname.replace(/(cancelByDeviceId\/)([^/]+)/, (_m, pre: string, id: string) => `${pre}${maskDevice(safeDecode(id))}`)
    .replace(/(commitPayment\/)([^/]+)/, (_m, pre: string, token: string) => `${pre}${token.slice(0, 4)}…`);
}
