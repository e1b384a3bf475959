// The network side of the Terminal Gateway simulator: one port for the WebSocket at /v1 and the
// HTTP API, the API key checked at the upgrade (header or query [doc]), and one active
// connection per key: a newcomer displaces the holder with forceDisconnect [doc].

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_PATH, HEADER, QUERY_API_KEY } from '../../providers/modulus/wire';
import { closeHttpServer, closeSocket, isObject, listenOn, rawText } from '../socket-util';

export interface Conn {
  readonly id: number;
  readonly ws: WebSocket;
  readonly key: string;
  readonly groupId?: string;
}

export interface ServerFaults {
  readonly refuseKey: boolean;
  readonly malformedFrames: boolean;
}

export interface ModulusServerOptions {
  host: string;
  port: number;
  apiKeys: readonly string[];
  /** How an unknown key is refused; the real gateway's way is not documented. */
  rejectMode: 'http401' | 'close4001';
  /** forceDisconnect.reason; the docs' "Disconnect Reasons" values are not confirmed. */
  displaceReason: string;
  displaceCloseCode: number;
  faults: ServerFaults;
  onConnect(conn: Conn): void;
  onFrame(conn: Conn, frame: Record<string, unknown>): void;
  onHttp(req: IncomingMessage, res: ServerResponse): void;
  log(line: string): void;
}

/** Enough history for any test; a long benchmark must not grow without bound. */
const MAX_KEPT = 10_000;

function keepRecent(list: unknown[]): void {
  if (list.length > MAX_KEPT + MAX_KEPT / 2) list.splice(0, list.length - MAX_KEPT);
}

export class ModulusServer {
  readonly received: unknown[] = [];
  readonly sent: unknown[] = [];
  accepted = 0;
  refused = 0;
  private http?: Server;
  private wss?: WebSocketServer;
  private readonly active = new Map<string, Conn>();
  private readonly sockets = new Set<WebSocket>();
  private nextId = 1;
  private closing = false;

  constructor(private readonly opts: ModulusServerOptions) {}

  async listen(): Promise<number> {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 1024 * 1024 });
    const http = createServer((req, res) => this.opts.onHttp(req, res));
    this.http = http;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    return listenOn(http, this.opts.port, this.opts.host);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.sockets].map((ws) => closeSocket(ws)));
    this.active.clear();
    this.wss?.close();
    const http = this.http;
    this.http = undefined;
    this.wss = undefined;
    if (http) await closeHttpServer(http);
  }

  /** The connection holding `key`, if any. */
  holder(key: string): Conn | undefined {
    return this.active.get(key);
  }

  connections(): Conn[] {
    return [...this.active.values()];
  }

  send(conn: Conn, frame: Record<string, unknown>): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    if (this.opts.faults.malformedFrames) {
      // Real pushes arrive between frames a careful client must drop.
      for (const text of ['this is not JSON {', JSON.stringify({ note: 'a JSON frame without an action', timestamp: new Date().toISOString() })]) {
        conn.ws.send(text);
        this.record(this.sent, text);
      }
    }
    const withGroup = conn.groupId && frame.action !== 'pong' && frame.groupId === undefined ? { ...frame, groupId: conn.groupId } : frame;
    conn.ws.send(JSON.stringify(withGroup));
    this.record(this.sent, withGroup);
    return true;
  }

  /** Sends exactly this text (no fault frames, no groupId); `recordAs` is what the history keeps. */
  sendText(conn: Conn, text: string, recordAs: unknown = text): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    conn.ws.send(text);
    this.record(this.sent, recordAs);
    return true;
  }

  /** Drops the connection without a close frame, as a network failure would. */
  drop(conn: Conn, why: string): void {
    this.opts.log(`connection ${conn.id} dropped: ${why}`);
    conn.ws.terminate();
  }

  private record(list: unknown[], item: unknown): void {
    list.push(item);
    keepRecent(list);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const wss = this.wss;
    if (!wss || this.closing) return this.refuse(socket, 503, 'Service Unavailable');
    const url = parseUrl(req.url);
    if (url.pathname !== API_PATH) return this.refuse(socket, 404, 'Not Found');
    const key = headerValue(req, HEADER.apiKey) ?? url.searchParams.get(QUERY_API_KEY) ?? '';
    const groupId = headerValue(req, HEADER.groupId) ?? url.searchParams.get(HEADER.groupId) ?? undefined;
    const known = key !== '' && this.opts.apiKeys.includes(key) && !this.opts.faults.refuseKey;
    if (!known && this.opts.rejectMode === 'http401') return this.refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', (err) => this.opts.log(`socket error: ${err.message}`));
      if (!known) {
        this.refused += 1;
        this.opts.log('connection refused after upgrade: 4001 Unauthorized');
        ws.close(4001, 'Unauthorized');
        return;
      }
      this.accept(ws, key, groupId || undefined);
    });
  }

  private refuse(socket: Duplex, status: number, message: string): void {
    this.refused += 1;
    this.opts.log(`upgrade refused: ${status} ${message}`);
    const body = JSON.stringify({ message });
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private accept(ws: WebSocket, key: string, groupId: string | undefined): void {
    this.accepted += 1;
    const conn: Conn = { id: this.nextId++, ws, key, ...(groupId ? { groupId } : {}) };
    const keyNo = this.opts.apiKeys.indexOf(key) + 1;
    const previous = this.active.get(key);
    this.active.set(key, conn);
    if (previous) {
      // Single device enforcement [doc]: the holder is told, then closed; the newcomer stays.
      this.send(previous, { action: 'forceDisconnect', reason: this.opts.displaceReason, timestamp: new Date().toISOString() });
      previous.ws.close(this.opts.displaceCloseCode, this.opts.displaceReason);
      this.opts.log(`connection ${previous.id} displaced by connection ${conn.id} (same API key #${keyNo})`);
    }
    ws.on('message', (data, isBinary) => this.onMessage(conn, isBinary ? null : rawText(data)));
    ws.on('close', (code) => {
      if (this.active.get(key) === conn) this.active.delete(key);
      this.opts.log(`connection ${conn.id} closed (${code})`);
    });
    this.opts.log(`connection ${conn.id} opened (API key #${keyNo}${groupId ? `, group ${groupId}` : ''})`);
    this.opts.onConnect(conn);
  }

  private onMessage(conn: Conn, text: string | null): void {
    if (text === null) {
      this.opts.log(`connection ${conn.id}: binary frame ignored`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.record(this.received, text);
      this.opts.log(`connection ${conn.id}: a frame that is not JSON, ignored`);
      return;
    }
    this.record(this.received, frame);
    if (!isObject(frame) || typeof frame.action !== 'string') {
      this.opts.log(`connection ${conn.id}: a frame without an action, ignored`);
      return;
    }
    this.opts.onFrame(conn, frame);
  }
}

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://simulator.invalid');
  } catch {
    return new URL('http://simulator.invalid/');
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}
