// Measurement 1: our JSON-RPC path against bare `ws` code doing the same request/response.
//
//   ours  ReconnectingSocket + JsonRpcPeer.request('terminalDetails') + isWireTerminal (ajv)
//         on every result: exactly the path PaymentsenseProvider takes.
//   bare  new WebSocket(url), a Map of pending ids, JSON.stringify / JSON.parse, no validation.
//
// Both talk to the same plain ws server (bench/servers.ts, mode rpc) running in a child
// process, over 127.0.0.1, with the same number of requests in flight, driven by the same
// loop. After a warm-up of each, every round is cut into slices run in A B B A order (the
// first contender alternates between rounds); a contender's rate in a round is its requests
// over its own time summed over its slices. Short interleaved slices matter on a noisy box:
// its speed changes by 2x within seconds, and long back-to-back runs measure that instead.
// global.gc() runs before every slice so one contender's garbage is not collected on the
// other's clock.
//
// Two runs, each with its own warm-up, rounds and target: 64 requests in flight (throughput,
// target ours/bare >= 1.0) and 1 in flight (one round trip at a time, so the figure is the
// latency each request adds; target >= 0.95). Each request's time from call to validated result
// is recorded in the timed slices (p50/p99 per contender).

import WebSocket from 'ws';
import { JsonRpcPeer } from '../lib/core/jsonrpc';
import { ReconnectingSocket } from '../lib/core/socket';
import { isWireTerminal } from '../lib/providers/paymentsense/mapping';
import { loadConfig } from './config';
import { childMain, log, startServer, waitFor } from './proc';
import { TERMINAL } from './servers';
import { LatencyRecorder, median, perSecond, round, spread, type Latency } from './stats';

export interface RateSummary {
  median: number;
  min: number;
  max: number;
}

export interface JsonRpcRound {
  ours: number;
  bare: number;
  ratio: number;
  first: 'ours' | 'bare';
}

/** One run of the measurement: a number of requests in flight, its own rounds and target. */
export interface JsonRpcRun {
  inflight: number;
  requestsPerRound: number;
  slicesPerRound: number;
  warmupRequests: number;
  rounds: JsonRpcRound[];
  ours: RateSummary;
  bare: RateSummary;
  /** median(ours) / median(bare), for reference. */
  ratio: number;
  /** Median of the per-round ratios (both contenders interleaved within each round): the figure the target applies to. */
  pairedRatio: number;
  /** min / median / max of the per-round ratios. */
  ratios: RateSummary;
  /** Each request from its call to its validated result, timed slices only. */
  latencyMs: Record<Contender, Latency>;
  target: number;
  pass: boolean;
  /** Requests that failed, and slices cut short by the time limit; both should be 0. */
  failures: number;
  cutSlices: number;
}

export interface JsonRpcResult {
  server: string;
  method: string;
  /** The 64-in-flight run first, then the 1-in-flight run. */
  runs: JsonRpcRun[];
}

type Contender = 'ours' | 'bare';

interface Client {
  request(): Promise<unknown>;
  close(): Promise<void>;
}

const PARAMS = { tid: TERMINAL.tid };

async function oursClient(url: string): Promise<Client> {
  const socket = new ReconnectingSocket({ url: () => url });
  const peer = new JsonRpcPeer({ send: (text, timing) => socket.send(text, timing) });
  socket.on('message', (text) => peer.receive(text));
  socket.start();
  await waitFor(() => socket.isOpen(), 'our socket to open', 10_000, 5);
  const validate = (result: unknown) => {
    if (!isWireTerminal(result)) throw new Error(`invalid terminal: ${isWireTerminal.explain()}`);
    return result;
  };
  return {
    request: () => peer.request('terminalDetails', PARAMS).then(validate),
    close: async () => {
      peer.close();
      await socket.stop();
    },
  };
}

async function bareClient(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let counter = 0;
  ws.on('message', (data: WebSocket.RawData) => {
    const msg = JSON.parse(data.toString());
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    request: () => new Promise((resolve, reject) => {
      const id = ++counter;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'terminalDetails', params: PARAMS }));
    }),
    close: () => new Promise<void>((resolve) => {
      const t = setTimeout(() => { ws.terminate(); resolve(); }, 1_000);
      ws.once('close', () => { clearTimeout(t); resolve(); });
      ws.close(1000);
    }),
  };
}

export interface DriveResult {
  done: number;
  failed: number;
  ms: number;
  cut: boolean;
}

/**
 * Keeps `inflight` requests outstanding until `total` have been answered or `limitMs` passes.
 * With `latency`, each answered request's time from call to settle goes there (one
 * performance.now() more per request, the same for every contender).
 */
export function drive(request: () => Promise<unknown>, total: number, inflight: number, limitMs: number, latency?: LatencyRecorder): Promise<DriveResult> {
  return new Promise((resolve) => {
    let issued = 0;
    let done = 0;
    let failed = 0;
    let finished = false;
    const start = performance.now();
    const end = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({ done, failed, ms: performance.now() - start, cut: done + failed < total });
    };
    const timer = setTimeout(end, limitMs);
    const next = (): void => {
      if (finished) return;
      if (issued >= total) {
        if (done + failed >= total) end();
        return;
      }
      issued++;
      if (latency === undefined) {
        request().then(ok, bad);
        return;
      }
      const t0 = performance.now();
      request().then(() => {
        latency.add(performance.now() - t0);
        ok();
      }, bad);
    };
    const ok = () => {
      done++;
      next();
    };
    const bad = () => {
      failed++;
      next();
    };
    for (let i = 0; i < Math.min(inflight, total); i++) next();
  });
}

const gc = (): void => {
  (globalThis as { gc?: () => void }).gc?.();
};

interface RunSizes {
  inflight: number;
  requests: number;
  slices: number;
  warmupRequests: number;
  target: number;
}

async function runAt(clients: Record<Contender, Client>, sizes: RunSizes, rounds_: number, sliceTimeoutMs: number): Promise<JsonRpcRun> {
  let failures = 0;
  let cutSlices = 0;
  // Warm-up: JIT, socket buffers, the server's own warm-up; not timed.
  for (const name of ['bare', 'ours', 'bare', 'ours'] as const) {
    const w = await drive(clients[name].request, Math.ceil(sizes.warmupRequests / 2), sizes.inflight, sliceTimeoutMs);
    if (w.failed > 0) throw new Error(`${name}: ${w.failed} requests failed during warm-up (${sizes.inflight} in flight)`);
  }
  const latency: Record<Contender, LatencyRecorder> = { ours: new LatencyRecorder(), bare: new LatencyRecorder() };
  const rounds: JsonRpcRound[] = [];
  const perSlice = Math.max(1, Math.ceil(sizes.requests / sizes.slices));
  for (let r = 0; r < rounds_; r++) {
    const first: Contender = r % 2 === 0 ? 'ours' : 'bare';
    const second: Contender = first === 'ours' ? 'bare' : 'ours';
    const total = { ours: { done: 0, ms: 0 }, bare: { done: 0, ms: 0 } };
    // Slices in A B B A order, so drift in machine speed within a round hits both alike.
    for (let s = 0; s < sizes.slices; s++) {
      for (const name of s % 2 === 0 ? [first, second] : [second, first]) {
        gc();
        const res = await drive(clients[name].request, perSlice, sizes.inflight, sliceTimeoutMs, latency[name]);
        failures += res.failed;
        if (res.cut) cutSlices++;
        total[name].done += res.done;
        total[name].ms += res.ms;
      }
    }
    const ours = perSecond(total.ours.done, total.ours.ms);
    const bare = perSecond(total.bare.done, total.bare.ms);
    const round_: JsonRpcRound = { ours: round(ours), bare: round(bare), ratio: round(ours / bare, 4), first };
    rounds.push(round_);
    log(`jsonrpc ${sizes.inflight} in flight, round ${r + 1}/${rounds_}: ours ${round_.ours}/s, bare ${round_.bare}/s, ratio ${round_.ratio.toFixed(3)}`);
  }
  const ours = rounds.map((x) => x.ours);
  const bare = rounds.map((x) => x.bare);
  const paired = median(rounds.map((x) => x.ratio));
  return {
    inflight: sizes.inflight,
    requestsPerRound: sizes.requests,
    slicesPerRound: sizes.slices,
    warmupRequests: sizes.warmupRequests,
    rounds,
    ours: spread(ours),
    bare: spread(bare),
    ratio: round(median(ours) / median(bare), 4),
    pairedRatio: round(paired, 4),
    ratios: spread(rounds.map((x) => x.ratio), 4),
    latencyMs: { ours: latency.ours.summary(), bare: latency.bare.summary() },
    target: sizes.target,
    pass: paired >= sizes.target && failures === 0,
    failures,
    cutSlices,
  };
}

export async function main(): Promise<JsonRpcResult> {
  const cfg = loadConfig().rpc;
  const server = await startServer('rpc');
  const url = `${server.url}/pac`;
  const clients = { ours: await oursClient(url), bare: await bareClient(url) };
  try {
    const runs: JsonRpcRun[] = [];
    runs.push(await runAt(clients, { inflight: cfg.inflight, requests: cfg.requests, slices: cfg.slices, warmupRequests: cfg.warmupRequests, target: cfg.target }, cfg.rounds, cfg.sliceTimeoutMs));
    runs.push(await runAt(clients, cfg.low, cfg.rounds, cfg.sliceTimeoutMs));
    return {
      server: 'plain ws JSON-RPC server in a child process (127.0.0.1)',
      method: 'terminalDetails',
      runs,
    };
  } finally {
    await clients.ours.close();
    await clients.bare.close();
    await server.stop();
  }
}

if (require.main === module) childMain(main);
