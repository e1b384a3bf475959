// `npm run bench`: every measurement in its own fresh Node process, one after the other, then
// one report on stdout and in bench/results/latest.json. Progress goes to stderr.
//
// Exit code: 0 when the JSON-RPC target holds and every measurement ran; 1 when the JSON-RPC
// ratio is below its target (or could not be measured); 2 when another measurement failed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { enabled, loadConfig, type BenchConfig } from './config';
import type { DojoResult } from './dojo-requests';
import type { JsonRpcResult } from './jsonrpc';
import type { MemoryResult } from './memory';
import type { PayResult } from './pay-node';
import { ROOT, killAll, killChildrenOnExit, log, runChild } from './proc';
import type { StartupResult } from './startup';
import { fmtBytes, fmtInt, fmtMs, fmtRatio, table } from './stats';

interface Report {
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  machine: Record<string, unknown>;
  config: BenchConfig;
  results: {
    jsonrpc?: JsonRpcResult;
    pay?: PayResult;
    memory?: MemoryResult;
    startup?: StartupResult;
    dojo?: DojoResult;
  };
  errors: Record<string, string>;
  target: { name: string; value: number | null; target: number; pass: boolean };
  exitCode?: number;
}

function section(title: string, body: string, notes: string[] = []): string {
  return [`${title}`, body, ...notes.map((n) => `  ${n}`)].join('\n');
}

function fmtLatency(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(2)} ms` : 'n/a';
}

function fmtPct(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'n/a';
}

function render(report: Report): string {
  const out: string[] = [];
  const m = report.machine;
  const cfg = report.config;
  out.push(`node-red-contrib-pos-payments bench  ${report.startedAt}`);
  out.push(`node ${m.node}, ${m.platform}, ${m.cpus} x ${m.cpuModel}, load ${m.loadavg}, ${cfg.quick ? 'QUICK (smoke) sizes' : 'full sizes'}`);
  out.push('');

  const j = report.results.jsonrpc;
  if (j) {
    out.push(section(
      `1. JSON-RPC path vs bare ws: ${j.method}, ${j.inflight} in flight, ${j.rounds.length} rounds x ${j.slicesPerRound} interleaved slices, ${fmtInt(j.requestsPerRound)} req per contender per round`,
      table([
        ['contender', 'median req/s', 'min', 'max'],
        ['ours (ReconnectingSocket + JsonRpcPeer + ajv isWireTerminal)', fmtInt(j.ours.median), fmtInt(j.ours.min), fmtInt(j.ours.max)],
        ['bare ws (Map of ids, JSON.stringify/parse, no validation)', fmtInt(j.bare.median), fmtInt(j.bare.min), fmtInt(j.bare.max)],
      ]),
      [
        `ratio ours/bare: ${fmtRatio(j.pairedRatio)} (median of per-round ratios; ratio of medians ${fmtRatio(j.ratio)})  target >= ${j.target}  ${j.pass ? 'PASS' : 'FAIL'}`,
        `per-round ratios: ${j.rounds.map((r) => fmtRatio(r.ratio)).join(', ')}`,
        `server: ${j.server}; failed requests ${j.failures}, slices cut by the time limit ${j.cutSlices}`,
      ],
    ));
    out.push('');
  } else if (report.errors.jsonrpc) out.push(`1. JSON-RPC path vs bare ws: FAILED TO RUN: ${report.errors.jsonrpc.split('\n')[0]}\n`);

  const p = report.results.pay;
  if (p) {
    out.push(section(
      `2. Payments: pos-pay vs function node (same Node-RED, same simulator, instant mode), ${p.inflight} in flight, ${p.rounds.length} rounds x ${p.slicesPerRound} slices, ${fmtInt(p.paymentsPerRound)} payments per contender per round`,
      table([
        ['contender', 'median payments/s', 'min', 'max'],
        ['pos-paymentsense + pos-pay', fmtInt(p.posPay.median), fmtInt(p.posPay.min), fmtInt(p.posPay.max)],
        ['function node + raw ws client (same sale frame)', fmtInt(p.functionNode.median), fmtInt(p.functionNode.min), fmtInt(p.functionNode.max)],
      ]),
      [
        `ratio pos-pay/function: ${fmtRatio(p.pairedRatio)} (median of per-round ratios; ratio of medians ${fmtRatio(p.ratio)})  no target`,
        `per-round ratios: ${p.rounds.map((r) => fmtRatio(r.ratio)).join(', ')}`,
        `checks: approved pos-pay ${p.checks.posPayApproved}, function ${p.checks.functionApproved}, errors ${p.checks.errors}, not approved ${p.checks.notApproved}, ` +
          `simulator ledger ${p.checks.simulatorLedger} for ${p.checks.sent} sent, slices cut ${p.checks.cutSlices}`,
        `retained after GC: ${fmtBytes(p.retained.heapBytesPerPosPayPayment)} heap per pos-pay payment; ${fmtInt(p.retained.journalEntries)} journal entries in context at the end`,
      ],
    ));
    out.push('');
  } else if (report.errors.pay) out.push(`2. Payments: FAILED TO RUN: ${report.errors.pay.split('\n')[0]}\n`);

  const mem = report.results.memory;
  if (mem) {
    const label: Record<string, string> = {
      nodes: 'Node-RED: pos-paymentsense + pos-terminals',
      provider: 'library only: PaymentsenseProvider',
      bare: 'bare ws client (reference)',
    };
    out.push(section(
      `3. Memory per idle connection: ${mem.connections} connections, after full GC, idle ${mem.settleMs} ms`,
      table([
        ['client', 'heap/conn', 'RSS/conn', 'external/conn', 'all open after'],
        ...mem.kinds.map((k) => [label[k.kind] ?? k.kind, fmtBytes(k.perConnection.heapUsed), fmtBytes(k.perConnection.rss), fmtBytes(k.perConnection.external), fmtMs(k.connectMs)]),
      ]),
      [`server: ${mem.server}; each client kind in its own --expose-gc process${mem.kinds.every((k) => k.gcExposed) ? '' : ' (WARNING: gc not exposed)'}`],
    ));
    out.push('');
  } else if (report.errors.memory) out.push(`3. Memory: FAILED TO RUN: ${report.errors.memory.split('\n')[0]}\n`);

  const s = report.results.startup;
  if (s) {
    out.push(section(
      `4. Node-RED start, spawn -> "Started flows": ${s.rounds.length} alternating rounds, fresh userDir each start`,
      table([
        ['userDir', 'median', 'min', 'max'],
        ['empty', fmtMs(s.empty.median), fmtMs(s.empty.min), fmtMs(s.empty.max)],
        ['pack linked + pos-paymentsense (simulator) + pos-pay', fmtMs(s.pack.median), fmtMs(s.pack.min), fmtMs(s.pack.max)],
      ]),
      [
        `added by the pack: ${fmtMs(s.addedMs)} (difference of medians; median of per-round differences ${fmtMs(s.pairedAddedMs)})`,
        s.packLogProblems.length ? `Node-RED warnings/errors with the pack: ${s.packLogProblems.join(' | ')}` : 'no warnings or errors logged with the pack',
      ],
    ));
    out.push('');
  } else if (report.errors.startup) out.push(`4. Startup: FAILED TO RUN: ${report.errors.startup.split('\n')[0]}\n`);

  const d = report.results.dojo;
  if (d) {
    const c = d.checks;
    const checkLine = (who: string, k: typeof c.ours) => `${who} sent ${k.sent}, answered ${k.answered}, EPOS errors ${k.errors}, timed out ${k.timedOut}, ` +
      `closed ${k.closed}, not routed ${k.refused}, wrong id ${k.wrongId}, extra/dropped frames ${k.droppedFrames}`;
    out.push(section(
      `5. Inbound requests: ${d.method} answered by pos-request-in -> function -> pos-response vs bare ws, ${d.inflight} in flight, ${d.rounds.length} rounds x ${d.slicesPerRound} slices, ${fmtInt(d.requestsPerRound)} requests per contender per round`,
      table([
        ['contender', 'median req/s', 'min', 'max', 'p50 latency', 'p99 latency'],
        ['Node-RED: pos-dojo + pos-request-in -> function -> pos-response', fmtInt(d.ours.median), fmtInt(d.ours.min), fmtInt(d.ours.max), fmtLatency(d.latencyMs.ours.p50), fmtLatency(d.latencyMs.ours.p99)],
        ['bare ws client (JSON.parse, fixed Order, JSON.stringify)', fmtInt(d.bare.median), fmtInt(d.bare.min), fmtInt(d.bare.max), fmtLatency(d.latencyMs.bare.p50), fmtLatency(d.latencyMs.bare.p99)],
      ]),
      [
        `ratio ours/bare: ${fmtRatio(d.pairedRatio)} (median of per-round ratios; ratio of medians ${fmtRatio(d.ratio)})  no target`,
        `per-round ratios: ${d.rounds.map((r) => fmtRatio(r.ratio)).join(', ')}`,
        `latency: from the simulator's send to the answer, ${fmtInt(d.latencyMs.ours.count)} / ${fmtInt(d.latencyMs.bare.count)} timed requests (ours / bare)`,
        `CPU busy in timed slices: ours driver ${fmtPct(d.cpuBusy.ours.driver)}, Node-RED ${fmtPct(d.cpuBusy.ours.epos)}; bare driver ${fmtPct(d.cpuBusy.bare.driver)}, bare client ${fmtPct(d.cpuBusy.bare.epos)}`,
        `checks (warm-up included): ${checkLine('ours', c.ours)}`,
        `                           ${checkLine('bare', c.bare)}`,
        `flow errors ${c.flowErrors}, slices cut ${c.cutSlices}: ${c.ok ? 'every request answered once with its own id, no errors' : 'PROBLEMS (see above)'}`,
        `server: ${d.server}`,
      ],
    ));
    out.push('');
  } else if (report.errors.dojo) out.push(`5. Inbound requests: FAILED TO RUN: ${report.errors.dojo.split('\n')[0]}\n`);

  const t = report.target;
  if (enabled(cfg, 'jsonrpc')) out.push(`TARGET ${t.name}: ${t.value === null ? 'not measured' : fmtRatio(t.value)} (>= ${t.target}) ${t.pass ? 'PASS' : 'FAIL'}`);
  else out.push(`TARGET ${t.name}: not run (BENCH_ONLY)`);
  const failed = Object.keys(report.errors);
  if (failed.length) out.push(`measurements that failed to run: ${failed.join(', ')}`);
  out.push(`done in ${Math.round((report.durationMs ?? 0) / 1000)} s; full figures in bench/results/latest.json`);
  return out.join('\n');
}

async function main(): Promise<number> {
  killChildrenOnExit();
  const cfg = loadConfig();
  const t0 = Date.now();
  const cpus = os.cpus();
  const report: Report = {
    startedAt: new Date(t0).toISOString(),
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.arch()} ${os.release()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
      loadavg: os.loadavg().map((v) => v.toFixed(2)).join(' '),
      totalMemory: os.totalmem(),
    },
    config: cfg,
    results: {},
    errors: {},
    target: { name: 'JSON-RPC ours/bare', value: null, target: cfg.rpc.target, pass: false },
  };
  const here = __dirname;
  const plan: Array<{ name: 'jsonrpc' | 'pay' | 'memory' | 'startup' | 'dojo'; file: string; execArgv: string[]; timeoutMs: number }> = [
    { name: 'jsonrpc', file: 'jsonrpc.js', execArgv: ['--expose-gc'], timeoutMs: 240_000 },
    { name: 'pay', file: 'pay-node.js', execArgv: ['--expose-gc'], timeoutMs: 300_000 },
    { name: 'memory', file: 'memory.js', execArgv: [], timeoutMs: 3 * (cfg.memory.connectTimeoutMs + 60_000) + 30_000 },
    { name: 'startup', file: 'startup.js', execArgv: [], timeoutMs: (cfg.startup.rounds + 1) * 2 * (cfg.startup.timeoutMs + 5_000) },
    { name: 'dojo', file: 'dojo-requests.js', execArgv: ['--expose-gc'], timeoutMs: 240_000 },
  ];
  for (const step of plan) {
    if (!enabled(cfg, step.name)) continue;
    log(`${step.name}: starting`);
    const s0 = Date.now();
    try {
      (report.results as Record<string, unknown>)[step.name] = await runChild(path.join(here, step.file), { execArgv: step.execArgv, timeoutMs: step.timeoutMs });
      log(`${step.name}: done in ${((Date.now() - s0) / 1000).toFixed(1)} s`);
    } catch (err) {
      report.errors[step.name] = (err as Error).message;
      log(`${step.name}: FAILED: ${(err as Error).message}`);
    }
  }
  const j = report.results.jsonrpc;
  if (j) report.target = { ...report.target, value: j.pairedRatio, pass: j.pass };
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.now() - t0;

  const jsonrpcRequested = enabled(cfg, 'jsonrpc');
  let code = 0;
  if (jsonrpcRequested && !report.target.pass) code = 1;
  else if (Object.keys(report.errors).length > 0) code = 2;
  report.exitCode = code;

  process.stdout.write(render(report) + '\n');
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  return code;
}

main().then((code) => {
  killAll();
  process.exitCode = code;
}, (err: Error) => {
  killAll();
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
