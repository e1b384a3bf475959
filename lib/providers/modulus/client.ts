// Modulus Labs Terminal Gateway as one PaymentProvider: one action-JSON WebSocket per API key
// (the gateway allows only one), an application-level ping, a terminal map kept current by
// pushes, and payments whose results arrive as pushes. Lost results are asked about over the
// HMAC-signed HTTP API when an API secret is set; nothing is ever sent twice.

import { PosError } from '../../core/errors';
import { MAX_NAME_CHARS, MAX_NESTING, nestedTooDeep } from '../../core/frame-guard';
import { eventName } from '../../core/names';
import type { AttemptRecord, LookupResult, PaymentAttempt, PaymentProvider, Unsubscribe } from '../../core/provider';
import { describeFrame, makeRedactor, type Redactor } from '../../core/redact';
import type { WireTap } from '../../core/wire-log';
import { ReconnectingSocket, defaultClassifyFailure, type Failure, type FailureKind } from '../../core/socket';
import { silentLogger, type ConnectionState, type Logger, type NotificationEvent, type PaymentResult, type ProgressEvent, type Terminal } from '../../core/types';
import { carriesDocumentedError, errorHint, errorParts } from './gateway-errors';
import { AppHeartbeat } from './heartbeat';
import { mapPaymentResponse, terminalEvent, terminalIds, voidedResult, voidedTransactionId } from './mapping';
import { buildPaymentRequest } from './payment-request';
import { PaymentWait } from './payment-wait';
import { lookupTransaction } from './recovery-http';
import {
  isErrorFrame, isForceDisconnect, isPaymentComplete, isPaymentVoided, isPong, isStatusUpdate, isTerminal, isTerminalsResponse,
} from './schemas';
import { TerminalDirectory } from './terminals';
import { modulusEndpoints } from './url';
import {
  ACTION, HEADER,
  type WireErrorFrame, type WireFrame, type WirePaymentComplete, type WirePaymentVoided, type WireStatusUpdate, type WireTerminal,
} from './wire';
import { Listeners } from '../../core/listeners';
import { capabilitiesOf } from '../registry';

export interface ModulusOptions {
  /** 'test' and 'production' both use the endpoint host Modulus provisions per customer: wss://<endpoint>/v1. 'custom': url is a base such as ws://127.0.0.1:8080 (we append /v1). */
  environment: 'test' | 'production' | 'custom';
  /** host[:port] for test/production. */
  endpoint?: string;
  /** Base URL for custom (ws:// or wss://; http(s):// accepted and turned into ws(s)://). */
  url?: string;
  apiKey: string;
  /** Sent as x-group-id header when set. */
  groupId?: string;
  /** Default false: x-api-key header. True: ?x-api-key=<key> in the URL, with a warning per start. */
  keyInQuery?: boolean;
  /** Enables lookup of a lost result via HMAC-signed GET /v1/transactions/{id}. Without it lookup() answers cannot_ask. */
  apiSecret?: string;
  verifyTls?: boolean;
  logger?: Logger;
  /** Default 30000: {"action":"ping"}. */
  pingIntervalMs?: number;
  /** Default 10000: no pong in time -> drop the socket and reconnect. */
  pongTimeoutMs?: number;
  /** Default 60000: how long a payment keeps waiting once its terminal reports reconnecting. */
  graceMs?: number;
  handshakeTimeoutMs?: number;
  /** getTerminals answer and HTTP look-ups, default 10000. */
  requestTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Default 5000: displaced by another client mid-payment, how often the HTTP API (apiSecret
   * set) is asked for the payment's result until its deadline.
   */
  displacedLookupIntervalMs?: number;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}


/** Header values travel verbatim; a line break or control character would break (or forge) a header. */
const HEADER_SAFE = /^[\x21-\x7e][\x20-\x7e]*$/;
/** An error frame naming neither transaction nor terminal is pinned on a payment sent this recently, if only one was. */
const ERROR_CORRELATION_MS = 5000;
/** Finished payments remembered so late pushes (a void after a failure) still name their reference. */
const RECENT_KEPT = 500;
/** A close reason saying another connection took over, for a gateway that closes without forceDisconnect [inferred]. */
const DISPLACED_REASON = /force|displac|new[ _-]?connection|replaced|another (client|connection)/i;

const KNOWN_ACTIONS = new Set<string>([
  ACTION.terminalsResponse, ACTION.pong, ACTION.terminalStatusUpdate, ACTION.paymentComplete, ACTION.paymentVoided, ACTION.forceDisconnect,
]);

interface TerminalWaiter {
  resolve: (t: Terminal[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class ModulusProvider implements PaymentProvider {
  readonly name = 'modulus' as const;
  // From the provider table. The Terminal Gateway documents sales only.
  readonly capabilities = capabilitiesOf('modulus');
  private readonly socket: ReconnectingSocket;
  private readonly heartbeat: AppHeartbeat;
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly apiKey: string;
  private readonly apiSecret: string | undefined;
  private readonly groupId: string | undefined;
  private readonly graceMs: number;
  private readonly requestTimeoutMs: number;
  private readonly displacedLookupIntervalMs: number;
  private readonly terminals = new TerminalDirectory();
  /** Running payments by transactionId. */
  private readonly running = new Map<string, PaymentWait>();
  private readonly recent = new Map<string, { reference: string; terminalId: string }>();
  private terminalWaiters: TerminalWaiter[] = [];
  private readonly stateListeners = new Listeners<ConnectionState>((m) => this.logger.error(`Modulus Labs: a state listener failed: ${this.redact(m)}`));
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.logger.error(`Modulus Labs: a notification listener failed: ${this.redact(m)}`));
  private connections = 0;
  private starting: Promise<void> | undefined;
  private stopped = false;

  /**
   * `prepare` runs before the first connection attempt and may supply the base URL (the
   * in-process simulator only knows its port once it listens).
   */
  constructor(private readonly opts: ModulusOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    this.logger = opts.logger ?? silentLogger;
    this.apiKey = typeof opts.apiKey === 'string' ? opts.apiKey.trim() : '';
    this.apiSecret = typeof opts.apiSecret === 'string' && opts.apiSecret.trim() ? opts.apiSecret.trim() : undefined;
    this.groupId = typeof opts.groupId === 'string' && opts.groupId.trim() ? opts.groupId.trim() : undefined;
    this.redact = makeRedactor([this.apiKey, this.apiSecret]);
    // Fail early and clearly on a config that cannot work, before any socket exists.
    if (!this.apiKey) throw new PosError('bad_input', 'the Modulus Labs API key is not set (Modulus issues it with the API secret)');
    if (!HEADER_SAFE.test(this.apiKey)) throw new PosError('bad_input', 'the Modulus Labs API key contains spaces or control characters; paste the key alone');
    if (this.groupId && !HEADER_SAFE.test(this.groupId)) throw new PosError('bad_input', 'the Modulus Labs group id must be plain text without control characters');
    if (!(this.prepare && opts.environment === 'custom' && !opts.url)) this.endpoints();
    this.graceMs = positive(opts.graceMs, 60_000);
    this.requestTimeoutMs = positive(opts.requestTimeoutMs, 10_000);
    this.displacedLookupIntervalMs = positive(opts.displacedLookupIntervalMs, 5000);

    this.socket = new ReconnectingSocket({
      url: () => this.endpoints().wsUrl,
      headers: {
        ...(opts.keyInQuery ? {} : { [HEADER.apiKey]: this.apiKey }),
        ...(this.groupId ? { [HEADER.groupId]: this.groupId } : {}),
      },
      redact: this.redact,
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      // The gateway's keepalive is an action message; WebSocket pings are not documented.
      heartbeatIntervalMs: 0,
      classifyFailure: classifyFailure,
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.heartbeat = new AppHeartbeat({
      intervalMs: positive(opts.pingIntervalMs, 30_000),
      timeoutMs: positive(opts.pongTimeoutMs, 10_000),
      sendPing: () => this.socket.send(JSON.stringify({ action: ACTION.ping })),
      onTimeout: (reason) => {
        this.logger.warn(`Modulus Labs: ${reason}; dropping the connection and reconnecting`);
        this.socket.reconnectNow(reason);
      },
    });
    this.socket.on('open', () => this.onOpen());
    this.socket.on('close', () => this.onClose());
    this.socket.on('message', (text: string) => this.receive(text));
    this.socket.on('state', (state: ConnectionState) => this.onSocketState(state));
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  start(): void {
    this.stopped = false;
    if (this.opts.keyInQuery) {
      this.logger.warn('Modulus Labs: the API key travels in the URL query (keyInQuery), so it may appear in server and proxy logs; the header is safer');
    }
    if (!this.prepare) return this.socket.start();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(() => {
      if (!this.stopped) this.socket.start();
    }, (err: Error) => this.logger.error(`Modulus Labs: could not start: ${this.redact(err.message)}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.heartbeat.stop();
    this.failTerminalWaiters(new PosError('closed', 'the Modulus Labs connection was closed'));
    for (const wait of [...this.running.values()]) {
      this.settle(wait, new PosError('timeout', 'the Modulus Labs connection was closed while this payment was running; send the same reference again later to ask what became of it'));
    }
    await this.socket.stop();
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    return this.stateListeners.add(listener);
  }

  onNotification(listener: (e: NotificationEvent) => void): Unsubscribe {
    return this.notificationListeners.add(listener);
  }

  async pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    const { request } = attempt;
    if (request.kind === 'refund') throw new PosError('capability_missing', 'Modulus Labs Terminal Gateway documents no refund');
    const terminalId = request.terminalId?.trim();
    if (!terminalId) {
      throw new PosError('bad_input', 'terminalId is required for Modulus Labs: set it on the node or in msg.payload.terminalId (the terminals node lists the device ids)');
    }
    if (request.tip) throw new PosError('bad_input', 'Modulus Labs Terminal Gateway has no tip field: include the tip in the amount, or leave tip out');
    if (request.cashback) throw new PosError('bad_input', 'Modulus Labs Terminal Gateway has no cashback field: leave cashback out');
    const transactionId = attempt.attemptId;
    const paymentRequest = buildPaymentRequest(attempt, transactionId);
    const key = this.terminals.canonical(terminalId);
    const busy = [...this.running.values()].find((w) => this.terminals.canonical(w.terminalId) === key);
    if (busy) {
      throw new PosError('bad_input', `terminal ${terminalId} is still taking payment "${busy.reference}": one payment per terminal at a time, wait for its result first`);
    }
    this.assertConnected();
    // Registered before the first await, so a second payment for this terminal is refused from here on.
    const wait = new PaymentWait(attempt, transactionId, terminalId, (w) => void this.onDeadline(w));
    this.running.set(transactionId, wait);
    const frame = { action: ACTION.payment, terminalId, paymentRequest };
    try {
      await attempt.note({ transactionId });
    } catch (err) {
      this.running.delete(transactionId);
      throw err;
    }
    if (this.stopped || !this.socket.send(JSON.stringify(frame))) {
      this.running.delete(transactionId);
      throw new PosError('not_connected', `the connection to Modulus Labs was lost before the payment was sent (${this.socket.state.name}); nothing was sent`);
    }
    wait.sent(this.connections);
    this.logger.debug(`Modulus Labs: payment ${request.reference} sent to terminal ${terminalId} as transaction ${transactionId}`);
    this.progress(wait, 'request_sent', `Payment request sent to terminal ${terminalId}`, frame);
    return wait.promise;
  }

  async cancel(_reference: string): Promise<void> {
    throw new PosError('capability_missing', 'Modulus Labs Terminal Gateway documents no way to cancel a payment from the POS; cancel it on the terminal');
  }

  async answerSignature(_reference: string, _accepted: boolean): Promise<void> {
    throw new PosError('capability_missing', 'Modulus Labs Terminal Gateway has no signature check for the POS to answer');
  }

  listTerminals(): Promise<Terminal[]> {
    try {
      this.assertConnected();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Terminal[]>((resolve, reject) => {
      const waiter: TerminalWaiter = {
        resolve, reject,
        timer: setTimeout(() => {
          this.terminalWaiters = this.terminalWaiters.filter((w) => w !== waiter);
          reject(new PosError('timeout', `Modulus Labs did not answer getTerminals within ${Math.round(this.requestTimeoutMs / 100) / 10} s`));
        }, this.requestTimeoutMs),
      };
      this.terminalWaiters.push(waiter);
      // One request serves every caller waiting for the next list.
      if (this.terminalWaiters.length === 1 && !this.socket.send(JSON.stringify({ action: ACTION.getTerminals }))) {
        this.failTerminalWaiters(new PosError('not_connected', 'not connected to Modulus Labs'));
      }
    });
  }

  async lookup(record: AttemptRecord): Promise<LookupResult> {
    const id = record.notes?.transactionId;
    // Noted just before sending: without it the payment frame never left.
    if (typeof id !== 'string' || id === '') return { found: 'nothing' };
    if (!this.apiSecret) return { found: 'cannot_ask', reason: 'no API secret is set, so the Terminal Gateway HTTP API cannot be asked' };
    let httpBase: string;
    try {
      httpBase = this.endpoints().httpBase;
    } catch (err) {
      return { found: 'cannot_ask', reason: this.redact(errorText(err)) };
    }
    return lookupTransaction({
      httpBase, apiKey: this.apiKey, apiSecret: this.apiSecret, ...(this.groupId ? { groupId: this.groupId } : {}),
      transactionId: id, timeoutMs: this.requestTimeoutMs, verifyTls: this.opts.verifyTls !== false, redact: this.redact,
    }, record.request, record.request.terminalId);
  }

  private endpoints() {
    return modulusEndpoints({ ...this.opts, apiKey: this.apiKey });
  }

  private assertConnected(): void {
    const name = this.socket.state.name;
    if (name === 'connected' && !this.stopped) return;
    const reason = 'reason' in this.socket.state ? `: ${this.socket.state.reason}` : '';
    throw new PosError(name === 'unauthorized' ? 'unauthorized' : 'not_connected', `not connected to Modulus Labs (${name}${reason}); nothing was sent`);
  }

  private onOpen(): void {
    this.connections += 1;
    this.heartbeat.start();
    this.socket.send(JSON.stringify({ action: ACTION.getTerminals }));
    if (!this.apiSecret) return;
    // A result pushed while we were away may be lost (recovery of missed results is undocumented): ask once.
    for (const wait of this.running.values()) {
      if (wait.sentAt !== undefined && wait.connection < this.connections) void this.askAbout(wait, false);
    }
  }

  private onSocketState(state: ConnectionState): void {
    // Displaced by a forceDisconnect frame or by a close whose reason says so: no reconnect, so
    // the results of running payments can only come from the HTTP API.
    if (state.name === 'displaced') this.followDisplaced();
    this.stateListeners.emit(state);
  }

  private onClose(): void {
    this.heartbeat.stop();
    // Payments keep waiting: their result may still come on the next connection or from a look-up.
    this.failTerminalWaiters(new PosError('protocol_error', 'the connection to Modulus Labs was lost before the terminal list arrived'));
  }

  private receive(text: string): void {
    // Refused before JSON.parse, which alone would hold the event loop for a long time.
    if (nestedTooDeep(text)) return this.drop(`a frame nested more than ${MAX_NESTING} levels deep`, text);
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.drop('a frame that is not JSON', text);
    }
    if (!isObject(frame)) return this.drop('a frame that is not a JSON object', text);
    const action = typeof frame.action === 'string' ? frame.action : undefined;
    if (action !== undefined && action.length > MAX_NAME_CHARS) return this.drop(`a frame whose action is ${action.length} characters long`, text);
    try {
      if (action !== undefined && KNOWN_ACTIONS.has(action)) return this.dispatch(action, frame, text);
      if (action === ACTION.error || carriesDocumentedError(frame)) return this.onError(frame, text);
      if (action === undefined) return this.drop('a frame without an action', text);
      this.logger.debug(`Modulus Labs: unknown action "${this.redact(action).slice(0, 60)}": ${describeFrame(text, this.redact)}`);
      this.notify(eventName(action) || 'unknown_action', frame);
    } catch (err) {
      // A bug in handling one frame must not take the connection down.
      this.logger.error(`Modulus Labs: handling a "${this.redact(action ?? '?').slice(0, 60)}" frame failed: ${this.redact(errorText(err))}`);
    }
  }

  private dispatch(action: string, frame: Record<string, unknown>, text: string): void {
    switch (action) {
      case ACTION.pong:
        if (!isPong(frame)) return this.drop('a malformed pong', text);
        return this.heartbeat.pong();
      case ACTION.terminalsResponse:
        if (!isTerminalsResponse(frame)) return this.drop(`a malformed terminalsResponse (${isTerminalsResponse.explain()})`, text);
        return this.onTerminals(frame.terminals);
      case ACTION.terminalStatusUpdate:
        if (!isStatusUpdate(frame)) return this.drop(`a malformed terminalStatusUpdate (${isStatusUpdate.explain()})`, text);
        return this.onStatusUpdate(frame);
      case ACTION.paymentComplete:
        if (!isPaymentComplete(frame)) return this.drop(`a malformed paymentComplete (${isPaymentComplete.explain()})`, text);
        return this.onPaymentComplete(frame);
      case ACTION.paymentVoided:
        if (!isPaymentVoided(frame)) return this.drop(`a malformed paymentVoided (${isPaymentVoided.explain()})`, text);
        return this.onPaymentVoided(frame);
      case ACTION.forceDisconnect:
        if (!isForceDisconnect(frame)) return this.drop(`a malformed forceDisconnect (${isForceDisconnect.explain()})`, text);
        return this.onForceDisconnect(frame.reason, frame);
      default:
        return undefined;
    }
  }

  private drop(what: string, text: string): void {
    this.logger.warn(`Modulus Labs: dropped ${what}: ${describeFrame(text, this.redact)}`);
  }

  private onTerminals(items: unknown[]): void {
    const good: WireTerminal[] = [];
    for (const item of items) {
      if (isTerminal(item)) good.push(item);
      else this.logger.warn(`Modulus Labs: dropped a terminal entry without a usable id (${isTerminal.explain()})`);
    }
    this.terminals.replace(good);
    const list = this.terminalList();
    const waiters = this.terminalWaiters.splice(0);
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve(list);
    }
  }

  private terminalList(): Terminal[] {
    return this.terminals.list((key) => [...this.running.values()].some((w) => this.terminals.canonical(w.terminalId) === key));
  }

  private onStatusUpdate(u: WireStatusUpdate): void {
    const key = this.terminals.update(u);
    const ids = new Set([...terminalIds(u), ...this.terminals.idsOf(key)]);
    const status = u.status.toLowerCase();
    for (const wait of this.running.values()) {
      if (!ids.has(wait.terminalId) && !ids.has(this.terminals.canonical(wait.terminalId))) continue;
      if (status === 'reconnecting') {
        if (wait.reconnectingSince !== undefined) continue;
        wait.reconnectingSince = Date.now();
        wait.extendTo(wait.reconnectingSince + this.graceMs);
        this.progress(wait, 'terminal_reconnecting',
          `Terminal ${wait.terminalId} lost its connection to the gateway; waiting up to ${seconds(this.graceMs)} for it to come back (the gateway's grace period)`, u);
      } else if (status === 'connected' || status === 'online') {
        if (wait.reconnectingSince === undefined) continue;
        wait.reconnectingSince = undefined;
        this.progress(wait, 'terminal_connected', `Terminal ${wait.terminalId} is connected again; the payment continues`, u);
      } else if (status === 'disconnected' || status === 'offline') {
        this.progress(wait, 'terminal_offline', `Terminal ${wait.terminalId} is disconnected; waiting for the gateway's result`, u);
      }
    }
    this.notify(terminalEvent(u.status), u, { terminalId: key });
  }

  private onPaymentComplete(frame: WirePaymentComplete): void {
    const response = frame.paymentResponse;
    const wait = this.running.get(response.transactionId);
    const terminalId = frame.terminalId ?? wait?.terminalId ?? this.recent.get(response.transactionId)?.terminalId;
    const metaRef = typeof response.metadata?.reference === 'string' ? response.metadata.reference : undefined;
    const reference = wait?.reference ?? this.recent.get(response.transactionId)?.reference ?? metaRef;
    if (wait) {
      const mapped = mapPaymentResponse(response, wait.attempt.request, wait.terminalId, frame);
      if (mapped.pending) this.progress(wait, 'pending', 'The gateway reports the payment as pending', frame);
      else this.settle(wait, mapped.result);
    } else {
      this.logger.debug(`Modulus Labs: paymentComplete for transaction ${response.transactionId.slice(0, 64)}, which this connection is not waiting for`);
    }
    this.notify('payment_complete', frame, { ...(reference ? { reference } : {}), ...(terminalId ? { terminalId } : {}) });
  }

  private onPaymentVoided(frame: WirePaymentVoided): void {
    const id = voidedTransactionId(frame);
    const wait = id ? this.running.get(id) : undefined;
    const known = id ? this.recent.get(id) : undefined;
    const terminalId = frame.terminalId ?? wait?.terminalId ?? known?.terminalId;
    const reference = wait?.reference ?? known?.reference;
    if (wait) this.settle(wait, voidedResult(wait.attempt.request, wait.terminalId, id, frame, frame.voidReason));
    else if (known) this.logger.warn(`Modulus Labs: the gateway voided payment ${known.reference} after its result was given; the customer was not charged`);
    this.notify('payment_voided', frame, { ...(reference ? { reference } : {}), ...(terminalId ? { terminalId } : {}) });
  }

  private onForceDisconnect(reason: string | undefined, frame: WireFrame): void {
    const why = reason ? reason.slice(0, 200) : 'no reason given';
    // Before the state changes, so that a payment ended here names the reason.
    this.followDisplaced(why);
    // Reconnecting would displace the other client in turn: no retry until start() again.
    this.socket.halt('displaced', `another client using the same API key took over: ${why}`);
    this.heartbeat.stop();
    this.failTerminalWaiters(new PosError('not_connected', `another client using the same Modulus Labs API key took over (${why})`));
    this.notify('force_disconnect', frame);
  }

  /**
   * Payments running when another client took the connection over. With the API secret each
   * sent one is looked up over HTTP now and then every displacedLookupIntervalMs until its
   * deadline (whose own look-up is the last), so it ends with its real outcome; the connection
   * is not taken back, which would displace the other client in turn. Without the secret, or
   * for a frame that never left, there is nobody to ask: it ends at once.
   */
  private followDisplaced(why?: string): void {
    const safe = why === undefined ? undefined : this.redact(why);
    for (const wait of [...this.running.values()]) {
      if (wait.displaced) continue;
      wait.displaced = true;
      if (!this.apiSecret || wait.sentAt === undefined) {
        this.settle(wait, new PosError('timeout',
          `displaced: another client using the same API key took over the Modulus Labs connection${safe ? ` (${safe})` : ''} while this payment was running, so its result cannot arrive here${this.apiSecret ? '' : ' (set the API secret to have it looked up)'}`));
        continue;
      }
      this.progress(wait, 'displaced',
        'Another client using the same API key took over the connection; asking the Terminal Gateway HTTP API for this payment\'s result until its deadline', {});
      this.lookUpDisplaced(wait);
    }
  }

  private lookUpDisplaced(wait: PaymentWait, first = true): void {
    if (wait.done || this.stopped) return;
    void this.askAbout(wait, true).then((found) => {
      if (wait.done || this.stopped) return;
      if (first && found.found === 'cannot_ask') {
        this.logger.warn(`Modulus Labs: payment ${wait.reference}: could not ask the gateway after being displaced: ${found.reason}; asking again until its deadline`);
      }
      // The deadline's own look-up (onDeadline) comes last; no extra one just before it.
      if (wait.deadline - Date.now() > this.displacedLookupIntervalMs) wait.later(() => this.lookUpDisplaced(wait, false), this.displacedLookupIntervalMs);
    }, (err: unknown) => this.logger.error(`Modulus Labs: looking up payment ${wait.reference} failed: ${this.redact(errorText(err))}`));
  }

  private onError(frame: Record<string, unknown>, text: string): void {
    if (!isErrorFrame(frame)) return this.drop(`a malformed error frame (${isErrorFrame.explain()})`, text);
    const e = frame as WireErrorFrame;
    const { category, message } = errorParts(e);
    const wait = this.correlate(e);
    const said = `${category ? `${category}: ` : ''}${message}`;
    if (wait) {
      this.logger.warn(`Modulus Labs: payment ${wait.reference} refused by the gateway: ${this.redact(said)}`);
      this.settle(wait, new PosError('provider_error', `Modulus Labs refused the payment: ${this.redact(said)}${errorHint(message)}; nothing was charged`, frame));
      return;
    }
    this.logger.warn(`Modulus Labs: the gateway reported an error no running payment can be matched to: ${describeFrame(text, this.redact)}`);
    this.notify('gateway_error', frame, typeof e.terminalId === 'string' ? { terminalId: e.terminalId } : {});
  }

  /** By transactionId, else terminalId, else the only payment sent in the last few seconds. */
  private correlate(e: WireErrorFrame): PaymentWait | undefined {
    const nested = isObject(e.paymentRequest) && typeof e.paymentRequest.transactionId === 'string' ? e.paymentRequest.transactionId : undefined;
    const transactionId = typeof e.transactionId === 'string' ? e.transactionId : nested;
    if (transactionId) return this.running.get(transactionId);
    if (typeof e.terminalId === 'string') {
      const key = this.terminals.canonical(e.terminalId);
      return [...this.running.values()].find((w) => w.terminalId === e.terminalId || this.terminals.canonical(w.terminalId) === key);
    }
    const now = Date.now();
    const recent = [...this.running.values()].filter((w) => w.sentAt !== undefined && now - w.sentAt <= ERROR_CORRELATION_MS);
    return recent.length === 1 ? recent[0] : undefined;
  }

  private async onDeadline(wait: PaymentWait): Promise<void> {
    if (wait.done) return;
    if (!this.apiSecret) {
      this.settle(wait, new PosError('timeout', 'no result arrived from the terminal in time, and without an API secret the Terminal Gateway cannot be asked'));
      return;
    }
    const found = await this.askAbout(wait, true);
    if (wait.done) return;
    const why = found.found === 'in_progress' ? 'the gateway still reports it as in progress'
      : found.found === 'nothing' ? 'the gateway has no record of it'
      : found.found === 'cannot_ask' ? found.reason : 'unknown';
    const displaced = wait.displaced ? ', after another client using the same API key took over the connection' : '';
    this.settle(wait, new PosError('timeout', `no result arrived from the terminal in time${displaced} (${why})`));
  }

  /** One HTTP look-up; a final answer settles the payment. */
  private async askAbout(wait: PaymentWait, atDeadline: boolean): Promise<LookupResult> {
    const found = await this.lookup({
      request: wait.attempt.request, attemptId: wait.attempt.attemptId, startedAt: new Date(wait.sentAt ?? Date.now()).toISOString(),
      notes: { transactionId: wait.transactionId },
    });
    if (found.found === 'result' && !wait.done) {
      this.logger.info(`Modulus Labs: payment ${wait.reference}: result recovered from the Terminal Gateway HTTP API`);
      this.settle(wait, found.result);
    } else if (!atDeadline && found.found === 'cannot_ask') {
      this.logger.warn(`Modulus Labs: payment ${wait.reference}: could not ask the gateway after reconnecting: ${found.reason}`);
    }
    return found;
  }

  private settle(wait: PaymentWait, outcome: PaymentResult | Error): void {
    if (this.running.get(wait.transactionId) === wait) this.running.delete(wait.transactionId);
    this.recent.set(wait.transactionId, { reference: wait.reference, terminalId: wait.terminalId });
    if (this.recent.size > RECENT_KEPT) this.recent.delete(this.recent.keys().next().value as string);
    if (outcome instanceof Error) wait.reject(outcome);
    else wait.resolve(outcome);
  }

  private failTerminalWaiters(err: Error): void {
    for (const w of this.terminalWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  private progress(wait: PaymentWait, event: string, message: string, raw: unknown): void {
    const e: ProgressEvent = { reference: wait.reference, terminalId: wait.terminalId, provider: 'modulus', event, message, raw };
    try {
      wait.attempt.onProgress(e);
    } catch (err) {
      this.logger.error(`Modulus Labs: a progress listener failed: ${this.redact(errorText(err))}`);
    }
  }

  private notify(event: string, data: unknown, extra: { reference?: string; terminalId?: string } = {}): void {
    this.notificationListeners.emit({ provider: 'modulus', event, ...extra, data, receivedAt: new Date().toISOString() });
  }
}

function classifyFailure(f: Failure): FailureKind {
  const kind = defaultClassifyFailure(f);
  if (kind !== 'retry') return kind;
  if (f.closeCode !== undefined && f.closeCode !== 1006 && f.reason && DISPLACED_REASON.test(f.reason)) return 'displaced';
  return 'retry';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positive(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${Math.round(ms / 100) / 10} s`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
