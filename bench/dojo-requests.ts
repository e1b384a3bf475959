// Measurement 5: inbound requests. Dojo calls the EPOS, so here the simulator is the client and
// the contenders are servers answering GetOrderByIdV1 over the WebSocket they opened to it:
//
//   ours  an embedded Node-RED (pack linked as a user installs it) with the real pos-dojo
//         config node (environment custom, url = simulator, API key in credentials) and the
//         flow pos-request-in -> function -> pos-response: our EposServer, params and answer
//         checked against Dojo's schema, the answer cache, node status, the function sandbox.
//   core  the same embedded Node-RED, core nodes only: a `websocket-client` config node dialling
//         the simulator's /epos with the same headers (Node-RED 4's custom headers) and the flow
//         websocket in -> function -> websocket out; the function node parses the JSON-RPC
//         request, builds the same Order and stringifies the answer. The capability is
//         registered with the same REST PUT the bare client uses. The peer the target names.
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
// After a warm-up of each, every round is cut into slices run in A B C C B A order (the first
// contender rotates between rounds); a contender's rate in a round is its answered requests
// over its own slice time. global.gc() runs in this process before every slice.

import WebSocket from 'ws';
import { loadConfig } from './config';
import { startRuntime } from './nodered';
import { childMain, log, startServer, waitFor, type ServerChild } from './proc';
import { BENCH_DOJO_KEY, BENCH_DOJO_SOFTWARE_HOUSE, BENCH_TABLE_ID, type DojoDriveResult, type DojoDriverSummary } from './servers';
import { median, perSecond, round, spread } from './stats';

export interface DojoRound {
  ours: number;
  core: number;
  bare: number;
  /** ours / core: the figure the target applies to. */
  ratio: number;
  /** ours / bare. */
  bareRatio: number;
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
  ours: Spread;
  core: Spread;
  bare: Spread;
  /** median(ours) / median(core). */
  ratio: number;
  /** Median of the per-round ours/core ratios: the figure the target applies to. */
  pairedRatio: number;
  /** min / median / max of the per-round ours/core ratios. */
  ratios: Spread;
  /** ours/bare: median of the per-round ratios, and their min / median / max. */
  oursPerBare: { pairedRatio: number; ratios: Spread };
  target: number;
  /** pairedRatio >= target and every check clean. */
  pass: boolean;
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
    core: DojoChecks;
    bare: DojoChecks;
    /** Errors the flow raised (a Catch node on the tab feeds a sink). */
    flowErrors: number;
    cutSlices: number;
    /** Every request answered once, by its own answer, no errors, nothing dropped. */
    ok: boolean;
  };
}

type Contender = 'ours' | 'core' | 'bare';
type Spread = { median: number; min: number; max: number };
const CONTENDERS: readonly Contender[] = ['ours', 'core', 'bare'];

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

// The core flow's function node: the JSON-RPC request in (websocket in hands over the frame's
// Buffer), the same Order out as a JSON-RPC response string. A fresh msg, without the
// websocket in's _session: websocket out sends a msg carrying a _session only to a server-side
// client of that id, and this is the client side (it would drop the answer).
const CORE_FUNCTION_CODE = `
const req = JSON.parse(msg.payload);
if (req.method !== '${METHOD}') return null;
return { payload: JSON.stringify({ jsonrpc: '2.0', id: req.id, method: req.method, result: { id: req.params.orderId, status: 'Accepted', details: { orderType: 'DineIn', dineIn: { tableId: '${BENCH_TABLE_ID}' } } } }) };
`;

function flows(simUrl: string, coreSimUrl: string): object[] {
  // Flow nodes need x/y: without them Node-RED treats a node on a tab as a config node.
  const at = (x: number, y: number) => ({ z: 'bench-tab', x, y });
  const header = (name: string, value: string) => ({ keyType: 'other', keyValue: name, valueType: 'other', valueValue: value });
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    { id: 'dojo-cfg', type: 'pos-dojo', name: 'bench Dojo simulator', environment: 'custom', url: simUrl, softwareHouseId: BENCH_DOJO_SOFTWARE_HOUSE, resellerId: '', verifyTls: true, heartbeat: 25 },
    { id: 'req', type: 'pos-request-in', ...at(150, 100), name: '', provider: 'dojo', dojo: 'dojo-cfg', method: METHOD, timeout: 10, wires: [['fn']] },
    { id: 'fn', type: 'function', ...at(350, 100), name: 'get order', func: FUNCTION_CODE, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['resp']] },
    { id: 'resp', type: 'pos-response', ...at(550, 100), name: '', wires: [] },
    // The core peer: the same heartbeat as pos-dojo (25 s), the same two headers as EposServer.
    {
      id: 'core-ws', type: 'websocket-client', path: `${coreSimUrl.replace(/^http/, 'ws')}/epos`, tls: '', wholemsg: 'false', hb: '25', subprotocol: '',
      headers: [header('Authorization', `Basic ${BENCH_DOJO_KEY}`), header('software-house-id', BENCH_DOJO_SOFTWARE_HOUSE)],
    },
    { id: 'core-in', type: 'websocket in', ...at(150, 300), name: '', server: '', client: 'core-ws', wires: [['core-fn']] },
    { id: 'core-fn', type: 'function', ...at(350, 300), name: 'get order (JSON-RPC)', func: CORE_FUNCTION_CODE, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['core-out']] },
    { id: 'core-out', type: 'websocket out', ...at(550, 300), name: '', server: '', client: 'core-ws', wires: [] },
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
    await registerCapability(base, 'bare');
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

/** The REST PUT EposServer sends: GetOrderById, version v1 (the bare client and the core flow use it). */
async function registerCapability(base: string, who: string): Promise<void> {
  const res = await fetch(`${base}/epos/integrations/ws`, {
    method: 'PUT',
    headers: { Authorization: `Basic ${BENCH_DOJO_KEY}`, version: API_VERSION, 'software-house-id': BENCH_DOJO_SOFTWARE_HOUSE, 'Content-Type': 'application/json' },
    body: JSON.stringify({ capabilities: [{ name: CAPABILITY, version: CAPABILITY_VERSION }] }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`${who}: the capability registration was answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
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
    for (const who of CONTENDERS) sims[who] = await startServer('dojo', simOptions);
    const sim = sims as Record<Contender, ServerChild>;
    bare = await BareEpos.connect(sim.bare.url);
    // The core flow registers nothing by itself: the same PUT, before its websocket-client dials.
    await registerCapability(sim.core.url, 'core');
    runtime = await startRuntime('dojo', {
      flows: flows(sim.ours.url, sim.core.url),
      credentials: { 'dojo-cfg': { apiKey: BENCH_DOJO_KEY } },
      onSink: (nodeId) => { if (nodeId === 'sink-err') flowErrors++; },
    });
    await waitFor(() => routable(sim.ours), `pos-dojo to connect and register ${CAPABILITY}`, 15_000, 50);
    await waitFor(() => routable(sim.core), `the core websocket-client to connect`, 15_000, 50);
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

    for (const who of ['bare', 'core', 'ours', 'bare', 'core', 'ours'] as const) {
      const w = await slice(who, Math.ceil(cfg.warmupRequests / 2), false);
      if (w.failed > 0) throw new Error(`${who}: ${w.failed} requests failed during warm-up`);
    }

    const rounds: DojoRound[] = [];
    let cutSlices = 0;
    const zero = () => ({ ms: 0, driver: 0, epos: 0 });
    const busy: Record<Contender, { ms: number; driver: number; epos: number }> = { ours: zero(), core: zero(), bare: zero() };
    const perSlice = Math.max(1, Math.ceil(cfg.requests / cfg.slices));
    for (let r = 0; r < cfg.rounds; r++) {
      // A B C, then C B A; the first contender rotates from round to round.
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + r) % CONTENDERS.length]!);
      const total: Record<Contender, { done: number; ms: number }> = { ours: { done: 0, ms: 0 }, core: { done: 0, ms: 0 }, bare: { done: 0, ms: 0 } };
      for (let s = 0; s < cfg.slices; s++) {
        for (const who of s % 2 === 0 ? order : [...order].reverse()) {
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
      const rate = (who: Contender) => perSecond(total[who].done, total[who].ms);
      const row: DojoRound = {
        ours: round(rate('ours')), core: round(rate('core')), bare: round(rate('bare')),
        ratio: round(rate('ours') / rate('core'), 4), bareRatio: round(rate('ours') / rate('bare'), 4), first: order[0]!,
      };
      rounds.push(row);
      log(`dojo round ${r + 1}/${cfg.rounds}: ours ${row.ours}/s, core ${row.core}/s, bare ${row.bare}/s, ours/core ${row.ratio.toFixed(3)}, ours/bare ${row.bareRatio.toFixed(3)}`);
    }

    const summary = {
      ours: await sim.ours.ask<DojoDriverSummary>('summary'),
      core: await sim.core.ask<DojoDriverSummary>('summary'),
      bare: await sim.bare.ask<DojoDriverSummary>('summary'),
    };
    const checksOf = (s: DojoDriverSummary): DojoChecks => {
      const { latency: _latency, ...rest } = s;
      return rest;
    };
    const clean = (s: DojoDriverSummary) => s.sent === s.answered && s.errors + s.timedOut + s.closed + s.refused + s.wrongId + s.droppedFrames === 0;
    const share = (cpuMs: number, ms: number) => round(cpuMs / Math.max(1, ms), 3);
    const paired = median(rounds.map((x) => x.ratio));
    const ok = CONTENDERS.every((who) => clean(summary[who])) && flowErrors === 0 && cutSlices === 0;
    return {
      server: 'three DojoSimulator processes (same options, one per contender) driving with their own call(); Node-RED (ours and core) and the bare client in this process',
      method: METHOD,
      requestsPerRound: cfg.requests,
      slicesPerRound: cfg.slices,
      inflight: cfg.inflight,
      warmupRequests: cfg.warmupRequests,
      rounds,
      ours: spread(rounds.map((x) => x.ours)),
      core: spread(rounds.map((x) => x.core)),
      bare: spread(rounds.map((x) => x.bare)),
      ratio: round(median(rounds.map((x) => x.ours)) / median(rounds.map((x) => x.core)), 4),
      pairedRatio: round(paired, 4),
      ratios: spread(rounds.map((x) => x.ratio), 4),
      oursPerBare: { pairedRatio: round(median(rounds.map((x) => x.bareRatio)), 4), ratios: spread(rounds.map((x) => x.bareRatio), 4) },
      target: cfg.target,
      pass: paired >= cfg.target && ok,
      latencyMs: { ours: roundLatency(summary.ours.latency), core: roundLatency(summary.core.latency), bare: roundLatency(summary.bare.latency) },
      cpuBusy: {
        ours: { driver: share(busy.ours.driver, busy.ours.ms), epos: share(busy.ours.epos, busy.ours.ms) },
        core: { driver: share(busy.core.driver, busy.core.ms), epos: share(busy.core.epos, busy.core.ms) },
        bare: { driver: share(busy.bare.driver, busy.bare.ms), epos: share(busy.bare.epos, busy.bare.ms) },
      },
      checks: {
        ours: checksOf(summary.ours),
        core: checksOf(summary.core),
        bare: checksOf(summary.bare),
        flowErrors,
        cutSlices,
        ok,
      },
    };
  } finally {
    await runtime?.stop();
    await bare?.close();
    for (const who of CONTENDERS) await sims[who]?.stop();
  }
}

function roundLatency(l: DojoDriverSummary['latency']): DojoDriverSummary['latency'] {
  return { count: l.count, p50: round(l.p50, 2), p99: round(l.p99, 2), max: round(l.max, 2) };
}

if (require.main === module) childMain(main);
