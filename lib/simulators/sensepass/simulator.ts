// The SensePass simulator: one loopback HTTP server that is the REST API under /api and a
// Socket.IO v4 server on the default path, with allowEIO3 so that v2 clients connect too.
// A device connects with ?id=id_<deviceId> and joins its own room; every status change of its
// transactions is sent there as a `message`. Ledger, REST call log, fault switches and a way
// to push arbitrary messages are there for tests, examples and the bench.

import { createServer, type Server as HttpServer } from 'node:http';
import { Server as IoServer, type Socket } from 'socket.io';
import { closeHttpServer, listenOn, urlHost } from '../socket-util';
import { TransactionBook, type SensePassFault } from './book';
import { maskDevice, type LedgerEntry } from './entity';
import { handleRest, type RestCall } from './routes';

export const SIMULATOR_DEVICE_ID = 'sp_sim_device_1';

export interface SensePassSimulatorOptions {
  port?: number;
  host?: string;
  /** Default [SIMULATOR_DEVICE_ID]. */
  deviceIds?: string[];
  /** Between two statuses of a payment. Default 500. */
  stepDelayMs?: number;
  /** How long a payment waits for a tap (status 10). Default stepDelayMs. */
  tapDelayMs?: number;
  /** How long a …52 payment waits before it times out (status 8). Default 25 steps. */
  timeoutAfterMs?: number;
  /** paymentCommit.secondsToCommit. Default 60. */
  secondsToCommit?: number;
  /** After approval, when the settlement message (settlement status 2) is sent. Default 5000. */
  settleAfterMs?: number;
  logger?: (line: string) => void;
}

const FAULTS: readonly SensePassFault[] = ['dropMidPayment', 'malformedFrames', 'approvedNameOnZero', 'failPayments', 'refuseDevice', 'foreignEvents', 'declineRefunds'];
const MAX_REST_CALLS = 500;
/** How long a mid-payment drop waits for the server to see the device gone. */
const DROP_WAIT_MS = 1000;

export class SensePassSimulator {
  readonly restCalls: RestCall[] = [];
  stepDelayMs: number;
  tapDelayMs: number | undefined;
  timeoutAfterMs: number | undefined;
  secondsToCommit: number;
  settleAfterMs: number;
  private readonly faults: Record<SensePassFault, boolean>;
  private readonly devices: Set<string>;
  private readonly book: TransactionBook;
  private readonly host: string;
  private readonly port: number;
  private readonly log: (line: string) => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private connections = 0;
  private http?: HttpServer;
  private io?: IoServer;
  private base = '';
  private started?: Promise<{ url: string }>;
  private stopping?: Promise<void>;
  private closed = false;

  constructor(opts: SensePassSimulatorOptions = {}) {
    const ids = opts.deviceIds ?? [SIMULATOR_DEVICE_ID];
    if (ids.length === 0 || ids.some((d) => typeof d !== 'string' || d === '')) throw new Error('SensePassSimulator: deviceIds must be non-empty strings');
    this.devices = new Set(ids);
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.stepDelayMs = nonNegative(opts.stepDelayMs, 500, 'stepDelayMs');
    this.tapDelayMs = opts.tapDelayMs === undefined ? undefined : nonNegative(opts.tapDelayMs, 0, 'tapDelayMs');
    this.timeoutAfterMs = opts.timeoutAfterMs === undefined ? undefined : nonNegative(opts.timeoutAfterMs, 0, 'timeoutAfterMs');
    this.secondsToCommit = nonNegative(opts.secondsToCommit, 60, 'secondsToCommit');
    this.settleAfterMs = nonNegative(opts.settleAfterMs, 5000, 'settleAfterMs');
    this.faults = Object.fromEntries(FAULTS.map((f) => [f, false])) as Record<SensePassFault, boolean>;
    const logger = opts.logger;
    // Device ids are the only credential: a log line shows their last four characters at most.
    const mask = (line: string) => {
      let out = line;
      for (const id of this.devices) if (id.length >= 4 && out.includes(id)) out = out.split(id).join(maskDevice(id));
      return out;
    };
    this.log = logger ? (line) => logger(mask(`sensepass-simulator: ${line}`)) : () => undefined;
    this.book = new TransactionBook({
      base: () => this.base,
      faults: this.faults,
      timing: () => ({
        stepDelayMs: this.stepDelayMs,
        tapDelayMs: this.tapDelayMs ?? this.stepDelayMs,
        timeoutAfterMs: this.timeoutAfterMs ?? Math.max(200, this.stepDelayMs * 25),
        secondsToCommit: this.secondsToCommit,
        settleAfterMs: this.settleAfterMs,
      }),
      push: (deviceId, payload) => this.sendToDevice(deviceId, payload),
      drop: (deviceId) => this.drop(deviceId),
      later: (ms, fn) => this.later(ms, fn),
      log: this.log,
    });
  }

  /** One entry per transaction created, updated as it moves. */
  get ledger(): LedgerEntry[] {
    return this.book.ledger;
  }

  /** Socket.IO connections seen so far (refused ones included). */
  get socketConnections(): number {
    return this.connections;
  }

  get connectedSockets(): number {
    return this.io?.of('/').sockets.size ?? 0;
  }

  get url(): string {
    return this.base;
  }

  setFault(name: SensePassFault, on: boolean): void {
    if (!FAULTS.includes(name)) throw new Error(`SensePassSimulator: unknown fault ${String(name)}`);
    this.faults[name] = on;
  }

  /** Pushes a raw `message` to a device's room. */
  sendToDevice(deviceId: string, payload: unknown): void {
    this.io?.to(room(deviceId)).emit('message', payload);
  }

  /**
   * Sends a `message` whose payload is this JSON text as it is, unparsed and unchecked (a frame
   * JSON.stringify could not make, such as deep nesting or broken JSON), to a device's sockets.
   */
  sendRawToDevice(deviceId: string, json: string): number {
    const sockets = this.io ? [...this.io.of('/').sockets.values()].filter((s) => s.rooms.has(room(deviceId))) : [];
    // A Socket.IO EVENT packet on the main namespace is "2" and the JSON array of name and args.
    for (const s of sockets) s.conn.write(`2["message",${json}]`);
    return sockets.length;
  }

  start(): Promise<{ url: string }> {
    this.started ??= this.listen();
    return this.started;
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async listen(): Promise<{ url: string }> {
    const http = createServer((req, res) => {
      handleRest(req, res, {
        book: this.book,
        deviceAllowed: (id) => !this.faults.refuseDevice && this.devices.has(id),
        pairedDevice: () => [...this.devices][0] as string,
        record: (call) => {
          this.restCalls.push(call);
          if (this.restCalls.length > MAX_REST_CALLS) this.restCalls.splice(0, this.restCalls.length - MAX_REST_CALLS);
        },
        log: this.log,
      }).catch((err: Error) => {
        this.log(`REST ${req.method} failed: ${err.message}`);
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ status: 500, status_message: 'the simulator failed on this request' }));
        }
      });
    });
    this.http = http;
    const io = new IoServer(http, { allowEIO3: true, serveClient: false });
    this.io = io;
    io.on('connection', (socket) => this.onConnection(socket));
    const port = await listenOn(http, this.port, this.host);
    this.base = `http://${urlHost(this.host)}:${port}`;
    this.log(`listening on ${this.base} (REST under /api, Socket.IO on /socket.io/)`);
    return { url: this.base };
  }

  private onConnection(socket: Socket): void {
    this.connections += 1;
    const id = socket.handshake.query.id;
    if (typeof id !== 'string' || !id.startsWith('id_')) {
      this.log('socket refused: the id query parameter must be id_<deviceId>');
      socket.disconnect(true);
      return;
    }
    const deviceId = id.slice(3);
    // How SensePass treats an unknown device on the socket is not documented; the simulator hangs up [inferred].
    if (this.faults.refuseDevice || !this.devices.has(deviceId)) {
      this.log(`socket refused: device ${maskDevice(deviceId)} is not known`);
      socket.disconnect(true);
      return;
    }
    void socket.join(room(deviceId));
    this.log(`device ${maskDevice(deviceId)} connected (Engine.IO ${socket.conn.protocol})`);
  }

  /** Closes the device's transports (not a Socket.IO disconnect), so its client reconnects by itself. */
  private async drop(deviceId: string): Promise<void> {
    const io = this.io;
    if (!io) return;
    const sockets = [...io.of('/').sockets.values()].filter((s) => s.rooms.has(room(deviceId)));
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, DROP_WAIT_MS);
      s.once('disconnect', () => {
        clearTimeout(timer);
        resolve();
      });
      s.conn.close();
    })));
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        fn();
      } catch (err) {
        this.log(`a scheduled step failed: ${(err as Error).message}`);
      }
    }, ms);
    this.timers.add(timer);
  }

  private async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const io = this.io;
    const http = this.http;
    this.io = undefined;
    this.http = undefined;
    if (io) {
      io.disconnectSockets(true);
      // Closes Engine.IO (its ping timers) and the HTTP server; the wait below bounds it.
      io.close();
    }
    if (http) await closeHttpServer(http);
  }
}

const room = (deviceId: string): string => `device:${deviceId}`;

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`SensePassSimulator: ${name} must be a number >= 0`);
  return v;
}
