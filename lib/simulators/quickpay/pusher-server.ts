// The network side of the QuickPay simulator: one port for the Pusher WebSocket at
// `<wsPath>/app/<key>` and the HTTP auth endpoint, the handshake checks Pusher-compatible
// servers make (app key, protocol version), connection_established with a fresh socket_id,
// the optional server ping of idle clients, and bounded frame history.

import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Redactor } from '../../core/redact';
import { closeHttpServer, closeSocket, listenOn, rawText } from '../socket-util';

/** Protocol versions the simulator speaks; pusher-js 8 sends 7 [related: pusher-js]. */
const PROTOCOLS: readonly string[] = ['7'];
/** Enough history for any test; a long run must not grow without bound. */
const MAX_KEPT = 10_000;
/** Pusher limits a message to 10 kB; anything far beyond that is not a Pusher client. */
const MAX_PAYLOAD = 256 * 1024;
/** The longest close reason a WebSocket close frame can carry. */
const MAX_REASON_BYTES = 123;

export interface PusherConn {
  readonly id: number;
  readonly socketId: string;
  readonly ws: WebSocket;
  readonly channels: Set<string>;
  /** When the client last sent anything: the server pings only idle clients. */
  lastSeen: number;
  /** Set while a server ping waits for its pong. */
  pingSentAt?: number;
}

export interface PusherServerOptions {
  host: string;
  port: number;
  appKey: string;
  /** '' or a prefix such as '/ws' before /app/<key>. */
  wsPath: string;
  activityTimeoutS: number;
  /** 0 = the server never pings. */
  pingIdleMs: number;
  pongWaitMs: number;
  onOpen(conn: PusherConn): void;
  /** A JSON frame, not yet validated. */
  onFrame(conn: PusherConn, frame: unknown): void;
  onHttp(req: IncomingMessage, res: ServerResponse): void;
  log(line: string): void;
  redact: Redactor;
}

export class PusherServer {
  readonly received: unknown[] = [];
  readonly sent: unknown[] = [];
  accepted = 0;
  refused = 0;
  private http?: Server;
  private wss?: WebSocketServer;
  private pingTimer?: NodeJS.Timeout;
  private readonly conns = new Map<string, PusherConn>();
  private readonly sockets = new Set<WebSocket>();
  private nextId = 1;
  private closing = false;

  constructor(private readonly opts: PusherServerOptions) {}

  async listen(): Promise<number> {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: MAX_PAYLOAD });
    const http = createServer((req, res) => this.opts.onHttp(req, res));
    this.http = http;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    const port = await listenOn(http, this.opts.port, this.opts.host);
    if (this.opts.pingIdleMs > 0) {
      const every = Math.max(10, Math.min(this.opts.pingIdleMs, this.opts.pongWaitMs) / 4);
      this.pingTimer = setInterval(() => this.checkIdle(), every);
      this.pingTimer.unref();
    }
    return port;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    await Promise.all([...this.sockets].map((ws) => closeSocket(ws)));
    this.conns.clear();
    this.wss?.close();
    const http = this.http;
    this.http = undefined;
    this.wss = undefined;
    if (http) await closeHttpServer(http);
  }

  connections(): PusherConn[] {
    return [...this.conns.values()];
  }

  bySocketId(socketId: string): PusherConn | undefined {
    return this.conns.get(socketId);
  }

  send(conn: PusherConn, frame: Record<string, unknown>): boolean {
    return this.sendText(conn, JSON.stringify(frame), frame);
  }

  /** Sends exactly this text; `recordAs` is what the history keeps (the frame object, or the text). */
  sendText(conn: PusherConn, text: string, recordAs: unknown = text): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    conn.ws.send(text);
    this.record(this.sent, recordAs);
    return true;
  }

  /** pusher:error then a close with the same code, as soketi does [related: soketi]. */
  closeWith(conn: PusherConn, code: number, message: string): void {
    this.sayAndClose(conn.ws, code, message);
  }

  /** Kills every client socket without a close frame, as a network drop would. */
  dropAll(): number {
    const all = [...this.sockets];
    for (const ws of all) ws.terminate();
    return all.length;
  }

  private record(list: unknown[], item: unknown): void {
    list.push(item);
    if (list.length > MAX_KEPT + MAX_KEPT / 2) list.splice(0, list.length - MAX_KEPT);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const wss = this.wss;
    if (!wss || this.closing) {
      this.refused += 1;
      socket.once('finish', () => socket.destroy());
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.accepted += 1;
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', (err) => this.opts.log(`socket error: ${this.opts.redact(err.message)}`));
      // Pusher refuses after the upgrade, with a pusher:error and a 40xx close code, so the
      // client learns why and does not retry unchanged [related: Pusher protocol].
      const refusal = this.handshakeRefusal(req.url);
      if (refusal) {
        this.refused += 1;
        this.opts.log(`connection refused: ${refusal.code} ${refusal.message}`);
        this.sayAndClose(ws, refusal.code, refusal.message);
        return;
      }
      this.open(ws);
    });
  }

  private handshakeRefusal(rawUrl: string | undefined): { code: number; message: string } | undefined {
    let url: URL;
    try {
      url = new URL(rawUrl ?? '/', 'http://simulator.invalid');
    } catch {
      return { code: 4005, message: 'Path not found' };
    }
    const prefix = `${this.opts.wsPath}/app/`;
    const rest = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
    if (rest === undefined || rest === '' || rest.includes('/')) return { code: 4005, message: 'Path not found' };
    let key: string;
    try {
      key = decodeURIComponent(rest);
    } catch {
      key = rest;
    }
    if (key !== this.opts.appKey) {
      return { code: 4001, message: `App key ${key.slice(0, 40)} not in this cluster. Did you forget to specify the cluster?` };
    }
    const protocol = url.searchParams.get('protocol');
    if (protocol === null || protocol === '') return { code: 4008, message: 'No protocol version supplied' };
    if (!PROTOCOLS.includes(protocol)) return { code: 4007, message: `Unsupported protocol version ${protocol.slice(0, 20)}` };
    return undefined;
  }

  private open(ws: WebSocket): void {
    const conn: PusherConn = { id: this.nextId++, socketId: this.freshSocketId(), ws, channels: new Set(), lastSeen: Date.now() };
    this.conns.set(conn.socketId, conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, isBinary ? null : rawText(data)));
    ws.on('pong', () => {
      conn.lastSeen = Date.now();
      conn.pingSentAt = undefined;
    });
    ws.on('close', (code) => {
      this.conns.delete(conn.socketId);
      this.opts.log(`connection ${conn.id} (socket ${conn.socketId}) closed (${code})`);
    });
    this.opts.log(`connection ${conn.id} opened with socket ${conn.socketId}`);
    // `data` is itself a JSON string, as on the real stream [seed].
    this.send(conn, {
      event: 'pusher:connection_established',
      data: JSON.stringify({ socket_id: conn.socketId, activity_timeout: this.opts.activityTimeoutS }),
    });
    this.opts.onOpen(conn);
  }

  private freshSocketId(): string {
    for (;;) {
      const id = `${randomInt(100_000_000, 999_999_999)}.${randomInt(1_000_000_000, 9_999_999_999)}`;
      if (!this.conns.has(id)) return id;
    }
  }

  private onMessage(conn: PusherConn, text: string | null): void {
    // Anything the client sends proves it is alive, not only a pong.
    conn.lastSeen = Date.now();
    conn.pingSentAt = undefined;
    if (text === null) {
      this.opts.log(`connection ${conn.id}: binary frame ignored`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.record(this.received, text);
      // Only its size: junk may carry an auth signature or a token the redactor does not know.
      this.opts.log(`connection ${conn.id}: a frame that is not JSON (${text.length} chars), ignored`);
      return;
    }
    this.record(this.received, parsed);
    this.opts.onFrame(conn, parsed);
  }

  private checkIdle(): void {
    const now = Date.now();
    for (const conn of this.conns.values()) {
      if (conn.pingSentAt !== undefined) {
        if (now - conn.pingSentAt >= this.opts.pongWaitMs) {
          this.opts.log(`connection ${conn.id}: no pong within ${this.opts.pongWaitMs} ms, closing 4201`);
          conn.pingSentAt = undefined;
          this.closeWith(conn, 4201, 'Pong reply not received');
        }
      } else if (now - conn.lastSeen >= this.opts.pingIdleMs) {
        conn.pingSentAt = now;
        this.send(conn, { event: 'pusher:ping', data: {} });
      }
    }
  }

  private sayAndClose(ws: WebSocket, code: number, message: string): void {
    if (ws.readyState !== ws.OPEN) return;
    const frame = { event: 'pusher:error', data: { message, code } };
    ws.send(JSON.stringify(frame));
    this.record(this.sent, frame);
    ws.close(code, truncateUtf8(message, MAX_REASON_BYTES));
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > maxBytes) out = out.slice(0, -1);
  return out;
}
