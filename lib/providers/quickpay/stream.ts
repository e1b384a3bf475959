// One pusher-js connection to QuickPay per start(), and its state as the nodes show it. pusher-js
// does the protocol: handshake, pings, re-subscription, the close codes' retry rules. This file
// adds what pusher-js leaves out: its refusals and errors turned into a state a person can act
// on; our own backoff after 4100-4199 and after a handshake pusher-js cannot parse (pusher-js
// would retry every second, or not at all); and a guard in front of pusher-js's frame handler,
// which throws on a frame without an event name and would take the socket's event loop down.

import { tapSafely, type WireTap } from '../../core/wire-log';
import Pusher from 'pusher-js';
import type { ChannelAuthorizationCallback, ChannelAuthorizationHandler, Options } from 'pusher-js';
import { Backoff } from '../../core/backoff';
import { MAX_NESTING, nestedTooDeep } from '../../core/frame-guard';
import { describeFrame, type Redactor } from '../../core/redact';
import type { ConnectionState, Logger } from '../../core/types';
import type { ChannelAuthOutcome } from './authorizer';
import { closeClass, isUnauthorizedCode, oneLine, refusalReason } from './close-codes';
import { attachPusherLog } from './pusher-log';
import { checkFrame, checkPusherErrorData, checkSubscriptionCount } from './schemas';
import { ChannelSubscriptions, type RefusedRetry } from './subscriptions';
import type { QuickPayEndpoints } from './urls';
import { useBoundedWebSocket } from './websocket';

const GUARDED = Symbol('pos-payments frame guard');
/**
 * Pusher Channels caps an event's data at 10 KB by default [related: Pusher protocol]; a frame 25
 * times that is dropped unparsed, so that pusher-js's parsing twice (frame, then data) and its
 * debug stringify of every event never run on megabytes.
 */
const MAX_FRAME_CHARS = 256 * 1024;
/** The part of pusher-js's TransportConnection the frame guard wraps. */
interface GuardableTransport {
  onMessage?: (message: { data?: unknown }) => void;
  [GUARDED]?: true;
}

export interface StreamOptions {
  appKey: string;
  /** Read at every start(): a custom base may only be known then. */
  endpoints: () => QuickPayEndpoints;
  authorize: (socketId: string, channelName: string) => Promise<ChannelAuthOutcome>;
  /** Already redacting. */
  logger: Logger;
  redact: Redactor;
  verifyTls: boolean;
  activityTimeoutMs?: number;
  pongTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** How often a refused channel is asked for again (default once a minute at most, 15 min at least). */
  refusedRetry?: RefusedRetry;
  onEvent: (channel: string, event: string, data: unknown) => void;
  /** The connection was lost: events may come again after the re-subscription. */
  onLost: () => void;
  onResubscribed: (channel: string) => void;
  onState: (state: ConnectionState) => void;
  /** Sees every decoded frame that arrives (the wire log, a connection check). */
  wire?: WireTap;
}

/** The Pusher protocol asks for at least 1 s before reconnecting after 4100-4199 [related: Pusher protocol]. */
const MIN_BACKOFF_MS = 1000;
/** A connection that lasted this long before a 4100-4199 close starts the backoff afresh. */
const STABLE_MS = 10_000;
/** stop() waits at most this long for the socket to finish closing. */
const CLOSE_WAIT_MS = 500;

/** Pusher events pusher-js reads without checking their data: a bad one would throw inside it. */
const UNCHECKED_INTERNAL = new Set(['pusher_internal:watchlist_events', 'pusher:signin_success', 'pusher_internal:member_added', 'pusher_internal:member_removed']);

interface LastError {
  code?: number;
  /** The server's own words, if any. */
  said?: string;
  /** Code and words, for a reason or a log line. */
  message: string;
}

export class QuickPayStream {
  private pusher: Pusher | undefined;
  private readonly subs: ChannelSubscriptions;
  private readonly backoff: Backoff;
  private conn: ConnectionState = { name: 'idle' };
  private lastEmitted = '';
  private generation = 0;
  private attempt = 0;
  private connectedAt = 0;
  /** Connected since the last loss was reported. */
  private live = false;
  private lastError: LastError | undefined;
  /** True while we disconnect pusher-js ourselves (stop, our backoff): its 'disconnected' is ours. */
  private ourDisconnect = false;
  private takeoverTimer: NodeJS.Timeout | undefined;
  private takingOver = false;
  private detachLog: (() => void) | undefined;
  private warnedTls = false;

  constructor(private readonly opts: StreamOptions) {
    this.backoff = new Backoff({ initialMs: opts.backoff?.initialMs, maxMs: opts.backoff?.maxMs });
    this.subs = new ChannelSubscriptions(opts.logger, {
      changed: () => this.publish(),
      event: (channel, event, data) => opts.onEvent(channel, event, data),
      resubscribed: (channel) => opts.onResubscribed(channel),
    }, opts.backoff, opts.refusedRetry);
  }

  get state(): ConnectionState {
    return this.combined();
  }

  setChannels(names: readonly string[]): void {
    this.subs.setWanted(names);
  }

  /** Connects; called again, it is the way out of a refusal (the connection's or a channel's). */
  start(): void {
    if (this.pusher) {
      if (this.conn.name !== 'error' && this.conn.name !== 'unauthorized') {
        this.subs.retryRefused();
        return;
      }
      this.discard(this.pusher);
    }
    this.generation += 1;
    this.attempt = 0;
    this.backoff.reset();
    this.lastError = undefined;
    this.live = false;
    let endpoints: QuickPayEndpoints;
    let pusher: Pusher;
    try {
      endpoints = this.opts.endpoints();
      pusher = this.create(endpoints);
    } catch (err) {
      const reason = this.opts.redact(`QuickPay cannot connect: ${(err as Error)?.message ?? String(err)}`);
      this.log('error', reason);
      this.setConn({ name: 'error', reason });
      return;
    }
    this.pusher = pusher;
    this.detachLog ??= attachPusherLog((line) => this.opts.logger.debug(`QuickPay (pusher-js): ${line}`));
    if (!this.opts.verifyTls && endpoints.ws.tls && !this.warnedTls) {
      this.warnedTls = true;
      this.log('warn', 'QuickPay: certificate verification is off for the auth endpoint only; pusher-js opens the WebSocket without TLS options in Node, so the stream\'s certificate is still verified');
    }
    this.bind(pusher, this.generation);
    this.subs.attach(pusher);
    this.log('info', `QuickPay: connecting to ${endpoints.wsUrl}`);
    this.setConn({ name: 'connecting', attempt: 0 });
    pusher.connect();
  }

  /** Closes the socket, our listeners and timers; resolves within 2 s. */
  async stop(): Promise<void> {
    const pusher = this.pusher;
    const closed = pusher ? this.socketClosed(pusher) : Promise.resolve();
    if (pusher) this.discard(pusher);
    else {
      this.generation += 1;
      this.clearTakeover();
    }
    await closed;
    this.detachLog?.();
    this.detachLog = undefined;
    this.live = false;
    this.setConn({ name: 'closed' });
  }

  /** Done with this pusher-js instance: nothing of it may act again. */
  private discard(pusher: Pusher): void {
    this.generation += 1;
    this.clearTakeover();
    this.subs.detach();
    this.pusher = undefined;
    this.quietDisconnect(pusher);
    // A retry pusher-js scheduled and lost track of (it schedules two after a 1002-1004 close)
    // would connect this discarded instance again; its connect() now does nothing.
    (pusher.connection as { connect: () => void }).connect = () => undefined;
    pusher.connection.unbind_all();
    pusher.unbind_all();
    // pusher-js keeps every instance in a static list for Pusher.ready(); a discarded one must not stay there.
    const i = Pusher.instances.indexOf(pusher);
    if (i >= 0) Pusher.instances.splice(i, 1);
  }

  private create(e: QuickPayEndpoints): Pusher {
    useBoundedWebSocket();
    const authorizer: ChannelAuthorizationHandler = (params, callback) => this.authorizeFor(this.generation, params.socketId, params.channelName, callback);
    const options: Options = {
      // Required by pusher-js 8's option check; with wsHost given it names nothing [related: pusher-js].
      cluster: 'quickpay',
      wsHost: e.ws.host,
      wsPort: e.ws.port,
      wssPort: e.ws.port,
      wsPath: e.ws.path,
      forceTLS: e.ws.tls,
      // WebSocket only, never the HTTP fallbacks; over plain ws the 'wss' fallback would only try port 443 of a test server.
      enabledTransports: e.ws.tls ? ['ws', 'wss'] : ['ws'],
      enableStats: false,
      channelAuthorization: { customHandler: authorizer },
      ...(this.opts.activityTimeoutMs ? { activityTimeout: this.opts.activityTimeoutMs } : {}),
      ...(this.opts.pongTimeoutMs ? { pongTimeout: this.opts.pongTimeoutMs } : {}),
    };
    // pusher-js connects inside its constructor when "ready"; we connect once our listeners are bound.
    const ready = Pusher.isReady;
    Pusher.isReady = false;
    try {
      return new Pusher(this.opts.appKey, options);
    } finally {
      Pusher.isReady = ready;
    }
  }

  private authorizeFor(generation: number, socketId: string, channelName: string, callback: ChannelAuthorizationCallback): void {
    if (!this.subs.admit(channelName, callback)) return;
    const finish = (outcome: ChannelAuthOutcome) => {
      const pusher = this.pusher;
      if (generation !== this.generation || !pusher) return;
      if (pusher.connection.state !== 'connected' || pusher.connection.socket_id !== socketId) {
        // Signed for a socket that is gone: pusher-js subscribes again with the new socket id by itself.
        this.log('debug', `QuickPay: dropped the auth answer for ${channelName}: its socket ${socketId} is gone`);
        return;
      }
      this.subs.authorized(channelName, outcome, callback);
    };
    this.opts.authorize(socketId, channelName).then(finish, (err: unknown) => finish({ kind: 'failed', message: this.opts.redact((err as Error)?.message ?? String(err)) }));
  }

  private bind(pusher: Pusher, generation: number): void {
    const cm = pusher.connection;
    const mine = (fn: (...args: any[]) => void) => (...args: any[]) => {
      if (generation !== this.generation) return;
      try {
        fn(...args);
      } catch (err) {
        this.log('error', `QuickPay: handling a pusher-js event failed: ${(err as Error)?.message ?? String(err)}`);
      }
    };
    // Global callbacks run before pusher-js's own 'message' handlers: the frame is made safe first.
    cm.bind_global(mine((name: string, frame: unknown) => {
      if (name !== 'message') return;
      tapSafely(this.opts.wire, 'in', safeJson(frame));
      this.guardFrame(pusher, frame);
    }));
    cm.bind('state_change', mine((change: { previous: string; current: string }) => this.onPusherState(change.previous, change.current)));
    cm.bind('connecting_in', mine((seconds: number) => this.onRetryScheduled(seconds)));
    cm.bind('error', mine((err: unknown) => this.onPusherError(err)));
    // While we pace the reconnect ourselves, pusher-js's own retries are held. It schedules two
    // after a 4100-4199 close and keeps a handle on only one, so the other could not be cancelled
    // and would reconnect after 1 s whatever our backoff says (or after stop()).
    // Frames we send (subscribe, unsubscribe) pass the wire tap too; pusher-js has no event for them.
    const sender = cm as unknown as { send_event?: (name: string, data: unknown, channel?: string) => boolean };
    const sendEvent = sender.send_event;
    if (this.opts.wire && typeof sendEvent === 'function') {
      sender.send_event = (name: string, data: unknown, channel?: string) => {
        if (generation === this.generation) tapSafely(this.opts.wire, 'out', safeJson({ event: name, data, ...(channel ? { channel } : {}) }));
        return sendEvent.call(cm, name, data, channel);
      };
    }
    const internals = cm as unknown as { retryIn?: (delay: number) => void };
    const retryIn = internals.retryIn;
    if (typeof retryIn === 'function') {
      internals.retryIn = (delay: number) => {
        if (this.takingOver && generation === this.generation) return;
        retryIn.call(cm, delay);
      };
    }
  }

  /**
   * pusher-js assumes every decoded frame has a string event and reads some internal events'
   * data without a check; a frame breaking that would throw out of its socket handler. Such a
   * frame is logged and turned into one pusher-js ignores, in place, before it sees it.
   */
  private guardFrame(pusher: Pusher, frame: unknown): void {
    if (!frame || typeof frame !== 'object') return;
    const f = frame as { event?: unknown; channel?: unknown; data?: unknown };
    let problem: string | undefined;
    if (!checkFrame(f)) problem = checkFrame.explain();
    else if (f.event === 'pusher_internal:subscription_count' && !checkSubscriptionCount(f.data)) problem = 'subscription_count without an object';
    else if (UNCHECKED_INTERNAL.has(f.event as string)) problem = 'an event this client does not use';
    if (problem) {
      this.log('warn', `QuickPay: dropped a frame (${problem}): ${this.show(frame)}`);
      f.event = 'pusher_internal:dropped_by_quickpay_adapter';
      delete f.channel;
      return;
    }
    // A channel name like "toString" would reach a prototype member of pusher-js's channel table.
    if (typeof f.channel === 'string' && !Object.prototype.hasOwnProperty.call(pusher.channels.channels, f.channel)) {
      this.log('debug', `QuickPay: a frame for channel ${oneLine(f.channel, 80)}, which is not subscribed, was ignored`);
      delete f.channel;
    }
  }

  /**
   * pusher-js decodes every frame and then, logging on or off, JSON-stringifies the decoded event
   * for a debug line; on an event nested thousands deep that overflows the stack inside its socket
   * handler, an exception nothing catches, which would end the Node-RED process. Such a frame is
   * dropped before pusher-js sees it, through the current transport's message hook (pusher-js
   * offers no public one; the hook is only wrapped when it is there, so a later pusher-js
   * without it loses this guard, not the connection). Frames before 'connected' are the
   * handshake only.
   */
  private guardTransport(): void {
    const pusher = this.pusher;
    const transport = (pusher?.connection.connection as unknown as { transport?: GuardableTransport } | null)?.transport;
    if (!transport || typeof transport.onMessage !== 'function' || transport[GUARDED]) return;
    const original = transport.onMessage;
    transport[GUARDED] = true;
    transport.onMessage = (message) => {
      const data = message?.data;
      if (typeof data === 'string') {
        const problem = data.length > MAX_FRAME_CHARS ? `over ${MAX_FRAME_CHARS} characters (${data.length})`
          : nestedTooDeep(data, MAX_NESTING, true) ? `nested more than ${MAX_NESTING} deep` : undefined;
        if (problem) {
          this.log('warn', `QuickPay: dropped a frame ${problem}, unparsed: ${this.show(data.slice(0, 200))}`);
          return;
        }
      }
      original.call(transport, message);
    };
  }

  private onPusherState(previous: string, current: string): void {
    switch (current) {
      case 'connecting':
        if (previous === 'connected') this.lose();
        this.setConn({ name: 'connecting', attempt: this.attempt });
        return;
      case 'connected': {
        this.connectedAt = Date.now();
        this.live = true;
        this.lastError = undefined;
        this.log('info', `QuickPay: connected${this.attempt > 0 ? ` after ${this.attempt} retr${this.attempt === 1 ? 'y' : 'ies'}` : ''}`);
        this.attempt = 0;
        this.guardTransport();
        this.setConn({ name: 'connected' });
        this.subs.connected();
        return;
      }
      case 'unavailable':
        this.lose();
        this.attempt += 1;
        this.setConn({
          name: 'reconnecting', attempt: this.attempt, delayMs: 0,
          reason: this.opts.redact(`QuickPay could not be reached${this.lastError ? ` (${this.lastError.message})` : ''}; pusher-js keeps trying`),
        });
        return;
      case 'disconnected':
        if (this.ourDisconnect) return;
        this.lose();
        this.onRefused();
        return;
      case 'failed':
        this.setConn({ name: 'error', reason: 'pusher-js found no WebSocket transport it can use here' });
        return;
      default:
    }
  }

  /** pusher-js disconnected by itself: the server refused (4000-4099, >= 4300). */
  private onRefused(): void {
    const e = this.lastError;
    const reason = this.opts.redact(e?.code !== undefined ? refusalReason(e.code, e.said) : `QuickPay closed the connection and pusher-js gave up${e ? ` (${e.message})` : ''}`);
    this.log('error', `${reason}; not reconnecting until the connection is restarted`);
    this.setConn(e?.code !== undefined && isUnauthorizedCode(e.code) ? { name: 'unauthorized', reason } : { name: 'error', reason });
  }

  private onRetryScheduled(seconds: number): void {
    if (this.takingOver) return;
    this.lose();
    this.attempt += 1;
    const code = this.lastError?.code;
    const now = code !== undefined && closeClass(code) === 'retry';
    const delayMs = now ? 0 : Math.max(0, Math.round(Number(seconds) * 1000) || 0);
    const reason = this.opts.redact(this.lastError ? `the connection was closed (${this.lastError.message})` : 'the connection was lost');
    this.log('warn', `QuickPay: ${reason}; reconnecting in ${delayMs} ms`);
    this.setConn({ name: 'reconnecting', attempt: this.attempt, delayMs, reason });
  }

  private onPusherError(err: unknown): void {
    const e = (err && typeof err === 'object' ? err : {}) as { type?: unknown; error?: unknown; data?: unknown };
    if (e.type === 'MessageParseError') {
      this.log('warn', `QuickPay: dropped a frame that is not JSON: ${this.show(e.data)}`);
      return;
    }
    if (e.type === 'HandshakeError') {
      this.takeOver(`QuickPay's first frame was not a Pusher handshake (${oneLine(describe(e.error), 120)})`, false);
      return;
    }
    if (e.type === 'PusherError') {
      // A pusher:error frame, or the error of a close code; pusher-js acts on the close itself.
      const info = pusherErrorInfo(e.data);
      // Servers send a pusher:error frame and then close with the same code: one line is enough.
      const repeated = this.lastError?.message === info.message;
      this.lastError = info;
      this.log(info.code !== undefined && info.code >= 4000 && !repeated ? 'warn' : 'debug', `QuickPay: ${info.message}`);
      return;
    }
    if (e.type === 'WebSocketError') {
      const inner = e.error as { type?: unknown; data?: unknown } | undefined;
      if (inner && typeof inner === 'object' && inner.type === 'PusherError') {
        // pusher-js is acting on a close code (or a handshake refusal): 4100-4199 is ours to pace.
        const info = pusherErrorInfo(inner.data);
        this.lastError = info;
        if (info.code !== undefined && closeClass(info.code) === 'backoff') {
          this.takeOver(`QuickPay asked to back off (${info.message})`, true);
        }
        return;
      }
      const message = describe(inner ?? err);
      this.lastError = { message: `WebSocket error: ${oneLine(message, 120)}` };
      this.log('debug', `QuickPay: WebSocket error: ${message}`);
      return;
    }
    this.log('debug', `QuickPay: pusher-js error: ${this.show(err)}`);
  }

  /**
   * Reconnects on our own backoff instead of pusher-js's: after 4100-4199 pusher-js retries every
   * second forever, and after a handshake it cannot parse it does not retry at all.
   */
  private takeOver(reason: string, atLeastOneSecond: boolean): void {
    const pusher = this.pusher;
    if (this.takingOver || !pusher) return;
    this.takingOver = true;
    const generation = this.generation;
    // Called from inside pusher-js's close handling; its retries are held (see bind()) and the
    // disconnect waits until that handling is over, so that it never closes a closed socket.
    queueMicrotask(() => {
      if (generation === this.generation && this.pusher === pusher) this.quietDisconnect(pusher);
    });
    this.lose();
    if (this.connectedAt && Date.now() - this.connectedAt >= STABLE_MS) this.backoff.reset();
    this.connectedAt = 0;
    const next = this.backoff.next();
    const delayMs = atLeastOneSecond ? Math.max(MIN_BACKOFF_MS, next) : next;
    this.attempt += 1;
    const safe = this.opts.redact(reason);
    this.log('warn', `QuickPay: ${safe}; reconnecting in ${delayMs} ms`);
    this.setConn({ name: 'reconnecting', attempt: this.attempt, delayMs, reason: safe });
    this.takeoverTimer = setTimeout(() => {
      this.takeoverTimer = undefined;
      this.takingOver = false;
      if (generation !== this.generation || this.pusher !== pusher) return;
      pusher.connect();
    }, delayMs);
  }

  private quietDisconnect(pusher: Pusher): void {
    this.ourDisconnect = true;
    try {
      pusher.disconnect();
    } catch (err) {
      this.log('debug', `QuickPay: disconnecting: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      this.ourDisconnect = false;
    }
  }

  private clearTakeover(): void {
    clearTimeout(this.takeoverTimer);
    this.takeoverTimer = undefined;
    this.takingOver = false;
  }

  private lose(): void {
    this.subs.disconnected();
    if (!this.live) return;
    this.live = false;
    try {
      this.opts.onLost();
    } catch (err) {
      this.log('error', `QuickPay: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /** Resolves once the current socket has closed, or after CLOSE_WAIT_MS. */
  private socketClosed(pusher: Pusher): Promise<void> {
    const transport = (pusher.connection.connection as unknown as { transport?: { bind(e: string, f: () => void): void } } | null)?.transport;
    if (!transport) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      transport.bind('closed', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private setConn(state: ConnectionState): void {
    this.conn = state;
    this.publish();
  }

  private combined(): ConnectionState {
    if (this.conn.name !== 'connected') return this.conn;
    const refusal = this.subs.refusal();
    if (refusal) return { name: 'unauthorized', reason: this.opts.redact(refusal) };
    return { name: 'connected', channels: this.subs.counts() };
  }

  /** Tells the listeners when what they would show changed. */
  private publish(): void {
    const state = this.combined();
    const key = JSON.stringify(state);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.opts.onState(state);
  }

  private show(value: unknown): string {
    let text: string;
    try {
      text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
    return describeFrame(text, this.opts.redact);
  }

  private log(level: keyof Logger, text: string): void {
    try {
      this.opts.logger[level](text);
    } catch {
      // A broken logger is not a reason to drop the connection.
    }
  }
}

function pusherErrorInfo(data: unknown): LastError {
  if (checkPusherErrorData(data)) {
    const code = typeof data.code === 'number' ? data.code : undefined;
    const said = typeof data.message === 'string' && data.message.trim() ? oneLine(data.message) : undefined;
    return {
      ...(code !== undefined ? { code } : {}), ...(said ? { said } : {}),
      message: `${code !== undefined ? `${code}` : 'error'}${said ? ` ${said}` : ''}`,
    };
  }
  return { message: `error ${oneLine(typeof data === 'string' ? data : describe(data), 120)}` };
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as { message?: unknown; type?: unknown };
    if (typeof v.message === 'string') return v.message;
    if (typeof v.type === 'string') return v.type;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A decoded frame back as text for the wire tap; a frame that cannot be serialised is named, not thrown. */
function safeJson(frame: unknown): string {
  try {
    return JSON.stringify(frame) ?? String(frame);
  } catch {
    return '[a frame that cannot be shown as JSON]';
  }
}
