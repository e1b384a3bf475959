// Measurement 3: memory per idle connection.
//
// One PaymentsenseSimulator (pingIntervalMs 10 min, so the server stays quiet) runs in a
// child process. Each kind of client then runs in a fresh Node process started with
// --expose-gc, which measures heapUsed / RSS / external after a full GC before opening the
// connections and again once all of them are open and idle:
//
//   nodes     embedded Node-RED with this pack: N pos-paymentsense config nodes, each with one
//             pos-terminals user (so each opens its own connection), deployed in one full
//             deploy. Includes what Node-RED keeps per node (two nodes per connection).
//   provider  the library alone: N PaymentsenseProvider instances, started.
//   bare      N plain `new WebSocket(url)` clients, as the reference.
//
// Each kind first opens and closes one connection (or deploys and removes one pair of nodes)
// so one-time costs (lazy module state, JIT) fall before the baseline.

import WebSocket from 'ws';
import { PaymentsenseProvider } from '../lib/providers/paymentsense/client';
import { loadConfig } from './config';
import { pacUrl, startRuntime, type Runtime } from './nodered';
import { childMain, log, runChild, sleep, startServer, waitFor } from './proc';
import { BENCH_TOKEN } from './servers';
import { round } from './stats';

export type MemoryKind = 'nodes' | 'provider' | 'bare';

export interface MemorySample {
  heapUsed: number;
  rss: number;
  external: number;
}

export interface MemoryKindResult {
  kind: MemoryKind;
  connections: number;
  connectMs: number;
  before: MemorySample;
  after: MemorySample;
  perConnection: MemorySample;
  /** False when global.gc was not available (figures then include garbage). */
  gcExposed: boolean;
}

export interface MemoryResult {
  server: string;
  connections: number;
  settleMs: number;
  kinds: MemoryKindResult[];
}

const KINDS: MemoryKind[] = ['nodes', 'provider', 'bare'];

async function sample(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Several passes with turns of the event loop between them: weak refs, finalizers and
    // objects freed by a previous pass's callbacks go too.
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external };
}

function nodeFlows(simUrl: string, count: number, prefix: string): { flows: object[]; credentials: Record<string, object> } {
  const flows: object[] = [{ id: 'mem-tab', type: 'tab', label: 'memory' }];
  const credentials: Record<string, object> = {};
  for (let i = 0; i < count; i++) {
    const cfg = `${prefix}cfg-${i}`;
    flows.push({ id: cfg, type: 'pos-paymentsense', name: `till ${i}`, environment: 'custom', url: simUrl, softwareHouseId: 'BENCH', installerId: 'BENCH', verifyTls: true });
    flows.push({ id: `${prefix}term-${i}`, type: 'pos-terminals', z: 'mem-tab', x: 100, y: 40 + i, name: '', provider: 'paymentsense', paymentsense: cfg, timeout: 15, wires: [[]] });
    credentials[cfg] = { token: BENCH_TOKEN };
  }
  return { flows, credentials };
}

/** Opens `count` connections of one kind; resolves once all are open, with a closer. */
interface Opened {
  connected(): boolean;
  close(): Promise<void>;
}

async function openNodes(runtime: Runtime, simUrl: string, count: number, prefix: string): Promise<Opened> {
  const { flows, credentials } = nodeFlows(simUrl, count, prefix);
  await runtime.RED.nodes.setFlows(flows, credentials, 'full');
  const ids = Array.from({ length: count }, (_, i) => `${prefix}cfg-${i}`);
  return {
    connected: () => ids.every((id) => runtime.RED.nodes.getNode(id)?.connection?.provider.state.name === 'connected'),
    close: async () => {
      await runtime.RED.nodes.setFlows([{ id: 'mem-tab', type: 'tab', label: 'memory' }], null, 'full');
    },
  };
}

function openProviders(simUrl: string, count: number): Opened {
  const list: PaymentsenseProvider[] = [];
  for (let i = 0; i < count; i++) {
    const p = new PaymentsenseProvider({ environment: 'custom', url: simUrl, token: BENCH_TOKEN, softwareHouseId: 'BENCH', installerId: 'BENCH' });
    p.start();
    list.push(p);
  }
  return {
    connected: () => list.every((p) => p.state.name === 'connected'),
    close: async () => {
      await Promise.all(list.map((p) => p.stop()));
      list.length = 0;
    },
  };
}

function openBare(simUrl: string, count: number): Opened {
  const url = pacUrl(simUrl, BENCH_TOKEN);
  const list: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url);
    ws.on('error', () => undefined);
    list.push(ws);
  }
  return {
    connected: () => list.every((ws) => ws.readyState === WebSocket.OPEN),
    close: async () => {
      await Promise.all(list.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.terminate();
      })));
      list.length = 0;
    },
  };
}

/** One kind, in its own process (started with --expose-gc). */
async function measureKind(kind: MemoryKind, simUrl: string): Promise<MemoryKindResult> {
  const cfg = loadConfig().memory;
  let runtime: Runtime | undefined;
  const open = async (count: number, prefix: string): Promise<Opened> => {
    if (kind === 'nodes') return openNodes(runtime!, simUrl, count, prefix);
    if (kind === 'provider') return openProviders(simUrl, count);
    return openBare(simUrl, count);
  };
  try {
    if (kind === 'nodes') runtime = await startRuntime('mem');
    // One-time costs first.
    const warm = await open(1, 'warm-');
    await waitFor(warm.connected, 'the warm-up connection', 10_000);
    await warm.close();
    await sleep(300);

    const before = await sample();
    const t0 = performance.now();
    const opened = await open(cfg.connections, 'm-');
    await waitFor(opened.connected, `${cfg.connections} connections (${kind})`, cfg.connectTimeoutMs, 50);
    const connectMs = performance.now() - t0;
    await sleep(cfg.settleMs);
    const after = await sample();
    const n = cfg.connections;
    const result: MemoryKindResult = {
      kind,
      connections: n,
      connectMs: round(connectMs),
      before,
      after,
      perConnection: {
        heapUsed: round((after.heapUsed - before.heapUsed) / n),
        rss: round((after.rss - before.rss) / n),
        external: round((after.external - before.external) / n),
      },
      gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    };
    await Promise.race([opened.close(), sleep(5_000)]);
    return result;
  } finally {
    await runtime?.stop();
  }
}

export async function main(): Promise<MemoryResult> {
  const cfg = loadConfig().memory;
  const sim = await startServer('simulator', { stepDelayMs: 0, pingIntervalMs: 600_000 });
  const kinds: MemoryKindResult[] = [];
  try {
    for (const kind of KINDS) {
      const res = await runChild<MemoryKindResult>(__filename, {
        args: ['kind', kind, sim.url],
        execArgv: ['--expose-gc'],
        timeoutMs: cfg.connectTimeoutMs + 60_000,
      });
      kinds.push(res);
      log(`memory ${kind}: ${res.connections} connections in ${res.connectMs} ms; per connection heap ${res.perConnection.heapUsed} B, rss ${res.perConnection.rss} B`);
      // The next kind starts against an empty server.
      await waitFor(async () => (await sim.ask<{ connections: number }>('stats')).connections === 0, 'the simulator to drop the last kind\'s connections', 15_000, 100)
        .catch((err: Error) => log(`warning: ${err.message}`));
    }
  } finally {
    await sim.stop();
  }
  return { server: 'PaymentsenseSimulator (pingIntervalMs 600000) in a child process', connections: cfg.connections, settleMs: cfg.settleMs, kinds };
}

if (require.main === module) {
  if (process.argv[2] === 'kind') childMain(() => measureKind(process.argv[3] as MemoryKind, process.argv[4]!));
  else childMain(main);
}
