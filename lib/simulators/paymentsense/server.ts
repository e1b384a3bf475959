// The network side of the PAC simulator: the HTTP upgrade with Connect's query-parameter
// checks (protocol notes 2.1), one RpcPeer per accepted till, and the server-driven ping that
// ends half-open connections (notes 2.3).

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PAC_PATH, QUERY } from '../../providers/paymentsense/wire';
import { closeHttpServer, closeSocket, listenOn } from '../socket-util';
import { RpcPeer, type IncomingRequest } from './rpc';

export interface SimFaults {
  dropMidPayment: boolean;
  ignorePings: boolean;
  stopPinging: boolean;
  malformedFrames: boolean;
  refuseToken: boolean;
}

export interface PacServerOptions {
  host: string;
  port: number;
  token: string;
  softwareHouseId?: string;
  installerId?: string;
  authFailure: 'http-401' | 'close-1008';
  pingIntervalMs: number;
  /** Read live: tests flip faults while clients are connected. */
  faults: Readonly<SimFaults>;
  onRequest(peer: RpcPeer, req: IncomingRequest): unknown;
  log(line: string): void;
}

const API_VERSIONS = ['v1', 'v0'];
/** A client that leaves this many server pings unanswered is considered gone. */
const MAX_MISSED_PONGS = 2;

interface Client {
  peer: RpcPeer;
  missedPongs: number;
}

type Verdict = { accept: true } | { accept: false; status: number; message: string } | { accept: false; close1008: true; message: string };

export class PacServer {
  private http?: Server;
  private wss?: WebSocketServer;
  private keepalive?: NodeJS.Timeout;
  private readonly clients = new Map<WebSocket, Client>();
  /** Every upgraded socket, including ones about to be closed with 1008, so stop() reaches all. */
  private readonly sockets = new Set<WebSocket>();
  private attempts = 0;
  private nextConnectionId = 1;
  private closing = false;

  constructor(private readonly opts: PacServerOptions) {}

  get connectionCount(): number {
    return this.clients.size;
  }

  get connectionAttempts(): number {
    return this.attempts;
  }

  async listen(): Promise<number> {
    // autoPong off: pings are answered by hand so the ignorePings fault can switch per moment.
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false, maxPayload: 1024 * 1024 });
    const http = createServer((req, res) => {
      const path = pathOf(req);
      res.writeHead(path === PAC_PATH ? 426 : 404, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ userMessage: path === PAC_PATH ? 'Upgrade Required' : 'Not Found' }));
    });
    this.http = http;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    const port = await listenOn(http, this.opts.port, this.opts.host);
    this.keepalive = setInterval(() => this.pingAll(), this.opts.pingIntervalMs);
    this.keepalive.unref();
    return port;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    const sockets = [...this.sockets];
    await Promise.all(sockets.map((ws) => closeSocket(ws)));
    this.wss?.close();
    const http = this.http;
    this.http = undefined;
    this.wss = undefined;
    if (!http) return;
    await closeHttpServer(http);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.attempts += 1;
    socket.on('error', () => undefined);
    const wss = this.wss;
    if (!wss || this.closing) return this.refuse(socket, 503, 'Service Unavailable');
    const verdict = this.check(req);
    if ('status' in verdict) return this.refuse(socket, verdict.status, verdict.message);
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', (err) => this.opts.log(`socket error: ${err.message}`));
      if (verdict.accept) this.accept(ws);
      else {
        this.opts.log(`connection refused after upgrade: 1008 ${verdict.message}`);
        ws.close(1008, verdict.message);
      }
    });
  }

  private refuse(socket: Duplex, status: number, message: string): void {
    this.opts.log(`upgrade refused: ${status} ${message}`);
    refuseUpgrade(socket, status, message);
  }

  /**
   * Connect checks the query string only (no auth header, notes 2.1). Shape errors answer 400;
   * credentials answer as configured, since how Connect refuses a bad token is not documented.
   */
  private check(req: IncomingMessage): Verdict {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    // Pay at table (/pat) is not simulated yet, so it is refused like any unknown path.
    if (url.pathname !== PAC_PATH) return { accept: false, status: 404, message: 'Not Found' };
    const q = url.searchParams;
    const version = q.get(QUERY.apiVersion);
    if (!version || !API_VERSIONS.includes(version)) {
      return { accept: false, status: 400, message: `${QUERY.apiVersion} must be one of ${API_VERSIONS.join(', ')}` };
    }
    const softwareHouseId = q.get(QUERY.softwareHouseId);
    if (!softwareHouseId) return { accept: false, status: 400, message: `${QUERY.softwareHouseId} is required` };
    const installerId = q.get(QUERY.installerId);
    if (!installerId) return { accept: false, status: 400, message: `${QUERY.installerId} is required` };
    const credentialsOk =
      !this.opts.faults.refuseToken &&
      q.get(QUERY.token) === this.opts.token &&
      (this.opts.softwareHouseId === undefined || softwareHouseId === this.opts.softwareHouseId) &&
      (this.opts.installerId === undefined || installerId === this.opts.installerId);
    if (credentialsOk) return { accept: true };
    return this.opts.authFailure === 'close-1008'
      ? { accept: false, close1008: true, message: 'Unauthorized' }
      : { accept: false, status: 401, message: 'Unauthorized' };
  }

  private accept(ws: WebSocket): void {
    const id = this.nextConnectionId++;
    const faults = this.opts.faults;
    const peer = new RpcPeer(id, ws, {
      onRequest: (p, req) => this.opts.onRequest(p, req),
      malformedFrames: () => faults.malformedFrames,
      // A half-open socket says nothing at all, so the client's heartbeat must hear silence.
      unsolicitedAllowed: () => !faults.ignorePings,
      log: this.opts.log,
    });
    const client: Client = { peer, missedPongs: 0 };
    this.clients.set(ws, client);
    ws.on('pong', () => { client.missedPongs = 0; });
    ws.on('ping', (data) => { if (!faults.ignorePings && ws.readyState === ws.OPEN) ws.pong(data); });
    ws.on('close', (code) => {
      this.clients.delete(ws);
      this.opts.log(`connection ${id} closed (${code}); ${this.clients.size} open`);
    });
    this.opts.log(`connection ${id} opened; ${this.clients.size} open`);
  }

  private pingAll(): void {
    const faults = this.opts.faults;
    const silent = faults.stopPinging || faults.ignorePings;
    for (const [ws, client] of this.clients) {
      if (silent) {
        // Start counting afresh when pinging resumes, not from before the fault.
        client.missedPongs = 0;
        continue;
      }
      if (client.missedPongs >= MAX_MISSED_PONGS) {
        this.opts.log(`connection ${client.peer.id} missed ${MAX_MISSED_PONGS} pongs: terminated`);
        ws.terminate();
        continue;
      }
      client.missedPongs += 1;
      if (ws.readyState === ws.OPEN) ws.ping();
    }
  }
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://simulator.invalid').pathname;
  } catch {
    return '/';
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

/** Body mirrors the REST error shape `{ userMessage }` (notes 3.8). */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ userMessage: message });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

