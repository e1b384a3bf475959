// Inbound requests waiting for a pos-response node. The msg carries only a string key
// (msg._posRequest): Node-RED clones messages on every fan-out, and a string survives any
// clone, where an object with methods would not. Like `http in` / `http response`, the first
// answer wins; a second is reported to the flow as an error.

import { randomUUID } from 'node:crypto';
import { InboundError, type InboundRequest } from '../../lib/core/inbound';
import { PosError } from '../../lib/core/errors';

interface Waiting {
  request: InboundRequest;
  owner: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const waiting = new Map<string, Waiting>();

// Keys are this process's random prefix and a counter: unique, and without a randomUUID() per
// request (its string is built from some twenty pieces, about 0.6 KB of garbage each: bench
// allocation profile).
const KEY_PREFIX = `${randomUUID()}-`;
let keyCounter = 0;

/** Registers a request for `owner` (the request-in node) and returns its key and the eventual answer. */
export function openRequest(request: InboundRequest, owner: string, timeoutMs: number): { key: string; answer: Promise<unknown> } {
  const key = `${request.provider}:${KEY_PREFIX}${(keyCounter += 1).toString(36)}`;
  const answer = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(key);
      reject(new PosError('timeout', `no flow answered ${request.method} within ${Math.round(timeoutMs / 1000)} s (is a response node wired?)`));
    }, timeoutMs);
    waiting.set(key, { request, owner, resolve, reject, timer });
  });
  return { key, answer };
}

export function findRequest(key: unknown): InboundRequest | undefined {
  return typeof key === 'string' ? waiting.get(key)?.request : undefined;
}

/** Settles a waiting request; false when it was already answered or has timed out. */
export function settleRequest(key: string, outcome: { result: unknown } | { error: InboundError | Error }): boolean {
  const entry = waiting.get(key);
  if (!entry) return false;
  waiting.delete(key);
  clearTimeout(entry.timer);
  if ('error' in outcome) entry.reject(outcome.error);
  else entry.resolve(outcome.result);
  return true;
}

/** A request-in node that stops answers its own open requests with an error, never someone else's. */
export function abandonRequests(owner: string, reason: string): number {
  let n = 0;
  for (const [key, entry] of waiting) {
    if (entry.owner !== owner) continue;
    settleRequest(key, { error: new PosError('closed', reason) });
    n += 1;
  }
  return n;
}

export function openRequestCount(owner?: string): number {
  if (owner === undefined) return waiting.size;
  let n = 0;
  for (const entry of waiting.values()) if (entry.owner === owner) n += 1;
  return n;
}
