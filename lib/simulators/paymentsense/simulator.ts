// The public face of the Paymentsense Connect simulator (pay at counter, and the pay-at-table
// terminal on /pat): options, lifecycle, ledgers and fault switches. The pieces it wires
// together each do one job (server, methods, engine, terminal).

import { PacMethods } from './methods';
import { ReportEngine, type ReportLedgerEntry } from './reports';
import { PacServer, type SimFaults } from './server';
import { PatTerminal, type PatFaults, type PatWalkReport, type TablePayment } from './pat-terminal';
import { DEFAULT_TERMINALS, TerminalPool, type SimTerminalConfig } from './terminals';
import { TransactionEngine, type LedgerEntry } from './transactions';
import { urlHost } from '../socket-util';

export interface PaymentsenseSimulatorOptions {
  host?: string;
  port?: number;
  token?: string;
  /** When set, must match; when unset any non-empty value is accepted. */
  softwareHouseId?: string;
  installerId?: string;
  /** How a wrong token is refused; Connect's real behaviour is undocumented. */
  authFailure?: 'http-401' | 'close-1008';
  /** Time between progress notifications; 0 = benchmark mode (no notifications, instant result). */
  stepDelayMs?: number;
  signatureTimeoutMs?: number;
  pingIntervalMs?: number;
  terminals?: SimTerminalConfig[];
  logger?: (line: string) => void;
  /**
   * The pay-at-table terminal's own walks: the first `firstMs` after an EPoS connects to /pat
   * (default 10 s; 0 = only when walkTables() is called), then every `everyMs` (default 30 s);
   * each EPoS answer is awaited at most `replyTimeoutMs` (default 8 s: longer than the pack's own
   * 5 s answer limit, so that a slow flow shows the pack's handling rather than the terminal's).
   */
  patWalk?: { firstMs?: number; everyMs?: number; replyTimeoutMs?: number };
}

/** `displacePat` is a one-shot: the /pat client is discontinued as if another EPoS connected. */
export type SimFaultName = keyof SimFaults | keyof PatFaults | 'displacePat';

/** The default token: not a secret, it only guards the loopback simulator against stray clients. */
export const SIMULATOR_TOKEN = 'simulator-token';

const FAULT_NAMES: readonly SimFaultName[] = ['dropMidPayment', 'ignorePings', 'stopPinging', 'malformedFrames', 'refuseToken',
  'eposTooSlow', 'lockRefused', 'errorMessages', 'displacePat', 'noTransactionDetails'];

export class PaymentsenseSimulator {
  readonly faults: SimFaults & PatFaults = {
    dropMidPayment: false, ignorePings: false, stopPinging: false, malformedFrames: false, refuseToken: false, noTransactionDetails: false,
    eposTooSlow: false, lockRefused: false, errorMessages: false,
  };
  /** Every payment the pay-at-table terminal took, in order. */
  readonly tableLedger: TablePayment[];
  /** Every sale/refund frame accepted, in order; the same array for the simulator's lifetime. */
  readonly ledger: LedgerEntry[];
  /** Every report request accepted, in order. */
  readonly reports: ReportLedgerEntry[];

  private readonly engine: TransactionEngine;
  private readonly reportEngine: ReportEngine;
  private readonly server: PacServer;
  private readonly pat: PatTerminal;
  private readonly host: string;
  private started?: Promise<{ port: number; url: string }>;
  private stopped?: Promise<void>;

  constructor(opts: PaymentsenseSimulatorOptions = {}) {
    const logger = opts.logger;
    const log = logger ? (line: string) => logger(`paymentsense-simulator: ${line}`) : () => undefined;
    const token = opts.token ?? SIMULATOR_TOKEN;
    if (token === '') throw new Error('PaymentsenseSimulator: token must not be empty');
    this.host = opts.host ?? '127.0.0.1';
    const pool = new TerminalPool(opts.terminals ?? DEFAULT_TERMINALS);
    this.engine = new TransactionEngine(pool, {
      stepDelayMs: nonNegative(opts.stepDelayMs, 250, 'stepDelayMs'),
      signatureTimeoutMs: nonNegative(opts.signatureTimeoutMs, 80_000, 'signatureTimeoutMs'),
      dropMidPayment: () => this.faults.dropMidPayment,
      log,
    });
    this.ledger = this.engine.ledger;
    const walk = opts.patWalk ?? {};
    this.pat = new PatTerminal({
      firstWalkMs: nonNegative(walk.firstMs, 10_000, 'patWalk.firstMs'),
      walkEveryMs: nonNegative(walk.everyMs, 30_000, 'patWalk.everyMs'),
      replyTimeoutMs: Math.max(1, nonNegative(walk.replyTimeoutMs, 8_000, 'patWalk.replyTimeoutMs')),
      faults: this.faults,
      log,
    });
    this.tableLedger = this.pat.ledger;
    const methods = new PacMethods(pool, this.engine, () => this.faults.noTransactionDetails);
    this.reportEngine = new ReportEngine(pool, this.engine.ledger, { stepDelayMs: nonNegative(opts.stepDelayMs, 250, 'stepDelayMs'), log });
    this.reports = this.reportEngine.ledger;
    const reports = this.reportEngine;
    this.server = new PacServer({
      host: this.host,
      onPatClient: (client) => this.pat.attach(client),
      onPatClose: (peer) => this.pat.detach(peer),
      port: opts.port ?? 0,
      token,
      ...(opts.softwareHouseId !== undefined ? { softwareHouseId: opts.softwareHouseId } : {}),
      ...(opts.installerId !== undefined ? { installerId: opts.installerId } : {}),
      authFailure: opts.authFailure ?? 'http-401',
      pingIntervalMs: Math.max(1, nonNegative(opts.pingIntervalMs, 20_000, 'pingIntervalMs')),
      faults: this.faults,
      onRequest: (peer, req) => (reports.handles(req.method) ? reports.handle(peer, req) : methods.handle(peer, req)),
      log,
    });
  }

  /** Resolves with the base URL a `custom` config node takes (the client adds /pac and the query). */
  start(): Promise<{ port: number; url: string }> {
    if (this.stopped) return Promise.reject(new Error('PaymentsenseSimulator: already stopped'));
    this.started ??= this.server.listen().then((port) => ({ port, url: `ws://${urlHost(this.host)}:${port}` }));
    return this.started;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.pat.stop();
      this.engine.stop();
      this.reportEngine.stop();
      await this.server.close();
    })();
    return this.stopped;
  }

  setFault(name: SimFaultName, on: boolean): void {
    if (!FAULT_NAMES.includes(name)) throw new Error(`PaymentsenseSimulator: unknown fault ${String(name)}`);
    if (name === 'displacePat') {
      if (on) this.pat.displace();
      return;
    }
    this.faults[name] = on;
  }

  /** One pay-at-table walk now, with the /pat client connected (a walk already running is joined). */
  walkTables(opts: { payments?: number } = {}): Promise<PatWalkReport> {
    return this.pat.walk(opts);
  }

  /** The latest pay-at-table walks, newest last. */
  get tableWalks(): readonly PatWalkReport[] {
    return this.pat.walks;
  }

  /** Open /pat connections. */
  get patConnectionCount(): number {
    return this.server.patConnectionCount;
  }

  get connectionCount(): number {
    return this.server.connectionCount;
  }

  /** Upgrade requests received, refused ones included, so tests can spot a reconnect storm. */
  get connectionAttempts(): number {
    return this.server.connectionAttempts;
  }

  resetLedger(): void {
    this.engine.resetLedger();
  }
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`PaymentsenseSimulator: ${name} must be a number >= 0`);
  return v;
}
