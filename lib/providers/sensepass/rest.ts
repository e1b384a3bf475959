// The SensePass REST calls the pack makes. Authentication is the POS device id in the JSON body
// (no headers) [doc]; for GETs, which have no body by convention, it goes in the query string
// by default [inferred; `deviceIdOnGet: 'body'` sends a body instead]. The device id is a
// secret to the pack: it is masked in every log line and error text made here.

import { tapSafely, type WireTap } from '../../core/wire-log';
import http from 'node:http';
import https from 'node:https';
import { PosError } from '../../core/errors';
import { isTransportFailure, requestJson, type JsonResponse, type TransportFailure } from '../../core/http';
import type { Redactor } from '../../core/redact';
import { silentLogger, type Logger } from '../../core/types';
import {
  checkRefundAnswer, checkStatusAnswer, checkTransaction,
  type SensePassRefundAnswer, type SensePassStatusAnswer, type SensePassTransaction,
} from './schemas';

export const DEFAULT_REQUEST_TIMEOUT_MS = 15000;

export interface SensePassRestOptions {
  /** Read on every call, so a base supplied later (the in-process simulator) is picked up. */
  restBase: () => string;
  deviceId: string;
  redact: Redactor;
  verifyTls?: boolean;
  logger?: Logger;
  timeoutMs?: number;
  deviceIdOnGet?: 'query' | 'body';
  /** Sees every request and answer, as JSON (the wire log, a connection check). */
  wire?: WireTap;
}

export interface InitBody {
  amount: number;
  isCent: true;
  currency: string;
  methodType: string;
  timeOut: number;
  posData: unknown;
  [k: string]: unknown;
}

export interface ListBody {
  startDate: string;
  endDate: string;
  pagination: { limit: number; offset: number };
  [k: string]: unknown;
}

export interface RefundBody {
  transactionNumber: string;
  isPartial: boolean;
  refundAmount: number;
  isCent: true;
  [k: string]: unknown;
}

interface Call {
  /** What we were doing, for the error: "create the payment". */
  what: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
}

/** The HTTP status behind a PosError made here, if it came from an answer. */
export function sensepassStatus(err: unknown): number | undefined {
  const details = err instanceof PosError ? err.details : undefined;
  return details && typeof details === 'object' && typeof (details as { status?: unknown }).status === 'number'
    ? (details as { status: number }).status : undefined;
}

/** The transport failure behind a PosError made here, if no answer came. */
export function transportFailureOf(err: unknown): TransportFailure | undefined {
  const details = err instanceof PosError ? err.details : undefined;
  return isTransportFailure(details) ? details : undefined;
}

export class SensePassRest {
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  // One pair per client so stop() can end every request in flight by destroying their sockets.
  private httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(private readonly opts: SensePassRestOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Ends every request in flight and closes kept-alive connections; later calls open new ones. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });
  }

  async init(body: InitBody): Promise<SensePassTransaction> {
    return this.transaction(await this.call({ what: 'create the payment', method: 'POST', path: '/transactions/init', body }), 'create the payment');
  }

  async get(transactionNumber: string): Promise<SensePassTransaction> {
    const what = `read the transaction ${short(transactionNumber)}`;
    return this.transaction(await this.call({ what, method: 'GET', path: `/transactions/${seg(transactionNumber)}` }), what);
  }

  /** One page of the device's transactions. The list's shape is not documented: a bare array or an object holding one. */
  async list(body: ListBody): Promise<SensePassTransaction[]> {
    const answer = await this.call({ what: 'list the transactions', method: 'POST', path: '/transactions', body });
    const items = listItems(answer);
    if (!items) throw this.malformed('list the transactions', 'holds no list of transactions');
    const out: SensePassTransaction[] = [];
    for (const item of items) {
      if (checkTransaction(item)) out.push(item);
      else this.logger.debug(this.opts.redact(`SensePass: skipped a listed transaction that is not one (${checkTransaction.explain()})`));
    }
    return out;
  }

  async cancel(transactionNumber: string): Promise<SensePassStatusAnswer> {
    const what = `cancel the transaction ${short(transactionNumber)}`;
    return this.statusAnswer(await this.call({ what, method: 'POST', path: `/transactions/cancel/${seg(transactionNumber)}`, body: {} }), what);
  }

  /** Cancels the device's last pending transaction [doc]: for a payment whose number is not known yet. */
  async cancelByDevice(): Promise<SensePassStatusAnswer> {
    const what = 'cancel the pending transaction of this device';
    return this.statusAnswer(await this.call({ what, method: 'POST', path: `/transactions/cancelByDeviceId/${seg(this.opts.deviceId)}`, body: {} }), what);
  }

  async refund(body: RefundBody): Promise<SensePassRefundAnswer> {
    const answer = await this.call({ what: 'refund the payment', method: 'POST', path: '/transactions/refund', body });
    if (!checkRefundAnswer(answer)) {
      throw this.malformed('refund the payment', `is not a refund answer (${checkRefundAnswer.explain()}); the refund may or may not have been made`);
    }
    return answer;
  }

  /**
   * The payment commit: a plain GET of the link SensePass gave, no headers and no query [doc].
   * Node adds only Host and Connection.
   */
  commit(link: string, timeoutMs: number): Promise<void> {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      return Promise.reject(new PosError('protocol_error', 'the commit link is not a URL'));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new PosError('protocol_error', 'the commit link is not an HTTP URL'));
    const secure = url.protocol === 'https:';
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: PosError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve();
      };
      const req = (secure ? https : http).request(url, {
        method: 'GET', headers: {}, agent: secure ? this.httpsAgent : this.httpAgent,
        ...(secure ? { rejectUnauthorized: this.opts.verifyTls !== false } : {}),
      }, (res) => {
        res.resume();
        res.on('error', () => finish(new PosError('protocol_error', 'the commit answer was cut off')));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) finish();
          else finish(new PosError('provider_error', `SensePass answered the commit with ${status} ${http.STATUS_CODES[status] ?? ''}`.trim(), { status }));
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish(new PosError('protocol_error', `the commit link could not be reached (${err.code ?? err.message})`)));
      const timer = setTimeout(() => finish(new PosError('protocol_error', `no answer to the commit within ${Math.round(timeoutMs / 100) / 10} s`)), timeoutMs);
      req.end();
    });
  }

  private transaction(value: unknown, what: string): SensePassTransaction {
    if (!checkTransaction(value)) throw this.malformed(what, `is not a SensePass transaction (${checkTransaction.explain()})`);
    return value;
  }

  private statusAnswer(value: unknown, what: string): SensePassStatusAnswer {
    if (value === undefined) return {};
    if (!checkStatusAnswer(value)) throw this.malformed(what, `is not a status answer (${checkStatusAnswer.explain()})`);
    return value;
  }

  private async call(c: Call): Promise<unknown> {
    const base = this.opts.restBase().replace(/\/+$/, '');
    const onGet = c.method === 'GET';
    const inQuery = onGet && this.opts.deviceIdOnGet !== 'body';
    const url = `${base}${c.path}${inQuery ? `?deviceId=${encodeURIComponent(this.opts.deviceId)}` : ''}`;
    const body = inQuery ? undefined : { ...c.body, deviceId: this.opts.deviceId };
    const started = Date.now();
    let res: JsonResponse;
    tapSafely(this.opts.wire, 'out', JSON.stringify({ method: c.method, path: c.path, body }), 'rest');
    try {
      res = await requestJson({
        method: c.method, url, body, timeoutMs: this.timeoutMs, verifyTls: this.opts.verifyTls !== false,
        agent: url.startsWith('https:') ? this.httpsAgent : this.httpAgent,
      });
    } catch (err) {
      throw this.transportError(c, err);
    }
    tapSafely(this.opts.wire, 'in', JSON.stringify({ status: res.status, body: res.body ?? res.text }), 'rest');
    this.logger.debug(this.opts.redact(`SensePass ${c.method} ${c.path} -> ${res.status} (${Date.now() - started} ms)`));
    // SensePass repeats an HTTP-like status in its bodies; an error status there counts even under a 2xx [inferred].
    const echoed = bodyStatus(res.body);
    const status = res.status >= 200 && res.status < 300 && echoed !== undefined && echoed >= 400 ? echoed : res.status;
    if (status >= 200 && status < 300) return res.body;
    throw this.httpError(c, status, res);
  }

  private transportError(c: Call, err: unknown): PosError {
    const details = err instanceof PosError ? err.details : undefined;
    const why = this.opts.redact((err as Error).message);
    if (isTransportFailure(details) && !details.reached) {
      return new PosError('not_connected', `could not reach SensePass to ${c.what}: ${why}; nothing was sent`, details);
    }
    return new PosError('protocol_error', `no usable answer from SensePass to ${c.what}: ${why}; SensePass may or may not have acted on it`, details);
  }

  private httpError(c: Call, status: number, res: JsonResponse): PosError {
    const said = describeAnswer(res.body, res.text);
    const tail = said ? `: ${said}` : '';
    const statusLine = `${status}${http.STATUS_CODES[status] ? ` ${http.STATUS_CODES[status]}` : ''}`;
    const details = { status };
    let error: PosError;
    if (status === 401 || status === 403) {
      error = new PosError('unauthorized', `SensePass did not accept the device id when asked to ${c.what} (${statusLine})${tail}. Check the device id from pairing, and that it belongs to the chosen environment`, details);
    } else if (status === 404) {
      error = new PosError('not_found', `SensePass does not know what was asked for, so it could not ${c.what} (${statusLine})${tail}`, details);
    } else if (status >= 500 && status !== 501) {
      error = new PosError('protocol_error', `SensePass failed to ${c.what} (${statusLine})${tail}; it may or may not have been done`, details);
    } else {
      error = new PosError('provider_error', `SensePass refused to ${c.what} (${statusLine})${tail}`, details);
    }
    error.message = this.opts.redact(error.message);
    this.logger.debug(error.message);
    return error;
  }

  private malformed(what: string, why: string): PosError {
    return new PosError('protocol_error', this.opts.redact(`SensePass's answer when asked to ${what} ${why}`));
  }
}

function bodyStatus(body: unknown): number | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const s = (body as { status?: unknown }).status;
  // A Transaction entity has a status too (0..13); only values shaped like HTTP statuses count.
  return typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599 && !('TransactionNumber' in body) ? s : undefined;
}

/** SensePass's own words from an error answer, whatever member it used. */
export function describeAnswer(body: unknown, text: string): string {
  const parts: string[] = [];
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    for (const key of ['status_message', 'message', 'errorMessage', 'error_description', 'error']) {
      const v = b[key];
      if (typeof v === 'string' && v.trim() && !parts.includes(v.trim())) parts.push(v.trim());
      else if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') parts.push(String((v as { message: string }).message));
    }
    if (Array.isArray(b.errors)) parts.push(...b.errors.slice(0, 5).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))));
  } else if (typeof body === 'string' && body.trim()) {
    parts.push(body.trim());
  }
  if (parts.length === 0 && text.trim() && !text.trim().startsWith('<')) parts.push(text.trim().replace(/\s+/g, ' '));
  const said = parts.join('; ');
  return said.length > 300 ? `${said.slice(0, 300)}…` : said;
}

const LIST_KEYS = ['transactions', 'data', 'items', 'results', 'rows', 'list'];

function listItems(answer: unknown): unknown[] | undefined {
  if (Array.isArray(answer)) return answer;
  if (!answer || typeof answer !== 'object') return undefined;
  for (const key of LIST_KEYS) {
    const v = (answer as Record<string, unknown>)[key];
    if (Array.isArray(v)) return v;
    // One level deeper: { data: { transactions: [...] } }.
    if (v && typeof v === 'object') {
      const inner = listItems(v);
      if (inner) return inner;
    }
  }
  return undefined;
}

const seg = (v: string): string => encodeURIComponent(v);

/** Transaction numbers are 56 hex characters: the first 8 are enough for a person. */
export const short = (n: string): string => (n.length > 12 ? `${n.slice(0, 8)}…` : n);
