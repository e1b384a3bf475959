// A JSON-RPC 2.0 peer that is client and server on one transport. Providers use both roles on
// the same socket (a terminal asks us to verify a signature while our `sale` is pending; an EPoS
// data API calls us), so requests, responses and notifications can arrive interleaved in any order.
// The transport is reduced to send(text) / receive(text) so the peer is testable in memory.
//
// Classification of an inbound object, chosen so that two peers can never talk in a loop:
//   has `result` or `error`  -> a response: correlated, never answered (not even when malformed);
//   else has `method`        -> a request (with `id`) or a notification (without);
//   else                     -> an invalid request, answered -32600 with id null.
// A malformed frame without `method` is never answered with its own id: in a peer, that id may be
// the other side's id space, and echoing it could settle one of *their* pending requests.

import { PosError } from './errors';
import { MAX_NAME_CHARS, MAX_NESTING, nestedTooDeep } from './frame-guard';
import { redactHead } from './redact';
import { type Logger, silentLogger } from './types';
import type { SendTiming } from './write-cork';

export const RPC_ERRORS = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
} as const;

/** Code given to a received error object that lacks a numeric `code` (a provider's own shape). */
const NONSTANDARD_ERROR_CODE = -32000;

export type JsonRpcId = string | number | null;

/** A JSON-RPC error object: thrown by a handler to be sent, or the rejection of request(). */
export class JsonRpcError extends Error {
  readonly code: number;
  readonly data?: unknown;
  /** The error object exactly as received from the peer (set only on received errors). */
  raw?: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/**
 * A result already serialised: a handler may return one and its text is sent as the result as
 * is. For a server that keeps answers to send again: one string is far cheaper to keep than the
 * object graph it came from.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

export type RequestHandler = (
  params: unknown,
  ctx: { method: string; id: string | number | null },
) => unknown | Promise<unknown>;

export interface UnmatchedResponseInfo {
  /** True when the response answers a request of ours that already timed out. */
  late: boolean;
  /** The method of that timed-out request, when known. */
  method?: string;
}

export interface JsonRpcPeerOptions {
  /**
   * Returns false when the transport is not open. `timing` says what the peer expects next, so
   * a transport may gather frames into one write: `turn` for an answer sent while the answers
   * to other requests are still being built (they come in separate callbacks), `now` for a
   * request with no other in flight, `tick` otherwise (see write-cork.ts).
   */
  send: (text: string, timing?: SendTiming) => boolean | void;
  /** Per-request timeout; default 30000. `Infinity` disables the timer. */
  defaultTimeoutMs?: number;
  logger?: Logger;
  /** Applied to anything logged (frames may carry secrets). */
  redact?: (text: string) => string;
  /** Outgoing ids become `${idPrefix}${n}` strings; otherwise increasing integers. */
  idPrefix?: string;
  /**
   * Wire shape of the error objects we send (default `{ code, message, data? }`). A provider may
   * expect its own (e.g. `{ errorType, debugMessage? }`), including for the peer's own
   * -32700/-32600/-32601.
   */
  formatError?: (err: JsonRpcError) => unknown;
  /** Echo the request's `method` in our responses (for a provider whose response schema requires it). */
  echoMethod?: boolean;
  /**
   * A response that matches no pending request: an error with id null (e.g. a provider's
   * "Connection Discontinued"), or a late answer to a request that timed out, which for a
   * payment may carry the real outcome. Called after the frame is logged.
   */
  onUnmatchedResponse?: (response: Readonly<Record<string, unknown>>, info: UnmatchedResponseInfo) => void;
}

interface Pending {
  id: string | number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** performance.now() by which the answer must be in; Infinity: no limit. */
  deadline: number;
  method: string;
  timeoutMs: number;
}

interface Registration {
  handler: RequestHandler;
}

/** What dispatching one inbound message yields: nothing to send, a frame, or a frame later. */
type Reply = string | undefined | Promise<string | undefined>;

const DEFAULT_TIMEOUT_MS = 30000;
const MAX_TIMER_MS = 0x7fffffff; // setTimeout fires at once above this
const LOG_SNIPPET_CHARS = 200;
const LOG_MESSAGE_CHARS = 2000;
const TIMED_OUT_MEMORY = 256;
/**
 * Items of an inbound batch beyond which it is refused whole, with one error: no provider
 * batches, and each item is handled (and, when invalid, answered and logged) in one go.
 */
export const MAX_BATCH_ITEMS = 100;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStructured(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

function isId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function idJson(id: JsonRpcId): string {
  return typeof id === 'number' ? String(id) : id === null ? 'null' : JSON.stringify(id);
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  try {
    return String(e);
  } catch {
    return 'unprintable value';
  }
}

export class JsonRpcPeer {
  private readonly send: (text: string, timing?: SendTiming) => boolean | void;
  private readonly logger: Logger;
  private readonly redact: ((text: string) => string) | undefined;
  private readonly defaultTimeoutMs: number;
  private readonly idPrefix: string | undefined;
  private readonly formatError: ((err: JsonRpcError) => unknown) | undefined;
  private readonly echoMethod: boolean;
  private readonly onUnmatched: JsonRpcPeerOptions['onUnmatchedResponse'];

  private readonly pending = new Map<string | number, Pending>();
  private readonly handlers = new Map<string, Registration>();
  // Copy-on-write, so dispatch iterates without copying and listeners may unsubscribe mid-call.
  private listeners: ReadonlyArray<(method: string, params: unknown) => void> = [];
  private fallback: RequestHandler | undefined;
  // Ids of requests that timed out recently, so a late answer is reported as such.
  private readonly timedOut = new Map<string | number, string>();
  private counter = 0;
  private closed = false;
  /**
   * One timer for every pending request, armed for the earliest deadline, instead of one per
   * request: arming and clearing a timer for each round trip was a measurable share of a
   * request's cost at one in flight. An answer leaves the timer as it is; when it fires it ends
   * what is overdue and re-arms for the next deadline. It holds the process open only while a
   * request is pending.
   */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  /** Answers to single requests whose handler has not settled yet. */
  private answering = 0;

  constructor(opts: JsonRpcPeerOptions) {
    if (typeof opts?.send !== 'function') throw new TypeError('JsonRpcPeer needs a send(text) function');
    this.send = opts.send;
    this.logger = opts.logger ?? silentLogger;
    this.redact = opts.redact;
    const t = opts.defaultTimeoutMs;
    this.defaultTimeoutMs = t === undefined || Number.isNaN(t) ? DEFAULT_TIMEOUT_MS : t;
    this.idPrefix = opts.idPrefix;
    this.formatError = opts.formatError;
    this.echoMethod = opts.echoMethod === true;
    this.onUnmatched = opts.onUnmatchedResponse;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  request<T = unknown>(method: string, params?: unknown, opts?: { timeoutMs?: number; id?: string | number }): Promise<T> {
    if (this.closed) return Promise.reject(new PosError('closed', `Cannot send "${method}": the connection was closed`));
    if (typeof method !== 'string' || method === '') {
      return Promise.reject(new PosError('bad_input', 'A JSON-RPC method name must be a non-empty string'));
    }
    if (params !== undefined && !isStructured(params)) {
      return Promise.reject(new PosError('bad_input', `The params of "${method}" must be an object or an array`));
    }
    let id: string | number;
    if (opts?.id !== undefined) {
      id = opts.id;
      if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) {
        return Promise.reject(new PosError('bad_input', 'A JSON-RPC request id must be a string or a finite number'));
      }
      if (this.pending.has(id)) {
        return Promise.reject(new PosError('bad_input', `A request with id ${idJson(id)} is already pending`));
      }
    } else {
      id = this.nextId();
    }

    let text: string;
    try {
      const p = params === undefined ? undefined : JSON.stringify(params);
      text =
        '{"jsonrpc":"2.0","id":' + idJson(id) + ',"method":' + JSON.stringify(method) + (p === undefined ? '' : ',"params":' + p) + '}';
    } catch (e) {
      return Promise.reject(new PosError('bad_input', `The params of "${method}" cannot be sent as JSON: ${(e as Error)?.message}`));
    }

    const timeoutMs = this.timeoutFor(opts?.timeoutMs);
    let entry!: Pending;
    const promise = new Promise<T>((resolve, reject) => {
      entry = { id, resolve: resolve as (value: unknown) => void, reject, deadline: timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs, method, timeoutMs };
    });
    // Registered before send(): a synchronous transport may deliver the answer inside send().
    this.pending.set(id, entry);
    this.watch(entry.deadline);

    let sent: boolean | void;
    try {
      sent = this.send(text, this.pending.size > 1 ? 'tick' : 'now');
    } catch (e) {
      this.log('debug', `send of "${method}" threw: ${describe(e)}`);
      sent = false;
    }
    if (sent === false && this.pending.get(id) === entry) {
      this.settle(entry);
      entry.reject(new PosError('not_connected', `Cannot send "${method}": the connection is not open`));
    }
    return promise;
  }

  notify(method: string, params?: unknown): boolean {
    if (this.closed) return false;
    if (typeof method !== 'string' || method === '') {
      throw new PosError('bad_input', 'A JSON-RPC method name must be a non-empty string');
    }
    if (params !== undefined && !isStructured(params)) {
      throw new PosError('bad_input', `The params of "${method}" must be an object or an array`);
    }
    let text: string;
    try {
      const p = params === undefined ? undefined : JSON.stringify(params);
      text = '{"jsonrpc":"2.0","method":' + JSON.stringify(method) + (p === undefined ? '' : ',"params":' + p) + '}';
    } catch (e) {
      throw new PosError('bad_input', `The params of "${method}" cannot be sent as JSON: ${(e as Error)?.message}`);
    }
    try {
      return this.send(text) !== false;
    } catch (e) {
      this.log('debug', `send of notification "${method}" threw: ${describe(e)}`);
      return false;
    }
  }

  handle(method: string, handler: RequestHandler): () => void {
    if (typeof method !== 'string' || method === '') throw new PosError('bad_input', 'A JSON-RPC method name must be a non-empty string');
    if (typeof handler !== 'function') throw new PosError('bad_input', `The handler for "${method}" must be a function`);
    // Two owners of one method would silently steal each other's requests.
    if (this.handlers.has(method)) throw new PosError('bad_input', `The JSON-RPC method "${method}" already has a handler`);
    const reg: Registration = { handler };
    this.handlers.set(method, reg);
    return () => {
      // Only our own registration: a stale unregister must not remove a newer one.
      if (this.handlers.get(method) === reg) this.handlers.delete(method);
    };
  }

  setFallback(handler: RequestHandler | undefined): void {
    this.fallback = handler;
  }

  onNotification(listener: (method: string, params: unknown) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  receive(text: string): void {
    if (this.closed) return;
    // Last line of defence: whatever a peer sends, the process and the connection survive.
    try {
      if (nestedTooDeep(text)) {
        // Refused before JSON.parse, which alone would hold the event loop for a long time.
        this.warnFrame(`frame nested more than ${MAX_NESTING} levels deep dropped`, text);
        this.transmit(this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.invalidRequest, 'Invalid Request')));
        return;
      }
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        this.warnFrame('unparseable frame dropped', text);
        this.transmit(this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.parseError, 'Parse error')));
        return;
      }
      if (Array.isArray(msg)) {
        this.dispatchBatch(msg, text);
        return;
      }
      const reply = this.dispatch(msg, text);
      if (reply === undefined) return;
      if (typeof reply === 'string') this.transmit(reply);
      else {
        this.answering++;
        reply.then(this.transmitAnswer, this.answerFailed);
      }
    } catch (e) {
      this.log('error', `unexpected failure while handling a frame: ${describe(e)}`);
    }
  }

  failPending(err: Error): void {
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.deadlineTimer?.unref();
    for (const entry of entries) entry.reject(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failPending(new PosError('closed', 'The JSON-RPC connection was closed'));
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.armedFor = Infinity;
    this.timedOut.clear();
  }

  // ---- outbound helpers -------------------------------------------------------------------

  private nextId(): string | number {
    // Skips ids taken by caller-chosen ids; at most pending.size + 1 tries.
    let id: string | number = 0;
    for (let i = 0; i <= this.pending.size; i++) {
      const n = ++this.counter;
      id = this.idPrefix === undefined ? n : this.idPrefix + n;
      if (!this.pending.has(id)) break;
    }
    return id;
  }

  private timeoutFor(requested: number | undefined): number {
    const t = requested === undefined || Number.isNaN(requested) ? this.defaultTimeoutMs : requested;
    if (t === Infinity) return Infinity;
    return Math.min(Math.max(1, Math.floor(t)), MAX_TIMER_MS);
  }

  /** Makes sure the timer fires by `deadline`, and holds the process open while requests are pending. */
  private watch(deadline: number): void {
    if (deadline < this.armedFor) {
      clearTimeout(this.deadlineTimer);
      this.armedFor = deadline;
      this.deadlineTimer = setTimeout(this.expire, Math.max(1, Math.ceil(deadline - performance.now())));
    } else if (deadline !== Infinity && this.deadlineTimer !== undefined && !this.deadlineTimer.hasRef()) {
      this.deadlineTimer.ref();
    }
  }

  private readonly expire = (): void => {
    this.deadlineTimer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const entry of this.pending.values()) {
      if (entry.deadline <= now) this.timeOut(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Infinity) this.watch(next);
  };

  private timeOut(entry: Pending): void {
    const id = entry.id;
    this.settle(entry);
    this.timedOut.set(id, entry.method);
    if (this.timedOut.size > TIMED_OUT_MEMORY) this.timedOut.delete(this.timedOut.keys().next().value as string | number);
    entry.reject(new PosError('timeout', `No answer to "${entry.method}" within ${entry.timeoutMs} ms`, { method: entry.method, id }));
  }

  // Never throws: used as a promise callback, where a throw would be an unhandled rejection.
  private readonly transmit = (text: string | undefined, timing: SendTiming = 'tick'): void => {
    if (text === undefined) return;
    if (this.closed) {
      this.log('debug', 'reply dropped: the peer is closed');
      return;
    }
    try {
      if (this.send(text, timing) === false) this.log('debug', 'reply dropped: the connection is not open');
    } catch (e) {
      this.log('debug', `send of a reply threw: ${describe(e)}`);
    }
  };

  /** An answer a handler settled later: it may wait for the turn's end while others are still being built. */
  private readonly transmitAnswer = (text: string | undefined): void => {
    this.answering--;
    this.transmit(text, this.answering > 0 ? 'turn' : 'tick');
  };

  private readonly answerFailed = (e: unknown): void => {
    this.answering--;
    this.onReplyFailure(e);
  };

  private readonly onReplyFailure = (e: unknown): void => {
    this.log('error', `failed to build a reply: ${describe(e)}`);
  };

  private resultFrame(id: JsonRpcId, method: string, result: unknown): string {
    let body: string | undefined;
    try {
      body = result instanceof RawJson ? result.json : JSON.stringify(result);
    } catch (e) {
      this.log('error', `the result of "${method}" cannot be sent as JSON: ${describe(e)}`);
      return this.errorFrame(id, method, new JsonRpcError(RPC_ERRORS.internalError, 'Internal error'));
    }
    // `result` is required on success; a handler returning nothing means null.
    return (
      '{"jsonrpc":"2.0","id":' +
      idJson(id) +
      (this.echoMethod ? ',"method":' + JSON.stringify(method) : '') +
      ',"result":' +
      (body === undefined ? 'null' : body) +
      '}'
    );
  }

  private errorFrame(id: JsonRpcId, method: string | undefined, err: JsonRpcError): string {
    let body: string | undefined;
    if (this.formatError !== undefined) {
      try {
        body = JSON.stringify(this.formatError(err));
      } catch (e) {
        this.log('error', `formatError failed: ${describe(e)}`);
      }
    }
    if (body === undefined) {
      const code = Number.isInteger(err.code) ? err.code : RPC_ERRORS.internalError;
      const message = typeof err.message === 'string' ? err.message : 'Error';
      try {
        body = JSON.stringify(err.data === undefined ? { code, message } : { code, message, data: err.data });
      } catch (e) {
        this.log('error', `error data for "${method}" cannot be sent as JSON: ${describe(e)}`);
      }
      if (body === undefined) body = JSON.stringify({ code, message });
    }
    return (
      '{"jsonrpc":"2.0","id":' +
      idJson(id) +
      (this.echoMethod && method !== undefined ? ',"method":' + JSON.stringify(method) : '') +
      ',"error":' +
      body +
      '}'
    );
  }

  private thrownFrame(id: JsonRpcId, method: string, e: unknown): string {
    if (e instanceof JsonRpcError) return this.errorFrame(id, method, e);
    // The internal text stays here: it may describe our system or carry data the peer must not see.
    this.log('error', `handler for "${method}" failed: ${describe(e)}`);
    return this.errorFrame(id, method, new JsonRpcError(RPC_ERRORS.internalError, 'Internal error'));
  }

  // ---- inbound ----------------------------------------------------------------------------

  private dispatchBatch(items: unknown[], text: string): void {
    if (items.length === 0) {
      this.warnFrame('empty batch', text);
      this.transmit(this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.invalidRequest, 'Invalid Request')));
      return;
    }
    if (items.length > MAX_BATCH_ITEMS) {
      this.warnFrame(`batch of ${items.length} messages refused (at most ${MAX_BATCH_ITEMS})`, text);
      this.transmit(this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.invalidRequest, `Invalid Request: a batch may hold at most ${MAX_BATCH_ITEMS} messages`)));
      return;
    }
    const out: string[] = [];
    let waiting = 1; // the loop below holds one count until it has dispatched every item
    const done = (): void => {
      // The spec forbids an empty array: an all-notification (or all-response) batch gets nothing.
      if (--waiting === 0 && out.length > 0) this.transmit('[' + out.join(',') + ']');
    };
    const collect = (frame: string | undefined): void => {
      if (frame !== undefined) out.push(frame);
      done();
    };
    const failed = (e: unknown): void => {
      this.onReplyFailure(e);
      done();
    };
    for (let i = 0; i < items.length; i++) {
      const reply = this.dispatch(items[i], undefined);
      if (reply === undefined) continue;
      if (typeof reply === 'string') out.push(reply);
      else {
        waiting++;
        reply.then(collect, failed);
      }
    }
    done();
  }

  /** `text` is the frame when msg is the whole frame; batch items are re-serialised if logged. */
  private dispatch(msg: unknown, text: string | undefined): Reply {
    if (!isObject(msg)) {
      this.warnFrame('not a JSON-RPC message', text, msg);
      return this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.invalidRequest, 'Invalid Request'));
    }
    if (msg.result !== undefined || msg.error !== undefined) {
      this.receiveResponse(msg, text);
      return undefined;
    }
    const method = msg.method;
    const id = msg.id;
    if (method === undefined) {
      // A response that lost both result and error still belongs to our request.
      const entry = isId(id) ? this.lookup(id) : undefined;
      if (entry !== undefined) {
        this.malformedResponse(entry, msg, text);
        return undefined;
      }
      this.warnFrame('invalid request dropped', text, msg);
      return this.errorFrame(null, undefined, new JsonRpcError(RPC_ERRORS.invalidRequest, 'Invalid Request'));
    }
    const hasId = id !== undefined;
    // An id of a megabyte would be kept, logged and echoed in the answer: refused as a name is.
    const idOk = !hasId || (isId(id) && !(typeof id === 'string' && id.length > MAX_NAME_CHARS));
    const params = msg.params;
    // A method name of a megabyte is not a name: refused here, not quoted in every log line and error.
    const methodOk = typeof method === 'string' && method.length <= MAX_NAME_CHARS;
    if (msg.jsonrpc !== '2.0' || !methodOk || !idOk || (params !== undefined && !isStructured(params))) {
      this.warnFrame('invalid request dropped', text, msg);
      return this.errorFrame(
        hasId && idOk ? (id as JsonRpcId) : null,
        methodOk ? (method as string) : undefined,
        new JsonRpcError(RPC_ERRORS.invalidRequest, 'Invalid Request'),
      );
    }
    if (!hasId) {
      this.emitNotification(method as string, params);
      return undefined;
    }
    return this.invoke(method as string, params, id as JsonRpcId);
  }

  private invoke(method: string, params: unknown, id: JsonRpcId): Reply {
    const reg = this.handlers.get(method);
    const handler = reg !== undefined ? reg.handler : this.fallback;
    if (handler === undefined) {
      this.log('warn', `no handler for inbound request "${method}"`);
      return this.errorFrame(id, method, new JsonRpcError(RPC_ERRORS.methodNotFound, 'Method not found'));
    }
    try {
      const r = handler(params, { method, id });
      if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as { then?: unknown }).then === 'function') {
        // Not awaited: the next frame is dispatched while this handler is still working.
        return Promise.resolve(r).then(
          (value) => this.resultFrame(id, method, value),
          (e: unknown) => this.thrownFrame(id, method, e),
        );
      }
      return this.resultFrame(id, method, r);
    } catch (e) {
      return this.thrownFrame(id, method, e);
    }
  }

  private emitNotification(method: string, params: unknown): void {
    const listeners = this.listeners;
    if (listeners.length === 0) {
      this.log('debug', `notification "${method}" ignored: nobody listens`);
      return;
    }
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](method, params);
      } catch (e) {
        this.log('error', `notification listener for "${method}" failed: ${describe(e)}`);
      }
    }
  }

  private lookup(id: string | number | null): Pending | undefined {
    if (id === null) return undefined;
    const entry = this.pending.get(id);
    if (entry !== undefined || this.pending.size === 0) return entry;
    // Some servers echo 7 as "7" or the reverse; tolerated, and only paid for on a miss.
    if (typeof id === 'number') return this.pending.get(String(id));
    const n = Number(id);
    return id !== '' && String(n) === id ? this.pending.get(n) : undefined;
  }

  private receiveResponse(msg: Record<string, unknown>, text: string | undefined): void {
    const id = msg.id;
    const entry = isId(id) ? this.lookup(id) : undefined;
    if (entry === undefined) {
      this.unmatchedResponse(msg, text);
      return;
    }
    const error = msg.error;
    const result = msg.result;
    // Tolerated: `"error": null` beside a result, and `"result": null` beside an error.
    const isError = error !== undefined && error !== null;
    if (msg.jsonrpc !== '2.0' || (isError ? (result !== undefined && result !== null) || !isObject(error) : result === undefined)) {
      this.malformedResponse(entry, msg, text);
      return;
    }
    this.settle(entry);
    if (!isError) {
      entry.resolve(result);
      return;
    }
    const e = error as Record<string, unknown>;
    const code = typeof e.code === 'number' && Number.isFinite(e.code) ? e.code : NONSTANDARD_ERROR_CODE;
    const message = typeof e.message === 'string' ? e.message : `"${entry.method}" failed (error object without a message)`;
    const err = new JsonRpcError(code, message, e.data);
    err.raw = error;
    entry.reject(err);
  }

  private settle(entry: Pending): void {
    // By the id we sent: the echoed one may differ in type (see lookup).
    this.pending.delete(entry.id);
    // Nothing left to time: the armed timer no longer holds the process open (see deadlineTimer).
    if (this.pending.size === 0) this.deadlineTimer?.unref();
  }

  private malformedResponse(entry: Pending, msg: Record<string, unknown>, text: string | undefined): void {
    this.warnFrame(`malformed response to "${entry.method}"`, text, msg);
    this.settle(entry);
    entry.reject(new PosError('protocol_error', `The answer to "${entry.method}" was not a valid JSON-RPC response`));
  }

  private unmatchedResponse(msg: Record<string, unknown>, text: string | undefined): void {
    const id = msg.id;
    const method = isId(id) && id !== null ? this.timedOut.get(id) : undefined;
    const late = method !== undefined;
    if (late) this.timedOut.delete(id as string | number);
    this.warnFrame(late ? `late response to timed-out "${method}" dropped` : 'response matching no pending request dropped', text, msg);
    if (this.onUnmatched === undefined) return;
    try {
      this.onUnmatched(msg, late ? { late, method } : { late });
    } catch (e) {
      this.log('error', `onUnmatchedResponse failed: ${describe(e)}`);
    }
  }

  // ---- logging ----------------------------------------------------------------------------

  /**
   * Only the head that is shown is redacted (with a margin, so a secret cut by the limit is
   * still masked whole): redacting a whole megabyte frame to log 200 characters of it held
   * the event loop.
   */
  private log(level: keyof Logger, message: string, limit = LOG_MESSAGE_CHARS): void {
    try {
      const { head, cut } = redactHead(message, this.redact ?? ((t) => t), limit);
      this.logger[level]('JSON-RPC: ' + (cut ? `${head}… (${message.length} chars)` : head));
    } catch {
      // A broken logger or redactor must not take the connection down with it.
    }
  }

  private warnFrame(what: string, text: string | undefined, value?: unknown): void {
    let frame = text;
    if (frame === undefined) {
      try {
        // A batch item: re-serialised to be shown, so it is one of at most MAX_BATCH_ITEMS.
        frame = JSON.stringify(value);
      } catch {
        frame = undefined;
      }
    }
    this.log('warn', `${what}: ${frame === undefined ? typeof value : frame}`, what.length + 2 + LOG_SNIPPET_CHARS);
  }
}
