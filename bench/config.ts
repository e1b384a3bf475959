// Sizes of every measurement, from the environment. BENCH_QUICK=1 is a ~30 s smoke run;
// each figure can also be set on its own (see bench/README.md).

export interface BenchConfig {
  quick: boolean;
  /** Measurements to run (see MEASUREMENTS); all when BENCH_ONLY is unset. */
  only: ReadonlySet<string> | undefined;
  rpc: {
    rounds: number;
    /** Per contender per round, split over `slices` interleaved runs. */
    requests: number;
    slices: number;
    inflight: number;
    warmupRequests: number;
    /** A slice that has not finished by then is cut short and its partial rate counts. */
    sliceTimeoutMs: number;
    target: number;
    /** The second run of measurement 1: few requests in flight (default 1), its own sizes and target. */
    low: {
      inflight: number;
      requests: number;
      slices: number;
      warmupRequests: number;
      target: number;
    };
  };
  pay: {
    rounds: number;
    /** Per contender per round, split over `slices` interleaved runs. */
    payments: number;
    slices: number;
    inflight: number;
    warmupPayments: number;
    sliceTimeoutMs: number;
    /** pos-pay/function, median of per-round ratios (issue 14). */
    target: number;
  };
  dojo: {
    rounds: number;
    /** Inbound requests per contender per round, split over `slices` interleaved runs. */
    requests: number;
    slices: number;
    inflight: number;
    warmupRequests: number;
    sliceTimeoutMs: number;
    /** ours / core Node-RED websocket flow, median of per-round ratios. */
    target: number;
  };
  memory: {
    connections: number;
    connectTimeoutMs: number;
    settleMs: number;
  };
  startup: {
    rounds: number;
    timeoutMs: number;
  };
  /** The journal measurements; journal-pay also uses the `pay` sizes. */
  journal: {
    /** journal-pay: pos-pay/function target. */
    payTarget: number;
    /** journal-pay: payments of the direct FileJournal run. */
    directPayments: number;
    /** Concurrent claim + finish loops (direct run, heap fill). */
    inflight: number;
    /** journal-heap: finished payments retained. */
    heapPayments: number;
    heapTargetBytes: number;
    /** journal-startup: finished entries in the folder opened. */
    startupEntries: number;
    startupRounds: number;
    startupTargetMs: number;
    /** journal-startup: finished entries in the journal that is swept. */
    sweepEntries: number;
    sweepRounds: number;
    sweepTargetMs: number;
  };
  /** frame-gap: one huge inbound frame at a time to the adapters and to a bare ws client. */
  frameGap: {
    /** Each frame, per contender. */
    repeats: number;
    /** Size of each shape's value. */
    valueBytes: number;
    /** The longest median event-loop gap allowed in the adapters, ms. */
    targetMs: number;
  };
}

function int(name: string, fallback: number, lo = 1, hi = 10_000_000): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

export const MEASUREMENTS = ['jsonrpc', 'pay', 'memory', 'startup', 'dojo', 'journal-pay', 'journal-heap', 'journal-startup', 'journal-shared', 'frame-gap'] as const;

export function loadConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const rounds = int('BENCH_ROUNDS', quick ? 3 : 7, 1, 50);
  const onlyRaw = (process.env.BENCH_ONLY ?? '').trim();
  const only = onlyRaw ? new Set(onlyRaw.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  if (only) {
    for (const m of only) {
      if (!(MEASUREMENTS as readonly string[]).includes(m)) throw new Error(`BENCH_ONLY: unknown measurement "${m}" (one of ${MEASUREMENTS.join(', ')})`);
    }
  }
  return {
    quick,
    only,
    rpc: {
      rounds,
      requests: int('BENCH_RPC_REQUESTS', quick ? 8_000 : 60_000),
      slices: int('BENCH_RPC_SLICES', quick ? 4 : 12, 1, 1000),
      inflight: int('BENCH_RPC_INFLIGHT', 64, 1, 10_000),
      warmupRequests: int('BENCH_RPC_WARMUP', quick ? 6_000 : 40_000),
      sliceTimeoutMs: int('BENCH_RPC_SLICE_TIMEOUT_MS', 20_000),
      target: num('BENCH_RPC_TARGET', 1.0),
      low: {
        inflight: int('BENCH_RPC_LOW_INFLIGHT', 1, 1, 10_000),
        requests: int('BENCH_RPC_LOW_REQUESTS', quick ? 3_000 : 20_000),
        slices: int('BENCH_RPC_LOW_SLICES', quick ? 4 : 12, 1, 1000),
        warmupRequests: int('BENCH_RPC_LOW_WARMUP', quick ? 2_000 : 10_000),
        target: num('BENCH_RPC_LOW_TARGET', 0.95),
      },
    },
    pay: {
      rounds,
      payments: int('BENCH_PAYMENTS', quick ? 600 : 6_000),
      slices: int('BENCH_PAY_SLICES', quick ? 2 : 6, 1, 1000),
      inflight: int('BENCH_PAY_INFLIGHT', 64, 1, 10_000),
      warmupPayments: int('BENCH_PAY_WARMUP', quick ? 400 : 3_000),
      sliceTimeoutMs: int('BENCH_PAY_SLICE_TIMEOUT_MS', 30_000),
      target: num('BENCH_PAY_TARGET', 0.95),
    },
    dojo: {
      rounds,
      requests: int('BENCH_DOJO_REQUESTS', quick ? 3_000 : 16_000),
      slices: int('BENCH_DOJO_SLICES', quick ? 2 : 6, 1, 1000),
      inflight: int('BENCH_DOJO_INFLIGHT', 64, 1, 10_000),
      warmupRequests: int('BENCH_DOJO_WARMUP', quick ? 2_000 : 8_000),
      sliceTimeoutMs: int('BENCH_DOJO_SLICE_TIMEOUT_MS', 20_000),
      target: num('BENCH_DOJO_TARGET', 0.8),
    },
    memory: {
      connections: int('BENCH_CONNECTIONS', quick ? 100 : 500, 1, 20_000),
      connectTimeoutMs: int('BENCH_CONNECT_TIMEOUT_MS', 60_000),
      settleMs: int('BENCH_SETTLE_MS', quick ? 1_000 : 2_000, 0),
    },
    startup: {
      rounds: int('BENCH_STARTUP_ROUNDS', quick ? 2 : 7, 1, 50),
      timeoutMs: int('BENCH_STARTUP_TIMEOUT_MS', 30_000),
    },
    journal: {
      payTarget: num('BENCH_JOURNAL_PAY_TARGET', 0.5),
      directPayments: int('BENCH_JOURNAL_DIRECT_PAYMENTS', quick ? 4_000 : 20_000, 1, 1_000_000),
      inflight: int('BENCH_JOURNAL_INFLIGHT', 64, 1, 10_000),
      heapPayments: int('BENCH_JOURNAL_HEAP_PAYMENTS', quick ? 20_000 : 100_000, 1_000, 2_000_000),
      heapTargetBytes: num('BENCH_JOURNAL_HEAP_TARGET_BYTES', 512),
      startupEntries: int('BENCH_JOURNAL_STARTUP_ENTRIES', 35_000, 1, 2_000_000),
      startupRounds: int('BENCH_JOURNAL_STARTUP_ROUNDS', quick ? 3 : 9, 1, 50),
      startupTargetMs: num('BENCH_JOURNAL_STARTUP_TARGET_MS', 200),
      sweepEntries: int('BENCH_JOURNAL_SWEEP_ENTRIES', 100_000, 10, 2_000_000),
      sweepRounds: int('BENCH_JOURNAL_SWEEP_ROUNDS', quick ? 2 : 5, 1, 50),
      sweepTargetMs: num('BENCH_JOURNAL_SWEEP_TARGET_MS', 20),
    },
    frameGap: {
      repeats: int('BENCH_FRAME_REPEATS', quick ? 3 : 5, 1, 50),
      valueBytes: int('BENCH_FRAME_VALUE_BYTES', 1024 * 1024, 1024, 8 * 1024 * 1024),
      targetMs: num('BENCH_FRAME_GAP_TARGET_MS', 50),
    },
  };
}

export function enabled(cfg: BenchConfig, name: string): boolean {
  return cfg.only === undefined || cfg.only.has(name);
}
