// Dojo's EPOS Data API, WebSocket variant: we dial out to Dojo and then play the JSON-RPC
// *server* on that socket. Dojo only routes a method once its capability is registered over
// REST, so the set of methods the flows serve and the registered capability list are kept in
// step here. Requests are answered concurrently; a request id Dojo repeats (it retries after a
// reconnect) is answered from the first answer instead of running the flow twice.

import { Backoff } from '../../core/backoff';
import { isPosError } from '../../core/errors';
import { isoNow } from '../../core/iso-now';
import type { InboundHandler, InboundRequest, RequestServer } from '../../core/inbound';
import { JsonRpcPeer, RawJson, type JsonRpcPeerOptions } from '../../core/jsonrpc';
import { ConnectionPeer } from '../../core/connection-peer';
import { makeRedactor, type Redactor } from '../../core/redact';
import { ReconnectingSocket } from '../../core/socket';
import type { WireTap } from '../../core/wire-log';
import { silentLogger, type ConnectionState, type Logger } from '../../core/types';
import { AnswerCache } from './answer-cache';
import { EposRpcError, eposError, rpcErrorToEpos, toEposError, type EposErrorBody } from './epos-errors';
import { DOJO_METHODS, EPOS_ERROR_TYPES, capabilitiesOf, checkParams, checkResult as checkDojoResult, isDojoMethod } from './schemas';
import { Listeners } from '../../core/listeners';

export interface DojoEvent {
  id: string;
  accountId?: string;
  event: string;
  data: unknown;
  createdAt?: string;
  raw: unknown;
}

export interface EposServerOptions {
  /** Full WebSocket URL, asked on every attempt (e.g. wss://eu.ws.dojo.tech/epos, or the simulator's). */
  url: () => string;
  apiKey: string;
  softwareHouseId: string;
  resellerId?: string;
  /** PUTs the FULL capability list (REST PUT /epos/integrations/ws). Rejects with PosError code 'unauthorized' on 401/403. */
  register: (capabilities: { name: string; version: string }[]) => Promise<void>;
  /** Default 'v1' (Dojo's guide; the OpenAPI examples say '1.0.0') [inferred]. */
  capabilityVersion?: string;
  verifyTls?: boolean;
  logger?: Logger;
  /** Default 25000; at most 30000 (Dojo wants a ping at least every 30 s). */
  heartbeatIntervalMs?: number;
  handshakeTimeoutMs?: number;
  /** Reconnect and registration-retry delays; default 1 s doubling to 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Safety net for a handler that never settles (the nodes enforce their own, shorter timeout). Default 120000. */
  handlerTimeoutMs?: number;
  /** How long an answer is kept to answer a repeated request id. Default 15 min. */
  answerTtlMs?: number;
  /** At most this many answers (and as many event ids) are remembered, oldest dropped first. Default 10000. */
  answerCacheSize?: number;
  /**
   * Never register capabilities (a connection check): a PUT replaces the account's whole list,
   * so a check would cut the capabilities of an integration running elsewhere.
   */
  readOnly?: boolean;
  /** Sees every frame in and out (the wire log, a connection check). */
  wire?: WireTap;
}

const EVENT_METHOD = 'HandleEventV1';
const DEFAULT_HEARTBEAT_MS = 25000;
const MAX_HEARTBEAT_MS = 30000;
const DEFAULT_HANDLER_TIMEOUT_MS = 120000;
const DEFAULT_ANSWER_TTL_MS = 15 * 60 * 1000;
const DEFAULT_ANSWER_CACHE_SIZE = 10000;
/** A deploy calls serve() once per node, one after another: one PUT for the whole burst. */
const REGISTER_COALESCE_MS = 20;
const MAX_TIMER_MS = 0x7fffffff;

type Answer = { result: unknown } | { error: EposErrorBody };

/** A request whose flow is still running: its answer never rejects (an error is an Answer too). */
interface RunningAnswer {
  readonly method: string;
  readonly answer: Promise<Answer>;
}

/**
 * An answered request, remembered to answer a repeat: a result as its JSON text. Up to
 * answerCacheSize of these live for minutes, so each is one small object and one string.
 */
type CachedAnswer = { readonly method: string; readonly json: string } | { readonly method: string; readonly settled: Answer };

/** Each method's own name, so a remembered answer does not keep the copy every frame parses. */
const METHOD_NAMES: ReadonlyMap<string, string> = new Map(DOJO_METHODS.map((m) => [m.method, m.method]));

function invalid(debugMessage: string): EposRpcError {
  return new EposRpcError(eposError('InvalidRequest', debugMessage));
}

const NOT_CHECKED: unique symbol = Symbol('not checked');

/**
 * An inbound request as the flow sees it. checkResult is a method, not a closure made per
 * request, and remembers the last result it passed: a response node checks the answer before
 * settling, and the server does not check that same object again a few microtasks later.
 */
class EposRequest implements InboundRequest {
  readonly provider = 'dojo' as const;
  readonly receivedAt = isoNow();
  readonly errorTypes = EPOS_ERROR_TYPES;
  /** The last result checkResult() found valid. */
  passed: unknown = NOT_CHECKED;

  constructor(readonly method: string, readonly id: string, readonly params: unknown) {}

  checkResult(result: unknown): string | undefined {
    const reason = checkDojoResult(this.method, result);
    if (reason === undefined) this.passed = result;
    return reason;
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value > 0 && !Number.isNaN(value) ? value : fallback;
}

export class EposServer implements RequestServer {
  /** Every method a flow may serve; HandleEventV1 is served through setEventHandler instead. */
  readonly methods: readonly string[] = Object.freeze(DOJO_METHODS.map((m) => m.method).filter((m) => m !== EVENT_METHOD));

  private readonly socket: ReconnectingSocket;
  private readonly redact: Redactor;
  private readonly logger: Logger;
  private readonly version: string;
  private readonly handlerTimeoutMs: number;
  private readonly answers: AnswerCache<CachedAnswer>;
  /** Requests whose flow is still running, by id; each joins `answers` when answered (its TTL counts from the answer). */
  private readonly running = new Map<string, RunningAnswer>();
  private readonly seenEvents: AnswerCache<true>;
  private readonly handlerTimers = new Set<NodeJS.Timeout>();
  private readonly stateListeners = new Listeners<ConnectionState>((m) => this.log('error', `a state listener threw: ${m}`));

  /** The JSON-RPC peer of the open connection; a new one per connection, so an answer never leaves on a socket it did not come from. */
  private readonly peer: ConnectionPeer;
  private served: ReadonlySet<string> = new Set();
  private handler: InboundHandler | undefined;
  private eventHandler: ((event: DojoEvent) => void) | undefined;

  // Registration: one PUT at a time, the latest wanted state wins.
  private readonly registerBackoff: Backoff;
  private registeredNames: readonly string[] = [];
  /** The list registered during the current connection; undefined until the first PUT on it succeeds. */
  private registeredKey: string | undefined;
  private syncWanted = false;
  private syncRunning = false;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: EposServerOptions) {
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey.trim() : '';
    const softwareHouseId = typeof opts.softwareHouseId === 'string' ? opts.softwareHouseId.trim() : '';
    if (apiKey === '') throw new TypeError('Dojo needs an API key (sk_sandbox_… or sk_prod_…)');
    if (softwareHouseId === '') throw new TypeError('Dojo needs the software-house-id that Dojo issued to the EPOS vendor');
    if (typeof opts.register !== 'function') throw new TypeError('EposServer needs a register(capabilities) function');
    this.logger = opts.logger ?? silentLogger;
    this.redact = makeRedactor([apiKey, opts.apiKey]);
    this.version = opts.capabilityVersion?.trim() || 'v1';
    // setTimeout fires at once beyond 2^31-1 ms, so a huge (or Infinity) timeout is capped instead.
    this.handlerTimeoutMs = Math.min(MAX_TIMER_MS, positiveOr(opts.handlerTimeoutMs, DEFAULT_HANDLER_TIMEOUT_MS));
    const cacheSize = Math.floor(positiveOr(opts.answerCacheSize, DEFAULT_ANSWER_CACHE_SIZE));
    const ttlMs = positiveOr(opts.answerTtlMs, DEFAULT_ANSWER_TTL_MS);
    this.answers = new AnswerCache({ ttlMs, maxEntries: cacheSize });
    this.seenEvents = new AnswerCache({ ttlMs, maxEntries: cacheSize });
    this.registerBackoff = new Backoff(opts.backoff ?? {});

    // Literally "Basic <key>": Dojo does not want base64, so ws's own auth option must not be used.
    const headers: Record<string, string> = { Authorization: `Basic ${apiKey}`, 'software-house-id': softwareHouseId };
    const resellerId = typeof opts.resellerId === 'string' ? opts.resellerId.trim() : '';
    if (resellerId !== '') headers['reseller-id'] = resellerId;

    this.socket = new ReconnectingSocket({
      url: opts.url,
      headers,
      redact: this.redact,
      verifyTls: opts.verifyTls !== false,
      logger: this.logger,
      heartbeatIntervalMs: Math.min(MAX_HEARTBEAT_MS, positiveOr(opts.heartbeatIntervalMs, DEFAULT_HEARTBEAT_MS)),
      ...(opts.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: opts.handshakeTimeoutMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      ...(opts.wire ? { wire: opts.wire } : {}),
    });
    this.peer = new ConnectionPeer(this.socket, (send) => this.makePeer(send), { onOpen: () => this.onOpen(), onClose: () => this.onClose() });
    this.socket.on('state', (state: ConnectionState) => this.stateListeners.emit(state));
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  /** Capability names in the last successful registration. */
  get registered(): readonly string[] {
    return this.registeredNames;
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    return this.stateListeners.add(listener);
  }

  start(): void {
    this.socket.start();
  }

  /** Resolves within 2 s; leaves no timers. Answers still being computed are dropped when they settle. */
  async stop(): Promise<void> {
    this.clearSyncTimer();
    this.syncWanted = false;
    for (const timer of this.handlerTimers) clearTimeout(timer);
    this.handlerTimers.clear();
    this.answers.clear();
    this.running.clear();
    this.seenEvents.clear();
    this.peer.close();
    await this.socket.stop();
  }

  serve(methods: ReadonlySet<string>, handler: InboundHandler): void {
    const known = new Set<string>();
    for (const method of methods) {
      if (this.methods.includes(method)) known.add(method);
      else this.log('warn', `${JSON.stringify(method)} is not a Dojo EPOS Data method a flow can serve; ignored`);
    }
    this.served = known;
    this.handler = handler;
    this.wantSync();
  }

  setEventHandler(handler: ((event: DojoEvent) => void) | undefined): void {
    this.eventHandler = handler;
    this.wantSync();
  }

  // ---- connection ---------------------------------------------------------------------------

  /** The peer of a new connection (see ConnectionPeer). */
  private makePeer(send: JsonRpcPeerOptions['send']): JsonRpcPeer {
    const peer = new JsonRpcPeer({
      send,
      logger: this.logger,
      redact: this.redact,
      formatError: (err) => rpcErrorToEpos(err, this.redact),
      // Dojo's response schema lists `method` as required.
      echoMethod: true,
    });
    peer.setFallback((params, ctx) => this.onRequest(params, ctx.method, ctx.id));
    peer.onNotification((method) => {
      this.log('warn', `Dojo sent ${JSON.stringify(method)} without an id: a notification cannot be answered, dropped`);
    });
    return peer;
  }

  private onOpen(): void {
    // Every new connection registers the full list again, as if nothing was registered.
    this.registeredKey = undefined;
    this.registerBackoff.reset();
    this.clearSyncTimer();
    this.syncWanted = true;
    this.scheduleSync(0);
  }

  private onClose(): void {
    // No registration retries while disconnected; the next 'open' registers afresh.
    this.clearSyncTimer();
  }

  // ---- inbound requests ---------------------------------------------------------------------

  /** The peer's fallback: sees every request. Throws only EposRpcError (sent in Dojo's shape). */
  private onRequest(params: unknown, method: string, rawId: string | number | null): unknown {
    if (rawId === null) throw invalid(`${method}: a request needs a string id to be answered`);
    const id = String(rawId);
    const previous = this.running.get(id) ?? this.answers.get(id);
    if (previous !== undefined) {
      if (previous.method !== method) {
        this.log('warn', `Dojo reused request id ${JSON.stringify(id)} for ${method} (first used for ${previous.method}); refused`);
        throw invalid(`request id ${JSON.stringify(id)} was already used for ${previous.method}; ${method} was not run`);
      }
      this.log('info', `Dojo repeated ${method} id ${JSON.stringify(id)}: answered with the first answer, the flow did not run again`);
      if ('answer' in previous) return unwrap(previous.answer);
      return unwrap(Promise.resolve('json' in previous ? { result: new RawJson(previous.json) } : previous.settled));
    }
    if (method === EVENT_METHOD) return this.onEvent(params, id);
    if (!isDojoMethod(method)) {
      this.log('warn', `Dojo sent an unknown method ${JSON.stringify(method)}; answered InvalidRequest`);
      throw invalid(`${method} is not a Dojo EPOS Data method this EPOS knows`);
    }
    const handler = this.handler;
    if (handler === undefined || !this.served.has(method)) {
      this.log('warn', `Dojo sent ${method}, but no flow serves it; answered InvalidRequest`);
      throw invalid(`${method} is not served by this EPOS (no flow handles it)`);
    }
    const reason = checkParams(method, params);
    if (reason !== undefined) {
      this.log('warn', `Dojo sent ${method} with invalid params: ${reason}`);
      throw invalid(reason);
    }
    const request = new EposRequest(method, id, params);
    const name = METHOD_NAMES.get(method) ?? method;
    const entry: RunningAnswer = { method: name, answer: this.run(handler, request) };
    this.running.set(id, entry);
    // The TTL counts from the answer, not the request: a slow flow's answer is still kept long enough.
    void entry.answer.then((answer) => {
      if (this.running.get(id) !== entry) return;
      this.running.delete(id);
      const result = 'result' in answer ? answer.result : undefined;
      this.answers.set(id, result instanceof RawJson ? { method: name, json: result.json } : { method: name, settled: answer });
    });
    return unwrap(entry.answer);
  }

  /** Runs the flow's handler once; the promise always resolves, with a result or an EPOSError. */
  private run(handler: InboundHandler, request: EposRequest): Promise<Answer> {
    const { method, id } = request;
    return new Promise<Answer>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (answer: Answer): void => {
        if (timer !== undefined) {
          clearTimeout(timer);
          this.handlerTimers.delete(timer);
          timer = undefined;
        }
        resolve(answer);
      };
      timer = setTimeout(() => {
        this.handlerTimers.delete(timer as NodeJS.Timeout);
        timer = undefined;
        this.log('warn', `no flow answered ${method} (id ${JSON.stringify(id)}) within ${this.handlerTimeoutMs} ms`);
        finish({ error: eposError('UnexpectedError', `no flow answered ${method} in time (within ${this.handlerTimeoutMs} ms)`, this.redact) });
      }, this.handlerTimeoutMs);
      this.handlerTimers.add(timer);
      let pending: Promise<unknown>;
      try {
        pending = Promise.resolve(handler(request));
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (result) => finish(result === request.passed && result !== undefined ? { result: asJson(result) } : this.checked(method, result)),
        (err: unknown) => {
          const error = toEposError(err, this.redact);
          this.log(error.errorType === 'UnexpectedError' ? 'warn' : 'debug', `${method} answered ${error.errorType}: ${error.debugMessage}`);
          finish({ error });
        },
      );
    });
  }

  private checked(method: string, result: unknown): Answer {
    let reason: string | undefined;
    try {
      reason = checkDojoResult(method, result);
    } catch (err) {
      reason = `the schema check failed: ${(err as Error)?.message}`;
    }
    if (reason === undefined) return { result: asJson(result) };
    this.log('warn', `the answer to ${method} did not match Dojo's schema: ${reason}`);
    return { error: eposError('UnexpectedError', `the answer to ${method} did not match Dojo's schema: ${reason}`, this.redact) };
  }

  /** Always answered {} (Dojo delivers at least once); each event id reaches the handler once. */
  private onEvent(params: unknown, id: string): unknown {
    const handler = this.eventHandler;
    if (handler === undefined) {
      this.log('warn', `Dojo sent ${EVENT_METHOD}, but no flow listens for Dojo events; answered InvalidRequest`);
      throw invalid(`${EVENT_METHOD} is not served by this EPOS (no flow listens for events, so it is not registered)`);
    }
    const reason = checkParams(EVENT_METHOD, params);
    if (reason !== undefined) {
      this.log('warn', `Dojo sent ${EVENT_METHOD} with invalid params: ${reason}`);
      throw invalid(reason);
    }
    this.answers.set(id, { method: EVENT_METHOD, settled: { result: {} } });
    const p = params as Record<string, unknown>;
    const eventId = String(p.id);
    if (this.seenEvents.has(eventId)) {
      this.log('debug', `Dojo event ${JSON.stringify(eventId)} delivered again; already passed on`);
      return {};
    }
    this.seenEvents.set(eventId, true);
    const event: DojoEvent = {
      id: eventId,
      ...(typeof p.accountId === 'string' ? { accountId: p.accountId } : {}),
      event: String(p.event),
      data: p.data,
      ...(typeof p.createdAt === 'string' ? { createdAt: p.createdAt } : {}),
      raw: params,
    };
    try {
      const r: unknown = handler(event);
      // A listener written as async must not become an unhandled rejection.
      if (r instanceof Promise) r.catch((err: unknown) => this.log('error', `the event handler failed: ${(err as Error)?.message}`));
    } catch (err) {
      this.log('error', `the event handler failed: ${(err as Error)?.message}`);
    }
    return {};
  }

  // ---- capability registration --------------------------------------------------------------

  private desiredCapabilities(): string[] {
    const names = new Set<string>();
    for (const method of this.served) for (const name of capabilitiesOf(method)) names.add(name);
    if (this.eventHandler !== undefined) for (const name of capabilitiesOf(EVENT_METHOD)) names.add(name);
    return [...names].sort();
  }

  private wantSync(): void {
    this.syncWanted = true;
    this.scheduleSync(REGISTER_COALESCE_MS);
  }

  /** A running PUT or a pending timer already picks up the latest state, so neither is doubled. */
  private scheduleSync(delayMs: number): void {
    if (this.opts.readOnly || this.peer.current === undefined || this.syncRunning || this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.syncOnce();
    }, delayMs);
  }

  private clearSyncTimer(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
  }

  private async syncOnce(): Promise<void> {
    const conn = this.peer.current;
    if (conn === undefined || this.syncRunning || !this.syncWanted) return;
    this.syncRunning = true;
    this.syncWanted = false;
    const names = this.desiredCapabilities();
    const key = names.join('\n');
    let retryInMs: number | undefined;
    try {
      if (key !== this.registeredKey) {
        await this.opts.register(names.map((name) => ({ name, version: this.version })));
        this.registeredNames = Object.freeze(names);
        if (this.peer.current === conn) {
          this.registeredKey = key;
          this.registerBackoff.reset();
        }
        this.log('info', `registered ${names.length} capabilities with Dojo: ${names.join(', ') || '(none)'}`);
      }
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (isPosError(err) && err.code === 'unauthorized') {
        // Every retry would be refused too; the user has to fix the key.
        this.syncWanted = false;
        this.socket.halt('unauthorized', `Dojo refused the capability registration: ${message}`);
        return;
      }
      this.syncWanted = true;
      if (this.peer.current === conn) {
        retryInMs = this.registerBackoff.next();
        this.log('warn', `capability registration failed: ${message}; retry in ${retryInMs} ms`);
      }
    } finally {
      this.syncRunning = false;
    }
    if (this.syncWanted) this.scheduleSync(retryInMs ?? REGISTER_COALESCE_MS);
  }

  private log(level: keyof Logger, text: string): void {
    try {
      this.logger[level](`Dojo EPOS: ${this.redact(text)}`);
    } catch {
      // A broken logger must not break serving.
    }
  }
}

/**
 * The result as the JSON text the peer sends (see CachedAnswer); one JSON.stringify, as the peer
 * would. A result JSON cannot carry is left as it is, for the peer to answer it as before.
 */
function asJson(result: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch {
    return result;
  }
  if (json === undefined) return result;
  // JSON.stringify returns its text as a tree of pieces; reading a character joins them into one
  // string in place (about 40 % less to keep, one object where there were five).
  json.charCodeAt(0);
  return new RawJson(json);
}

/** What the peer sends: the result, or (as a rejection) the EPOSError. */
function unwrap(answer: Promise<Answer>): Promise<unknown> {
  return answer.then((a) => {
    if ('error' in a) throw new EposRpcError(a.error);
    return a.result;
  });
}
