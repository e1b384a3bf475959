// Paymentsense pay at table: the EPoS holds one WebSocket to /pat and answers the terminals'
// requests on it (protocol notes 4). Connect serves one PAT client per account and the newest
// displaces the older with "Connection Discontinued" [doc]: that ends this connection as
// `displaced`, with no retry (retrying would displace the other EPoS in turn, for ever).
// The terminal's own timeouts are not documented, so every answer is sent within a limit
// (default 5 s); a flow slower than that is told in the status, and the terminal gets an error
// rather than silence.

import { isPosError } from '../../core/errors';
import { InboundError, type InboundHandler, type InboundRequest, type LinkStatus, type RequestLink, type RequestServer } from '../../core/inbound';
import { JsonRpcError, JsonRpcPeer, RPC_ERRORS, type JsonRpcPeerOptions } from '../../core/jsonrpc';
import { ConnectionPeer } from '../../core/connection-peer';
import { LeasedConnection, type Runnable } from '../../core/leased-connection';
import type { ConnectionLease } from '../../core/leased-provider';
import { Listeners } from '../../core/listeners';
import { makeRedactor, type Redactor } from '../../core/redact';
import { ReconnectingSocket, defaultClassifyFailure } from '../../core/socket';
import { silentLogger, type ConnectionState, type Logger, type NotificationEvent } from '../../core/types';
import { checkPatAnswer } from './pat-schemas';
import { DISCONTINUED, ERROR_MESSAGE, FINAL_RECEIPT_FLAG, NO_ANSWER_METHODS, PAT_METHODS, isObject, normaliseParams, patMethodOf, tableIdOf, type PatMethod } from './pat-wire';
import { paymentsenseUrl, type PaymentsenseEndpoint } from './url';
import { PAT_PATH } from './wire';

export interface PatOptions extends PaymentsenseEndpoint {
  /** Adds the valueless final-pos-receipt-request flag: the terminal then asks for a final receipt [doc]. */
  finalPosReceipt?: boolean;
  verifyTls?: boolean;
  logger?: Logger;
  /** How long the flow has to answer a terminal request. Default 5000. */
  answerLimitMs?: number;
  /** transactionResponse / tableUnlock sent with an id are acknowledged for the flow after this long. Default 1000. */
  ackAfterMs?: number;
  /** Wire method name -> PAT method, for spellings the defaults miss. */
  methodAliases?: Readonly<Record<string, string>>;
  heartbeatIntervalMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** With a shared journal: one instance at a time holds /pat (the others show standby). */
  lease?: () => Promise<ConnectionLease>;
}

/** The error types a flow may name in msg.error.type; the catch-all first. Connect documents none [inferred]. */
export const PAT_ERROR_TYPES: readonly string[] = Object.freeze(['EPOS_ERROR', 'TABLE_NOT_FOUND', 'TABLE_LOCKED']);
/** JSON-RPC code of our error answers: Connect documents no application codes [inferred]. */
const EPOS_ERROR_CODE = -32000;
const DEFAULT_ANSWER_LIMIT_MS = 5000;
const DEFAULT_ACK_AFTER_MS = 1000;
/** Methods Connect may use for a keepalive if it is JSON-RPC rather than a ping frame [inferred]. */
const PING_LIKE = /^(ping|heartbeat|keep-?alive)$/i;
/** Needs a table to be answered. */
const NEEDS_TABLE: ReadonlySet<string> = new Set<PatMethod>(['tableLockRequest', 'posReceiptRequest', 'finalPOSReceiptRequest']);

/** The /pat URL: the PAC URL's host and query on the PAT path, plus the flag when asked for. */
export function patUrl(e: PaymentsenseEndpoint, finalPosReceipt: boolean): string {
  const url = paymentsenseUrl(e, PAT_PATH);
  // URLSearchParams would write `flag=`; the documented flag has no value.
  return finalPosReceipt ? `${url}&${FINAL_RECEIPT_FLAG}` : url;
}

/** With pay at table off: every PAT method is known (so request-in nodes validate) and none can be served. */
export const PAT_OFF: RequestServer = Object.freeze({
  methods: PAT_METHODS,
  unavailable: 'pay at table is off on this Paymentsense connection: tick "Pay at table" on the connection to serve the terminals\' table requests',
  serve: () => undefined,
});

export class PatServer implements RequestServer, RequestLink, Runnable {
  readonly methods: readonly string[] = PAT_METHODS;
  readonly label = 'tables';
  readonly link: RequestLink = this;

  private readonly socket: ReconnectingSocket;
  private readonly runner: Runnable;
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly answerLimitMs: number;
  private readonly ackAfterMs: number;
  private readonly statusListeners = new Listeners<LinkStatus>((m) => this.log('error', `a status listener failed: ${m}`));
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.log('error', `a notification listener failed: ${m}`));
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly peer: ConnectionPeer;
  private served: ReadonlySet<string> = new Set();
  private handler: InboundHandler | undefined;
  private slow: LinkStatus['slow'];
  private localIds = 0;

  constructor(private readonly opts: PatOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    this.logger = opts.logger ?? silentLogger;
    this.redact = makeRedactor([opts.token]);
    this.answerLimitMs = positive(opts.answerLimitMs, DEFAULT_ANSWER_LIMIT_MS);
    this.ackAfterMs = Math.min(positive(opts.ackAfterMs, DEFAULT_ACK_AFTER_MS), this.answerLimitMs);
    // A config that cannot work fails now, before any socket exists.
    patUrl(opts, opts.finalPosReceipt === true);
    this.socket = new ReconnectingSocket({
      url: () => patUrl(this.opts, this.opts.finalPosReceipt === true),
      redact: this.redact,
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      // The discontinuation may come only as the close reason.
      classifyFailure: (f) => (f.reason && DISCONTINUED.test(f.reason) ? 'displaced' : defaultClassifyFailure(f)),
      ...(opts.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
    this.peer = new ConnectionPeer(this.socket, (send) => this.makePeer(send));
    const socket = this.socket;
    const own: Runnable = {
      get state() { return socket.state; },
      start: () => this.startSocket(),
      stop: () => this.stopSocket(),
      onState: (listener) => {
        this.socket.on('state', listener);
        return () => this.socket.off('state', listener);
      },
    };
    this.runner = opts.lease ? new LeasedConnection(own, opts.lease, this.logger, 'Paymentsense pay at table') : own;
    this.runner.onState(() => this.statusListeners.emit(this.status));
  }

  get state(): ConnectionState {
    return this.runner.state;
  }

  get status(): LinkStatus {
    return { state: this.runner.state, ...(this.slow ? { slow: this.slow } : {}) };
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    return this.runner.onState(listener);
  }

  onStatus(listener: (status: LinkStatus) => void): () => void {
    return this.statusListeners.add(listener);
  }

  /** Terminal errorMessages (event `pat_error`) for notification-in nodes. */
  onNotification(listener: (event: NotificationEvent) => void): () => void {
    return this.notificationListeners.add(listener);
  }

  start(): void {
    this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  serve(methods: ReadonlySet<string>, handler: InboundHandler): void {
    this.served = new Set([...methods].filter((m) => this.methods.includes(m)));
    this.handler = handler;
  }

  // ---- connection ---------------------------------------------------------------------------

  private starting: Promise<void> | undefined;
  private wanted = false;

  private startSocket(): void {
    this.wanted = true;
    if (!this.prepare) return this.socket.start();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(() => {
      if (this.wanted) this.socket.start();
    }, (err: Error) => this.log('error', `could not start: ${err.message}`));
  }

  private async stopSocket(): Promise<void> {
    this.wanted = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.peer.close();
    await this.socket.stop();
  }

  /** The peer of a new connection (see ConnectionPeer). */
  private makePeer(send: JsonRpcPeerOptions['send']): JsonRpcPeer {
    const peer = new JsonRpcPeer({
      send,
      logger: this.logger,
      redact: this.redact,
      onUnmatchedResponse: (response) => {
        const error = isObject(response.error) ? response.error : undefined;
        if (error) this.onTerminalError({ code: error.code, message: error.message, ...(isObject(error.data) ? error.data : {}) });
      },
    });
    peer.setFallback((params, ctx) => this.onMessage(ctx.method, params, ctx.id));
    peer.onNotification((method, params) => {
      try {
        void Promise.resolve(this.onMessage(method, params, null)).catch(() => undefined);
      } catch {
        // Already logged; a notification cannot be answered.
      }
    });
    return peer;
  }


  // ---- terminal messages --------------------------------------------------------------------

  /** Every request and notification from the terminal. Throws JsonRpcError to answer with an error. */
  private onMessage(wire: string, params: unknown, id: string | number | null): unknown {
    const method = patMethodOf(wire, this.opts.methodAliases);
    if (method === ERROR_MESSAGE) {
      this.onTerminalError(params);
      return {};
    }
    if (method === undefined) {
      if (PING_LIKE.test(wire)) return {};
      this.log('warn', `the terminal sent ${JSON.stringify(wire.slice(0, 60))}, which is not a pay-at-table message this pack knows; ${id === null ? 'dropped' : 'answered method not found'}`);
      throw new JsonRpcError(RPC_ERRORS.methodNotFound, `Method not found: ${wire.slice(0, 60)}`);
    }
    const expectsAnswer = !NO_ANSWER_METHODS.has(method);
    if (expectsAnswer && id === null) {
      this.log('warn', `the terminal sent ${method} without an id: it cannot be answered, dropped`);
      return undefined;
    }
    if (NEEDS_TABLE.has(method) && tableIdOf(params) === undefined) {
      this.log('warn', `the terminal sent ${method} without a table id; answered invalid params`);
      throw new JsonRpcError(RPC_ERRORS.invalidParams, `${method} names no table (tableId)`);
    }
    const handler = this.handler;
    if (!handler || !this.served.has(method)) {
      if (!expectsAnswer) {
        // The terminal has already done it (taken the money, let the table go): refusing would not undo it.
        this.log('warn', `${method} arrived but no request-in node serves it; acknowledged, and only this log has it: ${this.redact(JSON.stringify(params) ?? '').slice(0, 400)}`);
        return {};
      }
      this.log('warn', `the terminal sent ${method}, but no flow serves it; answered with an error`);
      throw new JsonRpcError(EPOS_ERROR_CODE, `${method} is not served by this EPoS (no flow handles it)`);
    }
    const request: InboundRequest = {
      provider: 'paymentsense',
      method,
      id: id === null ? `pat-local-${++this.localIds}` : String(id),
      params: normaliseParams(method, params),
      receivedAt: new Date().toISOString(),
      checkResult: (result) => checkPatAnswer(method, result),
      errorTypes: PAT_ERROR_TYPES,
      expectsAnswer,
    };
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(handler(request));
    } catch (err) {
      pending = Promise.reject(err);
    }
    if (!expectsAnswer) return this.acknowledge(request, pending, id !== null);
    return this.answer(request, pending);
  }

  /** The flow's answer within the limit, checked; else an error, and the status says the flow is too slow. */
  private answer(request: InboundRequest, pending: Promise<unknown>): Promise<unknown> {
    const method = request.method as PatMethod;
    return this.within(pending, this.answerLimitMs).then((outcome) => {
      if (outcome === TOO_SLOW) {
        this.setSlow({ method, limitMs: this.answerLimitMs });
        this.log('warn', `the flow did not answer ${method} within ${this.answerLimitMs} ms; the terminal was sent an error`);
        pending.then((answer) => this.lateAnswer(request, answer), () => undefined);
        throw new JsonRpcError(EPOS_ERROR_CODE, `the EPoS did not answer ${method} in time`);
      }
      if (this.slow) this.setSlow(undefined);
      if ('error' in outcome) throw toRpcError(outcome.error, this.redact);
      const problem = checkPatAnswer(method, outcome.result);
      if (problem) {
        this.log('warn', `the answer to ${method} did not match its schema (${problem}); the terminal was sent an error`);
        throw new JsonRpcError(EPOS_ERROR_CODE, `the EPoS answer to ${method} was not valid`);
      }
      return outcome.result;
    });
  }

  /** transactionResponse / tableUnlock: the flow's acknowledgement if it comes within 1 s, else ours. */
  private acknowledge(request: InboundRequest, pending: Promise<unknown>, answered: boolean): unknown {
    if (!answered) {
      pending.catch(() => undefined);
      return undefined;
    }
    return this.within(pending, this.ackAfterMs).then((outcome) => {
      if (outcome !== TOO_SLOW && 'result' in outcome && checkPatAnswer(request.method as PatMethod, outcome.result) === undefined) return outcome.result;
      return {};
    });
  }

  private within(pending: Promise<unknown>, limitMs: number): Promise<typeof TOO_SLOW | { result: unknown } | { error: unknown }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(TOO_SLOW);
      }, limitMs);
      this.timers.add(timer);
      pending.then(
        (result) => resolve({ result }),
        (error: unknown) => resolve({ error }),
      ).finally(() => {
        clearTimeout(timer);
        this.timers.delete(timer);
      });
    });
  }

  /**
   * The flow answered after the terminal was told it was too slow. The answer is not sent, but
   * the flow may have acted on it (a table it locked now waits for an unlock that will never
   * come), so notification-in nodes hear `pat_late_answer` and the flow can undo it.
   */
  private lateAnswer(request: InboundRequest, answer: unknown): void {
    this.log('warn', `the flow answered ${request.method} after the terminal had been told it was too slow; that answer was not sent`);
    const tableId = isObject(request.params) && typeof request.params.tableId === 'string' ? request.params.tableId : undefined;
    this.notificationListeners.emit({
      provider: 'paymentsense',
      event: 'pat_late_answer',
      data: { method: request.method, ...(tableId !== undefined ? { tableId } : {}), answer },
      receivedAt: new Date().toISOString(),
    });
  }

  private setSlow(slow: LinkStatus['slow']): void {
    this.slow = slow;
    this.statusListeners.emit(this.status);
  }

  /** A terminal errorMessage (or an error frame without id): Connection Discontinued ends the connection. */
  private onTerminalError(params: unknown): void {
    const p = isObject(params) ? params : {};
    const text = [p.message, p.userMessage, p.code].filter((v) => typeof v === 'string' || typeof v === 'number').join(' ');
    const event: NotificationEvent = {
      provider: 'paymentsense',
      event: 'pat_error',
      ...(typeof p.tid === 'string' ? { terminalId: p.tid } : {}),
      data: params,
      receivedAt: new Date().toISOString(),
    };
    this.notificationListeners.emit(event);
    if (DISCONTINUED.test(text)) {
      // Another EPoS now holds pay at table for this account: reconnecting would take it back and start a tug of war.
      this.socket.halt('displaced', 'Connection Discontinued: another EPoS connected to pay at table for this account');
      return;
    }
    this.log('warn', `the terminal reported an error: ${this.redact(text).slice(0, 200) || '(no message)'}`);
  }

  private log(level: keyof Logger, text: string): void {
    try {
      this.logger[level](`Paymentsense pay at table: ${this.redact(text)}`);
    } catch {
      // A broken logger must not break serving.
    }
  }
}

const TOO_SLOW = Symbol('too slow');

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(value, 0x7fffffff) : fallback;
}

/** A flow's error answer in JSON-RPC shape: the type it named in data, never a stack. */
function toRpcError(err: unknown, redact: Redactor): JsonRpcError {
  if (err instanceof InboundError) return new JsonRpcError(EPOS_ERROR_CODE, redact(err.message), { type: err.type });
  if (isPosError(err)) return new JsonRpcError(EPOS_ERROR_CODE, redact(err.message), { type: PAT_ERROR_TYPES[0] });
  return new JsonRpcError(EPOS_ERROR_CODE, 'the EPoS could not answer', { type: PAT_ERROR_TYPES[0] });
}

