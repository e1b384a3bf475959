// The servers the measurements talk to, each run in its own process by proc.startServer():
//
//   rpc        a plain `ws` JSON-RPC server answering `terminalDetails` with a terminal object.
//              It does exactly the same work for every client: JSON.parse the request,
//              JSON.stringify the response, one send.
//   simulator  the pack's PaymentsenseSimulator (options from argv: stepDelayMs, pingIntervalMs, terminals).
//   dojo       the pack's DojoSimulator, and the driver of measurement 5 (bench/dojo-requests.ts):
//              Dojo calls the EPOS, so the requests are sent from here, in this process, and
//              their timing and checks are kept here too (ask 'drive' with { total, inflight,
//              limitMs, timed }, then 'summary'). Only the simulator's own `call()` is used.
//
// The process reports { type: 'ready', url } over IPC, answers { type: 'ask' } with counters,
// and exits on { type: 'stop' } or when its parent goes away.

import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';
import { PaymentsenseSimulator } from '../lib/simulators/paymentsense';

export const BENCH_TOKEN = 'bench-token-0123456789';

/** The terminal the rpc server answers with; valid for isWireTerminal. */
export const TERMINAL = { tid: 'VCM00001SIP0', status: 'AVAILABLE', currency: 'GBP', location: 'Till 1, front counter' };

/** The API key of the bench's Dojo simulators (a sandbox-shaped value, loopback only). */
export const BENCH_DOJO_KEY = 'sk_sandbox_bench_0123456789';
export const BENCH_DOJO_SOFTWARE_HOUSE = 'BENCH';
/** The one table every GetOrderByIdV1 answer names; both contenders answer with it. */
export const BENCH_TABLE_ID = 'table-1';

type Ask = (what: string, arg?: unknown) => unknown;
type Stop = () => Promise<void>;

async function startRpc(): Promise<{ url: string; ask: Ask; stop: Stop }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  let answered = 0;
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data: RawData) => {
      let req: { id?: unknown; method?: unknown; params?: { tid?: unknown } };
      try {
        req = JSON.parse(data.toString());
      } catch {
        ws.send('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
        return;
      }
      answered++;
      if (req.method === 'terminalDetails') {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: TERMINAL }));
      } else {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, error: { code: -32601, message: 'Method not found' } }));
      }
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    ask: (what) => (what === 'stats' ? { answered, connections: wss.clients.size } : {}),
    stop: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
  };
}

async function startSimulator(opts: { stepDelayMs?: number; pingIntervalMs?: number; terminals?: string[] }): Promise<{ url: string; ask: Ask; stop: Stop }> {
  const sim = new PaymentsenseSimulator({
    token: BENCH_TOKEN,
    stepDelayMs: opts.stepDelayMs ?? 0,
    pingIntervalMs: opts.pingIntervalMs ?? 600_000,
    ...(opts.terminals ? { terminals: opts.terminals.map((tid) => ({ tid, currency: 'GBP' })) } : {}),
  });
  const { url } = await sim.start();
  return {
    url,
    ask: (what) => {
      if (what === 'stats') return { connections: sim.connectionCount, attempts: sim.connectionAttempts, ledger: sim.ledger.length };
      if (what === 'reset-ledger') {
        sim.resetLedger();
        return { ledger: 0 };
      }
      return {};
    },
    stop: () => sim.stop(),
  };
}

/** Counters of every request the dojo driver sent, warm-up included. */
export interface DojoDriverSummary {
  sent: number;
  answered: number;
  /** EPOSError answers. */
  errors: number;
  timedOut: number;
  closed: number;
  /** call() refused to route (capability not registered, no EPOS connected). */
  refused: number;
  /** Answers whose frame id or Order id was not the request's own. */
  wrongId: number;
  /** Frames the simulator dropped: a second reply to an id, replies to unknown ids, junk. */
  droppedFrames: number;
  /** Latency from the simulator's send to the answer, over the timed slices only. */
  latency: { count: number; p50: number; p99: number; max: number };
}

export interface DojoDriveResult {
  done: number;
  failed: number;
  ms: number;
  cut: boolean;
  /** CPU time this process spent in the slice (user + system). */
  cpuMs: number;
}

/**
 * Keeps `inflight` requests outstanding until `total` have settled or `limitMs` passes: the same
 * loop as jsonrpc.ts's drive(), which cannot be imported here (jsonrpc.ts imports this file).
 */
function keepInFlight(request: () => Promise<unknown>, total: number, inflight: number, limitMs: number): Promise<Omit<DojoDriveResult, 'cpuMs'>> {
  return new Promise((resolve) => {
    let issued = 0;
    let done = 0;
    let failed = 0;
    let finished = false;
    const start = performance.now();
    const end = (): void => {
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
      request().then(() => { done++; next(); }, () => { failed++; next(); });
    };
    for (let i = 0; i < Math.min(inflight, total); i++) next();
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function startDojo(opts: { pingIntervalMs?: number }): Promise<{ url: string; ask: Ask; stop: Stop }> {
  // Loaded here, not at the top: the other modes need not compile Dojo's schemas.
  const { DojoSimulator } = await import('../lib/simulators/dojo');
  const tally = { sent: 0, answered: 0, errors: 0, timedOut: 0, closed: 0, refused: 0, wrongId: 0, droppedFrames: 0 };
  const sim = new DojoSimulator({
    port: 0,
    apiKeys: [BENCH_DOJO_KEY],
    stepDelayMs: 0,
    pingIntervalMs: opts.pingIntervalMs ?? 600_000,
    // The hub logs every frame it does not match to a pending request ("connection N: <why>,
    // dropped: ..."), so a second answer to one id is counted here without touching the hot path.
    logger: (line) => {
      if (/^dojo-simulator: connection \d+: .*, dropped: /.test(line)) tally.droppedFrames++;
    },
  });
  const { url } = await sim.start();
  const latencies: number[] = [];
  let seq = 0;
  const request = (timed: boolean) => (): Promise<unknown> => {
    const orderId = `ord-${++seq}`;
    tally.sent++;
    const t0 = performance.now();
    return sim.call('GetOrderByIdV1', { orderId }).then((res) => {
      const ms = performance.now() - t0;
      if (!res.response) {
        if (res.timedOut) tally.timedOut++;
        else tally.closed++;
        throw new Error('no answer');
      }
      if (res.error) {
        tally.errors++;
        throw new Error(res.error.errorType);
      }
      if (res.response.id !== res.id || (res.result as { id?: unknown } | undefined)?.id !== orderId) {
        tally.wrongId++;
        throw new Error('not its own answer');
      }
      tally.answered++;
      if (timed) latencies.push(ms);
    }, (err: Error) => {
      tally.refused++;
      throw err;
    });
  };
  return {
    url,
    ask: async (what, arg) => {
      if (what === 'status') return { connected: sim.connected, openConnections: sim.openConnections, capabilities: sim.registeredCapabilities() };
      if (what === 'drive') {
        const a = arg as { total: number; inflight: number; limitMs: number; timed: boolean };
        const cpu0 = process.cpuUsage();
        const res = await keepInFlight(request(a.timed), a.total, a.inflight, a.limitMs);
        const cpu = process.cpuUsage(cpu0);
        const out: DojoDriveResult = { ...res, cpuMs: (cpu.user + cpu.system) / 1000 };
        return out;
      }
      if (what === 'summary') {
        const sorted = Float64Array.from(latencies).sort();
        const out: DojoDriverSummary = {
          ...tally,
          latency: { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN },
        };
        return out;
      }
      return {};
    },
    stop: () => sim.stop(),
  };
}

if (require.main === module) {
  const mode = process.argv[2];
  const opts = JSON.parse(process.argv[3] ?? '{}') as Record<string, number>;
  const send = (msg: unknown) => process.send?.(msg);
  process.on('disconnect', () => process.exit(0));
  const started = mode === 'rpc' ? startRpc() : mode === 'simulator' ? startSimulator(opts) : mode === 'dojo' ? startDojo(opts)
    : Promise.reject(new Error(`unknown mode ${mode}`));
  started.then(({ url, ask, stop }) => {
    process.on('message', (msg: { type: string; id?: number; what?: string; arg?: unknown }) => {
      if (msg.type === 'ask') {
        // An answer may take a while (the dojo driver's slices); a failure still answers.
        Promise.resolve()
          .then(() => ask(msg.what ?? '', msg.arg))
          .then((data) => send({ type: 'answer', id: msg.id, data }), (err: Error) => send({ type: 'answer', id: msg.id, data: { error: err.message } }));
      } else if (msg.type === 'stop') {
        const hard = setTimeout(() => process.exit(0), 2_000);
        stop().finally(() => {
          clearTimeout(hard);
          process.exit(0);
        });
      }
    });
    send({ type: 'ready', url });
  }, (err: Error) => {
    send({ type: 'error', message: err.message });
    process.exit(1);
  });
}
