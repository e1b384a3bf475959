// Dojo's side of the EPOS Data WebSocket: Dojo is the JSON-RPC *client* and the EPOS answers
// (protocol notes 1, 1.1, 2, 12). Requests carry string UUID ids and `params.headers`, several
// are in flight at once, replies are correlated by id on whichever connection they arrive.
// Deliberately not built on lib/core/jsonrpc.ts: a simulator that shared the client's peer
// would agree with its bugs.

import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { describeFrame, type Redactor } from '../../core/redact';
import { closeSocket, isObject, rawText } from '../socket-util';
import { capabilityFor } from './registrations';

export interface EposFaults {
  /** Dojo stops sending pings (the EPOS's own heartbeat must notice the silence). */
  stopPinging: boolean;
  /** Dojo does not answer the EPOS's pings. */
  ignorePings: boolean;
  /** Bad frames before every real request. */
  malformedFrames: boolean;
  /** One-shot: the next request is sent, the socket dropped, and the same id re-sent after reconnect. */
  dropMidRequest: boolean;
  /** Every HandleEventV1 is delivered twice with the same event id. */
  duplicateEvents: boolean;
}

export interface EposErrorInfo { errorType: string; debugMessage?: string; traceId?: string }

/**
 * A reply frame as received. `result` and `error` stay loosely typed on purpose: their shape
 * depends on the method, and tests and examples read into them directly.
 */
export interface ReplyFrame {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  result?: any;
  error?: any;
  [key: string]: unknown;
}

export interface CallResult {
  id: string;
  /** The reply frame exactly as received. */
  response?: ReplyFrame;
  result?: unknown;
  /** The EPOSError of an error reply; a non-Dojo error shape is kept as UnexpectedError. */
  error?: EposErrorInfo;
  /** No reply within the request timeout. */
  timedOut?: boolean;
  /** The connection closed before a reply arrived. */
  closed?: boolean;
}

export interface CallOptions { id?: string; timeoutMs?: number }

export interface EposHubOptions {
  requestTimeoutMs: number;
  pingIntervalMs: number;
  /** How long a drop-and-resend waits for the EPOS to come back. */
  reconnectTimeoutMs: number;
  faults: EposFaults;
  isRegistered(capability: string): boolean;
  log(line: string): void;
  redact: Redactor;
}

export interface ConnectionInfo { softwareHouseId?: string; resellerId?: string }

/** Headers a card machine at the table sends; the values are informational (notes 2). */
export const CARD_MACHINE_HEADERS = Object.freeze({
  deviceId: 'sim-terminal-1',
  deviceType: 'card-machine',
  dojoRequestingProduct: 'pay-at-table',
});

interface Connection {
  id: number;
  ws: WebSocket;
  info: ConnectionInfo;
  awaitingPong: boolean;
}

interface Pending {
  method: string;
  conn: Connection;
  /** A drop-and-resend keeps the entry across the close it causes. */
  keepOnClose: boolean;
  settle(outcome: CallResult): void;
}

type ConnWaiter = { afterId: number; resolve(c: Connection): void; reject(err: Error): void; timer: NodeJS.Timeout };

/** Enough history for any test; a long benchmark must not grow without bound. */
const MAX_KEPT = 10_000;

/**
 * Trims a history to its newest MAX_KEPT entries, in batches: trimming on every frame made the
 * simulator spend half its time moving arrays under load (seen in the bench profile).
 */
function keepRecent(list: unknown[]): void {
  if (list.length > MAX_KEPT + MAX_KEPT / 2) list.splice(0, list.length - MAX_KEPT);
}
const MAX_REMEMBERED_IDS = 1_000;

export class EposHub {
  /** Every real request frame sent (re-sends and duplicate events included), oldest first. */
  readonly sent: Array<Record<string, unknown>> = [];
  /** The text of every malformed frame sent by the malformedFrames fault. */
  readonly malformedSent: string[] = [];
  /** Replies the EPOS gave to malformed frames that carried an id. */
  readonly malformedReplies: ReplyFrame[] = [];
  /** Every JSON object frame received from the EPOS, dropped ones included, oldest first. */
  readonly received: ReplyFrame[] = [];
  /** Upgrades accepted over the hub's lifetime. */
  accepted = 0;

  private readonly conns: Connection[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly noiseIds = new Set<string>();
  private readonly expiredIds = new Set<string>();
  private connWaiters: ConnWaiter[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private pingTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: EposHubOptions) {}

  /** Starts the keepalive; called once the server listens, so an unstarted simulator holds no timer. */
  start(): void {
    if (this.closed || this.pingTimer) return;
    this.pingTimer = setInterval(() => this.pingAll(), this.opts.pingIntervalMs);
    this.pingTimer.unref();
  }

  get connected(): boolean {
    return this.newest() !== undefined;
  }

  get openCount(): number {
    return this.conns.filter((c) => c.ws.readyState === c.ws.OPEN).length;
  }

  accept(ws: WebSocket, info: ConnectionInfo): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    this.accepted += 1;
    const conn: Connection = { id: this.accepted, ws, info, awaitingPong: false };
    this.conns.push(conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('pong', () => { conn.awaitingPong = false; });
    // autoPong is off on the server, so pings are answered here, where the fault can say no.
    ws.on('ping', (data) => {
      if (!this.opts.faults.ignorePings && ws.readyState === ws.OPEN) ws.pong(data);
    });
    ws.on('error', (err) => this.opts.log(`connection ${conn.id} error: ${this.opts.redact(err.message)}`));
    ws.once('close', (code) => this.onClose(conn, code));
    this.opts.log(`EPOS connection ${conn.id} opened (software-house-id ${info.softwareHouseId ?? '?'}); ${this.openCount} open, requests go to the newest`);
    const ready = this.connWaiters.filter((w) => conn.id > w.afterId);
    this.connWaiters = this.connWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve(conn);
    }
  }

  /** Resolves with the newest open connection accepted after connection `afterId`. */
  waitForConnection(timeoutMs: number, afterId = 0): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('DojoSimulator stopped'));
    const now = this.newest();
    if (now && now.id > afterId) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: ConnWaiter = {
        afterId,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.connWaiters = this.connWaiters.filter((w) => w !== waiter);
          reject(new Error(`no EPOS connection within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.connWaiters.push(waiter);
    });
  }

  /** Routes one request to the newest connection; rejects when Dojo would not route it at all. */
  async call(method: string, params: Record<string, unknown>, opts: CallOptions = {}): Promise<CallResult> {
    const { frame, conn, timeoutMs } = this.prepare(method, params, opts);
    if (this.opts.faults.malformedFrames) this.sendNoise(conn);
    if (this.opts.faults.dropMidRequest) {
      this.opts.faults.dropMidRequest = false;
      return (await this.dropAndResend(frame, conn, timeoutMs)).second;
    }
    return this.send(frame, conn, timeoutMs);
  }

  /** Sends, drops the socket right after, waits for the EPOS to come back and re-sends the same id. */
  async replayAfterReconnect(method: string, params: Record<string, unknown>, opts: CallOptions = {}): Promise<{ id: string; first?: ReplyFrame; second: ReplyFrame }> {
    const { frame, conn, timeoutMs } = this.prepare(method, params, opts);
    const { first, second } = await this.dropAndResend(frame, conn, timeoutMs);
    if (!second.response) {
      throw new Error(`no answer to the re-sent ${method} (id ${frame.id}) ${second.timedOut ? `within ${timeoutMs} ms` : 'before the connection closed'}`);
    }
    return { id: second.id, ...(first ? { first } : {}), second: second.response };
  }

  terminateAll(reason: string): void {
    for (const c of this.conns) {
      if (c.ws.readyState === c.ws.OPEN || c.ws.readyState === c.ws.CONNECTING) {
        this.opts.log(`EPOS connection ${c.id} dropped: ${reason}`);
        c.ws.terminate();
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.connWaiters) {
      clearTimeout(w.timer);
      w.reject(new Error('DojoSimulator stopped'));
    }
    this.connWaiters = [];
    for (const [id, p] of [...this.pending]) {
      this.pending.delete(id);
      p.settle({ id, closed: true });
    }
    await Promise.all(this.conns.map((c) => closeSocket(c.ws)));
  }

  private newest(): Connection | undefined {
    for (let i = this.conns.length - 1; i >= 0; i -= 1) {
      const c = this.conns[i] as Connection;
      if (c.ws.readyState === c.ws.OPEN) return c;
    }
    return undefined;
  }

  private prepare(method: string, params: Record<string, unknown>, opts: CallOptions): { frame: { jsonrpc: '2.0'; id: string; method: string; params: Record<string, unknown> }; conn: Connection; timeoutMs: number } {
    if (this.closed) throw new Error('DojoSimulator stopped');
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new Error(`${method}: params must be an object`);
    const capability = capabilityFor(method, params);
    if (!capability) throw new Error(`${method} is not an EPOS Data method Dojo routes`);
    if (!this.opts.isRegistered(capability)) {
      throw new Error(`${method} is not routed: capability ${capability} is not registered (PUT /epos/integrations/ws)`);
    }
    const conn = this.newest();
    if (!conn) throw new Error(`${method} is not routed: no EPOS is connected`);
    const id = opts.id ?? randomUUID();
    if (this.pending.has(id)) throw new Error(`${method}: a request with id ${id} is already in flight`);
    const withHeaders = isObject(params.headers) ? params : { ...params, headers: { ...CARD_MACHINE_HEADERS } };
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    return { frame: { jsonrpc: '2.0', id, method, params: withHeaders }, conn, timeoutMs };
  }

  private send(frame: { id: string; method: string }, conn: Connection, timeoutMs: number): Promise<CallResult> {
    const id = frame.id;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.pending.get(id)?.settle !== settle) return;
        this.pending.delete(id);
        this.remember(this.expiredIds, id);
        this.opts.log(`${frame.method} ${id}: no answer within ${timeoutMs} ms`);
        resolve({ id, timedOut: true });
      }, timeoutMs);
      this.timers.add(timer);
      const settle = (outcome: CallResult): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(outcome);
      };
      this.pending.set(id, { method: frame.method, conn, keepOnClose: false, settle });
      this.record(frame as unknown as Record<string, unknown>);
      conn.ws.send(JSON.stringify(frame));
    });
  }

  private async dropAndResend(frame: { id: string; method: string }, conn: Connection, timeoutMs: number): Promise<{ first?: ReplyFrame; second: CallResult }> {
    const id = frame.id;
    let first: ReplyFrame | undefined;
    // An answer that beats the drop is kept as `first`; the entry survives the close it causes.
    this.pending.set(id, { method: frame.method, conn, keepOnClose: true, settle: (o) => { first = o.response; } });
    this.record(frame as unknown as Record<string, unknown>);
    try {
      // Terminate once the frame has left, so the EPOS really received the request it loses.
      await new Promise<void>((resolve) => conn.ws.send(JSON.stringify(frame), () => resolve()));
      this.opts.log(`fault dropMidRequest: ${frame.method} ${id} sent, connection ${conn.id} terminated; the same id is re-sent after reconnect`);
      conn.ws.terminate();
      const next = await this.waitForConnection(this.opts.reconnectTimeoutMs, conn.id);
      if (this.pending.get(id)?.conn === conn) this.pending.delete(id);
      const second = await this.send(frame, next, timeoutMs);
      return { ...(first ? { first } : {}), second };
    } finally {
      if (this.pending.get(id)?.conn === conn) this.pending.delete(id);
    }
  }

  private record(frame: Record<string, unknown>): void {
    this.sent.push(frame);
    keepRecent(this.sent);
  }

  private remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > MAX_REMEMBERED_IDS) set.delete(set.values().next().value as string);
  }

  /** Invalid JSON, a request without id, an unknown method, and params failing the schema. */
  private sendNoise(conn: Connection): void {
    const headers = { ...CARD_MACHINE_HEADERS };
    const unknownId = randomUUID();
    const badParamsId = randomUUID();
    const texts = [
      `{"jsonrpc":"2.0","id":"${randomUUID()}","method":"SearchOrdersV1","params":{"payableOnly":tr`,
      JSON.stringify({ jsonrpc: '2.0', method: 'SearchOrdersV1', params: { payableOnly: true, headers } }),
      JSON.stringify({ jsonrpc: '2.0', id: unknownId, method: 'SimulatorUnknownMethodV1', params: { headers } }),
      JSON.stringify({ jsonrpc: '2.0', id: badParamsId, method: 'GetOrderByIdV1', params: { orderId: 42, headers } }),
    ];
    this.remember(this.noiseIds, unknownId);
    this.remember(this.noiseIds, badParamsId);
    for (const t of texts) {
      this.malformedSent.push(t);
      conn.ws.send(t);
    }
    keepRecent(this.malformedSent);
    this.opts.log(`fault malformedFrames: ${texts.length} malformed frames sent on connection ${conn.id}`);
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    const text = rawText(data);
    const drop = (why: string): void => this.opts.log(`connection ${conn.id}: ${why}, dropped: ${describeFrame(text, this.opts.redact)}`);
    if (isBinary) return drop('binary frame');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return drop('unparseable frame');
    }
    if (!isObject(msg)) return drop('not a JSON-RPC object');
    this.received.push(msg);
    keepRecent(this.received);
    const hasAnswer = 'result' in msg || 'error' in msg;
    if (!hasAnswer) {
      return drop(typeof msg.method === 'string' ? 'a request from the EPOS (Dojo serves none on this connection)' : 'neither result nor error');
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    if (id !== undefined && this.noiseIds.has(id)) {
      this.malformedReplies.push(msg);
      if (this.malformedReplies.length > MAX_KEPT) this.malformedReplies.shift();
      this.opts.log(`connection ${conn.id}: answer to a malformed frame: ${describeFrame(text, this.opts.redact)}`);
      return;
    }
    const pending = id !== undefined ? this.pending.get(id) : undefined;
    if (!pending || id === undefined) {
      return drop(id !== undefined && this.expiredIds.has(id) ? 'late reply to a timed-out request' : 'reply with an unknown id');
    }
    this.pending.delete(id);
    const outcome: CallResult = { id, response: msg };
    if (msg.error !== undefined && msg.error !== null) outcome.error = parseEposError(msg.error);
    else outcome.result = msg.result;
    pending.settle(outcome);
  }

  private onClose(conn: Connection, code: number): void {
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    for (const [id, p] of [...this.pending]) {
      if (p.conn !== conn || p.keepOnClose) continue;
      this.pending.delete(id);
      p.settle({ id, closed: true });
    }
    this.opts.log(`EPOS connection ${conn.id} closed (${code}); ${this.openCount} open`);
  }

  private pingAll(): void {
    for (const c of this.conns) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      if (this.opts.faults.stopPinging) {
        // Count afresh once pinging resumes, not from before the fault.
        c.awaitingPong = false;
        continue;
      }
      if (c.awaitingPong) {
        this.opts.log(`EPOS connection ${c.id} did not answer a ping within ${this.opts.pingIntervalMs} ms: terminated`);
        c.ws.terminate();
        continue;
      }
      c.awaitingPong = true;
      c.ws.ping();
    }
  }
}

export function parseEposError(error: unknown): EposErrorInfo {
  const e = isObject(error) ? error : {};
  const info: EposErrorInfo = { errorType: typeof e.errorType === 'string' && e.errorType !== '' ? e.errorType : 'UnexpectedError' };
  const debug = typeof e.debugMessage === 'string' ? e.debugMessage : typeof e.message === 'string' ? e.message : undefined;
  if (debug !== undefined) info.debugMessage = debug;
  if (typeof e.traceId === 'string') info.traceId = e.traceId;
  return info;
}

