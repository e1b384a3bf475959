// The Dojo REST API calls the pack makes (capability registration, payment intents, terminals,
// terminal sessions, refunds, POS events), each turned into a PosError a person can read when
// Dojo says no. The wire shapes below are the parts of Dojo's schemas this pack reads; every
// other member is kept in `raw` and never required.

import { tapSafely, type WireTap } from '../../core/wire-log';
import http from 'node:http';
import https from 'node:https';
import { PosError } from '../../core/errors';
import { makeRedactor, type Redactor } from '../../core/redact';
import { silentLogger, type Logger } from '../../core/types';
import { isTransportFailure, requestJson, type JsonResponse } from '../../core/http';
import { checkRest, type RestSchemaName } from './schemas';

export const DOJO_API_VERSION = '2026-02-27';
const DEFAULT_TIMEOUT_MS = 15000;
/** Distinct schema warnings remembered, so a poll every second does not repeat one forever. */
const MAX_WARNINGS = 50;

export interface DojoMoney { value: number; currencyCode: string }

export interface DojoCard {
  cardNumber?: string | null;
  cardName?: string | null;
  cardType?: string | null;
  last4PAN?: string | null;
  entryMode?: string | null;
  verificationMethod?: string | null;
  [k: string]: unknown;
}

export interface DojoPaymentDetails {
  transactionId?: string | null;
  message?: string | null;
  authCode?: string | null;
  card?: DojoCard | null;
  [k: string]: unknown;
}

export interface DojoReceiptLine {
  lineType?: string;
  text?: { value?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface DojoReceipt { lines?: DojoReceiptLine[]; [k: string]: unknown }

export interface DojoTerminalSession {
  id: string;
  terminalId?: string;
  status: string;
  createdAt?: string;
  updatedAt?: string;
  expireAt?: string;
  notificationEvents?: Array<{ notificationType?: string; createdAt?: string }>;
  statusEvents?: Array<{ status?: string; createdAt?: string; debugMessage?: string }>;
  details?: { sessionType?: string; sale?: { paymentIntentId?: string }; matchedRefund?: { paymentIntentId?: string; amount?: DojoMoney }; unlinkedRefund?: { amount?: DojoMoney } };
  receipt?: DojoReceipt;
  customerReceipt?: DojoReceipt;
  merchantReceipt?: DojoReceipt;
  paymentDetails?: DojoPaymentDetails | null;
  [k: string]: unknown;
}

export interface DojoPaymentIntent {
  id: string;
  status?: string;
  reference?: string | null;
  amount?: DojoMoney | null;
  totalAmount?: DojoMoney | null;
  paymentDetails?: DojoPaymentDetails | null;
  createdAt?: string;
  terminalSessionHistory?: unknown[] | null;
  [k: string]: unknown;
}

export interface DojoTerminal { id: string; properties?: { tid?: string }; status?: string; updatedAt?: string; [k: string]: unknown }

export interface DojoRefund { refundId?: string | null; paymentIntentId?: string | null; [k: string]: unknown }

/** Capture and Reversal [spec]: both `{ message, <id> }`. */
export interface DojoCapture { message?: string | null; captureId?: string | null; [k: string]: unknown }
export interface DojoReversal { message?: string | null; reversalId?: string | null; [k: string]: unknown }

/** CreateCaptureRequest [spec]: plain integers in the intent's currency, not Money. */
export interface CreateCaptureBody { amount: number; tipsAmount?: number }

export interface DojoPaged<T> { data?: T[] | null; before?: string | null; after?: string | null }

export interface DojoProblem {
  type?: string | null;
  title?: string | null;
  status?: number | null;
  detail?: string | null;
  traceId?: string | null;
  errors?: Record<string, unknown> | null;
  extensions?: Record<string, unknown>;
}

export interface CreatePaymentIntentBody {
  amount: DojoMoney;
  reference: string;
  captureMode?: 'Auto' | 'Manual';
  tipsAmount?: DojoMoney;
  cashbackAmount?: DojoMoney;
  [k: string]: unknown;
}

export type TerminalSessionBody =
  | { terminalId: string; details: { sessionType: 'Sale'; sale: { paymentIntentId: string } } }
  | { terminalId: string; details: { sessionType: 'MatchedRefund'; matchedRefund: { paymentIntentId: string; amount?: DojoMoney } } }
  | { terminalId: string; details: { sessionType: 'UnlinkedRefund'; unlinkedRefund: { amount: DojoMoney; cardholderNotPresent?: boolean } } };

export interface CreateRefundBody { amount: number; refundReason?: string; notes?: string; previousTransactionId?: string }

export interface SearchPaymentIntentsBody {
  statuses?: string[];
  startDate?: string;
  endDate?: string;
  cursor?: { limit?: number; before?: string; after?: string };
}

export interface DojoRestOptions {
  /** Read on every call, so a base supplied later (the in-process simulator) is picked up. */
  restBase: () => string;
  apiKey: string;
  softwareHouseId: string;
  resellerId?: string;
  /** Default 2026-02-27, the version of the spec this pack was written against. */
  apiVersion?: string;
  /** Default true. */
  verifyTls?: boolean;
  logger?: Logger;
  /** Per call. Default 15000. */
  timeoutMs?: number;
  /** Sees every request and answer, as JSON (the wire log, a connection check). */
  wire?: WireTap;
}

interface Call {
  /** What we were doing, for the error: "create the payment intent". */
  what: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Checked leniently: a mismatch is logged, never fatal. */
  response?: RestSchemaName;
  request?: RestSchemaName;
  /** Names the missing thing in a 404 message: "the terminal session ts_1". */
  subject?: string;
}

/** The HTTP status of a PosError made from a Dojo answer, if it was one. */
export function dojoStatus(err: unknown): number | undefined {
  const details = err instanceof PosError ? err.details : undefined;
  return details && typeof details === 'object' && typeof (details as { status?: unknown }).status === 'number'
    ? (details as { status: number }).status : undefined;
}

export class DojoRest {
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly warned = new Set<string>();
  // Keep-alive saves a TLS handshake on every poll of a terminal session; destroy() closes them.
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(private readonly opts: DojoRestOptions) {
    this.redact = makeRedactor([opts.apiKey]);
    this.logger = opts.logger ?? silentLogger;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Closes kept-alive connections; later calls open new ones. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Re-PUTs the full capability list: Dojo routes only what is registered. */
  registerWs(capabilities: Array<{ name: string; version: string }>): Promise<unknown> {
    return this.call({ what: 'register the EPOS capabilities', method: 'PUT', path: '/epos/integrations/ws', body: { capabilities }, request: 'WsIntegrationRequest' });
  }

  postEposEvent(body: { eventType: string; event: Record<string, unknown> }): Promise<unknown> {
    return this.call({ what: `send the ${body.eventType} event`, method: 'POST', path: '/epos/events', body });
  }

  async createPaymentIntent(body: CreatePaymentIntentBody): Promise<DojoPaymentIntent> {
    const intent = await this.call({ what: 'create the payment intent', method: 'POST', path: '/payment-intents', body, request: 'CreatePaymentIntentRequest', response: 'PaymentIntent' });
    return this.expectId<DojoPaymentIntent>(intent, 'payment intent');
  }

  /** Asks for canceled intents too: without returnCanceled Dojo answers 404 for them [spec]. */
  async getPaymentIntent(id: string): Promise<DojoPaymentIntent> {
    const intent = await this.call({ what: 'read the payment intent', method: 'GET', path: `/payment-intents/${seg(id)}?returnCanceled=true`, response: 'PaymentIntent', subject: `the payment intent ${id}` });
    return this.expectId<DojoPaymentIntent>(intent, 'payment intent');
  }

  async searchPaymentIntents(body: SearchPaymentIntentsBody): Promise<DojoPaged<DojoPaymentIntent>> {
    const page = await this.call({ what: 'search the payment intents', method: 'POST', path: '/payment-intents/search', body });
    if (!page || typeof page !== 'object') throw this.malformed('search the payment intents', 'is not an object');
    return page as DojoPaged<DojoPaymentIntent>;
  }

  cancelPaymentIntent(id: string): Promise<unknown> {
    return this.call({ what: 'cancel the payment intent', method: 'DELETE', path: `/payment-intents/${seg(id)}`, subject: `the payment intent ${id}` });
  }

  async listTerminals(statuses?: string[]): Promise<DojoTerminal[]> {
    const query = statuses?.length ? `?${statuses.map((s) => `statuses=${encodeURIComponent(s)}`).join('&')}` : '';
    const list = await this.call({ what: 'list the terminals', method: 'GET', path: `/terminals${query}` });
    if (!Array.isArray(list)) throw this.malformed('list the terminals', 'is not a list');
    const terminals: DojoTerminal[] = [];
    for (const item of list) {
      const why = checkRest('Terminal', item);
      if (item && typeof item === 'object' && typeof (item as DojoTerminal).id === 'string') {
        if (why) this.warnOnce(`a Dojo terminal entry does not match the spec (${why}); used it anyway`);
        terminals.push(item as DojoTerminal);
      } else {
        this.warnOnce(`dropped a Dojo terminal entry without an id${why ? ` (${why})` : ''}`);
      }
    }
    return terminals;
  }

  async getTerminal(id: string): Promise<DojoTerminal> {
    const t = await this.call({ what: 'read the terminal', method: 'GET', path: `/terminals/${seg(id)}`, response: 'Terminal', subject: `the terminal ${id}` });
    return this.expectId<DojoTerminal>(t, 'terminal');
  }

  async createTerminalSession(body: TerminalSessionBody): Promise<DojoTerminalSession> {
    const s = await this.call({ what: 'start the terminal session', method: 'POST', path: '/terminal-sessions', body, request: 'CreateTerminalSessionRequest', response: 'TerminalSession', subject: `the terminal ${body.terminalId}` });
    return this.expectSession(s, 'start the terminal session');
  }

  async getTerminalSession(id: string): Promise<DojoTerminalSession> {
    const s = await this.call({ what: 'read the terminal session', method: 'GET', path: `/terminal-sessions/${seg(id)}`, response: 'TerminalSession', subject: `the terminal session ${id}` });
    return this.expectSession(s, 'read the terminal session');
  }

  async cancelTerminalSession(id: string): Promise<DojoTerminalSession | undefined> {
    const s = await this.call({ what: 'cancel the terminal session', method: 'PUT', path: `/terminal-sessions/${seg(id)}/cancel`, response: 'TerminalSession', subject: `the terminal session ${id}` });
    return isSession(s) ? s : undefined;
  }

  async answerSignature(sessionId: string, accepted: boolean): Promise<DojoTerminalSession | undefined> {
    const s = await this.call({ what: `${accepted ? 'accept' : 'reject'} the signature`, method: 'PUT', path: `/terminal-sessions/${seg(sessionId)}/signature`, body: { accepted }, response: 'TerminalSession', subject: `the terminal session ${sessionId}` });
    return isSession(s) ? s : undefined;
  }

  /** `idempotencyKey` is Dojo's own de-duplication: the same key never refunds twice. */
  async createRefund(intentId: string, body: CreateRefundBody, idempotencyKey: string): Promise<DojoRefund> {
    const refund = await this.call({
      what: 'refund the payment', method: 'POST', path: `/payment-intents/${seg(intentId)}/refunds`, body,
      headers: { idempotencyKey }, request: 'CreateRefundRequest', response: 'Refund', subject: `the payment intent ${intentId}`,
    });
    if (!refund || typeof refund !== 'object') throw this.malformed('refund the payment', 'is not an object');
    return refund as DojoRefund;
  }

  /** Captures an Authorized (Manual) payment intent, in full or in part [spec]. */
  async createCapture(intentId: string, body: CreateCaptureBody): Promise<DojoCapture> {
    const capture = await this.call({
      what: 'capture the payment', method: 'POST', path: `/payment-intents/${seg(intentId)}/captures`, body,
      request: 'CreateCaptureRequest', response: 'Capture', subject: `the payment intent ${intentId}`,
    });
    if (!capture || typeof capture !== 'object') throw this.malformed('capture the payment', 'is not an object');
    return capture as DojoCapture;
  }

  /** Reverses a payment intent: an authorisation is given back without being captured [spec]. No body. */
  async createReversal(intentId: string): Promise<DojoReversal> {
    const reversal = await this.call({
      what: 'reverse the payment', method: 'POST', path: `/payment-intents/${seg(intentId)}/reversal`, response: 'Reversal', subject: `the payment intent ${intentId}`,
    });
    if (!reversal || typeof reversal !== 'object') throw this.malformed('reverse the payment', 'is not an object');
    return reversal as DojoReversal;
  }

  async getRefund(refundId: string): Promise<DojoRefund> {
    const refund = await this.call({ what: 'read the refund', method: 'GET', path: `/payment-intents/refunds/${seg(refundId)}`, response: 'Refund', subject: `the refund ${refundId}` });
    if (!refund || typeof refund !== 'object') throw this.malformed('read the refund', 'is not an object');
    return refund as DojoRefund;
  }

  private headers(extra?: Record<string, string>): Record<string, string> {
    return {
      // Dojo's scheme name is Basic but the key goes as it is, not base64 of user:password [spec].
      Authorization: `Basic ${this.opts.apiKey}`,
      version: this.opts.apiVersion ?? DOJO_API_VERSION,
      // Required by the terminal endpoints and harmless on the others, so always sent.
      'software-house-id': this.opts.softwareHouseId,
      ...(this.opts.resellerId ? { 'reseller-id': this.opts.resellerId } : {}),
      ...extra,
    };
  }

  private async call(c: Call): Promise<unknown> {
    if (c.request && c.body !== undefined) {
      const why = checkRest(c.request, c.body);
      // Dojo is the judge of its own requests; a mismatch here is worth a line, not a refusal.
      if (why) this.warnOnce(`the request to ${c.what} does not match Dojo's spec: ${this.redact(why)}`);
    }
    const url = this.opts.restBase().replace(/\/+$/, '') + c.path;
    const started = Date.now();
    let res: JsonResponse;
    tapSafely(this.opts.wire, 'out', JSON.stringify({ method: c.method, path: c.path, body: c.body }), 'rest');
    try {
      res = await requestJson({
        method: c.method, url, headers: this.headers(c.headers), body: c.body, timeoutMs: this.timeoutMs,
        verifyTls: this.opts.verifyTls !== false, agent: url.startsWith('https:') ? this.httpsAgent : this.httpAgent,
      });
    } catch (err) {
      throw this.transportError(c, err);
    }
    tapSafely(this.opts.wire, 'in', JSON.stringify({ status: res.status, body: res.body ?? res.text }), 'rest');
    this.logger.debug(`Dojo ${c.method} ${c.path.split('?')[0]} -> ${res.status} (${Date.now() - started} ms)`);
    if (res.status >= 200 && res.status < 300) {
      if (c.response && res.body !== undefined) {
        const why = checkRest(c.response, res.body);
        if (why) this.warnOnce(`Dojo's answer to ${c.what} does not match its spec (${this.redact(why)}); used it anyway`);
      }
      return res.body;
    }
    throw this.httpError(c, res);
  }

  private transportError(c: Call, err: unknown): PosError {
    const details = err instanceof PosError ? err.details : undefined;
    const why = this.redact((err as Error).message);
    if (isTransportFailure(details) && !details.reached) {
      // Nothing reached Dojo, so nothing was created: the reference stays free for a retry.
      return new PosError('not_connected', `could not reach Dojo to ${c.what}: ${why}; nothing was sent`, details);
    }
    return new PosError('protocol_error',
      `no usable answer from Dojo to ${c.what}: ${why}; Dojo may or may not have acted on it`, details);
  }

  private httpError(c: Call, res: JsonResponse): PosError {
    const problem = (res.body && typeof res.body === 'object' ? res.body : {}) as DojoProblem;
    const statusLine = `${res.status} ${http.STATUS_CODES[res.status] ?? 'error'}`;
    const said = describeProblem(problem, res.text);
    const trace = traceOf(problem);
    const tail = `${said ? `: ${said}` : ''}${trace ? ` (trace ${trace})` : ''}`;
    const details = { status: res.status, problem: this.redactValue(res.body), ...(trace ? { traceId: trace } : {}) };
    let error: PosError;
    if (res.status === 401 || res.status === 403) {
      error = new PosError('unauthorized', res.status === 401
        ? `Dojo did not accept the API key when asked to ${c.what} (${statusLine})${tail}. Check the key, and that a sk_sandbox_ key is not used for production or the reverse`
        : `Dojo did not accept the API key for this: the key may not ${c.what} (${statusLine})${tail}. Check its permissions and the software house / reseller ids`, details);
    } else if (res.status === 404) {
      error = new PosError('not_found', `Dojo does not know ${c.subject ?? 'what was asked for'}, so it could not ${c.what} (${statusLine})${tail}`, details);
    } else if (res.status >= 500) {
      error = new PosError('protocol_error', `Dojo failed to ${c.what} (${statusLine})${tail}; it may or may not have been done`, details);
    } else {
      error = new PosError('provider_error', `Dojo refused to ${c.what} (${statusLine})${tail}`, details);
    }
    error.message = this.redact(error.message);
    this.logger.debug(error.message);
    return error;
  }

  /** The problem body rides along in the error's details, which may be logged: the key is masked there too. */
  private redactValue(value: unknown): unknown {
    if (value === undefined) return null;
    try {
      return JSON.parse(this.redact(JSON.stringify(value)));
    } catch {
      return null;
    }
  }

  private expectId<T extends { id: string }>(value: unknown, label: string): T {
    if (!value || typeof value !== 'object' || typeof (value as { id?: unknown }).id !== 'string') {
      throw this.malformed(`read the ${label}`, 'has no id');
    }
    return value as T;
  }

  private expectSession(value: unknown, what: string): DojoTerminalSession {
    if (!isSession(value)) throw this.malformed(what, 'has no session id or status');
    return value;
  }

  private malformed(what: string, why: string): PosError {
    return new PosError('protocol_error', `Dojo's answer when asked to ${what} ${why}; Dojo may or may not have acted on it`);
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    if (this.warned.size >= MAX_WARNINGS) this.warned.clear();
    this.warned.add(message);
    this.logger.warn(message);
  }
}

function isSession(value: unknown): value is DojoTerminalSession {
  return !!value && typeof value === 'object' && typeof (value as DojoTerminalSession).id === 'string' &&
    typeof (value as DojoTerminalSession).status === 'string';
}

const seg = (id: string): string => encodeURIComponent(id);

/** RFC 7807 as Dojo sends it: the title, the detail, then each field's errors. */
export function describeProblem(p: DojoProblem, text: string): string {
  const parts: string[] = [];
  const title = typeof p.title === 'string' ? p.title.trim() : '';
  const detail = typeof p.detail === 'string' ? p.detail.trim() : '';
  if (title) parts.push(title);
  if (detail && detail !== title) parts.push(detail);
  if (p.errors && typeof p.errors === 'object') {
    for (const [field, value] of Object.entries(p.errors).slice(0, 10)) {
      const list = Array.isArray(value) ? value.map(String) : [String(value)];
      parts.push(`${field}: ${list.join(', ')}`);
    }
  }
  if (parts.length === 0 && text.trim() && !text.trim().startsWith('<')) parts.push(text.trim().replace(/\s+/g, ' '));
  const said = parts.join('; ');
  return said.length > 500 ? `${said.slice(0, 500)}…` : said;
}

function traceOf(p: DojoProblem): string | undefined {
  const t = p.traceId ?? p.extensions?.traceId;
  return typeof t === 'string' && t ? t.slice(0, 100) : undefined;
}
