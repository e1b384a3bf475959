// The network side of the Connect simulator: the HTTP upgrade with Connect's query-parameter
// checks (protocol notes 2.1), one RpcPeer per accepted till (/pac) or pay-at-table EPoS
// (/pat, handed to the PAT terminal), and the server-driven ping that ends half-open
// connections (notes 2.3).

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PAC_PATH, PAT_PATH, QUERY } from '../../providers/paymentsense/wire';
import { FINAL_RECEIPT_FLAG } from '../../providers/paymentsense/pat-wire';
import { closeHttpServer, closeSocket, listenOn } from '../socket-util';
import { METHOD_NOT_FOUND, RpcFault, RpcPeer, type IncomingRequest } from './rpc';
import type { PatClient } from './pat-terminal';

export interface SimFaults {
  dropMidPayment: boolean;
  ignorePings: boolean;
  stopPinging: boolean;
  malformedFrames: boolean;
  refuseToken: boolean;
  /** Answer transactionDetails with "method not found", as a Connect server without the [inferred] look-up would. */
  noTransactionDetails: boolean;
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
  /** A pay-at-table EPoS connected to /pat. */
  onPatClient?(client: PatClient): void;
  onPatClose?(peer: RpcPeer): void;
  log(line: string): void;
}

const API_VERSIONS = ['v1', 'v0'];
/** A client that leaves this many server pings unanswered is considered gone. */
const MAX_MISSED_PONGS = 2;

interface Client {
  peer: RpcPeer;
  missedPongs: number;
  pat: boolean;
}

type Verdict = { accept: true; pat: boolean; finalReceipt: boolean } | { accept: false; status: number; message: string } | { accept: false; close1008: true; message: string };

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

  /** Open pay-at-counter (/pac) connections. */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.clients.values()) if (!c.pat) n += 1;
    return n;
  }

  /** Open /pat connections (one, unless a displaced one is still closing). */
  get patConnectionCount(): number {
    return this.clients.size - this.connectionCount;
  }

  get connectionAttempts(): number {
    return this.attempts;
  }

  async listen(): Promise<number> {
    // autoPong off: pings are answered by hand so the ignorePings fault can switch per moment.
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false, maxPayload: 1024 * 1024 });
    const http = createServer((req, res) => {
      const path = pathOf(req);
      const known = path === PAC_PATH || path === PAT_PATH;
      res.writeHead(known ? 426 : 404, { 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ userMessage: known ? 'Upgrade Required' : 'Not Found' }));
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
      if (verdict.accept) this.accept(ws, verdict.pat, verdict.finalReceipt);
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
    const pat = url.pathname === PAT_PATH && this.opts.onPatClient !== undefined;
    if (url.pathname !== PAC_PATH && !pat) return { accept: false, status: 404, message: 'Not Found' };
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
    if (credentialsOk) return { accept: true, pat, finalReceipt: pat && q.has(FINAL_RECEIPT_FLAG) };
    return this.opts.authFailure === 'close-1008'
      ? { accept: false, close1008: true, message: 'Unauthorized' }
      : { accept: false, status: 401, message: 'Unauthorized' };
  }

  private accept(ws: WebSocket, pat: boolean, finalReceipt: boolean): void {
    const id = this.nextConnectionId++;
    const faults = this.opts.faults;
    const peer = new RpcPeer(id, ws, {
      // On /pat the terminal asks and the EPoS answers; the EPoS has nothing to call.
      onRequest: (p, req) => {
        if (pat) throw new RpcFault(METHOD_NOT_FOUND, `Method not found on ${PAT_PATH}: ${String(req.method).slice(0, 64)}`);
        return this.opts.onRequest(p, req);
      },
      malformedFrames: () => faults.malformedFrames,
      // A half-open socket says nothing at all, so the client's heartbeat must hear silence.
      unsolicitedAllowed: () => !faults.ignorePings,
      log: this.opts.log,
    });
    const client: Client = { peer, missedPongs: 0, pat };
    this.clients.set(ws, client);
    ws.on('pong', () => { client.missedPongs = 0; });
    ws.on('ping', (data) => { if (!faults.ignorePings && ws.readyState === ws.OPEN) ws.pong(data); });
    ws.on('close', (code) => {
      this.clients.delete(ws);
      if (pat) this.opts.onPatClose?.(peer);
      this.opts.log(`connection ${id} closed (${code}); ${this.clients.size} open`);
    });
    this.opts.log(`connection ${id} opened${pat ? ` on ${PAT_PATH}` : ''}; ${this.clients.size} open`);
    if (pat) this.opts.onPatClient?.({ peer, finalReceipt, close: (code, reason) => ws.close(code, reason) });
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

