// Measurement 2: payments through `pos-pay` against a plain `function` node, in one embedded
// Node-RED runtime, against one PaymentsenseSimulator in instant mode (stepDelayMs 0: no
// progress notifications, the result is answered at once) running in a child process.
//
//   pos-pay   the real pos-paymentsense config node (environment custom, url = simulator,
//             token in credentials) + pos-pay: parsing and money checks, the journal in
//             context, the JSON-RPC peer, ajv validation of the result, mapping, status.
//   function  the core function node. Its code takes a small raw client from global context
//             (functionGlobalContext; one plain `ws` connection to the same simulator, set up
//             by the bench), sends the same `sale` JSON-RPC frame and emits the parsed
//             result. No journal, no validation, no mapping.
//
// Each payment has a unique reference and an approving amount; up to `inflight` are
// outstanding per contender. In instant mode the simulator occupies and frees the terminal
// inside one request (transactions.ts: runInstant), so a terminal is never seen busy; the
// payments go round 64 approving GBP terminals (…SIP0, …SCD0 alternating), one per payment in
// flight, since pos-pay itself queues a second payment for a terminal that is still busy.
// Rate = payments / (last result - first send), summed over interleaved slices (A B B A).

import WebSocket from 'ws';
import { loadConfig } from './config';
import { drive } from './jsonrpc';
import { pacUrl, startRuntime, type EmbeddedRed } from './nodered';
import { childMain, log, startServer, waitFor } from './proc';
import { BENCH_TOKEN } from './servers';
import { LatencyRecorder, max, median, min, perSecond, round, spread, type Latency } from './stats';

export interface PayRound {
  posPay: number;
  functionNode: number;
  ratio: number;
  first: 'posPay' | 'functionNode';
}

export interface PayResult {
  server: string;
  paymentsPerRound: number;
  slicesPerRound: number;
  inflight: number;
  terminals: string[];
  rounds: PayRound[];
  posPay: { median: number; min: number; max: number };
  functionNode: { median: number; min: number; max: number };
  /** median(pos-pay) / median(function). */
  ratio: number;
  /** Median of the per-round ratios. */
  pairedRatio: number;
  /** min / median / max of the per-round ratios. */
  ratios: { median: number; min: number; max: number };
  /** Each payment from receive() to its msg at the sink, timed slices only. */
  latencyMs: Record<Contender, Latency>;
  /**
   * Where a payment's time goes, timed slices only, in microseconds per payment: the event
   * loop busy and idle (performance.eventLoopUtilization) and the CPU of the whole process
   * (process.cpuUsage: every thread, so GC helpers and the file system's thread pool too; the
   * simulator is a process of its own and not counted).
   */
  cpuUs: Record<Contender, { loopBusy: number; loopIdle: number; processCpu: number }>;
  checks: {
    posPayApproved: number;
    functionApproved: number;
    errors: number;
    notApproved: number;
    cutSlices: number;
    /** Sale frames the simulator recorded vs payments the bench sent: equal when nothing was sent twice. */
    simulatorLedger: number;
    sent: number;
  };
  /**
   * Heap still in use after a full GC, after the timed rounds minus before them, per pos-pay
   * payment in those rounds (the function path keeps nothing), and the entries the account's
   * file journal then indexes.
   */
  retained: { heapBytesPerPosPayPayment: number; journalEntries: number };
}

type Contender = 'posPay' | 'functionNode';

/**
 * One terminal per payment in flight (chip & PIN and contactless alternating, as the sandbox's
 * approving terminals): pos-pay queues a second payment for a terminal that is busy, as a real
 * terminal takes one at a time, so two terminals would measure that queue, not the pack.
 */
const TERMINALS = Array.from({ length: 64 }, (_, i) => `VCM${String(10001 + i).slice(1)}${i % 2 ? 'SCD0' : 'SIP0'}`);

/** The raw client the function node uses: one socket, a Map of pending ids, no validation. */
class RawSaleClient {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private counter = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static connect(url: string): Promise<RawSaleClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RawSaleClient(ws)));
      ws.once('error', reject);
    });
  }

  sale(params: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = ++this.counter;
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'sale', params }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

// node.send(msg, false): the msg is the function's own, so it is sent as it is, as pos-pay sends
// its own; plain node.send(msg) would deep-copy it and the parsed result first (about a quarter of
// this contender's CPU), a cost a careful integrator does not pay.
const FUNCTION_CODE = `
const p = msg.payload;
global.get('benchRaw').sale({ tid: p.terminalId, requestId: p.reference, amount: p.amount, currency: p.currency })
  .then(function (result) { msg.payload = result; node.send(msg, false); node.done(); },
        function (err) { node.error(err, msg); });
return null;
`;

function flows(simUrl: string): object[] {
  // Flow nodes need x/y: without them Node-RED treats a node on a tab as a config node.
  const at = (x: number, y: number) => ({ z: 'bench-tab', x, y });
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'cfg', type: 'pos-paymentsense', name: 'bench simulator', environment: 'custom', url: simUrl, softwareHouseId: 'BENCH', installerId: 'BENCH', verifyTls: true },
    { id: 'pay', type: 'pos-pay', ...at(200, 100), name: '', provider: 'paymentsense', paymentsense: 'cfg', terminalId: '', currency: 'GBP', timeout: 60, wires: [['sink-pay'], []] },
    { id: 'fn', type: 'function', ...at(200, 200), name: 'raw sale', func: FUNCTION_CODE, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['sink-fn']] },
    { id: 'bench-catch', type: 'catch', ...at(200, 300), name: '', scope: null, uncaught: false, wires: [['sink-err']] },
    { id: 'sink-pay', type: 'bench-sink', ...at(400, 100), wires: [] },
    { id: 'sink-fn', type: 'bench-sink', ...at(400, 200), wires: [] },
    { id: 'sink-err', type: 'bench-sink', ...at(400, 300), wires: [] },
  ];
}

/** Milliseconds spent over `done` payments, as microseconds per payment. */
function perPayment(t: { done: number; busy: number; idle: number; cpu: number }): PayResult['cpuUs'][Contender] {
  const us = (ms: number) => round((ms * 1000) / Math.max(1, t.done), 1);
  return { loopBusy: us(t.busy), loopIdle: us(t.idle), processCpu: us(t.cpu) };
}

const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

/** Lets another measurement (journal-pay.ts) look at the runtime around the timed rounds. */
export interface PayHooks {
  /** After the warm-up, just before the timed rounds. */
  beforeTimed?(RED: EmbeddedRed): void | Promise<void>;
  /** After the timed rounds, before the runtime stops. */
  afterTimed?(RED: EmbeddedRed): void | Promise<void>;
}

export function main(): Promise<PayResult> {
  return runPay();
}

export async function runPay(hooks: PayHooks = {}): Promise<PayResult> {
  const cfg = loadConfig().pay;
  const sim = await startServer('simulator', { stepDelayMs: 0, pingIntervalMs: 600_000, terminals: TERMINALS });
  const raw = await RawSaleClient.connect(pacUrl(sim.url, BENCH_TOKEN));

  const waiting = new Map<string, () => void>();
  const tally = { posPayApproved: 0, functionApproved: 0, errors: 0, notApproved: 0 };
  const onSink = (nodeId: string, msg: Record<string, unknown>) => {
    const ref = msg.benchRef as string;
    const resolve = waiting.get(ref);
    if (resolve === undefined) return;
    waiting.delete(ref);
    const payload = msg.payload as Record<string, unknown> | undefined;
    if (nodeId === 'sink-err') tally.errors++;
    else if (nodeId === 'sink-pay' && payload?.approved === true) tally.posPayApproved++;
    else if (nodeId === 'sink-fn' && payload?.transactionResult === 'SUCCESSFUL') tally.functionApproved++;
    else tally.notApproved++;
    resolve();
  };

  const runtime = await startRuntime('pay', {
    flows: flows(sim.url),
    credentials: { cfg: { token: BENCH_TOKEN } },
    functionGlobalContext: { benchRaw: raw },
    onSink,
  });
  let sent = 0;
  try {
    const { RED } = runtime;
    await waitFor(() => RED.nodes.getNode('cfg')?.connection?.provider.state.name === 'connected', 'pos-paymentsense to connect', 15_000);
    const target: Record<Contender, any> = { posPay: RED.nodes.getNode('pay'), functionNode: RED.nodes.getNode('fn') };
    let seq = 0;
    const request = (who: Contender) => (): Promise<unknown> => {
      const n = ++seq;
      sent++;
      const ref = `bench-${who}-${n}`;
      return new Promise<void>((resolve) => {
        waiting.set(ref, resolve);
        target[who].receive({
          benchRef: ref,
          // Last two digits 00..39: always approved under the shared amount rule.
          payload: { amount: 1000 + (n % 40), currency: 'GBP', reference: ref, terminalId: TERMINALS[n % TERMINALS.length] },
        });
      });
    };
    const requests: Record<Contender, () => Promise<unknown>> = { posPay: request('posPay'), functionNode: request('functionNode') };

    for (const who of ['functionNode', 'posPay', 'functionNode', 'posPay'] as const) {
      await drive(requests[who], Math.ceil(cfg.warmupPayments / 2), cfg.inflight, cfg.sliceTimeoutMs);
    }
    if (tally.errors > 0) throw new Error(`${tally.errors} payments failed during warm-up`);

    await hooks.beforeTimed?.(RED);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let posPayTimed = 0;
    const latency: Record<Contender, LatencyRecorder> = { posPay: new LatencyRecorder(), functionNode: new LatencyRecorder() };
    const spent: Record<Contender, { done: number; busy: number; idle: number; cpu: number }> = {
      posPay: { done: 0, busy: 0, idle: 0, cpu: 0 },
      functionNode: { done: 0, busy: 0, idle: 0, cpu: 0 },
    };
    const rounds: PayRound[] = [];
    let cutSlices = 0;
    const perSlice = Math.max(1, Math.ceil(cfg.payments / cfg.slices));
    for (let r = 0; r < cfg.rounds; r++) {
      const first: Contender = r % 2 === 0 ? 'posPay' : 'functionNode';
      const second: Contender = first === 'posPay' ? 'functionNode' : 'posPay';
      const total: Record<Contender, { done: number; ms: number }> = { posPay: { done: 0, ms: 0 }, functionNode: { done: 0, ms: 0 } };
      for (let s = 0; s < cfg.slices; s++) {
        for (const who of s % 2 === 0 ? [first, second] : [second, first]) {
          gc();
          const loop0 = performance.eventLoopUtilization();
          const cpu0 = process.cpuUsage();
          const res = await drive(requests[who], perSlice, cfg.inflight, cfg.sliceTimeoutMs, latency[who]);
          const loop = performance.eventLoopUtilization(loop0);
          const cpu = process.cpuUsage(cpu0);
          spent[who].done += res.done;
          spent[who].busy += loop.active;
          spent[who].idle += loop.idle;
          spent[who].cpu += (cpu.user + cpu.system) / 1000;
          if (res.cut) cutSlices++;
          total[who].done += res.done;
          total[who].ms += res.ms;
        }
      }
      posPayTimed += total.posPay.done;
      const posPay = perSecond(total.posPay.done, total.posPay.ms);
      const fn = perSecond(total.functionNode.done, total.functionNode.ms);
      const row: PayRound = { posPay: round(posPay), functionNode: round(fn), ratio: round(posPay / fn, 4), first };
      rounds.push(row);
      log(`pay round ${r + 1}/${cfg.rounds}: pos-pay ${row.posPay}/s, function ${row.functionNode}/s, ratio ${row.ratio.toFixed(3)}`);
    }
    await hooks.afterTimed?.(RED);
    const stats = await sim.ask<{ ledger: number }>('stats');
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    // The file journal of the config node's account: finished entries it indexes (on disk, a number each in memory).
    const opened = await RED.nodes.getNode('cfg').connection.journal.whenOpen().catch(() => undefined);
    const journalEntries: number = opened?.size ? opened.size.finished + opened.size.pending : -1;
    const p = rounds.map((x) => x.posPay);
    const f = rounds.map((x) => x.functionNode);
    return {
      server: 'PaymentsenseSimulator (stepDelayMs 0) in a child process; Node-RED embedded in this process',
      paymentsPerRound: cfg.payments,
      slicesPerRound: cfg.slices,
      inflight: cfg.inflight,
      terminals: TERMINALS,
      rounds,
      posPay: { median: median(p), min: min(p), max: max(p) },
      functionNode: { median: median(f), min: min(f), max: max(f) },
      ratio: round(median(p) / median(f), 4),
      pairedRatio: round(median(rounds.map((x) => x.ratio)), 4),
      ratios: spread(rounds.map((x) => x.ratio), 4),
      latencyMs: { posPay: latency.posPay.summary(), functionNode: latency.functionNode.summary() },
      cpuUs: { posPay: perPayment(spent.posPay), functionNode: perPayment(spent.functionNode) },
      checks: { ...tally, cutSlices, simulatorLedger: stats.ledger, sent },
      retained: { heapBytesPerPosPayPayment: round((heapAfter - heapBefore) / Math.max(1, posPayTimed)), journalEntries },
    };
  } finally {
    await runtime.stop();
    raw.close();
    await sim.stop();
  }
}

if (require.main === module) childMain(main);
