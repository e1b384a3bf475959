// Dojo as one PaymentProvider: the EPOS Data WebSocket (the connection whose state the nodes
// show, the inbound requests, Dojo's payment events) plus the REST API for payments at the
// counter. Both use the same API key and software house id.

import { PosError } from '../../core/errors';
import type { RequestServer } from '../../core/inbound';
import type { AttemptRecord, LookupResult, PaymentAttempt, PaymentProvider, Unsubscribe } from '../../core/provider';
import { makeRedactor, type Redactor } from '../../core/redact';
import { silentLogger, type ConnectionState, type Logger, type NotificationEvent, type PaymentResult, type Terminal } from '../../core/types';
import { DojoCounter } from './counter';
import { dojoEndpoints, keyWarning, type DojoEnvironment } from './endpoint';
import { EposServer, type DojoEvent } from './epos-server';
import { DojoRest } from './rest';
import { LeasedConnection, type Runnable } from '../../core/leased-connection';
import type { ConnectionLease } from '../../core/leased-provider';
import { Listeners } from '../../core/listeners';
import type { WireTap } from '../../core/wire-log';
import { capabilitiesOf } from '../registry';

export interface DojoOptions {
  environment: DojoEnvironment;
  /** With `custom`: a base URL such as http://127.0.0.1:8080 (REST there, WebSocket at /epos). */
  url?: string;
  apiKey: string;
  softwareHouseId: string;
  resellerId?: string;
  verifyTls?: boolean;
  logger?: Logger;
  heartbeatIntervalMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Between two reads of a running terminal session. Default 1000. */
  pollIntervalMs?: number;
  /** Per REST call. Default 15000. */
  restTimeoutMs?: number;
  /** Dojo REST `version` header. Default 2026-02-27. */
  apiVersion?: string;
  /** Version string registered with each capability. Default 'v1'. */
  capabilityVersion?: string;
  /** A shared journal's lease: the EPOS socket is opened only while this instance holds it. */
  lease?: () => Promise<ConnectionLease>;
  /**
   * Never register capabilities (a connection check): a PUT replaces the account's whole list,
   * so a check would cut the capabilities of an integration running elsewhere.
   */
  readOnly?: boolean;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}


/** Header values travel verbatim; a line break or control character would break (or forge) a header. */
const HEADER_SAFE = /^[\x21-\x7e][\x20-\x7e]*$/;

/** Longest an event waits for the payment intent it names to be known. */
const EVENT_HOLD_MS = 5000;

export class DojoProvider implements PaymentProvider {
  readonly name = 'dojo' as const;
  // From the provider table. Manual capture: a pre-auth is a Manual payment intent, then a capture or a reversal [spec]; Dojo has no zero-amount check.
  readonly capabilities = capabilitiesOf('dojo');
  readonly requests: RequestServer;
  private readonly server: EposServer;
  private readonly rest: DojoRest;
  private readonly counter: DojoCounter;
  private readonly logger: Logger;
  private readonly redact: Redactor;
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.logger.error(`Dojo: a notification listener failed: ${this.redact(m)}`));
  /** The tail of the event queue: events are delivered in the order Dojo sent them. */
  private events: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private stopped = false;
  /** The EPOS socket as this instance runs it: itself, or (shared journal) only while holding the lease. */
  private readonly epos: Runnable;

  /**
   * `prepare` runs before the first connection attempt and may supply the base URL (the
   * in-process simulator only knows its port once it listens).
   */
  constructor(private readonly opts: DojoOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    this.logger = opts.logger ?? silentLogger;
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey.trim() : '';
    const softwareHouseId = typeof opts.softwareHouseId === 'string' ? opts.softwareHouseId.trim() : '';
    const resellerId = typeof opts.resellerId === 'string' && opts.resellerId.trim() ? opts.resellerId.trim() : undefined;
    this.redact = makeRedactor([apiKey]);
    // Fail early and clearly on a config that cannot work, before any socket exists.
    if (!apiKey) throw new PosError('bad_input', 'the Dojo API key is not set (sk_sandbox_… for the sandbox, sk_prod_… for production)');
    if (!HEADER_SAFE.test(apiKey)) throw new PosError('bad_input', 'the Dojo API key contains spaces or control characters; paste the key alone');
    if (!softwareHouseId) throw new PosError('bad_input', 'the Dojo software house id is not set: Dojo issues it to the EPOS vendor');
    if (!HEADER_SAFE.test(softwareHouseId) || (resellerId && !HEADER_SAFE.test(resellerId))) {
      throw new PosError('bad_input', 'the Dojo software house id and reseller id must be plain text without control characters');
    }
    dojoEndpoints(opts);
    const warning = keyWarning(opts.environment, apiKey);
    if (warning) this.logger.warn(`Dojo: ${warning}`);

    this.rest = new DojoRest({
      restBase: () => dojoEndpoints(this.opts).restBase,
      apiKey, softwareHouseId, ...(resellerId ? { resellerId } : {}),
      ...(opts.apiVersion ? { apiVersion: opts.apiVersion } : {}),
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      ...(opts.restTimeoutMs !== undefined ? { timeoutMs: opts.restTimeoutMs } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.counter = new DojoCounter({ rest: this.rest, logger: this.logger, ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}) });
    this.server = new EposServer({
      url: () => dojoEndpoints(this.opts).wsUrl,
      apiKey, softwareHouseId, ...(resellerId ? { resellerId } : {}),
      register: async (capabilities) => { await this.rest.registerWs(capabilities); },
      ...(opts.capabilityVersion ? { capabilityVersion: opts.capabilityVersion } : {}),
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      ...(opts.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
      ...(opts.readOnly ? { readOnly: true } : {}),
    });
    this.requests = this.server;
    // Dojo serves one EPOS socket per account: with a shared journal only the lease holder opens it.
    this.epos = opts.lease ? new LeasedConnection(this.server, opts.lease, this.logger, 'Dojo EPOS Data') : this.server;
  }

  get state(): ConnectionState {
    const state = this.epos.state;
    // On standby only the socket is elsewhere: payments at the counter go out here through REST.
    if (state.name === 'standby') return { ...state, paysHere: true };
    return state;
  }

  start(): void {
    this.stopped = false;
    this.counter.reopen();
    if (!this.prepare) return this.epos.start();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(() => {
      if (!this.stopped) this.epos.start();
    }, (err: Error) => this.logger.error(`Dojo: could not start: ${this.redact(err.message)}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Running payments stop waiting at once; their outcome is asked about with the same reference later.
    this.counter.stop();
    this.rest.destroy();
    await this.epos.stop();
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    return this.epos.onState((state) => listener(state.name === 'standby' ? { ...state, paysHere: true } : state));
  }

  onNotification(listener: (e: NotificationEvent) => void): Unsubscribe {
    return this.notificationListeners.add(listener);
  }

  /** Dojo sends payment events only for registered HandleEvent capabilities; the server registers them while wanted. */
  setNotificationInterest(wanted: boolean): void {
    this.server.setEventHandler(wanted ? (event) => this.emitEvent(event) : undefined);
  }

  pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    return this.counter.pay(attempt);
  }

  cancel(reference: string): Promise<void> {
    return this.counter.cancel(reference);
  }

  answerSignature(reference: string, accepted: boolean): Promise<void> {
    return this.counter.answerSignature(reference, accepted);
  }

  listTerminals(): Promise<Terminal[]> {
    return this.counter.listTerminals();
  }

  lookup(record: AttemptRecord): Promise<LookupResult> {
    return this.counter.lookup(record);
  }

  /**
   * Events keep their order; one that names an intent we do not know yet waits (briefly) for
   * the intents being created now, since Dojo may announce an intent before our POST returns.
   */
  private emitEvent(e: DojoEvent): void {
    const data = e.data && typeof e.data === 'object' ? (e.data as { paymentIntentId?: unknown }) : {};
    const intentId = typeof data.paymentIntentId === 'string' ? data.paymentIntentId : undefined;
    const ready = intentId && !this.counter.referenceOf(intentId) ? this.counter.creationsSettled(EVENT_HOLD_MS) : undefined;
    this.events = (ready ? this.events.then(() => ready) : this.events).then(() => this.deliverEvent(e, intentId));
  }

  private deliverEvent(e: DojoEvent, intentId: string | undefined): void {
    const reference = intentId ? this.counter.referenceOf(intentId) : undefined;
    const event: NotificationEvent = {
      provider: 'dojo',
      event: e.event,
      ...(reference ? { reference } : {}),
      data: e,
      receivedAt: new Date().toISOString(),
    };
    this.notificationListeners.emit(event);
  }
}
