// The simulator's own JSON-RPC 2.0 endpoint over one WebSocket. Deliberately separate from the
// client's peer code: a simulator that shared it would agree with the client's bugs.

import type { WebSocket, RawData } from 'ws';
import { isObject, rawText } from '../socket-util';

export type RpcId = string | number | null;

/** A JSON-RPC error a method handler throws; the peer turns it into an error response. */
export class RpcFault extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = 'RpcFault';
  }
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/** Returned by a handler that will answer later (a transaction answers when it ends). */
export const DEFERRED: unique symbol = Symbol('deferred');

export interface IncomingRequest {
  id: string | number;
  method: string;
  params: unknown;
}

export interface PeerHooks {
  onRequest(peer: RpcPeer, req: IncomingRequest): unknown;
  /** Garbage before every response (fault `malformedFrames`). */
  malformedFrames(): boolean;
  /** False while the peer must look silent (fault `ignorePings`). */
  unsolicitedAllowed(): boolean;
  log(line: string): void;
}

interface PendingRequest {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class RpcPeer {
  private readonly pending = new Map<string, PendingRequest>();
  private nextRequestId = 1;

  constructor(readonly id: number, private readonly ws: WebSocket, private readonly hooks: PeerHooks) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.once('close', () => this.failPending(new Error('connection closed')));
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  respond(id: RpcId, result: unknown): void {
    this.sendGarbageIfFaulted();
    this.send({ jsonrpc: '2.0', id, result });
  }

  respondError(id: RpcId, code: number, message: string, data?: unknown): void {
    this.sendGarbageIfFaulted();
    const error: Record<string, unknown> = { code, message };
    if (data !== undefined) error.data = data;
    this.send({ jsonrpc: '2.0', id, error });
  }

  /** Returns false when nothing was sent (socket gone, or the peer must stay silent). */
  notify(method: string, params: unknown): boolean {
    if (!this.open || !this.hooks.unsolicitedAllowed()) return false;
    this.send({ jsonrpc: '2.0', method, params });
    return true;
  }

  /**
   * Sends a request and resolves with its result. Rejects with an RpcFault on an error answer
   * and with a plain Error when the socket closes or the request could not be sent; the caller
   * owns any timeout.
   */
  request(method: string, params: unknown): Promise<unknown> {
    if (!this.open || !this.hooks.unsolicitedAllowed()) return Promise.reject(new Error('not sent'));
    const id = `sim-${this.id}-${this.nextRequestId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Ends the connection without a close frame, as a dropped network would. */
  terminate(): void {
    this.ws.terminate();
  }

  private send(msg: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(msg));
  }

  private sendGarbageIfFaulted(): void {
    if (!this.open || !this.hooks.malformedFrames()) return;
    this.ws.send('{"jsonrpc":"2.0","id": this is not json');
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id: `sim-unknown-${Math.random().toString(36).slice(2)}`, result: { stray: true } }));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'simulatorUnknownNotification', params: { noise: true } }));
    this.ws.send(JSON.stringify([1, 'garbage', { jsonrpc: '1.0' }, null]));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0' }));
    this.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]), { binary: true });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.hooks.log(`connection ${this.id}: binary frame refused`);
      this.respondError(null, INVALID_REQUEST, 'Invalid Request: only JSON-RPC text frames are accepted');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(rawText(data));
    } catch {
      this.hooks.log(`connection ${this.id}: unparseable frame`);
      this.respondError(null, PARSE_ERROR, 'Parse error');
      return;
    }
    if (Array.isArray(msg)) {
      this.respondError(null, INVALID_REQUEST, 'Invalid Request: batches are not supported');
      return;
    }
    if (!isObject(msg) || msg.jsonrpc !== '2.0') {
      this.respondError(validId(msg) ? (msg as { id: RpcId }).id : null, INVALID_REQUEST, 'Invalid Request');
      return;
    }
    if (typeof msg.method === 'string') {
      if (!('id' in msg)) {
        this.hooks.log(`connection ${this.id}: ignored client notification ${msg.method}`);
        return;
      }
      if (typeof msg.id !== 'string' && typeof msg.id !== 'number') {
        this.respondError(null, INVALID_REQUEST, 'Invalid Request: id must be a string or a number');
        return;
      }
      this.dispatch({ id: msg.id, method: msg.method, params: msg.params });
      return;
    }
    if ('id' in msg && ('result' in msg || 'error' in msg)) {
      this.onResponse(msg);
      return;
    }
    this.respondError(validId(msg) ? (msg.id as RpcId) : null, INVALID_REQUEST, 'Invalid Request');
  }

  private dispatch(req: IncomingRequest): void {
    let result: unknown;
    try {
      result = this.hooks.onRequest(this, req);
    } catch (err) {
      if (err instanceof RpcFault) this.respondError(req.id, err.code, err.message, err.data);
      else {
        this.hooks.log(`connection ${this.id}: ${req.method} failed: ${(err as Error).message}`);
        this.respondError(req.id, INTERNAL_ERROR, 'Internal error');
      }
      return;
    }
    if (result !== DEFERRED) this.respond(req.id, result);
  }

  private onResponse(msg: Record<string, unknown>): void {
    const key = String(msg.id);
    const pending = typeof msg.id === 'string' ? this.pending.get(key) : undefined;
    if (!pending) {
      this.hooks.log(`connection ${this.id}: response to unknown id dropped`);
      return;
    }
    this.pending.delete(key);
    if ('error' in msg && msg.error !== undefined && msg.error !== null) {
      const e = isObject(msg.error) ? msg.error : {};
      pending.reject(new RpcFault(typeof e.code === 'number' ? e.code : INTERNAL_ERROR, typeof e.message === 'string' ? e.message : 'error'));
    } else {
      pending.resolve(msg.result);
    }
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

function validId(v: unknown): boolean {
  return isObject(v) && (typeof v.id === 'string' || typeof v.id === 'number');
}
