// The SensePass notification socket: Socket.IO, one connection per POS device, identified by
// ?id=id_<deviceId> [doc]. The server's Socket.IO major version is not documented, so the client
// is socket.io-client v4 or v2 by configuration. The library's own reconnection is off and the
// pack's Backoff drives every retry instead: the library announces no delay before it waits,
// does not retry at all after a server-side disconnect, and v2 and v4 differ in their events;
// one loop here gives the same states (connecting / connected / reconnecting n / ...) for both.

import { tapSafely, type WireTap } from '../../core/wire-log';
import { EventEmitter } from 'node:events';
import { io as ioV4 } from 'socket.io-client';
import { Backoff } from '../../core/backoff';
import { MAX_NESTING, nestedTooDeep } from '../../core/frame-guard';
import { requireOptional } from '../../core/optional-module';
import type { Redactor } from '../../core/redact';
import { MAX_FRAME_BYTES } from '../../core/socket';
import { silentLogger, type ConnectionState, type Logger } from '../../core/types';

export type ClientVersion = '4' | '2';
export type TransportChoice = 'default' | 'websocket' | 'polling';

/** The part of a socket.io-client Socket (v2 or v4) the pack uses. */
interface IoSocket {
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn?: (...args: any[]) => void): unknown;
  disconnect(): unknown;
}

type IoFactory = (uri: string, opts: Record<string, unknown>) => IoSocket;

let v2Factory: IoFactory | undefined;

/**
 * socket.io-client@2 under an npm alias, so it can sit beside v4. Not a dependency: every user
 * would pay for a client only a SensePass server on Socket.IO 2 needs, so the person who
 * chooses it installs it with this command (the same spec as the devDependency).
 */
export const SOCKET_IO_V2_INSTALL = 'npm install socket.io-client-v2@npm:socket.io-client@^2.5.0';

/** Loaded only when chosen; it has no types, so only the call above is assumed. */
function loadV2(): IoFactory {
  v2Factory ??= requireOptional<IoFactory>('socket.io-client-v2', SOCKET_IO_V2_INSTALL, 'The Socket.IO client version 2');
  return v2Factory;
}

export interface SensePassSocketOptions {
  /** Read on every attempt, so a base supplied later (the in-process simulator) is picked up. */
  endpoint: () => { origin: string; path: string };
  deviceId: string;
  redact: Redactor;
  clientVersion?: ClientVersion;
  transports?: TransportChoice;
  verifyTls?: boolean;
  logger?: Logger;
  handshakeTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** A connection that lasts this long resets the backoff. Default 10000. */
  stableMs?: number;
  /** Sees every `message` payload that arrives, as JSON (the wire log, a connection check). */
  wire?: WireTap;
}

export interface SensePassSocketEvents {
  state: [ConnectionState];
  /** A raw `message` payload, as the library decoded it (an object, or a string). */
  message: [unknown];
  /** Connected again after an earlier connection: messages may have been missed. */
  reconnected: [];
  /** The server itself hung up: the one way a refused device id can show on the socket [inferred]. */
  serverClosed: [];
}

interface Attempt {
  socket: IoSocket;
  ended: boolean;
  opened: boolean;
  handshakeTimer?: NodeJS.Timeout;
  stableTimer?: NodeJS.Timeout;
  detach: () => void;
}

/** The grace a closing engine gets before stop() stops waiting for it. */
const CLOSE_WAIT_MS = 300;

export class SensePassSocket extends EventEmitter<SensePassSocketEvents> {
  private current: ConnectionState = { name: 'idle' };
  private running = false;
  /** Any connection before this one: a payment may have missed messages while none was up (after a halt too). */
  private connectedBefore = false;
  private attempt: Attempt | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private readonly handshakeTimeoutMs: number;
  private readonly stableMs: number;

  constructor(private readonly opts: SensePassSocketOptions) {
    super();
    this.backoff = new Backoff({ ...(opts.backoff ?? {}) });
    this.logger = opts.logger ?? silentLogger;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 10000;
    this.stableMs = opts.stableMs ?? 10000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  isConnected(): boolean {
    return this.running && !!this.attempt?.opened && !this.attempt.ended;
  }

  /** Starts connecting; also the way out of unauthorized / error once the cause is fixed. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.connect();
  }

  /** No retry until start() again (refused credentials): retrying would only repeat the refusal. */
  halt(kind: 'unauthorized' | 'error', reason: string): void {
    if (this.current.name === 'idle' || this.current.name === 'closed') return;
    const safe = this.opts.redact(reason);
    this.running = false;
    this.clearRetry();
    const a = this.attempt;
    this.attempt = undefined;
    if (a) this.dispose(a);
    this.log(kind === 'error' ? 'error' : 'warn', `SensePass connection halted (${kind}): ${safe}`);
    this.transition({ name: kind, reason: safe });
  }

  /** Closes for good, within the 2 s every stop() promises. */
  async stop(): Promise<void> {
    this.running = false;
    this.clearRetry();
    const a = this.attempt;
    this.attempt = undefined;
    if (a) await this.dispose(a);
    if (!this.running && this.current.name !== 'closed') this.transition({ name: 'closed' });
  }

  private connect(): void {
    this.transition({ name: 'connecting', attempt: this.backoff.attempt });
    const version = this.opts.clientVersion ?? '4';
    let socket: IoSocket;
    try {
      const { origin, path } = this.opts.endpoint();
      const transports = this.opts.transports === 'websocket' ? ['websocket'] : this.opts.transports === 'polling' ? ['polling'] : undefined;
      const options: Record<string, unknown> = {
        path,
        query: { id: `id_${this.opts.deviceId}` },
        reconnection: false,
        forceNew: true,
        timeout: this.handshakeTimeoutMs,
        rejectUnauthorized: this.opts.verifyTls !== false,
        // engine.io-client 6 (socket.io-client v4) hands this to ws for its WebSocket transport:
        // a bigger frame closes the socket from its header and the loop below reconnects. v2's
        // engine and the long-polling transport take no such limit.
        maxPayload: MAX_FRAME_BYTES,
        ...(transports ? { transports } : {}),
      };
      this.log('debug', `SensePass: connecting to ${origin}${path} (socket.io-client v${version}, transports ${this.opts.transports ?? 'default'})`);
      socket = version === '2' ? loadV2()(origin, options) : (ioV4(origin, options) as unknown as IoSocket);
    } catch (err) {
      // A bad URL or option will not fix itself by retrying.
      const reason = this.opts.redact(`cannot connect: ${(err as Error)?.message ?? String(err)}`);
      this.running = false;
      this.log('error', `SensePass: ${reason}`);
      this.transition({ name: 'error', reason });
      return;
    }
    this.guardDecoder(socket);
    const a = this.track(socket);
    this.attempt = a;
    // The library's timeout covers opening the engine; this one also covers the namespace handshake.
    a.handshakeTimer = setTimeout(() => {
      a.handshakeTimer = undefined;
      if (!a.opened) this.fail(a, `no Socket.IO handshake within ${this.handshakeTimeoutMs} ms`);
    }, this.handshakeTimeoutMs + 500);
  }

  /**
   * socket.io-client JSON.parses every packet itself, and 1 MB of nested brackets takes over
   * 100 ms to parse; no SensePass message nests more than a few levels. Such a packet is dropped
   * before the parser sees it, by wrapping this socket's own decoder (each socket has its own
   * Manager here, forceNew). Both client versions keep it as `io.decoder` with `add(packet)`; when
   * a later version does not, the guard is skipped and parsing is as before.
   */
  private guardDecoder(socket: IoSocket): void {
    const decoder = (socket as unknown as { io?: { decoder?: { add?: (packet: unknown) => void } } }).io?.decoder;
    const add = decoder?.add;
    if (!decoder || typeof add !== 'function') return;
    decoder.add = (packet: unknown) => {
      if (typeof packet === 'string' && nestedTooDeep(packet)) {
        this.log('warn', `SensePass: dropped a message nested more than ${MAX_NESTING} deep (${packet.length} characters), unparsed`);
        return;
      }
      add.call(decoder, packet);
    };
  }

  private track(socket: IoSocket): Attempt {
    const a: Attempt = { socket, ended: false, opened: false, detach: () => {} };
    const listeners: Array<[string, (...args: any[]) => void]> = [
      ['connect', () => this.onConnect(a)],
      ['connect_error', (err: unknown) => this.fail(a, `connection failed: ${describeError(err)}`)],
      // v2 only: reported besides connect_error on some paths; fail() ignores the second report.
      ['connect_timeout', () => this.fail(a, 'connection timed out')],
      ['error', (err: unknown) => this.fail(a, `socket error: ${describeError(err)}`)],
      ['disconnect', (reason: unknown) => this.onDisconnect(a, String(reason))],
      ['message', (...args: unknown[]) => {
        if (a !== this.attempt || !this.running) return;
        // Serialised only for a wire log: a megabyte message would cost tens of ms for nothing.
        if (this.opts.wire) tapSafely(this.opts.wire, 'in', safeJson(args[0]), 'message');
        this.safeEmit('message', args[0]);
      }],
    ];
    for (const [event, fn] of listeners) socket.on(event, fn);
    a.detach = () => {
      for (const [event, fn] of listeners) socket.off(event, fn);
    };
    return a;
  }

  private onConnect(a: Attempt): void {
    if (a !== this.attempt || a.ended || !this.running) return;
    clearTimeout(a.handshakeTimer);
    a.handshakeTimer = undefined;
    a.opened = true;
    a.stableTimer = setTimeout(() => {
      a.stableTimer = undefined;
      this.backoff.reset();
    }, this.stableMs);
    const again = this.connectedBefore;
    this.connectedBefore = true;
    this.log('info', again ? 'SensePass: reconnected' : 'SensePass: connected');
    this.transition({ name: 'connected' });
    if (again) this.safeEmit('reconnected');
  }

  private onDisconnect(a: Attempt, reason: string): void {
    // 'io server disconnect' is not retried by the library; here every disconnect takes the same path.
    const said = reason === 'io server disconnect' ? 'the server closed the connection' : reason === 'transport close' ? 'the connection was lost' : reason;
    this.fail(a, said);
    if (reason === 'io server disconnect' && this.running) this.safeEmit('serverClosed');
  }

  private fail(a: Attempt, reason: string): void {
    if (a.ended) return;
    const wasOpen = a.opened;
    void this.dispose(a);
    if (a !== this.attempt) return;
    this.attempt = undefined;
    if (!this.running) return;
    const safe = this.opts.redact(reason);
    const delayMs = this.backoff.next();
    const attempt = this.backoff.attempt;
    this.log(wasOpen ? 'warn' : 'debug', `SensePass: ${safe}; retry ${attempt} in ${delayMs} ms`);
    this.transition({ name: 'reconnecting', attempt, delayMs, reason: safe });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running && !this.attempt) this.connect();
    }, delayMs);
  }

  /** Removes exactly our listeners and closes the socket and its engine; resolves shortly after. */
  private dispose(a: Attempt): Promise<void> {
    const first = !a.ended;
    a.ended = true;
    clearTimeout(a.handshakeTimer);
    clearTimeout(a.stableTimer);
    a.handshakeTimer = a.stableTimer = undefined;
    if (!first) return Promise.resolve();
    a.detach();
    // The library may still report an error while it closes; with no listener it would be an unhandled 'error'.
    const swallow = () => {};
    a.socket.on('error', swallow);
    try {
      a.socket.disconnect();
    } catch (err) {
      this.log('debug', `SensePass: closing the socket failed: ${(err as Error)?.message ?? String(err)}`);
    }
    // The engine closes its transport asynchronously; give it a moment so stop() leaves nothing behind.
    return new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS));
  }

  private clearRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private transition(next: ConnectionState): void {
    this.current = next;
    this.safeEmit('state', next);
  }

  private safeEmit<K extends keyof SensePassSocketEvents>(event: K, ...args: SensePassSocketEvents[K]): void {
    try {
      (this.emit as (e: string, ...rest: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.log('error', `SensePass: a '${event}' listener threw: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private log(level: keyof Logger, text: string): void {
    try {
      this.logger[level](this.opts.redact(text));
    } catch {
      // A broken logger is not a reason to drop the connection.
    }
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const description = (err as { description?: unknown }).description;
    const inner = description instanceof Error ? description.message : typeof description === 'number' ? `HTTP ${description}` : '';
    return inner && inner !== err.message ? `${err.message} (${inner})` : err.message;
  }
  return typeof err === 'string' ? err : 'unknown error';
}

/** A decoded payload back as text for the wire tap; one that cannot be serialised is named, not thrown. */
function safeJson(payload: unknown): string {
  try {
    return typeof payload === 'string' ? payload : JSON.stringify(payload) ?? String(payload);
  } catch {
    return '[a payload that cannot be shown as JSON]';
  }
}
