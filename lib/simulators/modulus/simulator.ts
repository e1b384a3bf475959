// The public face of the Modulus Labs Terminal Gateway simulator: options, lifecycle, ledger,
// counters and fault switches. The server, the payment engine, the terminals and the HTTP API
// each do one job; this file wires them together and routes the three client actions.

import { handleHttp } from './http-api';
import { PaymentEngine, type LedgerEntry } from './payments';
import { ModulusServer, type Conn } from './server';
import { DEFAULT_TERMINALS, SimTerminals, type PushStatus, type SimTerminalConfig } from './terminals';
import { urlHost } from '../socket-util';

export const SIMULATOR_API_KEY = 'mk_simulator_key';
export const SIMULATOR_API_SECRET = 'mk_simulator_secret';

export type ModulusFault =
  | 'refuseKey' | 'stopPonging' | 'malformedFrames' | 'dropMidPayment' | 'terminalLate' | 'terminalWithinGrace' | 'errorFrameOnPayment';

export type ModulusFaults = Record<ModulusFault, boolean>;

export interface ModulusSimulatorOptions {
  port?: number;
  host?: string;
  /** Default [SIMULATOR_API_KEY]. */
  apiKeys?: string[];
  /** HMAC secret for the HTTP transaction look-up; default 'mk_simulator_secret'. */
  apiSecret?: string;
  /** Default true. False answers the HTTP API without checking signatures. */
  checkSignatures?: boolean;
  /** Default 400. */
  stepDelayMs?: number;
  /** The gateway's grace period for a terminal that drops mid-payment; default 60000 [doc]. */
  graceMs?: number;
  /** How an unknown key is refused; default 'http401' (undocumented). */
  rejectMode?: 'http401' | 'close4001';
  /** forceDisconnect.reason; default 'NEW_CONNECTION' (the docs' values are not confirmed). */
  displaceReason?: string;
  /** Close code for the displaced connection; default 4000. */
  displaceCloseCode?: number;
  /** Results for a key with no connection are delivered on its next connection ("Desktop POS Recovery", mechanics undocumented). Default true. */
  deliverMissedOnReconnect?: boolean;
  /** What the POS receives when the grace period ends without the terminal: 'failed' (default) or nothing. */
  graceExpiry?: 'failed' | 'none';
  terminals?: SimTerminalConfig[];
  logger?: (line: string) => void;
}

const FAULT_NAMES: readonly ModulusFault[] = [
  'refuseKey', 'stopPonging', 'malformedFrames', 'dropMidPayment', 'terminalLate', 'terminalWithinGrace', 'errorFrameOnPayment',
];

export class ModulusSimulator {
  readonly faults: ModulusFaults = {
    refuseKey: false, stopPonging: false, malformedFrames: false, dropMidPayment: false,
    terminalLate: false, terminalWithinGrace: false, errorFrameOnPayment: false,
  };
  /** Every charge attempt the terminals ran, oldest first; the same array for the simulator's lifetime. */
  readonly ledger: LedgerEntry[];
  private readonly server: ModulusServer;
  private readonly engine: PaymentEngine;
  private readonly terminals: SimTerminals;
  private readonly missed = new Map<string, Record<string, unknown>[]>();
  private readonly deliverMissed: boolean;
  private readonly host: string;
  private readonly log: (line: string) => void;
  private started?: Promise<{ url: string; port: number }>;
  private stopped?: Promise<void>;

  constructor(opts: ModulusSimulatorOptions = {}) {
    const logger = opts.logger;
    this.log = logger ? (line: string) => logger(`modulus-simulator: ${line}`) : () => undefined;
    const apiKeys = [...(opts.apiKeys ?? [SIMULATOR_API_KEY])];
    if (apiKeys.length === 0 || apiKeys.some((k) => typeof k !== 'string' || k === '')) throw new Error('ModulusSimulator: apiKeys must be non-empty strings');
    const apiSecret = opts.apiSecret ?? SIMULATOR_API_SECRET;
    this.host = opts.host ?? '127.0.0.1';
    this.deliverMissed = opts.deliverMissedOnReconnect !== false;
    this.terminals = new SimTerminals(opts.terminals ?? DEFAULT_TERMINALS);
    this.engine = new PaymentEngine({
      stepDelayMs: nonNegative(opts.stepDelayMs, 400, 'stepDelayMs'),
      graceMs: nonNegative(opts.graceMs, 60_000, 'graceMs'),
      graceExpiry: opts.graceExpiry ?? 'failed',
      faults: this.faults,
      terminals: this.terminals,
      deliver: (key, frame) => this.deliver(key, frame),
      setTerminalStatus: (t, status) => this.pushStatus(t.deviceId, status),
      dropConnection: (key, why) => {
        const conn = this.server.holder(key);
        if (conn) this.server.drop(conn, why);
      },
      log: this.log,
    });
    this.ledger = this.engine.ledger;
    this.server = new ModulusServer({
      host: this.host,
      port: opts.port ?? 0,
      apiKeys,
      rejectMode: opts.rejectMode ?? 'http401',
      displaceReason: opts.displaceReason ?? 'NEW_CONNECTION',
      displaceCloseCode: opts.displaceCloseCode ?? 4000,
      faults: this.faults,
      onConnect: (conn) => this.onConnect(conn),
      onFrame: (conn, frame) => this.onFrame(conn, frame),
      onHttp: (req, res) => handleHttp(req, res, {
        apiKeys, apiSecret, checkSignatures: opts.checkSignatures !== false,
        find: (id) => this.engine.get(id), terminals: this.terminals, log: this.log,
      }),
      log: this.log,
    });
  }

  /** url = 'ws://127.0.0.1:<port>': the adapter appends /v1; the HTTP API is on the same port. */
  start(): Promise<{ url: string; port: number }> {
    if (this.stopped) return Promise.reject(new Error('ModulusSimulator: already stopped'));
    this.started ??= this.server.listen().then((port) => ({ port, url: `ws://${urlHost(this.host)}:${port}` }));
    return this.started;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.engine.stop();
      await this.server.close();
    })();
    return this.stopped;
  }

  setFault(name: ModulusFault, on: boolean): void {
    if (!FAULT_NAMES.includes(name)) throw new Error(`ModulusSimulator: unknown fault ${String(name)}`);
    this.faults[name] = on;
  }

  /** WebSocket upgrades accepted so far (for "no reconnect loop" tests). */
  get connectionsAccepted(): number {
    return this.server.accepted;
  }

  /** Upgrades refused (unknown key, wrong path, refuseKey). */
  get connectionsRefused(): number {
    return this.server.refused;
  }

  /** Connections currently holding a key. */
  get connectionCount(): number {
    return this.server.connections().length;
  }

  /** Every frame received (parsed, or the text when not JSON), oldest first, bounded. */
  get received(): unknown[] {
    return this.server.received;
  }

  /** Every frame sent (objects; malformed ones as text), oldest first, bounded. */
  get sent(): unknown[] {
    return this.server.sent;
  }

  /** Changes a terminal's status and pushes terminalStatusUpdate to every active client. */
  setTerminalStatus(terminalId: string, status: PushStatus): void {
    if (!this.terminals.find(terminalId)) throw new Error(`ModulusSimulator: no terminal ${terminalId}`);
    this.pushStatus(terminalId, status);
  }

  /** Sends a frame (an object, or text as it is) to every active client: for undocumented shapes in tests. */
  pushRaw(frame: unknown): void {
    for (const conn of this.server.connections()) {
      if (typeof frame === 'string') this.server.sendText(conn, frame);
      else this.server.sendText(conn, JSON.stringify(frame), frame);
    }
  }

  private pushStatus(terminalId: string, status: PushStatus): void {
    const t = this.terminals.find(terminalId);
    if (!t) return;
    this.terminals.setStatus(t, status);
    this.log(`terminal ${t.deviceId}: ${status}`);
    const frame = this.terminals.statusFrame(t, status);
    for (const conn of this.server.connections()) this.server.send(conn, frame);
  }

  private deliver(key: string, frame: Record<string, unknown>): void {
    const conn = this.server.holder(key);
    if (conn && this.server.send(conn, frame)) return;
    if (!this.deliverMissed) {
      this.log(`${String(frame.action)} lost: no connection holds the key`);
      return;
    }
    const queue = this.missed.get(key) ?? [];
    queue.push(frame);
    this.missed.set(key, queue);
    this.log(`${String(frame.action)} held for the key's next connection`);
  }

  private onConnect(conn: Conn): void {
    const queue = this.missed.get(conn.key);
    if (!queue) return;
    this.missed.delete(conn.key);
    this.log(`connection ${conn.id}: delivering ${queue.length} result(s) missed while disconnected`);
    for (const frame of queue) this.server.send(conn, frame);
  }

  private onFrame(conn: Conn, frame: Record<string, unknown>): void {
    switch (frame.action) {
      case 'ping':
        if (!this.faults.stopPonging) this.server.send(conn, { action: 'pong', timestamp: new Date().toISOString() });
        return;
      case 'getTerminals':
        this.server.send(conn, {
          action: 'terminalsResponse', terminals: this.terminals.all().map((t) => this.terminals.entry(t)), timestamp: new Date().toISOString(),
        });
        return;
      case 'payment': {
        const error = this.engine.handle(conn, frame);
        if (error) {
          this.log(`connection ${conn.id}: payment refused: ${String(error.error)}: ${String(error.message)}`);
          this.server.send(conn, error);
        }
        return;
      }
      default:
        // What the gateway does with an unknown action is not documented; it is ignored here.
        this.log(`connection ${conn.id}: unknown action ${String(frame.action).slice(0, 40)} ignored`);
    }
  }
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`ModulusSimulator: ${name} must be a number >= 0`);
  return v;
}
