// A client WebSocket that stays connected: backoff with jitter between attempts, a handshake
// timeout, a heartbeat that notices half-open sockets, and no retries once the server has said
// the credentials are wrong or another client took over. `state` is the single source of truth;
// every change goes through transition() so the status shown under the nodes never disagrees
// with what the socket is doing.

import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from './backoff';
import { corkForTick, corkForTurn, type SendTiming } from './write-cork';
import { silentLogger, type ConnectionState, type Logger } from './types';
import { tapSafely, type WireTap } from './wire-log';

export type FailureKind = 'retry' | 'unauthorized' | 'displaced';

/** What is known about a failed attempt or a closed connection. */
export interface Failure {
  /** HTTP status of a refused upgrade. */
  status?: number;
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  closeCode?: number;
  /** Close reason from the server, or the (redacted) error that ended the attempt. */
  reason?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
  willRetry: boolean;
}

export interface SocketOptions {
  /** Called on every attempt, so a URL carrying a fresh token or a new host is picked up. */
  url: () => string;
  /** Applied to everything logged or put into a state reason. Default: defaultRedact. */
  redact?: (text: string) => string;
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** Default true. False turns off certificate verification for this socket only. */
  verifyTls?: boolean;
  /** Default 10000. Covers DNS, TCP, TLS and the upgrade together. */
  handshakeTimeoutMs?: number;
  /** Default 15000; 0 disables. A socket silent for a whole interval after a ping is dropped. */
  heartbeatIntervalMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Default 10000. The backoff resets only after a connection stayed open this long. */
  stableMs?: number;
  /** Default: defaultClassifyFailure. */
  classifyFailure?: (f: Failure) => FailureKind;
  logger?: Logger;
  /**
   * Default MAX_FRAME_BYTES. A larger inbound frame closes the socket (1009) as soon as its
   * header announces the size, before it is buffered or parsed, and the socket reconnects.
   */
  maxPayloadBytes?: number;
  /** Sees every text frame in and out (the config node's wire log, a connection check). */
  wire?: WireTap;
}

/** 16 MiB: far above any provider's frame, far below what would hold the event loop for seconds. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface SocketEvents {
  state: [ConnectionState];
  open: [];
  message: [string];
  close: [CloseInfo];
}

const AUTH_CLOSE_CODES = new Set([1008, 4001, 4003]);

export function defaultClassifyFailure(f: Failure): FailureKind {
  if (f.status === 401 || f.status === 403) return 'unauthorized';
  if (f.closeCode !== undefined && AUTH_CLOSE_CODES.has(f.closeCode)) return 'unauthorized';
  return 'retry';
}

/** Masks query and fragment parameter values and URL user-info, where tokens usually travel. */
export function defaultRedact(text: string): string {
  // The parameter name may not contain `?` or `;`: otherwise a run of them with no `=` was
  // rescanned from each one (quadratic on a long reason or frame). The masked output is the same.
  return text
    .replace(/([?&#;][^=&#?;\s"'<>]*=)[^&#\s"'<>]+/g, '$1***')
    .replace(/(\/\/)[^/@\s"'<>]+@/g, '$1***@');
}

/** After close(1000) the peer gets this long to answer before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** stop() resolves by this time even if the socket never reports 'close'. */
const STOP_DEADLINE_MS = 1500;

/** Everything belonging to one connection attempt, so a late event from an old socket can be told apart. */
interface Attempt {
  readonly ws: WebSocket;
  opened: boolean;
  /** Traffic seen since the previous heartbeat tick. */
  alive: boolean;
  status?: number;
  lastError?: string;
  /** Set when this side ends the socket; such a close is never classified as an auth failure. */
  abortReason?: string;
  handshakeTimer?: NodeJS.Timeout;
  heartbeatTimer?: NodeJS.Timeout;
  stableTimer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
  deadlineTimer?: NodeJS.Timeout;
  closeWaiters: (() => void)[];
  detach: () => void;
  /** The upgraded TCP/TLS socket (from the documented 'upgrade' event), corked per tick by send(). */
  raw?: import('node:stream').Writable;
}

export class ReconnectingSocket extends EventEmitter<SocketEvents> {
  private current: ConnectionState = { name: 'idle' };
  /** True between start() and stop()/halt()/an unauthorized or displaced verdict. */
  private running = false;
  private attempt: Attempt | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly backoff: Backoff;
  private readonly redact: (text: string) => string;
  private readonly logger: Logger;
  private readonly classify: (f: Failure) => FailureKind;
  private readonly handshakeTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly stableMs: number;

  constructor(private readonly options: SocketOptions) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.redact = options.redact ?? defaultRedact;
    this.logger = options.logger ?? silentLogger;
    this.classify = options.classifyFailure ?? defaultClassifyFailure;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15000;
    this.stableMs = options.stableMs ?? 10000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Starts connecting. Also the way out of unauthorized / displaced / error once the cause is fixed. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.connect();
  }

  /** Stops for good: no more retries, every timer cleared, the socket closed. Resolves within 2 s. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.running = false;
    this.clearRetry();
    const a = this.attempt;
    const closed = a ? this.closeAttempt(a, 'stopped') : Promise.resolve();
    const stopping = closed.then(() => {
      if (this.stopping === stopping) this.stopping = undefined;
      // start() may have been called while we waited; then that connection owns the state.
      if (!this.running && this.current.name !== 'closed') this.transition({ name: 'closed' });
    });
    this.stopping = stopping;
    return stopping;
  }

  /** For adapters that learn at the application level that the session is over: no retry until start(). */
  halt(kind: 'unauthorized' | 'displaced' | 'error', reason: string): void {
    if (this.current.name === 'idle' || this.current.name === 'closed') return;
    const safeReason = this.redact(reason);
    this.running = false;
    this.clearRetry();
    if (this.attempt) void this.closeAttempt(this.attempt, safeReason);
    this.log(kind === 'error' ? 'error' : 'warn', `connection halted (${kind}): ${safeReason}`);
    this.transition({ name: kind, reason: safeReason });
  }

  /** Drops the current connection and reconnects through the normal backoff path. */
  reconnectNow(reason: string): void {
    const a = this.attempt;
    if (!this.running || !a) return;
    this.abort(a, this.redact(reason));
  }

  /** `timing`: what the sender expects next, so frames sent close together share one write (see write-cork.ts). */
  send(text: string, timing: SendTiming = 'tick'): boolean {
    const a = this.attempt;
    if (!a || !this.isOpen()) return false;
    if (timing === 'tick') corkForTick(a.raw);
    else if (timing === 'turn') corkForTurn(a.raw);
    tapSafely(this.options.wire, 'out', text);
    a.ws.send(text, (err) => {
      if (err) this.log('warn', `send failed: ${err.message}`);
    });
    return true;
  }

  isOpen(): boolean {
    return this.running && this.attempt?.ws.readyState === WebSocket.OPEN;
  }

  private transition(next: ConnectionState): void {
    this.current = next;
    this.safeEmit('state', next);
  }

  private connect(): void {
    if (this.attempt) {
      // A socket from before a halt() may still be closing; it is no longer ours to report on.
      const old = this.attempt;
      this.attempt = undefined;
      this.abort(old, 'replaced by a new connection');
    }
    this.transition({ name: 'connecting', attempt: this.backoff.attempt });
    let ws: WebSocket;
    try {
      const url = this.options.url();
      this.log('debug', `connecting to ${url}`);
      ws = new WebSocket(url, this.options.protocols, {
        headers: this.options.headers,
        rejectUnauthorized: this.options.verifyTls !== false,
        // ws's own default is 100 MiB.
        maxPayload: this.options.maxPayloadBytes ?? MAX_FRAME_BYTES,
      });
    } catch (err) {
      // A bad URL or option will not fix itself by retrying.
      const reason = this.redact(`cannot connect: ${errorMessage(err)}`);
      this.running = false;
      this.log('error', reason);
      this.transition({ name: 'error', reason });
      return;
    }
    const a = this.track(ws);
    this.attempt = a;
    a.handshakeTimer = setTimeout(() => {
      a.handshakeTimer = undefined;
      if (ws.readyState === WebSocket.CONNECTING) this.abort(a, `handshake timed out after ${this.handshakeTimeoutMs} ms`);
    }, this.handshakeTimeoutMs);
  }

  /** Attaches our listeners to a new ws; `detach` removes exactly these and nothing else. */
  private track(ws: WebSocket): Attempt {
    const a: Attempt = { ws, opened: false, alive: false, closeWaiters: [], detach: () => {} };
    const onOpen = () => this.onOpen(a);
    const onMessage = (data: WebSocket.RawData) => {
      a.alive = true;
      if (a !== this.attempt || !this.running) return;
      const text = rawToText(data);
      tapSafely(this.options.wire, 'in', text);
      this.safeEmit('message', text);
    };
    const onLiveness = () => {
      a.alive = true;
    };
    const onError = (err: Error) => {
      // After a refused upgrade or our own abort, ws reports its abort as an error: noise, and
      // the status line or our reason says more.
      if (a.status !== undefined || a.abortReason !== undefined) return;
      a.lastError = this.redact(err.message);
      this.log('debug', `socket error: ${err.message}`);
    };
    const onUnexpectedResponse = (_req: unknown, res: IncomingMessage) => {
      a.status = res.statusCode;
      res.resume();
      ws.terminate();
    };
    const onClose = (code: number, reason: Buffer) => this.onClose(a, code, reason.toString('utf8'));
    const onUpgrade = (res: IncomingMessage) => {
      a.raw = res.socket;
    };
    // One list for attaching and detaching, so detach removes exactly what was added.
    const listeners: Array<[string, (...args: any[]) => void]> = [
      ['open', onOpen],
      ['message', onMessage],
      ['ping', onLiveness],
      ['pong', onLiveness],
      ['error', onError],
      ['unexpected-response', onUnexpectedResponse],
      ['upgrade', onUpgrade],
      ['close', onClose],
    ];
    for (const [event, fn] of listeners) ws.on(event, fn);
    a.detach = () => {
      for (const [event, fn] of listeners) ws.off(event, fn);
    };
    return a;
  }

  private onOpen(a: Attempt): void {
    clearTimeout(a.handshakeTimer);
    a.handshakeTimer = undefined;
    if (a !== this.attempt || !this.running) return;
    a.opened = true;
    a.alive = true;
    if (this.heartbeatIntervalMs > 0) {
      a.heartbeatTimer = setInterval(() => this.heartbeat(a), this.heartbeatIntervalMs);
    }
    a.stableTimer = setTimeout(() => {
      a.stableTimer = undefined;
      this.backoff.reset();
    }, this.stableMs);
    this.log('info', 'connected');
    this.transition({ name: 'connected' });
    this.safeEmit('open');
  }

  private heartbeat(a: Attempt): void {
    if (!a.alive) {
      this.abort(a, `no traffic for ${this.heartbeatIntervalMs} ms after a ping (half-open connection)`);
      return;
    }
    a.alive = false;
    try {
      a.ws.ping();
    } catch (err) {
      this.log('debug', `ping failed: ${errorMessage(err)}`);
    }
  }

  private onClose(a: Attempt, code: number, closeReason: string): void {
    a.detach();
    this.clearAttemptTimers(a);
    const waiters = a.closeWaiters.splice(0);
    if (a === this.attempt) {
      this.attempt = undefined;
      this.afterClose(a, code, closeReason);
    }
    for (const resolve of waiters) resolve();
  }

  private afterClose(a: Attempt, code: number, closeReason: string): void {
    const reason = this.redact(describeEnd(a, code, closeReason));
    let verdict: FailureKind = 'retry';
    if (this.running && a.abortReason === undefined) {
      try {
        verdict = this.classify({ status: a.status, closeCode: code, reason: closeReason || a.lastError });
      } catch (err) {
        this.log('error', `classifyFailure threw: ${errorMessage(err)}`);
      }
    }
    const willRetry = this.running && verdict === 'retry';
    if (a.opened) this.safeEmit('close', { code, reason: this.redact(closeReason), willRetry });
    if (!this.running) return;
    if (verdict !== 'retry') {
      // Retrying with refused credentials or against the client that displaced us only makes it worse.
      this.running = false;
      this.log('error', `${verdict}: ${reason}; not retrying until restarted`);
      this.transition({ name: verdict, reason });
      return;
    }
    const delayMs = this.backoff.next();
    const attempt = this.backoff.attempt;
    this.log('warn', `${reason}; retry ${attempt} in ${delayMs} ms`);
    this.transition({ name: 'reconnecting', attempt, delayMs, reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running) this.connect();
    }, delayMs);
  }

  /** Ends a socket from this side; its 'close' then takes the normal path. */
  private abort(a: Attempt, reason: string): void {
    a.abortReason ??= reason;
    this.clearAttemptTimers(a, false);
    a.ws.terminate();
  }

  /** Closes politely, then forcibly; resolves on 'close' or at the deadline, whichever is first. */
  private closeAttempt(a: Attempt, reason: string): Promise<void> {
    if (a.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      a.closeWaiters.push(resolve);
      a.abortReason ??= reason;
      this.clearAttemptTimers(a, false);
      if (a.ws.readyState === WebSocket.CONNECTING) {
        a.ws.terminate();
      } else {
        a.ws.close(1000);
        a.graceTimer ??= setTimeout(() => {
          a.graceTimer = undefined;
          a.ws.terminate();
        }, CLOSE_GRACE_MS);
      }
      // Listeners stay until 'close' (the error listener must outlive the socket); only the wait ends.
      a.deadlineTimer ??= setTimeout(() => {
        a.deadlineTimer = undefined;
        clearTimeout(a.graceTimer);
        a.graceTimer = undefined;
        for (const done of a.closeWaiters.splice(0)) done();
      }, STOP_DEADLINE_MS);
    });
  }

  private clearAttemptTimers(a: Attempt, includeClose = true): void {
    clearTimeout(a.handshakeTimer);
    clearInterval(a.heartbeatTimer);
    clearTimeout(a.stableTimer);
    a.handshakeTimer = a.heartbeatTimer = a.stableTimer = undefined;
    if (includeClose) {
      clearTimeout(a.graceTimer);
      clearTimeout(a.deadlineTimer);
      a.graceTimer = a.deadlineTimer = undefined;
    }
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** A throwing listener must not break the state machine or reach ws's socket handlers. */
  private safeEmit<K extends keyof SocketEvents>(event: K, ...args: SocketEvents[K]): void {
    try {
      (this.emit as (e: string, ...rest: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.log('error', `a '${event}' listener threw: ${errorMessage(err)}`);
    }
  }

  private log(level: keyof Logger, text: string): void {
    try {
      this.logger[level](this.redact(text));
    } catch {
      // A broken logger is not a reason to drop the connection.
    }
  }
}

function describeEnd(a: Attempt, code: number, closeReason: string): string {
  if (a.abortReason !== undefined) return a.abortReason;
  if (a.status !== undefined) return `server refused the upgrade with HTTP ${a.status}`;
  if (!a.opened) return `connection failed: ${a.lastError ?? `closed (${code})`}`;
  if (code === 1006) return `connection lost${a.lastError ? `: ${a.lastError}` : ''}`;
  return `closed by server (${code}${closeReason ? ` ${closeReason}` : ''})`;
}

function rawToText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
