// The public face of the QuickPay simulator: options, lifecycle, publishing, history and fault
// switches. The socket server, the protocol answers, the auth endpoint and the scripted stream
// each do one job; this file wires them together.

import { randomBytes } from 'node:crypto';
import { makeRedactor } from '../../core/redact';
import { urlHost } from '../socket-util';
import { handleHttp, type AuthCall } from './auth-endpoint';
import { JwtVerifier } from './jwt-verify';
import { SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } from './keys';
import { handleClientFrame } from './pusher-protocol';
import { PusherServer, type PusherConn } from './pusher-server';
import { Publisher } from './publisher';

export type QuickPayFault = 'stopPonging' | 'malformedFrames' | 'badSignature' | 'rejectAuth' | 'closeWith4100' | 'closeWith4200';

export interface QuickPaySimulatorOptions {
  /** Default 0 (a free port) on host '127.0.0.1'. */
  port?: number;
  host?: string;
  /** Default SIMULATOR_APP_KEY. */
  appKey?: string;
  /** HMAC secret for private-channel auth; default a random hex string per simulator. */
  appSecret?: string;
  /** Default [SIMULATOR_API_KEY]; X-API-KEY must be one of them and equal the JWT sub. */
  apiKeys?: string[];
  /** Verifies JWTs; default simulatorKeys().publicKeyPem. */
  publicKeyPem?: string;
  /** Default true; false accepts any bearer token (for a person's own keys against the standalone simulator). */
  verifyJwt?: boolean;
  /** Default SIMULATOR_MERCHANT_ID. */
  merchantId?: string;
  /** Sent in connection_established; default 30 (the seed's example) [seed]. */
  activityTimeoutS?: number;
  /** Default 2000; 0 = no exchange.rate.updated / test-channel events. */
  rateIntervalMs?: number;
  /** Default 5000; 0 = no scripted payment walks. */
  paymentIntervalMs?: number;
  /** Default 'payment.status.updated' [inferred placeholder name]. */
  paymentEvent?: string;
  /** Default 'system.notification' [inferred placeholder name]. */
  notificationEvent?: string;
  /** The server pings a client idle this long; default 0 = never. */
  pingIdleMs?: number;
  /** How long a server ping waits for its pong before the close with 4201; default 30000. */
  pongWaitMs?: number;
  /** A path prefix before /app/<key>, e.g. '/ws'; default ''. */
  wsPath?: string;
  /**
   * Which junk the malformedFrames fault sends before each real event; default all three.
   * 'noEvent' (a JSON frame without `event`) throws inside stock pusher-js 8.6 (pusher.ts reads
   * event.event.indexOf) unless the client guards its message path.
   */
  malformedKinds?: MalformedKind[];
  logger?: (line: string) => void;
}

export type MalformedKind = 'notJson' | 'noEvent' | 'dataNotJson';

type Faults = Record<QuickPayFault, boolean>;

const FAULT_NAMES: readonly QuickPayFault[] = ['stopPonging', 'malformedFrames', 'badSignature', 'rejectAuth', 'closeWith4100', 'closeWith4200'];
const CLOSE_FAULTS: Partial<Record<QuickPayFault, { code: number; message: string }>> = {
  closeWith4100: { code: 4100, message: 'Over capacity' },
  closeWith4200: { code: 4200, message: 'Generic reconnect immediately' },
};
const MAX_AUTH_CALLS = 1000;
const MALFORMED_KINDS: readonly MalformedKind[] = ['notJson', 'noEvent', 'dataNotJson'];

export class QuickPaySimulator {
  readonly authCalls: Array<{ socketId: string; channel: string; ok: boolean; reason?: string }> = [];
  private readonly faults: Faults = {
    stopPonging: false, malformedFrames: false, badSignature: false, rejectAuth: false, closeWith4100: false, closeWith4200: false,
  };
  private readonly server: PusherServer;
  private readonly publisher: Publisher;
  private readonly host: string;
  private readonly wsPath: string;
  private readonly malformedKinds: readonly MalformedKind[];
  private readonly log: (line: string) => void;
  private started?: Promise<{ wsUrl: string; apiUrl: string; url: string; port: number }>;
  private stopped?: Promise<void>;

  constructor(opts: QuickPaySimulatorOptions = {}) {
    const appKey = nonEmpty(opts.appKey, SIMULATOR_APP_KEY, 'appKey');
    const appSecret = nonEmpty(opts.appSecret, randomBytes(16).toString('hex'), 'appSecret');
    const apiKeys = [...(opts.apiKeys ?? [SIMULATOR_API_KEY])];
    if (apiKeys.length === 0 || apiKeys.some((k) => typeof k !== 'string' || k === '')) throw new Error('QuickPaySimulator: apiKeys must be non-empty strings');
    const merchantId = nonEmpty(opts.merchantId, SIMULATOR_MERCHANT_ID, 'merchantId');
    if (!/^[-a-zA-Z0-9_=@,.;]+$/.test(merchantId)) throw new Error('QuickPaySimulator: merchantId must be usable in a channel name');
    const redact = makeRedactor([appSecret, ...apiKeys]);
    const logger = opts.logger;
    this.log = logger ? (line: string) => logger(redact(`quickpay-simulator: ${line}`)) : () => undefined;
    this.host = opts.host ?? '127.0.0.1';
    this.wsPath = normalisePath(opts.wsPath ?? '');
    this.malformedKinds = [...(opts.malformedKinds ?? MALFORMED_KINDS)];
    if (this.malformedKinds.some((k) => !MALFORMED_KINDS.includes(k))) throw new Error(`QuickPaySimulator: malformedKinds may hold ${MALFORMED_KINDS.join(', ')}`);
    const verifier = new JwtVerifier({ publicKeyPem: opts.publicKeyPem ?? simulatorKeys().publicKeyPem, verify: opts.verifyJwt !== false });

    this.server = new PusherServer({
      host: this.host,
      port: opts.port ?? 0,
      appKey,
      wsPath: this.wsPath,
      activityTimeoutS: positive(opts.activityTimeoutS, 30, 'activityTimeoutS'),
      pingIdleMs: nonNegative(opts.pingIdleMs, 0, 'pingIdleMs'),
      pongWaitMs: positive(opts.pongWaitMs, 30_000, 'pongWaitMs'),
      onOpen: () => this.onOpen(),
      onFrame: (conn, frame) => handleClientFrame(conn, frame, { appKey, appSecret, faults: this.faults, server: this.server, log: this.log }),
      onHttp: (req, res) => handleHttp(req, res, {
        appKey, appSecret, apiKeys, merchantId, verifier,
        socketExists: (id) => this.server.bySocketId(id) !== undefined,
        rejectAll: () => this.faults.rejectAuth,
        record: (call) => this.recordAuth(call),
        log: this.log,
      }),
      log: this.log,
      redact,
    });
    this.publisher = new Publisher({
      merchantId,
      rateIntervalMs: nonNegative(opts.rateIntervalMs, 2000, 'rateIntervalMs'),
      paymentIntervalMs: nonNegative(opts.paymentIntervalMs, 5000, 'paymentIntervalMs'),
      paymentEvent: nonEmpty(opts.paymentEvent, 'payment.status.updated', 'paymentEvent'),
      notificationEvent: nonEmpty(opts.notificationEvent, 'system.notification', 'notificationEvent'),
      publish: (channel, event, data) => this.publish(channel, event, data),
      hasSubscribers: (channel) => this.server.connections().some((c) => c.channels.has(channel)),
    });
  }

  /**
   * wsUrl: clients connect to `<wsUrl>/app/<key>` (wsPath included); apiUrl: the auth endpoint's
   * base, on the same port. `url` (= wsUrl) and `port` are there for the shared in-process runner.
   */
  start(): Promise<{ wsUrl: string; apiUrl: string; url: string; port: number }> {
    if (this.stopped) return Promise.reject(new Error('QuickPaySimulator: already stopped'));
    this.started ??= this.server.listen().then((port) => {
      if (!this.stopped) this.publisher.start();
      const hostPort = `${urlHost(this.host)}:${port}`;
      const wsUrl = `ws://${hostPort}${this.wsPath}`;
      this.log(`listening on ${wsUrl}/app/<key> and http://${hostPort}/v1/websocket/auth`);
      return { wsUrl, apiUrl: `http://${hostPort}`, url: wsUrl, port };
    });
    return this.started;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.publisher.stop();
      await this.server.close();
    })();
    return this.stopped;
  }

  /** Publishes one event now to the channel's subscribers; `data` is JSON-encoded into the frame's string `data`. */
  publish(channel: string, event: string, data: unknown): number {
    const frame = { event, channel, data: JSON.stringify(data) ?? 'null' };
    const text = JSON.stringify(frame);
    let count = 0;
    for (const conn of this.server.connections()) {
      if (!conn.channels.has(channel)) continue;
      if (this.faults.malformedFrames) this.sendMalformed(conn, channel, event);
      if (this.server.sendText(conn, text, frame)) count += 1;
    }
    return count;
  }

  /** One payment status event on private-payments.<merchant>; `extra` overrides or adds fields (payment_id continues a payment). */
  publishPayment(status: string, extra?: Record<string, unknown>): void {
    this.publisher.publishPayment(status, extra);
  }

  publishNotification(level: string, title: string, message: string): void {
    this.publisher.publishNotification(level, title, message);
  }

  /**
   * Sends one text frame as it is to every open connection (a malformed or huge frame, for a
   * test or by hand); the history records only its length. Returns how many connections got it.
   */
  sendRaw(text: string): number {
    let count = 0;
    for (const conn of this.server.connections()) {
      if (this.server.sendText(conn, text, `(raw frame of ${text.length} characters)`)) count += 1;
    }
    return count;
  }

  /** Kills every client socket without a close frame, as a network drop. */
  dropAll(): void {
    const n = this.server.dropAll();
    this.log(`dropped ${n} socket(s) without a close frame`);
  }

  /**
   * closeWith4100 / closeWith4200 close every connection with that code once and switch
   * themselves off; with nobody connected they wait for the next connection.
   */
  setFault(name: QuickPayFault, on: boolean): void {
    if (!FAULT_NAMES.includes(name)) throw new Error(`QuickPaySimulator: unknown fault ${String(name)}`);
    this.faults[name] = on;
    this.log(`fault ${name} ${on ? 'on' : 'off'}`);
    if (on && CLOSE_FAULTS[name] && this.server.connections().length > 0) this.fireCloseFault(name);
  }

  /** Upgrades accepted, including those then closed for a wrong app key, path or protocol. */
  get connectionsAccepted(): number {
    return this.server.accepted;
  }

  /** Connections turned away: closed with 4001 / 4005 / 4007 / 4008 after the upgrade, or refused while stopping. */
  get connectionsRefused(): number {
    return this.server.refused;
  }

  /** Connections open now that passed the handshake. */
  get connectionsOpen(): number {
    return this.server.connections().length;
  }

  /** Every channel each open connection is subscribed to now. */
  get subscriptions(): Array<{ socketId: string; channel: string }> {
    return this.server.connections().flatMap((c) => [...c.channels].map((channel) => ({ socketId: c.socketId, channel })));
  }

  /** Frames sent (objects; malformed ones as text), oldest first, bounded. */
  get sent(): unknown[] {
    return this.server.sent;
  }

  /** Frames received (parsed, or the text when not JSON), oldest first, bounded. */
  get received(): unknown[] {
    return this.server.received;
  }

  /** An armed close fault takes the first connection that opens. */
  private onOpen(): void {
    const armed = FAULT_NAMES.find((name) => this.faults[name] && CLOSE_FAULTS[name]);
    if (armed) this.fireCloseFault(armed);
  }

  private fireCloseFault(name: QuickPayFault): void {
    const close = CLOSE_FAULTS[name];
    if (!close) return;
    this.faults[name] = false;
    const conns = this.server.connections();
    this.log(`closing ${conns.length} connection(s) with ${close.code} (fault ${name}, now off)`);
    for (const conn of conns) this.server.closeWith(conn, close.code, close.message);
  }

  /** A careful client must drop each of these and keep the connection. */
  private sendMalformed(conn: PusherConn, channel: string, event: string): void {
    const frames: Record<MalformedKind, string> = {
      notJson: 'this is not JSON {',
      noEvent: JSON.stringify({ channel, data: '{}' }),
      dataNotJson: JSON.stringify({ event, channel, data: 'this data is not JSON {' }),
    };
    for (const kind of this.malformedKinds) this.server.sendText(conn, frames[kind]);
  }

  private recordAuth(call: AuthCall): void {
    this.authCalls.push(call);
    if (this.authCalls.length > MAX_AUTH_CALLS + MAX_AUTH_CALLS / 2) this.authCalls.splice(0, this.authCalls.length - MAX_AUTH_CALLS);
  }
}

function normalisePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function nonEmpty(v: string | undefined, fallback: string, name: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw new Error(`QuickPaySimulator: ${name} must be a non-empty string`);
  return v;
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`QuickPaySimulator: ${name} must be a number >= 0`);
  return v;
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`QuickPaySimulator: ${name} must be a number > 0`);
  return v;
}
