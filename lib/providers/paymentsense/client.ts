// Paymentsense Connect, pay at counter: one WebSocket, one JSON-RPC peer, both directions at
// once (our `sale` is pending while Connect asks us to verify a signature).

import { setTimeout as sleep } from 'node:timers/promises';
import { PosError, isPosError } from '../../core/errors';
import { eventName } from '../../core/names';
import { JsonRpcError, JsonRpcPeer, RPC_ERRORS } from '../../core/jsonrpc';
import type { RequestServer } from '../../core/inbound';
import { PAT_OFF, type PatServer } from './pat';
import type { LookupResult, PaymentAttempt, PaymentProvider, Unsubscribe } from '../../core/provider';
import { makeRedactor, type Redactor } from '../../core/redact';
import { ReconnectingSocket } from '../../core/socket';
import type { WireTap } from '../../core/wire-log';
import { type ConnectionState, type Logger, type NotificationEvent, type PaymentRequest, type PaymentResult, type Terminal, silentLogger } from '../../core/types';
import { SIGNATURE_EVENT, isWireTerminal, isWireTransaction, mapProgress, mapTerminal, mapTransaction } from './mapping';
import { paymentsenseUrl, type PaymentsenseEndpoint } from './url';
import { methodOf, terminalOf, transactionParams } from './kinds';
import { APP_ERROR, METHOD, type WireNotificationParams, type WireSignatureParams } from './wire';
import { Listeners } from '../../core/listeners';
import type { ReportRequest, ReportResult, ReportRun } from '../../core/report';
import { runReport } from './report';
import { capabilitiesOf } from '../registry';

export interface PaymentsenseOptions extends PaymentsenseEndpoint {
  verifyTls?: boolean;
  logger?: Logger;
  /** How long the flow has to accept or reject a signature; Connect's REST API allows 80 s. */
  signatureTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Between two look-ups of a transaction that is still running. */
  lookupIntervalMs?: number;
  /**
   * Default true. False: this Connect server has no `transactionDetails` look-up (a connection
   * check settles it), so a lost result is reported `unknown` at once, saying why, instead of asking.
   */
  transactionLookup?: boolean;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Pay at table: the /pat connection, started and stopped with this one. Absent: pay at table is off. */
  tables?: PatServer;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}

interface ActivePayment {
  attempt: PaymentAttempt;
  tid: string;
  signature?: { answer: (accepted: boolean) => void; timer: NodeJS.Timeout };
}


/** Said in every `unknown` result while the server lacks the look-up, so a person knows to check the terminal. */
const NO_LOOKUP = 'this Connect server does not offer the transactionDetails look-up, so the pack cannot ask what became of the payment; check the terminal';

/** Methods Connect may use for its keepalive if it is JSON-RPC rather than a ping frame [inferred]. */
const PING_LIKE = /^(ping|heartbeat|keep-?alive)$/i;

export class PaymentsenseProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  // From the provider table. preAuth, completion and accountVerification are Perform Transaction methods [doc]; Connect documents no release of a pre-auth.
  readonly capabilities = capabilitiesOf('paymentsense');
  /** The terminals' pay-at-table requests; with pay at table off, a server that says so. */
  readonly requests: RequestServer;
  private readonly socket: ReconnectingSocket;
  private readonly peer: JsonRpcPeer;
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly active = new Map<string, ActivePayment>();
  private readonly stateListeners = new Listeners<ConnectionState>((m) => this.logger.error(`Paymentsense: a state listener failed: ${this.redact(m)}`));
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.logger.error(`Paymentsense: a notification listener failed: ${this.redact(m)}`));

  private starting: Promise<void> | undefined;
  private stopped = false;
  /** What asking showed about the look-up: undefined until Connect answered one. */
  private lookupKnown: boolean | undefined;

  /**
   * `prepare` runs before the first connection attempt and may supply the base URL (the
   * in-process simulator only knows its port once it listens).
   */
  constructor(private readonly opts: PaymentsenseOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    this.logger = opts.logger ?? silentLogger;
    this.redact = makeRedactor([opts.token]);
    // Fail early and clearly on a config that cannot work, before any socket exists.
    paymentsenseUrl(opts);
    this.socket = new ReconnectingSocket({
      url: () => paymentsenseUrl(opts),
      redact: this.redact,
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      ...(opts.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.peer = new JsonRpcPeer({
      send: (text, timing) => this.socket.send(text, timing),
      logger: this.logger,
      redact: this.redact,
      defaultTimeoutMs: opts.requestTimeoutMs ?? 30000,
    });
    this.socket.on('message', (text: string) => this.peer.receive(text));
    this.socket.on('close', () => {
      // A request whose answer would have come on this socket is lost, not refused: code protocol_error, not not_connected.
      this.peer.failPending(new PosError('protocol_error', 'the connection to Paymentsense was lost'));
    });
    this.socket.on('state', (state: ConnectionState) => {
      this.stateListeners.emit(state);
    });
    this.peer.handle(METHOD.signatureVerification, (params) => this.onSignatureRequest(params));
    this.peer.setFallback((params, ctx) => {
      if (/signature/i.test(ctx.method)) return this.onSignatureRequest(params);
      if (PING_LIKE.test(ctx.method)) return {};
      throw new JsonRpcError(RPC_ERRORS.methodNotFound, `Method not found: ${ctx.method}`);
    });
    this.peer.onNotification((method, params) => this.handleNotification(method, params));
    this.requests = opts.tables ?? PAT_OFF;
    opts.tables?.onNotification((event) => this.notificationListeners.emit(event));
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  start(): void {
    this.stopped = false;
    this.opts.tables?.start();
    if (!this.prepare) return this.socket.start();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(() => {
      if (!this.stopped) this.socket.start();
    }, (err: Error) => this.logger.error(`could not start: ${this.redact(err.message)}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const payment of this.active.values()) if (payment.signature) clearTimeout(payment.signature.timer);
    // Pending requests fail now; the peer itself stays usable for a later start().
    this.peer.failPending(new PosError('closed', 'the Paymentsense connection was closed'));
    await Promise.all([this.socket.stop(), this.opts.tables?.stop()]);
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    return this.stateListeners.add(listener);
  }

  onNotification(listener: (e: NotificationEvent) => void): Unsubscribe {
    return this.notificationListeners.add(listener);
  }

  async pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    const { request } = attempt;
    const tid = terminalOf(request);
    if (!tid) throw new PosError('bad_input', 'terminalId is required for Paymentsense: set it on the node or in msg.payload.terminalId (the terminals node lists them)');
    const method = methodOf(request.kind);
    const params = transactionParams(request, tid, attempt.attemptId);
    this.active.set(request.reference, { attempt, tid });
    try {
      const answer = await this.peer.request(method, params, { timeoutMs: Math.max(1, attempt.deadline - Date.now()) });
      return this.toResult(answer, request);
    } catch (err) {
      if (err instanceof JsonRpcError) {
        // Connect refused the request itself, so no card flow started.
        throw new PosError('provider_error', `Paymentsense refused the ${method}: ${err.message}`, { code: err.code });
      }
      if (isPosError(err) && err.code === 'not_connected') throw err;
      this.logger.warn(`payment ${request.reference}: ${this.redact((err as Error).message)}; asking Paymentsense what became of it`);
      return this.recover(attempt);
    } finally {
      // Giving up on a payment with a signature check open rejects it, so the terminal reverses rather than waits.
      this.active.get(request.reference)?.signature?.answer(false);
      this.active.delete(request.reference);
    }
  }

  async cancel(reference: string): Promise<void> {
    const payment = this.active.get(reference);
    if (!payment) throw new PosError('not_found', `no payment with reference "${reference}" is running, so there is nothing to cancel`);
    try {
      await this.peer.request(METHOD.cancelTransaction, { tid: payment.tid, requestId: payment.attempt.attemptId });
    } catch (err) {
      if (err instanceof JsonRpcError) throw new PosError('provider_error', `Paymentsense could not cancel: ${err.message}`);
      throw err;
    }
    // v1 answers `cancelling`: the outcome still arrives as the transaction's result.
  }

  async answerSignature(reference: string, accepted: boolean): Promise<void> {
    const signature = this.active.get(reference)?.signature;
    if (!signature) throw new PosError('not_found', `no signature check is waiting for reference "${reference}"`);
    signature.answer(accepted);
  }

  async listTerminals(): Promise<Terminal[]> {
    this.assertConnected();
    const answer = await this.peer.request(METHOD.connectedTerminals);
    const list = Array.isArray(answer) ? answer : (answer as { terminals?: unknown })?.terminals;
    if (!Array.isArray(list)) throw new PosError('protocol_error', 'Paymentsense answered connectedTerminals with something that is not a terminal list');
    const terminals: Terminal[] = [];
    for (const item of list) {
      if (isWireTerminal(item)) terminals.push(mapTerminal(item));
      else this.logger.warn(`dropped a terminal entry Paymentsense sent: ${isWireTerminal.explain()}`);
    }
    return terminals;
  }

  /** End of day, banking, X or Z balance on one terminal (see report.ts; the wire shape is [inferred]). */
  async runReport(request: ReportRequest, run: ReportRun): Promise<ReportResult> {
    this.assertConnected();
    return runReport({
      request: (method, params, timeoutMs) => this.peer.request(method, params, { timeoutMs }),
      onNotification: (listener) => this.onNotification(listener),
      logger: this.logger,
      redact: this.redact,
    }, request, run);
  }

  /** Whether this Connect server knows `transactionDetails`: true / false once it answered one, undefined before. */
  get transactionLookupKnown(): boolean | undefined {
    return this.opts.transactionLookup === false ? false : this.lookupKnown;
  }

  async lookup(attempt: { request: PaymentRequest; attemptId: string }): Promise<LookupResult> {
    if (this.transactionLookupKnown === false) return { found: 'cannot_ask', reason: NO_LOOKUP };
    if (this.socket.state.name !== 'connected') return { found: 'cannot_ask', reason: 'not connected' };
    try {
      const tid = terminalOf(attempt.request);
      const answer = await this.peer.request(METHOD.transactionDetails, {
        ...(tid ? { tid } : {}),
        requestId: attempt.attemptId,
      });
      this.lookupKnown = true;
      return { found: 'result', result: this.toResult(answer, attempt.request) };
    } catch (err) {
      if (err instanceof JsonRpcError) {
        // Any answer but "method not found" shows the server knows the method.
        this.lookupKnown = err.code !== RPC_ERRORS.methodNotFound;
        if (err.code === APP_ERROR.transactionInProgress) return { found: 'in_progress' };
        if (err.code === APP_ERROR.transactionNotFound) return { found: 'nothing' };
        if (err.code === RPC_ERRORS.methodNotFound) {
          this.logger.warn(`Paymentsense: ${NO_LOOKUP}; set "Look up lost results" off on this connection`);
          return { found: 'cannot_ask', reason: NO_LOOKUP };
        }
        return { found: 'cannot_ask', reason: err.message };
      }
      return { found: 'cannot_ask', reason: (err as Error).message };
    }
  }

  private toResult(answer: unknown, request: PaymentRequest): PaymentResult {
    if (isWireTransaction(answer)) return mapTransaction(answer, request);
    this.logger.warn(`Paymentsense sent a transaction result that does not match its schema: ${isWireTransaction.explain()}`);
    return {
      ...mapTransaction({}, request),
      outcome: 'unknown',
      message: 'Paymentsense answered with a result this pack cannot read; check the terminal before taking the payment again',
      raw: answer,
    };
  }

  /**
   * The result was lost with the connection or the wait ran out: ask until the deadline
   * (always at least once when connected), never resend.
   */
  private async recover(attempt: PaymentAttempt): Promise<PaymentResult> {
    const { request } = attempt;
    let last: LookupResult = { found: 'cannot_ask', reason: 'the connection did not come back in time' };
    const pause = this.opts.lookupIntervalMs ?? 2000;
    let asked = false;
    while ((!asked || Date.now() < attempt.deadline) && this.socket.state.name !== 'closed') {
      if (this.socket.state.name === 'connected') {
        asked = true;
        last = await this.lookup({ request, attemptId: attempt.attemptId });
        if (last.found === 'result') return last.result;
        if (last.found !== 'in_progress') break;
      } else if (Date.now() >= attempt.deadline) {
        break;
      }
      await sleep(Math.min(pause, Math.max(1, attempt.deadline - Date.now())), undefined, { ref: false });
    }
    const why = last.found === 'in_progress' ? 'it was still running on the terminal when the wait ran out'
      : last.found === 'nothing' ? 'Paymentsense has no record of it'
      : last.found === 'cannot_ask' ? last.reason : 'unknown';
    throw new PosError('timeout', `the result of this payment was lost (${why})`);
  }

  private assertConnected(): void {
    if (this.socket.state.name !== 'connected') {
      throw new PosError(this.socket.state.name === 'unauthorized' ? 'unauthorized' : 'not_connected',
        `not connected to Paymentsense (${this.socket.state.name})`);
    }
  }

  private find(params: { tid?: unknown; requestId?: unknown }): ActivePayment | undefined {
    for (const payment of this.active.values()) {
      if (params.requestId !== undefined ? payment.attempt.attemptId === params.requestId : payment.tid === params.tid) return payment;
    }
    return undefined;
  }

  private handleNotification(method: string, params: unknown): void {
    const p = (params && typeof params === 'object' ? params : {}) as WireNotificationParams;
    const values = typeof p.notification === 'string' ? [p.notification]
      : Array.isArray(p.notifications) ? p.notifications.filter((v): v is string => typeof v === 'string') : [];
    if (values.length === 0) {
      this.logger.warn(`dropped a Paymentsense notification "${this.redact(method).slice(0, 60)}" that carries no progress value`);
      return;
    }
    const payment = this.find(p);
    for (const value of values) {
      if (payment) payment.attempt.onProgress(mapProgress(value, payment.attempt.request, params));
      const event: NotificationEvent = {
        provider: 'paymentsense',
        event: eventName(value),
        ...(payment ? { reference: payment.attempt.request.reference } : {}),
        ...(typeof p.tid === 'string' ? { terminalId: p.tid } : {}),
        data: params,
        receivedAt: new Date().toISOString(),
      };
      this.notificationListeners.emit(event);
    }
  }

  /** Connect asks the EPoS to check a signature; the flow answers with msg.action. */
  private onSignatureRequest(params: unknown): Promise<{ accepted: boolean }> {
    const p = (params && typeof params === 'object' ? params : {}) as WireSignatureParams;
    const payment = this.find(p);
    if (!payment) {
      // No payment of ours is waiting: rejecting makes the terminal reverse, so no money moves unverified.
      this.logger.warn('Paymentsense asked for a signature check for a payment this node is not running; rejected it');
      return Promise.resolve({ accepted: false });
    }
    return new Promise((resolve) => {
      const limit = this.opts.signatureTimeoutMs ?? 80000;
      const answer = (accepted: boolean) => {
        clearTimeout(timer);
        payment.signature = undefined;
        resolve({ accepted });
      };
      const timer = setTimeout(() => {
        payment.attempt.onProgress({ ...mapProgress('SIGNATURE_VERIFICATION_TIMEOUT', payment.attempt.request, params), event: 'signature_timeout' });
        answer(false);
      }, limit);
      payment.signature = { answer, timer };
      payment.attempt.onProgress({
        ...mapProgress('SIGNATURE_VERIFICATION', payment.attempt.request, params),
        event: SIGNATURE_EVENT,
        message: `Check the customer's signature, then send msg.action "accept-signature" or "reject-signature" within ${Math.round(limit / 1000)} s`,
      });
    });
  }
}
