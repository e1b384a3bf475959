// The public face of the Dojo simulator: one loopback HTTP server that is both the Dojo REST
// API (registration, POS events, pay at counter) and the EPOS Data WebSocket gateway, where
// the simulator plays Dojo and the EPOS under test answers. Options, lifecycle, ledger, fault
// switches and a control API for tests, examples and the bench.

import { randomUUID } from 'node:crypto';
import { makeRedactor } from '../../core/redact';
import { CounterSim, type CounterEvent, type CounterLedgerEntry } from './counter';
import { EposHub, type CallOptions, type CallResult, type EposFaults, type ReplyFrame } from './epos-client';
import { playPayAtTable, type PayAtTableOptions, type PayAtTableReport, type TableLedgerEntry } from './pay-at-table';
import { RegistrationStore, type Registration } from './registrations';
import { DojoServer, type PosEvent } from './server';
import { urlHost } from '../socket-util';

export interface DojoSimulatorOptions {
  host?: string;
  /** 0 = a free port. */
  port?: number;
  apiKeys?: string[];
  /** When set, must match; otherwise any non-empty value is accepted. */
  softwareHouseId?: string;
  /** Pay-at-counter step time; 0 = instant (benchmarks). */
  stepDelayMs?: number;
  signatureTimeoutMs?: number;
  sessionExpiryMs?: number;
  /** How long Dojo waits for an EPOS answer. */
  requestTimeoutMs?: number;
  pingIntervalMs?: number;
  /** > 0 plays the pay-at-table walk on its own at this interval; 0 = only on demand. */
  payAtTableIntervalMs?: number;
  /** Passed to the counter: the terminals of the simulated account. */
  terminals?: ConstructorParameters<typeof CounterSim>[0]['terminals'];
  logger?: (line: string) => void;
}

export interface DojoSimFaults extends EposFaults {
  /** Refuse every API key, on the upgrade and on REST. */
  refuseKey: boolean;
}

export type DojoSimFaultName = keyof DojoSimFaults;

export interface EventPartial {
  id?: string;
  accountId?: string;
  event?: CounterEvent['event'];
  data?: Partial<Pick<CounterEvent, 'paymentIntentId' | 'paymentStatus' | 'captureMode'>>;
  createdAt?: string;
}

export interface SentEvent {
  /** The event id, the same in every delivery. */
  id: string;
  deliveries: CallResult[];
}

/** Not a secret: a sandbox-shaped key that only guards the loopback simulator against strays. */
export const SIMULATOR_API_KEY = 'sk_sandbox_simulator';
export const SIMULATOR_ACCOUNT_ID = 'acc_sim_1';

const FAULT_NAMES: readonly DojoSimFaultName[] = [
  'refuseKey', 'stopPinging', 'ignorePings', 'malformedFrames', 'dropMidRequest', 'duplicateEvents',
];

export class DojoSimulator {
  readonly faults: DojoSimFaults = {
    refuseKey: false, stopPinging: false, ignorePings: false, malformedFrames: false, dropMidRequest: false, duplicateEvents: false,
  };
  /** Pay-at-table payments and reversals, in order; the counter keeps its own (see `ledger`). */
  readonly tableLedger: TableLedgerEntry[] = [];
  /** POS events the EPOS posted to /epos/events, in order. */
  readonly posEvents: PosEvent[] = [];
  readonly counter: CounterSim;

  private readonly hub: EposHub;
  private readonly store = new RegistrationStore();
  private readonly server: DojoServer;
  private readonly host: string;
  private readonly payAtTableIntervalMs: number;
  /** An EPOS served the walk at the last check; the first walk after that waits a little. */
  private ready = false;
  private readonly log: (line: string) => void;
  private started?: Promise<{ port: number; url: string }>;
  private stopped?: Promise<void>;
  private walkTimer?: NodeJS.Timeout;
  private walking?: Promise<unknown>;

  constructor(opts: DojoSimulatorOptions = {}) {
    const apiKeys = opts.apiKeys ?? [SIMULATOR_API_KEY];
    if (apiKeys.length === 0 || apiKeys.some((k) => typeof k !== 'string' || k === '')) {
      throw new Error('DojoSimulator: apiKeys must be non-empty strings');
    }
    const redact = makeRedactor(apiKeys);
    const logger = opts.logger;
    this.log = logger ? (line: string) => logger(redact(`dojo-simulator: ${line}`)) : () => undefined;
    this.host = opts.host ?? '127.0.0.1';
    const requestTimeoutMs = positive(opts.requestTimeoutMs, 10_000, 'requestTimeoutMs');
    this.payAtTableIntervalMs = nonNegative(opts.payAtTableIntervalMs, 0, 'payAtTableIntervalMs');
    this.hub = new EposHub({
      requestTimeoutMs,
      pingIntervalMs: positive(opts.pingIntervalMs, 30_000, 'pingIntervalMs'),
      // The EPOS reconnects with backoff capped near 30 s (notes 1.1).
      reconnectTimeoutMs: Math.max(requestTimeoutMs, 35_000),
      faults: this.faults,
      isRegistered: (c) => this.store.has(c),
      log: this.log,
      redact,
    });
    this.counter = new CounterSim({
      stepDelayMs: nonNegative(opts.stepDelayMs, 700, 'stepDelayMs'),
      signatureTimeoutMs: nonNegative(opts.signatureTimeoutMs, 60_000, 'signatureTimeoutMs'),
      sessionExpiryMs: positive(opts.sessionExpiryMs, 120_000, 'sessionExpiryMs'),
      ...(opts.terminals ? { terminals: opts.terminals } : {}),
      onIntentEvent: (e) => this.forwardIntentEvent(e),
      dropConnection: () => this.hub.terminateAll('payment dropped mid-way (amount ending 55)'),
      log: this.log,
    });
    this.server = new DojoServer({
      host: this.host,
      port: opts.port ?? 0,
      auth: () => ({
        apiKeys,
        refuseAll: this.faults.refuseKey,
        ...(opts.softwareHouseId !== undefined ? { softwareHouseId: opts.softwareHouseId } : {}),
      }),
      hub: this.hub,
      registrations: this.store,
      posEvents: this.posEvents,
      counter: this.counter,
      log: this.log,
    });
  }

  /** Resolves with the REST base URL; the EPOS WebSocket is at ws://<same host:port>/epos. */
  start(): Promise<{ port: number; url: string }> {
    if (this.stopped) return Promise.reject(new Error('DojoSimulator: already stopped'));
    this.started ??= this.server.listen().then((port) => {
      this.hub.start();
      if (this.payAtTableIntervalMs > 0) this.scheduleWalk();
      return { port, url: `http://${urlHost(this.host)}:${port}` };
    });
    return this.started;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.walkTimer) clearTimeout(this.walkTimer);
      this.walkTimer = undefined;
      this.counter.stop();
      this.store.dispose();
      await this.hub.close();
      await this.server.close();
      // A walk in progress has had its requests settled by hub.close(); let it finish its report.
      await this.walking;
    })();
    return this.stopped;
  }

  setFault(name: DojoSimFaultName, on: boolean): void {
    if (!FAULT_NAMES.includes(name)) throw new Error(`DojoSimulator: unknown fault ${String(name)}`);
    this.faults[name] = on;
  }

  /** True while at least one EPOS connection is open. */
  get connected(): boolean {
    return this.hub.connected;
  }

  /** Upgrades accepted over the simulator's lifetime. */
  get connectionCount(): number {
    return this.hub.accepted;
  }

  /** EPOS connections open right now. */
  get openConnections(): number {
    return this.hub.openCount;
  }

  /** Upgrade requests received, refused ones included (spots a reconnect storm). */
  get upgradeAttempts(): number {
    return this.server.upgradeAttempts;
  }

  async waitForConnection(timeoutMs: number): Promise<void> {
    await this.hub.waitForConnection(timeoutMs);
  }

  registeredCapabilities(): string[] {
    return this.store.names();
  }

  waitForCapabilities(names: string[], timeoutMs: number): Promise<void> {
    return this.store.waitFor(names, timeoutMs);
  }

  /** Every accepted PUT /epos/integrations/ws, oldest first. */
  get registrations(): Registration[] {
    return this.store.history;
  }

  /** Every real request frame sent to the EPOS, re-sends and duplicate events included. */
  get sent(): Array<Record<string, unknown>> {
    return this.hub.sent;
  }

  /** Frames the malformedFrames fault sent, and the EPOS's answers to those that had an id. */
  get malformedSent(): string[] {
    return this.hub.malformedSent;
  }

  get malformedReplies(): ReplyFrame[] {
    return this.hub.malformedReplies;
  }

  /** Every JSON object frame the EPOS sent, replies to unknown ids included, oldest first. */
  get received(): ReplyFrame[] {
    return this.hub.received;
  }

  /** Table payments/reversals and the counter's entries, merged by time (`at`). */
  get ledger(): Array<TableLedgerEntry | CounterLedgerEntry> {
    const all: Array<TableLedgerEntry | CounterLedgerEntry> = [...this.tableLedger, ...this.counter.ledger];
    return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /**
   * Sends one request as Dojo would (params.headers added when missing). Rejects when Dojo
   * would not route it: capability not registered, no EPOS connected.
   */
  call(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<CallResult> {
    return this.hub.call(method, params, opts);
  }

  /** Sends, drops the socket right after, waits for the EPOS to reconnect, re-sends the same id. */
  replayAfterReconnect(method: string, params: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<{ id: string; first?: ReplyFrame; second: ReplyFrame }> {
    return this.hub.replayAfterReconnect(method, params, opts);
  }

  /** A HandleEventV1 payment_intent event; delivered twice when duplicateEvents is on. */
  async sendEvent(partial: EventPartial = {}): Promise<SentEvent> {
    const event = partial.event ?? 'payment_intent.status_updated';
    const id = partial.id ?? `evt_sim_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const params: Record<string, unknown> = {
      id,
      accountId: partial.accountId ?? SIMULATOR_ACCOUNT_ID,
      event,
      data: {
        paymentIntentId: partial.data?.paymentIntentId ?? `pi_sim_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        paymentStatus: partial.data?.paymentStatus ?? (event === 'payment_intent.created' ? 'Created' : 'Captured'),
        captureMode: partial.data?.captureMode ?? 'Auto',
      },
      createdAt: partial.createdAt ?? new Date().toISOString(),
      // Events come from Dojo's platform, not a device: no device headers to give.
      headers: {},
    };
    const times = this.faults.duplicateEvents ? 2 : 1;
    const deliveries: CallResult[] = [];
    for (let i = 0; i < times; i += 1) deliveries.push(await this.hub.call('HandleEventV1', params));
    return { id, deliveries };
  }

  /** The documented pay-at-table walk (notes 6) as a card machine plays it. */
  playPayAtTable(opts: PayAtTableOptions = {}): Promise<PayAtTableReport> {
    return playPayAtTable({ call: (m, p) => this.hub.call(m, p), has: (c) => this.store.has(c), ledger: this.tableLedger }, opts);
  }

  /** Dojo posts the counter's intent events to the EPOS when it registered for them. */
  private forwardIntentEvent(e: CounterEvent): void {
    if (!this.store.has(`HandleEvent:${e.event}`) || !this.hub.connected) return;
    this.sendEvent({ event: e.event, data: { paymentIntentId: e.paymentIntentId, paymentStatus: e.paymentStatus, captureMode: e.captureMode } })
      .then((sent) => {
        const last = sent.deliveries[sent.deliveries.length - 1];
        if (last?.error || !last?.response) this.log(`HandleEventV1 ${e.event} ${e.paymentIntentId}: ${last?.error?.errorType ?? 'no answer'}`);
      }, (err: Error) => this.log(`HandleEventV1 ${e.event} not delivered: ${err.message}`));
  }

  /**
   * One walk at a time, the next one scheduled only after the last ended. Until an EPOS serves
   * the walk, readiness is checked every second, and the first walk comes shortly after it is
   * ready (so a new user sees a payment within seconds, after the flow's start-up injects ran).
   */
  private scheduleWalk(delayMs = Math.min(this.payAtTableIntervalMs, READY_CHECK_MS)): void {
    if (this.stopped) return;
    this.walkTimer = setTimeout(() => {
      this.walkTimer = undefined;
      const ready = this.hub.connected && this.store.has('SearchOrders') && this.store.has('RecordOrderPayment');
      if (!ready) {
        this.ready = false;
        return this.scheduleWalk();
      }
      if (!this.ready) {
        this.ready = true;
        return this.scheduleWalk(Math.min(this.payAtTableIntervalMs, FIRST_WALK_DELAY_MS));
      }
      const walk = this.playPayAtTable().then(
        (r) => this.log(`pay at table: ${r.message}`),
        (err: Error) => this.log(`pay at table failed: ${err.message}`),
      );
      this.walking = walk;
      void walk.then(() => {
        this.walking = undefined;
        this.scheduleWalk(this.payAtTableIntervalMs);
      });
    }, delayMs);
    this.walkTimer.unref();
  }
}

/** How often an idle simulator checks whether an EPOS now serves the pay-at-table walk. */
const READY_CHECK_MS = 1000;
/** Pause between an EPOS becoming ready and the first walk. */
const FIRST_WALK_DELAY_MS = 2000;

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`DojoSimulator: ${name} must be a number >= 0`);
  return v;
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`DojoSimulator: ${name} must be a number > 0`);
  return v;
}
