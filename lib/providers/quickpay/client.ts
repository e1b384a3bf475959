// QuickPay as a PaymentProvider: a notification source only. Its real-time stream speaks the
// Pusher Channels protocol, so the connection is pusher-js itself, pointed at QuickPay's host,
// with QuickPay's channel authorisation (a JSON body signed by a fresh RS256 JWT) plugged in as
// pusher-js's customHandler. The notification nodes choose the channels (setTopics); every event
// on them reaches the flow under its own name.

import { tapSafely, type WireTap } from '../../core/wire-log';
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { PosError } from '../../core/errors';
import { Listeners } from '../../core/listeners';
import type { LookupResult, PaymentProvider, Unsubscribe } from '../../core/provider';
import { describeFrame, makeRedactor, type Redactor } from '../../core/redact';
import { silentLogger, type ConnectionState, type Logger, type NotificationEvent, type PaymentResult, type Terminal } from '../../core/types';
import { authBody, requestChannelAuth, type ChannelAuthOutcome } from './authorizer';
import { channelsForTopics, isChannelName } from './channels';
import { loadPrivateKey } from './jwt';
import { toNotification } from './mapping';
import { withPusherScrub } from './pusher-log';
import { ReplayGuard } from './replay-guard';
import { QuickPayStream } from './stream';
import { AUTH_PATH, quickpayEndpoints } from './urls';
import { capabilitiesOf } from '../registry';

export interface QuickPayOptions {
  /** 'test' = sandbox: wss://sandbox-ws.quickpay.best/app/<appKey>, REST https://sandbox-api.quickpay.best ; 'production': wss://ws.quickpay.best, https://api.quickpay.best ; 'custom': url = one base such as http://127.0.0.1:8705 or ws://127.0.0.1:8705 → WS ws(s)://host:port/app/<key> (path prefix of the URL kept as wsPath) and REST http(s)://host:port (same path prefix) */
  environment: 'test' | 'production' | 'custom';
  url?: string;
  /** Public, part of the WebSocket path; QuickPay's is 'pagCMLx6TXrb'. */
  appKey: string;
  /** Names the merchant's channels (private-payments.<id>, ...). */
  merchantId: string;
  /** Secret: X-API-KEY and the JWT sub. */
  apiKey: string;
  /** Secret: RS256 signing key (PEM, PKCS#8 or PKCS#1). A bad PEM makes the constructor throw PosError('bad_input'), without the key. */
  privateKeyPem: string;
  /** For the auth POST; pusher-js in Node cannot turn it off for the socket (logged once). */
  verifyTls?: boolean;
  logger?: Logger;
  /** Default 10000. */
  authTimeoutMs?: number;
  /** Default 'payment.status.updated' [inferred]: events of this name get reference = data.payment_id. */
  paymentEvent?: string;
  /** Default 'system.notification' [inferred]. Passed through like every other event. */
  notificationEvent?: string;
  /** pusher-js overrides, for tests. */
  activityTimeoutMs?: number;
  pongTimeoutMs?: number;
  /** Where we reconnect ourselves (after a 4100-4199 close) and retry a failed channel auth. */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * A refused channel (401/403, or a signature the server rejects) is asked for again on the
   * next connection and then on a back-off from minMs (default 60 s, also the least time between
   * two auth calls for it) doubling to maxMs (default 15 min). Shorter values are for tests.
   */
  refusedRetry?: { minMs?: number; maxMs?: number };
  /** The auth endpoint below the REST base; default '/v1/websocket/auth' [doc]. */
  authPath?: string;
  /** The JWT `uri` claim of the auth call; default the auth path (the docs leave /v1 open) [inferred]. */
  authJwtUri?: string;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}


const DEFAULT_PAYMENT_EVENT = 'payment.status.updated';
const DEFAULT_NOTIFICATION_EVENT = 'system.notification';
const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
/** Topics already reported as ignored: a node asks with the same topics on every deploy. */
const MAX_WARNED = 200;

export class QuickPayProvider implements PaymentProvider {
  readonly name = 'quickpay' as const;
  readonly capabilities = capabilitiesOf('quickpay');
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly key: KeyObject;
  private readonly apiKey: string;
  private readonly appKey: string;
  private readonly merchantId: string;
  private readonly paymentEvent: string;
  private readonly stream: QuickPayStream;
  private readonly replays = new ReplayGuard();
  private readonly stateListeners = new Listeners<ConnectionState>((m) => this.logger.error(`QuickPay: a state listener failed: ${m}`));
  private readonly notificationListeners = new Listeners<NotificationEvent>((m) => this.logger.error(`QuickPay: a notification listener failed: ${m}`));
  private readonly warned = new Set<string>();
  private topics: string[] = [];
  /** Auth calls are a few per connection: no keep-alive, and stop() destroys whatever is in flight. */
  private agents: { http: http.Agent; https: https.Agent } | undefined;
  private starting: Promise<void> | undefined;
  private stopped = true;

  /** `prepare` runs before the first connection and supplies the custom base URL (the in-process simulator's). */
  constructor(private readonly opts: QuickPayOptions, private readonly prepare?: () => Promise<{ url: string }>) {
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey.trim() : '';
    const pem = typeof opts.privateKeyPem === 'string' ? opts.privateKeyPem : '';
    this.redact = withPusherScrub(makeRedactor([apiKey, pem, pem.trim(), pemBody(pem)]));
    const base = opts.logger ?? silentLogger;
    // Every line this adapter writes passes the redactor, whatever text it carries.
    this.logger = {
      debug: (m) => base.debug(this.redact(m)), info: (m) => base.info(this.redact(m)),
      warn: (m) => base.warn(this.redact(m)), error: (m) => base.error(this.redact(m)),
    };
    if (!apiKey) throw new PosError('bad_input', 'the QuickPay API key is not set: paste the API key QuickPay gave you with the private key');
    if (/[\s\u0000-\u001f]/.test(apiKey)) throw new PosError('bad_input', 'the QuickPay API key contains spaces or control characters; paste the key alone');
    this.key = loadPrivateKey(pem);
    this.apiKey = apiKey;
    this.appKey = typeof opts.appKey === 'string' ? opts.appKey.trim() : '';
    if (!this.appKey || !/^[A-Za-z0-9_-]{1,100}$/.test(this.appKey)) {
      throw new PosError('bad_input', 'the QuickPay app key must be letters, digits, - or _ (QuickPay\'s is pagCMLx6TXrb)');
    }
    this.merchantId = typeof opts.merchantId === 'string' ? opts.merchantId.trim() : '';
    if (this.merchantId && !isChannelName(`private-payments.${this.merchantId}`)) {
      throw new PosError('bad_input', 'the QuickPay merchant id may only hold letters, digits and - _ = @ , . ; (it is part of channel names)');
    }
    this.paymentEvent = eventOption(opts.paymentEvent, DEFAULT_PAYMENT_EVENT, 'payment event');
    eventOption(opts.notificationEvent, DEFAULT_NOTIFICATION_EVENT, 'notification event');
    const authTimeoutMs = opts.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    if (!Number.isFinite(authTimeoutMs) || authTimeoutMs <= 0) throw new PosError('bad_input', 'authTimeoutMs must be a number > 0');
    // The custom base of an in-process simulator is only known after prepare(); check the rest now.
    if (opts.environment !== 'custom' || !prepare) quickpayEndpoints(opts, this.appKey);

    this.stream = new QuickPayStream({
      appKey: this.appKey,
      endpoints: () => quickpayEndpoints(this.opts, this.appKey),
      authorize: (socketId, channelName) => this.tapAuth(channelName, requestChannelAuth({
        restBase: quickpayEndpoints(this.opts, this.appKey).restBase,
        apiKey: this.apiKey, key: this.key, socketId, channelName,
        timeoutMs: authTimeoutMs, verifyTls: opts.verifyTls !== false, redact: this.redact,
        authPath: opts.authPath ?? AUTH_PATH, ...(opts.authJwtUri ? { jwtUri: opts.authJwtUri } : {}),
        agent: this.agentFor(quickpayEndpoints(this.opts, this.appKey).restBase),
      }), socketId),
      logger: this.logger,
      redact: this.redact,
      verifyTls: opts.verifyTls !== false,
      ...(opts.activityTimeoutMs ? { activityTimeoutMs: opts.activityTimeoutMs } : {}),
      ...(opts.pongTimeoutMs ? { pongTimeoutMs: opts.pongTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.refusedRetry ? { refusedRetry: opts.refusedRetry } : {}),
      onEvent: (channel, event, data) => this.onEvent(channel, event, data),
      onLost: () => this.replays.lost(),
      onResubscribed: (channel) => this.replays.resubscribed(channel),
      onState: (state) => this.stateListeners.emit(state),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
  }

  get state(): ConnectionState {
    return this.stream.state;
  }

  start(): void {
    this.stopped = false;
    const go = () => {
      if (!this.stopped) this.stream.start();
    };
    if (!this.prepare) return go();
    this.starting ??= this.prepare().then(({ url }) => {
      this.opts.url = url;
    });
    this.starting.then(go, (err: unknown) => {
      const reason = this.redact(`QuickPay could not start: ${(err as Error)?.message ?? String(err)}`);
      this.logger.error(reason);
      this.stateListeners.emit({ name: 'error', reason });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.replays.clear();
    const agents = this.agents;
    this.agents = undefined;
    agents?.http.destroy();
    agents?.https.destroy();
    await this.stream.stop();
  }

  setTopics(topics: readonly string[]): void {
    this.topics = [...new Set((Array.isArray(topics) ? topics : []).filter((t): t is string => typeof t === 'string'))];
    this.stream.setChannels(this.channelsOf(this.topics));
  }

  channelsOf(topics: readonly string[]): string[] {
    const { channels, ignored } = channelsForTopics(Array.isArray(topics) ? topics : [], this.merchantId);
    for (const { topic, why } of ignored) {
      if (this.warned.has(topic)) continue;
      if (this.warned.size >= MAX_WARNED) this.warned.clear();
      this.warned.add(topic);
      this.logger.warn(`QuickPay: topic "${topic.slice(0, 100)}" ignored: ${why}`);
    }
    return channels;
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    return this.stateListeners.add(listener);
  }

  onNotification(listener: (e: NotificationEvent) => void): Unsubscribe {
    return this.notificationListeners.add(listener);
  }

  pay(): Promise<PaymentResult> {
    return Promise.reject(missing('take payments or refunds'));
  }

  cancel(_reference: string): Promise<void> {
    return Promise.reject(missing('cancel payments'));
  }

  answerSignature(_reference: string, _accepted: boolean): Promise<void> {
    return Promise.reject(missing('check signatures'));
  }

  listTerminals(): Promise<Terminal[]> {
    return Promise.reject(missing('list terminals'));
  }

  async lookup(): Promise<LookupResult> {
    return { found: 'cannot_ask', reason: 'QuickPay\'s stream is a notification source: it cannot be asked about a payment' };
  }

  /** The channel-auth call as the wire tap sees it: what was asked, and the answer (its signature masked by the log). */
  private tapAuth(channelName: string, outcome: Promise<ChannelAuthOutcome>, socketId: string): Promise<ChannelAuthOutcome> {
    const wire = this.opts.wire;
    if (!wire) return outcome;
    tapSafely(wire, 'out', JSON.stringify({ method: 'POST', path: this.opts.authPath ?? AUTH_PATH, body: authBody(socketId, channelName) }), 'auth');
    return outcome.then((o) => {
      tapSafely(wire, 'in', JSON.stringify(o.kind === 'ok' ? { status: 200, body: { auth: o.auth } } : { status: o.status ?? null, error: o.message }), 'auth');
      return o;
    });
  }

  private agentFor(restBase: string): http.Agent {
    this.agents ??= { http: new http.Agent({ keepAlive: false }), https: new https.Agent({ keepAlive: false }) };
    return restBase.startsWith('https:') ? this.agents.https : this.agents.http;
  }

  private onEvent(channel: string, event: string, data: unknown): void {
    if (typeof data === 'string') {
      // pusher-js hands over the raw string when the data is not JSON.
      this.logger.warn(`QuickPay: dropped ${event.slice(0, 100)} on ${channel}: its data is not JSON: ${describeFrame(data, this.redact)}`);
      return;
    }
    if (this.replays.isReplay(channel, event, data)) {
      this.logger.debug(`QuickPay: dropped ${event.slice(0, 100)} on ${channel}: the same event came just before the reconnect`);
      return;
    }
    if (this.notificationListeners.size === 0) return;
    this.notificationListeners.emit(toNotification({ channel, event, data, paymentEvent: this.paymentEvent }));
  }
}

function eventOption(value: unknown, fallback: string, what: string): string {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string' || !value.trim() || value.length > 200) throw new PosError('bad_input', `the QuickPay ${what} name must be a short text`);
  return value.trim();
}

/** The PEM's base64 without line breaks, so that a key logged in any wrapping is masked. */
function pemBody(pem: string): string {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem.replace(/\\n/g, '\n'));
  return m ? (m[1] as string).replace(/\s+/g, '') : '';
}

const missing = (what: string) =>
  new PosError('capability_missing', `QuickPay's stream cannot ${what}: it only sends notifications (rates, payment status, system notices)`);
