// Measurement 5: inbound requests. Dojo calls the EPOS, so here the simulator is the client and
// the contenders are servers answering GetOrderByIdV1 over the WebSocket they opened to it:
//
//   ours  an embedded Node-RED (pack linked as a user installs it) with the real pos-dojo
//         config node (environment custom, url = simulator, API key in credentials) and the
//         flow pos-request-in -> function -> pos-response: our EposServer, params and answer
//         checked against Dojo's schema, the answer cache, node status, the function sandbox.
//   bare  a plain `ws` client in this same process, connected to /epos with the same headers
//         and registered for the same capability with the same REST PUT, that parses each
//         frame and sends a fixed Order built the way the function node builds it.
//
// The driver is the simulator's own call() (DojoSimulator in bench/servers.ts, mode dojo), run
// inside the simulator's child process, so the driver's CPU never shares an event loop with
// Node-RED, and it times each request from its send to its answer. A simulator routes every
// request to its newest EPOS connection, so two contenders cannot share one without
// reconnecting between slices (which would put connection set-up and capability re-PUTs inside
// the timed rounds). Instead each contender has its own simulator process, started with the
// same options and running the same code: one idles while the other's slice runs.
//
// After a warm-up of each, every round is cut into slices run in A B B A order (the first
// contender alternates between rounds); a contender's rate in a round is its answered requests
// over its own slice time. global.gc() runs in this process before every slice.

import WebSocket from 'ws';
import { loadConfig } from './config';
import { startRuntime } from './nodered';
import { childMain, log, startServer, waitFor, type ServerChild } from './proc';
import { BENCH_DOJO_KEY, BENCH_DOJO_SOFTWARE_HOUSE, BENCH_TABLE_ID, type DojoDriveResult, type DojoDriverSummary } from './servers';
import { max, median, min, perSecond, round } from './stats';

export interface DojoRound {
  ours: number;
  bare: number;
  ratio: number;
  first: Contender;
}

export type DojoChecks = Omit<DojoDriverSummary, 'latency'>;

export interface DojoResult {
  server: string;
  method: string;
  requestsPerRound: number;
  slicesPerRound: number;
  inflight: number;
  warmupRequests: number;
  rounds: DojoRound[];
  ours: { median: number; min: number; max: number };
  bare: { median: number; min: number; max: number };
  /** median(ours) / median(bare). */
  ratio: number;
  /** Median of the per-round ratios. */
  pairedRatio: number;
  /** From the simulator's send to the answer, timed slices only. */
  latencyMs: Record<Contender, DojoDriverSummary['latency']>;
  /**
   * Share of the timed slices' wall time each process spent on the CPU: the contender's
   * simulator (the driver) and this process (Node-RED, or the bare client). Near 1 means that
   * process was the limit.
   */
  cpuBusy: Record<Contender, { driver: number; epos: number }>;
  checks: {
    ours: DojoChecks;
    bare: DojoChecks;
    /** Errors the flow raised (a Catch node on the tab feeds a sink). */
    flowErrors: number;
    cutSlices: number;
    /** Every request answered once, by its own answer, no errors, nothing dropped. */
    ok: boolean;
  };
}

type Contender = 'ours' | 'bare';

const METHOD = 'GetOrderByIdV1';
const CAPABILITY = 'GetOrderById';
/** What EposServer registers when no version is configured. */
const CAPABILITY_VERSION = 'v1';
const API_VERSION = '2026-02-27';

// The same Order both contenders answer with: the smallest one Dojo's schema accepts.
const FUNCTION_CODE = `
msg.payload = { id: msg.payload.orderId, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: '${BENCH_TABLE_ID}' } } };
return msg;
`;

function flows(simUrl: string): object[] {
  // Flow nodes need x/y: without them Node-RED treats a node on a tab as a config node.
  const at = (x: number, y: number) => ({ z: 'bench-tab', x, y });
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'dojo-cfg', type: 'pos-dojo', name: 'bench Dojo simulator', environment: 'custom', url: simUrl, softwareHouseId: BENCH_DOJO_SOFTWARE_HOUSE, resellerId: '', verifyTls: true, heartbeat: 25 },
    { id: 'req', type: 'pos-request-in', ...at(150, 100), name: '', provider: 'dojo', dojo: 'dojo-cfg', method: METHOD, timeout: 10, wires: [['fn']] },
    { id: 'fn', type: 'function', ...at(350, 100), name: 'get order', func: FUNCTION_CODE, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['resp']] },
    { id: 'resp', type: 'pos-response', ...at(550, 100), name: '', wires: [] },
    { id: 'bench-catch', type: 'catch', ...at(150, 200), name: '', scope: null, uncaught: false, wires: [['sink-err']] },
    { id: 'sink-err', type: 'bench-sink', ...at(350, 200), wires: [] },
  ];
}

/** The bare contender: one `ws` connection, JSON.parse, a fixed answer, JSON.stringify, no checks. */
class BareEpos {
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const req = JSON.parse(data.toString());
      if (req.method !== METHOD) return;
      ws.send(JSON.stringify({
        jsonrpc: '2.0',
        id: req.id,
        result: { id: req.params.orderId, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: BENCH_TABLE_ID } } },
      }));
    });
  }

  /** Registers the capability (REST PUT, as EposServer does), then opens the EPOS socket. */
  static async connect(base: string): Promise<BareEpos> {
    const auth = `Basic ${BENCH_DOJO_KEY}`;
    const res = await fetch(`${base}/epos/integrations/ws`, {
      method: 'PUT',
      headers: { Authorization: auth, version: API_VERSION, 'software-house-id': BENCH_DOJO_SOFTWARE_HOUSE, 'Content-Type': 'application/json' },
      body: JSON.stringify({ capabilities: [{ name: CAPABILITY, version: CAPABILITY_VERSION }] }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`bare: the capability registration was answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/epos`, { headers: { Authorization: auth, 'software-house-id': BENCH_DOJO_SOFTWARE_HOUSE } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bare: the EPOS socket did not open within 10 s')), 10_000);
      ws.once('open', () => { clearTimeout(timer); resolve(); });
      ws.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
    ws.on('error', () => undefined);
    return new BareEpos(ws);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.ws.terminate(); resolve(); }, 1_000);
      this.ws.once('close', () => { clearTimeout(t); resolve(); });
      this.ws.close(1000);
    });
  }
}

const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

async function routable(sim: ServerChild): Promise<boolean> {
  const s = await sim.ask<{ connected: boolean; capabilities: string[] }>('status');
  return s.connected && s.capabilities.includes(CAPABILITY);
}

export async function main(): Promise<DojoResult> {
  const cfg = loadConfig().dojo;
  const simOptions = { pingIntervalMs: 600_000 };
  const sims: Partial<Record<Contender, ServerChild>> = {};
  let bare: BareEpos | undefined;
  let runtime: Awaited<ReturnType<typeof startRuntime>> | undefined;
  let flowErrors = 0;
  try {
    sims.ours = await startServer('dojo', simOptions);
    sims.bare = await startServer('dojo', simOptions);
    const sim = sims as Record<Contender, ServerChild>;
    bare = await BareEpos.connect(sim.bare.url);
    runtime = await startRuntime('dojo', {
      flows: flows(sim.ours.url),
      credentials: { 'dojo-cfg': { apiKey: BENCH_DOJO_KEY } },
      onSink: (nodeId) => { if (nodeId === 'sink-err') flowErrors++; },
    });
    await waitFor(() => routable(sim.ours), `pos-dojo to connect and register ${CAPABILITY}`, 15_000, 50);
    await waitFor(() => routable(sim.bare), `the bare client to connect and register ${CAPABILITY}`, 15_000, 50);

    const slice = async (who: Contender, total: number, timed: boolean): Promise<DojoDriveResult & { eposCpuMs: number }> => {
      const cpu0 = process.cpuUsage();
      const res = await sim[who].ask<DojoDriveResult & { error?: string }>('drive', cfg.sliceTimeoutMs + 10_000, {
        total, inflight: cfg.inflight, limitMs: cfg.sliceTimeoutMs, timed,
      });
      const cpu = process.cpuUsage(cpu0);
      if (res.error) throw new Error(`${who}: the driver failed: ${res.error}`);
      return { ...res, eposCpuMs: (cpu.user + cpu.system) / 1000 };
    };

    for (const who of ['bare', 'ours', 'bare', 'ours'] as const) {
      const w = await slice(who, Math.ceil(cfg.warmupRequests / 2), false);
      if (w.failed > 0) throw new Error(`${who}: ${w.failed} requests failed during warm-up`);
    }

    const rounds: DojoRound[] = [];
    let cutSlices = 0;
    const busy: Record<Contender, { ms: number; driver: number; epos: number }> = { ours: { ms: 0, driver: 0, epos: 0 }, bare: { ms: 0, driver: 0, epos: 0 } };
    const perSlice = Math.max(1, Math.ceil(cfg.requests / cfg.slices));
    for (let r = 0; r < cfg.rounds; r++) {
      const first: Contender = r % 2 === 0 ? 'ours' : 'bare';
      const second: Contender = first === 'ours' ? 'bare' : 'ours';
      const total: Record<Contender, { done: number; ms: number }> = { ours: { done: 0, ms: 0 }, bare: { done: 0, ms: 0 } };
      for (let s = 0; s < cfg.slices; s++) {
        for (const who of s % 2 === 0 ? [first, second] : [second, first]) {
          gc();
          const res = await slice(who, perSlice, true);
          if (res.cut) cutSlices++;
          total[who].done += res.done;
          total[who].ms += res.ms;
          busy[who].ms += res.ms;
          busy[who].driver += res.cpuMs;
          busy[who].epos += res.eposCpuMs;
        }
      }
      const ours = perSecond(total.ours.done, total.ours.ms);
      const bareRate = perSecond(total.bare.done, total.bare.ms);
      const row: DojoRound = { ours: round(ours), bare: round(bareRate), ratio: round(ours / bareRate, 4), first };
      rounds.push(row);
      log(`dojo round ${r + 1}/${cfg.rounds}: ours ${row.ours}/s, bare ${row.bare}/s, ratio ${row.ratio.toFixed(3)}`);
    }

    const summary = { ours: await sim.ours.ask<DojoDriverSummary>('summary'), bare: await sim.bare.ask<DojoDriverSummary>('summary') };
    const checksOf = (s: DojoDriverSummary): DojoChecks => {
      const { latency: _latency, ...rest } = s;
      return rest;
    };
    const clean = (s: DojoDriverSummary) => s.sent === s.answered && s.errors + s.timedOut + s.closed + s.refused + s.wrongId + s.droppedFrames === 0;
    const o = rounds.map((x) => x.ours);
    const b = rounds.map((x) => x.bare);
    const share = (cpuMs: number, ms: number) => round(cpuMs / Math.max(1, ms), 3);
    return {
      server: 'two DojoSimulator processes (same options, one per contender) driving with their own call(); Node-RED and the bare client in this process',
      method: METHOD,
      requestsPerRound: cfg.requests,
      slicesPerRound: cfg.slices,
      inflight: cfg.inflight,
      warmupRequests: cfg.warmupRequests,
      rounds,
      ours: { median: median(o), min: min(o), max: max(o) },
      bare: { median: median(b), min: min(b), max: max(b) },
      ratio: round(median(o) / median(b), 4),
      pairedRatio: round(median(rounds.map((x) => x.ratio)), 4),
      latencyMs: { ours: roundLatency(summary.ours.latency), bare: roundLatency(summary.bare.latency) },
      cpuBusy: {
        ours: { driver: share(busy.ours.driver, busy.ours.ms), epos: share(busy.ours.epos, busy.ours.ms) },
        bare: { driver: share(busy.bare.driver, busy.bare.ms), epos: share(busy.bare.epos, busy.bare.ms) },
      },
      checks: {
        ours: checksOf(summary.ours),
        bare: checksOf(summary.bare),
        flowErrors,
        cutSlices,
        ok: clean(summary.ours) && clean(summary.bare) && flowErrors === 0 && cutSlices === 0,
      },
    };
  } finally {
    await runtime?.stop();
    await bare?.close();
    await sims.ours?.stop();
    await sims.bare?.stop();
  }
}

function roundLatency(l: DojoDriverSummary['latency']): DojoDriverSummary['latency'] {
  return { count: l.count, p50: round(l.p50, 2), p99: round(l.p99, 2), max: round(l.max, 2) };
}

if (require.main === module) childMain(main);
