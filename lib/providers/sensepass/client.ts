// SensePass as one PaymentProvider: REST creates and manages transactions, and a Socket.IO
// connection per POS device pushes every status change as a `message` carrying the full
// Transaction entity. The socket is the connection whose state the nodes show; a payment is
// followed by its TransactionNumber, and read once over REST after every reconnect in case a
// message was missed while away.

import type { WireTap } from '../../core/wire-log';
import { PosError, isPosError } from '../../core/errors';
import type { AttemptRecord, LookupResult, PaymentAttempt, PaymentProvider, Unsubscribe } from '../../core/provider';
import { describeFrame, jsonHead, makeRedactor, type Redactor } from '../../core/redact';
import { silentLogger, type ConnectionState, type Logger, type NotificationEvent, type PaymentResult, type Terminal } from '../../core/types';
import { mapSaleResult, notificationOf, pendingCommit } from './mapping';
import { refundResult, runRefund } from './refund';
import { DEFAULT_REQUEST_TIMEOUT_MS, SensePassRest, sensepassStatus, short, transportFailureOf } from './rest';
import { checkTransaction, statusOf, type SensePassTransaction } from './schemas';
import { findByReference } from './search';
import { SensePassSocket } from './socket';
import { statusInfo } from './status';
import { RunningSale, type Source } from './tracker';
import { sensepassEndpoints } from './urls';
import { Listeners } from '../../core/listeners';
import { capabilitiesOf } from '../registry';

export interface SensePassOptions {
  /** 'test' = sandbox: REST https://api.sandbox.sensepass.com/api, Socket.IO https://api.sandbox.sensepass.com ; 'production' = api.sensepass.com ; 'custom': url is a base such as http://127.0.0.1:8080 -> REST <url>/api, Socket.IO <url> (default path /socket.io/) */
  environment: 'test' | 'production' | 'custom';
  url?: string;
  /** The POS device id from pairing: it authenticates REST (in the JSON body) and names the socket (?id=id_<deviceId>). Never logged. */
  deviceId: string;
  /** Default '4': socket.io-client v4 (servers v3/v4). '2': socket.io-client@2.5 (servers v2, or v3/v4 with allowEIO3). */
  clientVersion?: '4' | '2';
  /** Default 'default' = the library's own (polling, then upgrade). */
  transports?: 'default' | 'websocket' | 'polling';
  /** Default true: an approved payment whose paymentCommit.isPaymentCommitted === false is committed before the result is given. */
  autoCommit?: boolean;
  verifyTls?: boolean;
  logger?: Logger;
  /** REST, default 15000. */
  requestTimeoutMs?: number;
  /** Socket.IO reconnection delay (default 1 s doubling to 30 s, with jitter). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Socket.IO connect timeout, default 10000. */
  handshakeTimeoutMs?: number;
  /** Where the device id goes on GETs, which SensePass documents only as "auth fields": default 'query' (?deviceId=). */
  deviceIdOnGet?: 'query' | 'body';
  /** Overrides the Engine.IO path (default /socket.io/, after a custom base's path prefix). */
  socketPath?: string;
  /** A socket connection that lasts this long resets the reconnection backoff. Default 10000. */
  stableMs?: number;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}


/** Keys of request.options the adapter sets itself on init; everything else goes to SensePass as it is. */
const INIT_CONTROL = new Set(['amount', 'isCent', 'currency', 'deviceId', 'apiKey', 'posData', 'transactionNumber', 'transactionId']);
/** SensePass's minimum is not documented; below this a customer can hardly open the payment page [inferred]. */
const MIN_TIMEOUT_S = 30;
/** Bounded memories: enough for a busy day at a few tills, never unbounded. */
const MAX_REMEMBERED = 1000;
const MAX_RECENT = 100;

export class SensePassProvider implements PaymentProvider {
  readonly name = 'sensepass' as const;
  // From the provider table. SensePass documents sales and refunds only.
  readonly capabilities = capabilitiesOf('sensepass');
  private readonly rest: SensePassRest;
  private readonly socket: SensePassSocket;
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly sales = new Map<string, RunningSale>();
  private readonly byNumber = new Map<string, RunningSale>();
  private readonly byAttempt = new Map<string, RunningSale>();
  /** TransactionNumber -> our reference, kept after the payment so later messages (settlement, refunds) name it. */
  private readonly references = new Map<string, string>();
  /** The latest message per TransactionNumber, for a payment whose init answer is overtaken by its first messages. */
  private readonly recent = new Map<string, SensePassTransaction>();
  private readonly committed = new Map<string, true>();
  private readonly stateListeners = new Listeners<ConnectionState>((m) => this.logger.error(`SensePass: a state listener failed: ${m}`));
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.logger.error(`SensePass: a notification listener failed: ${m}`));
  private starting: Promise<void> | undefined;
  private stopped = false;
  /** Bumped by stop(): a probe answer from before it is no longer ours to act on. */
  private generation = 0;

  /**
   * `prepare` runs before the first connection and supplies the base URL (the in-process
   * simulator only knows its port once it listens).
   */
  constructor(private readonly opts: SensePassOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    const deviceId = typeof opts.deviceId === 'string' ? opts.deviceId.trim() : '';
    this.redact = makeRedactor([deviceId, `id_${deviceId}`]);
    const base = opts.logger ?? silentLogger;
    // Every line this adapter writes passes the redactor, whatever text it carries.
    this.logger = {
      debug: (m) => base.debug(this.redact(m)), info: (m) => base.info(this.redact(m)),
      warn: (m) => base.warn(this.redact(m)), error: (m) => base.error(this.redact(m)),
    };
    // Fail early and clearly on a config that cannot work, before any socket exists.
    if (!deviceId) throw new PosError('bad_input', 'the SensePass device id is not set: pair the POS (Partner platform or /devices/match) and paste its device id');
    if (/[\s\u0000-\u001f]/.test(deviceId)) throw new PosError('bad_input', 'the SensePass device id contains spaces or control characters; paste the id alone');
    if (opts.clientVersion !== undefined && opts.clientVersion !== '4' && opts.clientVersion !== '2') {
      throw new PosError('bad_input', `the Socket.IO client version must be "4" or "2", got ${JSON.stringify(opts.clientVersion)?.slice(0, 20)}`);
    }
    if (opts.transports !== undefined && !['default', 'websocket', 'polling'].includes(opts.transports)) {
      throw new PosError('bad_input', `transports must be default, websocket or polling, got ${JSON.stringify(opts.transports)?.slice(0, 20)}`);
    }
    if (opts.environment !== 'custom' || !prepare) sensepassEndpoints(opts);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.rest = new SensePassRest({
      restBase: () => sensepassEndpoints(this.opts).restBase,
      deviceId, redact: this.redact, verifyTls: opts.verifyTls !== false, logger: this.logger, timeoutMs: this.requestTimeoutMs,
      ...(opts.deviceIdOnGet ? { deviceIdOnGet: opts.deviceIdOnGet } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.socket = new SensePassSocket({
      endpoint: () => {
        const e = sensepassEndpoints(this.opts);
        return { origin: e.socketOrigin, path: e.socketPath };
      },
      deviceId, redact: this.redact, logger: this.logger, verifyTls: opts.verifyTls !== false,
      ...(opts.clientVersion ? { clientVersion: opts.clientVersion } : {}),
      ...(opts.transports ? { transports: opts.transports } : {}),
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.stableMs !== undefined ? { stableMs: opts.stableMs } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.socket.on('state', (s) => this.stateListeners.emit(s));
    this.socket.on('message', (payload) => this.onMessage(payload));
    this.socket.on('reconnected', () => this.rereadRunning());
    // SensePass documents no refusal on the socket; a server that hangs up may have refused the
    // device, so ask REST again (one call per hang-up, paced by the socket's backoff).
    this.socket.on('serverClosed', () => void this.probe(this.generation));
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  start(): void {
    this.stopped = false;
    const go = () => {
      if (this.stopped) return;
      this.socket.start();
      void this.probe(this.generation);
    };
    if (!this.prepare) return go();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(go, (err: Error) => this.logger.error(`SensePass: could not start: ${errText(err)}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation += 1;
    for (const run of this.sales.values()) {
      run.fail(new PosError('protocol_error', 'the SensePass connection was closed while the payment was running; send the same reference again to ask SensePass for its result'));
    }
    this.rest.destroy();
    await this.socket.stop();
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    return this.stateListeners.add(listener);
  }

  onNotification(listener: (e: NotificationEvent) => void): Unsubscribe {
    return this.notificationListeners.add(listener);
  }

  async pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    if (attempt.request.kind === 'refund') {
      try {
        return await runRefund(this.rest, attempt);
      } catch (err) {
        throw this.checkAuth(err);
      }
    }
    return this.sale(attempt);
  }

  async cancel(reference: string): Promise<void> {
    const run = this.sales.get(reference);
    if (!run) throw new PosError('not_found', `no SensePass payment with reference "${reference}" is running, so there is nothing to cancel`);
    if (run.finished) return;
    const n = run.transactionNumber;
    if (!n) {
      // The init is still in flight: cancel the device's pending transaction now, and by number once it is known.
      run.cancelWanted = true;
      try {
        await this.rest.cancelByDevice();
      } catch (err) {
        if (sensepassStatus(err) === 501) {
          run.cancelWanted = false;
          throw tooLate();
        }
        if (isPosError(err) && err.code === 'unauthorized') throw this.checkAuth(err);
        this.logger.debug(`SensePass: cancelling the device's pending transaction failed (${errText(err)}); cancelling by number once it is known`);
      }
      return;
    }
    try {
      await this.rest.cancel(n);
    } catch (err) {
      if (sensepassStatus(err) === 501) throw tooLate();
      throw this.checkAuth(err);
    }
    // The outcome (status 9, or 5 if the customer was quicker) still arrives as the transaction's result.
  }

  answerSignature(_reference: string, _accepted: boolean): Promise<void> {
    return Promise.reject(new PosError('capability_missing', 'SensePass has no signature check: the customer pays on their own phone or card'));
  }

  listTerminals(): Promise<Terminal[]> {
    return Promise.reject(new PosError('capability_missing', 'SensePass does not list terminals: each config node is one POS device'));
  }

  async lookup(record: AttemptRecord): Promise<LookupResult> {
    try {
      return await this.lookupOnce(record);
    } catch (err) {
      if (isPosError(err) && err.code === 'not_found') return { found: 'nothing' };
      return { found: 'cannot_ask', reason: errText(this.checkAuth(err)) };
    }
  }

  // ---- sale ----------------------------------------------------------------------------

  private async sale(attempt: PaymentAttempt): Promise<PaymentResult> {
    const { request } = attempt;
    if ((request.tip ?? 0) > 0 || (request.cashback ?? 0) > 0) {
      throw new PosError('bad_input', 'SensePass takes no tip or cashback: send the total as amount');
    }
    if (this.sales.has(request.reference)) throw new PosError('bad_input', `a payment with reference "${request.reference}" is already running`);
    const run = new RunningSale(attempt, this.logger);
    this.sales.set(request.reference, run);
    this.byAttempt.set(attempt.attemptId, run);
    try {
      const options = request.options ?? {};
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(options)) if (!INIT_CONTROL.has(k)) extra[k] = v;
      const userPosData = options.posData && typeof options.posData === 'object' && !Array.isArray(options.posData) ? options.posData : {};
      const body = {
        amount: request.amount,
        isCent: true as const,
        currency: request.currency,
        methodType: 'payment',
        timeOut: Math.max(MIN_TIMEOUT_S, Math.ceil((attempt.deadline - Date.now()) / 1000)),
        ...extra,
        // Echoed back in every notification and listing: how a payment is found without its number.
        posData: { ...userPosData, reference: request.reference, attemptId: attempt.attemptId },
      };
      let created: SensePassTransaction;
      try {
        created = await this.rest.init(body);
      } catch (err) {
        created = await this.recoverInit(run, err);
      }
      if (this.stopped) throw closedWhileRunning();
      this.adopt(run, created.TransactionNumber);
      await attempt.note({ transactionNumber: created.TransactionNumber });
      run.observe(created, 'answer');
      const early = this.recent.get(created.TransactionNumber);
      if (early) run.observe(early, 'message');
      if (run.cancelWanted && !run.finished) {
        // Often already cancelled by the device-wide cancel: a refusal here is expected, not news.
        this.rest.cancel(created.TransactionNumber).catch((err) => this.logger.debug(`SensePass: cancelling ${short(created.TransactionNumber)} by number: ${errText(err)}`));
      }
      run.deadlineTimer = setTimeout(() => void this.atDeadline(run), Math.max(0, attempt.deadline - Date.now()));
      const final = await run.final;
      return await this.finishSale(final, attempt);
    } finally {
      clearTimeout(run.deadlineTimer);
      run.finished = true;
      this.sales.delete(request.reference);
      this.byAttempt.delete(attempt.attemptId);
      if (run.transactionNumber) this.byNumber.delete(run.transactionNumber);
    }
  }

  private adopt(run: RunningSale, transactionNumber: string): void {
    if (run.transactionNumber && run.transactionNumber !== transactionNumber) this.byNumber.delete(run.transactionNumber);
    run.transactionNumber = transactionNumber;
    this.byNumber.set(transactionNumber, run);
    remember(this.references, transactionNumber, run.reference);
  }

  /**
   * The init gave no usable answer. Refused or never sent: say so (the reference stays free).
   * Otherwise SensePass may have created the payment: ask it, never send it again.
   */
  private async recoverInit(run: RunningSale, err: unknown): Promise<SensePassTransaction> {
    if (this.stopped) throw closedWhileRunning();
    if (!isPosError(err)) throw err;
    if (err.code === 'unauthorized') throw this.checkAuth(err);
    if (err.code === 'not_connected' || err.code === 'provider_error') throw err;
    if (err.code === 'not_found') throw new PosError('provider_error', err.message, err.details);
    const failure = transportFailureOf(err);
    this.logger.warn(`SensePass: ${err.message}; looking for the payment by its reference`);
    let found: SensePassTransaction | undefined;
    try {
      found = await findByReference(this.rest, { reference: run.reference, attemptId: run.attempt.attemptId, startedAt: new Date(Date.now() - 60_000).toISOString() });
    } catch (searchErr) {
      throw new PosError('protocol_error', `${err.message}; asking SensePass about it failed too (${errText(searchErr)})`, failure ?? err.details);
    }
    if (!found) {
      throw new PosError('protocol_error', `${err.message}; SensePass lists no payment with this reference (yet)`, failure ?? err.details);
    }
    this.logger.info(`SensePass: found payment ${short(found.TransactionNumber)} for reference ${run.reference}; following it`);
    return found;
  }

  /** The wait is over: one last read, then a timeout if SensePass still has no final status. */
  private async atDeadline(run: RunningSale): Promise<void> {
    if (run.finished || !run.transactionNumber) return;
    let why = '';
    try {
      run.observe(await this.rest.get(run.transactionNumber), 'read');
    } catch (err) {
      why = ` (reading it failed: ${errText(err)})`;
    }
    const last = run.lastStatus === undefined ? 'no status' : `status ${run.lastStatus}, ${statusInfo(run.lastStatus).event}`;
    run.fail(new PosError('timeout', `SensePass had no final status for payment ${short(run.transactionNumber)} when the wait ran out (${last})${why}; it may still complete: send the same reference again to ask`));
  }

  private async finishSale(t: SensePassTransaction, attempt: PaymentAttempt): Promise<PaymentResult> {
    return mapSaleResult(t, attempt.request, await this.commitIfNeeded(t));
  }

  /** The payment commit [doc]: undefined when done or not needed, else a sentence for the result message. */
  private async commitIfNeeded(t: SensePassTransaction): Promise<string | undefined> {
    if (this.opts.autoCommit === false || this.committed.has(t.TransactionNumber)) return undefined;
    const pending = pendingCommit(t);
    if (!pending) return undefined;
    const windowMs = pending.secondsToCommit !== undefined && pending.secondsToCommit > 0 ? pending.secondsToCommit * 1000 : this.requestTimeoutMs;
    try {
      await this.rest.commit(pending.link, Math.max(1000, Math.min(this.requestTimeoutMs, windowMs)));
      remember(this.committed, t.TransactionNumber, true);
      this.logger.debug(`SensePass: committed payment ${short(t.TransactionNumber)}${pending.message ? ` (${pending.message})` : ''}`);
      return undefined;
    } catch (err) {
      const within = pending.secondsToCommit !== undefined ? ` within ${pending.secondsToCommit} s` : '';
      this.logger.warn(`SensePass: committing payment ${short(t.TransactionNumber)} failed: ${errText(err)}`);
      return `, but committing it failed (${errText(err)}); SensePass expects the commit${within}: open raw.paymentCommit.commitLink or check the SensePass portal`;
    }
  }

  // ---- lookup --------------------------------------------------------------------------

  private async lookupOnce(record: AttemptRecord): Promise<LookupResult> {
    const { request } = record;
    const notes = record.notes ?? {};
    const noted = typeof notes.transactionNumber === 'string' && notes.transactionNumber ? notes.transactionNumber : undefined;
    if (request.kind === 'refund') {
      const confirmation = notes.refundConfirmation;
      if (noted && (typeof confirmation === 'string' || typeof confirmation === 'number')) {
        return { found: 'result', result: refundResult({ errorCode: 0, result: 'Approved', refundConfirmation: confirmation }, noted, request) };
      }
      return { found: 'cannot_ask', reason: 'SensePass cannot be asked about one refund of a payment; check the payment in the SensePass portal' };
    }
    const t = noted ? await this.rest.get(noted) : await this.fullEntity(await findByReference(this.rest, { reference: request.reference, attemptId: record.attemptId, startedAt: record.startedAt }));
    if (!t) return { found: 'nothing' };
    remember(this.references, t.TransactionNumber, request.reference);
    if (!statusInfo(statusOf(t)).final) return { found: 'in_progress' };
    return { found: 'result', result: mapSaleResult(t, request, await this.commitIfNeeded(t)) };
  }

  /** A listing may be a summary: the full entity when it can be read, else the listed one. */
  private async fullEntity(t: SensePassTransaction | undefined): Promise<SensePassTransaction | undefined> {
    if (!t) return undefined;
    try {
      return await this.rest.get(t.TransactionNumber);
    } catch (err) {
      this.logger.debug(`SensePass: read of listed transaction ${short(t.TransactionNumber)} failed (${errText(err)}); using the listing`);
      return t;
    }
  }

  // ---- connection ----------------------------------------------------------------------

  /** Checks the device id at start() and after the server hangs up: the socket has no way to say it was refused. */
  private async probe(generation: number): Promise<void> {
    const now = Date.now();
    try {
      await this.rest.list({ startDate: new Date(now - 24 * 3600 * 1000).toISOString(), endDate: new Date(now).toISOString(), pagination: { limit: 1, offset: 0 } });
    } catch (err) {
      if (generation !== this.generation || this.stopped) return;
      if (isPosError(err) && err.code === 'unauthorized') {
        this.socket.halt('unauthorized', err.message);
        return;
      }
      this.logger.warn(`SensePass: checking the device id failed (${errText(err)}); carrying on`);
    }
  }

  /** A refused device id on any call stops the socket too: it names the same device. */
  private checkAuth(err: unknown): unknown {
    if (isPosError(err) && err.code === 'unauthorized' && !this.stopped) this.socket.halt('unauthorized', err.message);
    return err;
  }

  /** After a reconnect: one read per running payment, since a message may have been missed. */
  private rereadRunning(): void {
    for (const run of this.sales.values()) {
      const n = run.transactionNumber;
      if (!n || run.finished) continue;
      this.rest.get(n).then(
        (t) => this.route(t, 'read'),
        (err) => this.logger.warn(`SensePass: reading payment ${short(n)} after the reconnect failed: ${errText(err)}`),
      );
    }
  }

  private onMessage(payload: unknown): void {
    let value = payload;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        this.logger.warn(`SensePass: dropped a message that is not JSON: ${describeFrame(value as string, this.redact)}`);
        return;
      }
    }
    if (!checkTransaction(value)) {
      this.logger.warn(`SensePass: dropped a message that is not a transaction (${checkTransaction.explain()}): ${describeFrame(jsonHead(value), this.redact)}`);
      return;
    }
    const t = value;
    remember(this.recent, t.TransactionNumber, t, MAX_RECENT);
    const run = this.route(t, 'message');
    this.notify(t, run?.reference ?? this.references.get(t.TransactionNumber));
  }

  /** Hands a status to the payment it belongs to: by number, or by the attemptId echoed in posData before the number is known. */
  private route(t: SensePassTransaction, source: Source): RunningSale | undefined {
    let run = this.byNumber.get(t.TransactionNumber);
    if (!run) {
      const attemptId = t.posData && typeof t.posData === 'object' ? (t.posData as { attemptId?: unknown }).attemptId : undefined;
      const candidate = typeof attemptId === 'string' ? this.byAttempt.get(attemptId) : undefined;
      if (candidate && !candidate.transactionNumber) {
        this.adopt(candidate, t.TransactionNumber);
        run = candidate;
      }
    }
    run?.observe(t, source);
    return run;
  }

  private notify(t: SensePassTransaction, reference: string | undefined): void {
    if (this.notificationListeners.size === 0) return;
    this.notificationListeners.emit(notificationOf(t, reference));
  }
}

/** Insert as newest; past `max` entries the oldest is forgotten. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max = MAX_REMEMBERED): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const tooLate = () => new PosError('provider_error', 'too late to cancel: the customer is already paying; the payment\'s result follows');

const closedWhileRunning = () =>
  new PosError('protocol_error', 'the SensePass connection was closed while the payment was running; send the same reference again to ask SensePass for its result');
