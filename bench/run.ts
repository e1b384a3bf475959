// `npm run bench`: every measurement in its own fresh Node process, one after the other, then
// one report on stdout and in bench/results/latest.json. Progress goes to stderr.
//
// Exit code: 0 when every target of the measurements run holds and every measurement ran; 1
// when a target is missed (JSON-RPC ratios at 64 and at 1 in flight, Dojo inbound ours/core,
// journal-pay ratio, journal-heap, journal-startup, frame-gap)
// or could not be measured; 2 when another measurement failed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { enabled, loadConfig, type BenchConfig } from './config';
import type { DojoResult } from './dojo-requests';
import type { FrameGapResult } from './frame-gap';
import type { JournalHeapResult } from './journal-heap';
import type { JournalPayResult } from './journal-pay';
import type { JournalSharedResult } from './journal-shared';
import type { JournalStartupResult } from './journal-startup';
import type { JsonRpcResult } from './jsonrpc';
import type { MemoryResult } from './memory';
import type { PayResult } from './pay-node';
import { ROOT, killAll, killChildrenOnExit, log, removeDir, runChild, tempDir } from './proc';
import type { StartupResult } from './startup';
import { fmtBytes, fmtInt, fmtMs, fmtRatio, median, table } from './stats';

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
    'journal-pay'?: JournalPayResult;
    'journal-heap'?: JournalHeapResult;
    'journal-startup'?: JournalStartupResult;
    'journal-shared'?: JournalSharedResult;
    'frame-gap'?: FrameGapResult;
  };
  errors: Record<string, string>;
  /** Every target of the measurements run, in report order. */
  targets: TargetLine[];
  exitCode?: number;
}

interface TargetLine {
  measurement: string;
  name: string;
  /** null: not measured (the measurement failed to run). */
  value: number | null;
  shown: string;
  target: string;
  pass: boolean;
}

/** The median of the per-round ratios with their min and max, and the ratio of the medians. */
function ratioLine(name: string, paired: number, ratios: { min: number; max: number }, ofMedians: number): string {
  return `ratio ${name}: ${fmtRatio(paired)} (median of per-round ratios, min ${fmtRatio(ratios.min)}, max ${fmtRatio(ratios.max)}; ratio of medians ${fmtRatio(ofMedians)})`;
}

interface Paired {
  pairedRatio: number;
  ratios: { min: number; max: number };
  ratio: number;
  rounds: Array<{ ratio: number }>;
}

/** The ratio against its target, and the per-round ratios: the first notes of a paired measurement. */
function ratioNotes(name: string, r: Paired, target: number, pass: boolean): string[] {
  return [
    `${ratioLine(name, r.pairedRatio, r.ratios, r.ratio)}  target >= ${target}  ${pass ? 'PASS' : 'FAIL'}`,
    `per-round ratios: ${r.rounds.map((x) => fmtRatio(x.ratio)).join(', ')}`,
  ];
}

/** Measurements 2 and 6 run the same pay machinery: its table, and the notes on ratio and latency. */
function payFigures(p: PayResult, labels: { posPay: string; functionNode: string }, target: number, pass: boolean): { body: string; notes: string[] } {
  return {
    body: table([
      ['contender', 'median payments/s', 'min', 'max', 'p50 latency', 'p99 latency'],
      rateRow(labels.posPay, p.posPay, p.latencyMs.posPay),
      rateRow(labels.functionNode, p.functionNode, p.latencyMs.functionNode),
    ]),
    notes: [
      ...ratioNotes('pos-pay/function', p, target, pass),
      `latency: each payment from receive() to its msg at the sink, ${fmtInt(p.latencyMs.posPay.count)} / ${fmtInt(p.latencyMs.functionNode.count)} timed payments (pos-pay / function)`,
      ...(p.cpuUs ? [
        `per payment (pos-pay / function): event loop busy ${p.cpuUs.posPay.loopBusy} / ${p.cpuUs.functionNode.loopBusy} µs, idle ${p.cpuUs.posPay.loopIdle} / ${p.cpuUs.functionNode.loopIdle} µs; ` +
          `CPU of this process, all its threads (GC, file writes), ${p.cpuUs.posPay.processCpu} / ${p.cpuUs.functionNode.processCpu} µs`,
      ] : []),
    ],
  };
}

function section(title: string, body: string, notes: string[] = []): string {
  return [`${title}`, body, ...notes.map((n) => `  ${n}`)].join('\n');
}

function fmtLatency(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(ms < 1 ? 3 : 2)} ms` : 'n/a';
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
    for (const [i, run] of j.runs.entries()) {
      out.push(section(
        `1${'ab'[i] ?? ''}. JSON-RPC path vs bare ws: ${j.method}, ${run.inflight} in flight, ${run.rounds.length} rounds x ${run.slicesPerRound} interleaved slices, ${fmtInt(run.requestsPerRound)} req per contender per round`,
        table([
          ['contender', 'median req/s', 'min', 'max', 'p50 latency', 'p99 latency'],
          rateRow('ours (ReconnectingSocket + JsonRpcPeer + ajv isWireTerminal)', run.ours, run.latencyMs.ours),
          rateRow('bare ws (Map of ids, JSON.stringify/parse, no validation)', run.bare, run.latencyMs.bare),
        ]),
        [
          ...ratioNotes('ours/bare', run, run.target, run.pass),
          `latency: each request from call to validated result, ${fmtInt(run.latencyMs.ours.count)} / ${fmtInt(run.latencyMs.bare.count)} timed requests (ours / bare)`,
          `server: ${j.server}; failed requests ${run.failures}, slices cut by the time limit ${run.cutSlices}`,
        ],
      ));
      out.push('');
    }
  } else if (report.errors.jsonrpc) out.push(`1. JSON-RPC path vs bare ws: FAILED TO RUN: ${report.errors.jsonrpc.split('\n')[0]}\n`);

  const p = report.results.pay;
  if (p) {
    const target = report.config.pay.target;
    const f = payFigures(p, { posPay: 'pos-paymentsense + pos-pay', functionNode: 'function node + raw ws client (same sale frame)' }, target, p.pairedRatio >= target);
    out.push(section(
      `2. Payments: pos-pay vs function node (same Node-RED, same simulator, instant mode), ${p.inflight} in flight, ${p.rounds.length} rounds x ${p.slicesPerRound} slices, ${fmtInt(p.paymentsPerRound)} payments per contender per round`,
      f.body,
      [
        ...f.notes,
        `checks: approved pos-pay ${p.checks.posPayApproved}, function ${p.checks.functionApproved}, errors ${p.checks.errors}, not approved ${p.checks.notApproved}, ` +
          `simulator ledger ${p.checks.simulatorLedger} for ${p.checks.sent} sent, slices cut ${p.checks.cutSlices}`,
        `retained after GC: ${fmtBytes(p.retained.heapBytesPerPosPayPayment)} heap per pos-pay payment; ${fmtInt(p.retained.journalEntries)} entries in the file journal at the end`,
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
      `5. Inbound requests: ${d.method} answered by pos-request-in -> function -> pos-response vs the core websocket flow and bare ws, ${d.inflight} in flight, ${d.rounds.length} rounds x ${d.slicesPerRound} slices, ${fmtInt(d.requestsPerRound)} requests per contender per round`,
      table([
        ['contender', 'median req/s', 'min', 'max', 'p50 latency', 'p99 latency'],
        rateRow('ours: pos-dojo + pos-request-in -> function -> pos-response', d.ours, d.latencyMs.ours),
        rateRow('core: websocket-client + websocket in -> function -> websocket out', d.core, d.latencyMs.core),
        rateRow('bare ws client (JSON.parse, fixed Order, JSON.stringify)', d.bare, d.latencyMs.bare),
      ]),
      [
        `${ratioLine('ours/core', d.pairedRatio, d.ratios, d.ratio)}  target >= ${d.target}  ${d.pass ? 'PASS' : 'FAIL'}`,
        `${ratioLine('ours/bare', d.oursPerBare.pairedRatio, d.oursPerBare.ratios, d.ours.median / d.bare.median)}  no target`,
        `per-round ratios ours/core: ${d.rounds.map((r) => fmtRatio(r.ratio)).join(', ')}; ours/bare: ${d.rounds.map((r) => fmtRatio(r.bareRatio)).join(', ')}`,
        `latency: from the simulator's send to the answer, ${fmtInt(d.latencyMs.ours.count)} / ${fmtInt(d.latencyMs.core.count)} / ${fmtInt(d.latencyMs.bare.count)} timed requests (ours / core / bare)`,
        `CPU busy in timed slices: ours driver ${fmtPct(d.cpuBusy.ours.driver)}, Node-RED ${fmtPct(d.cpuBusy.ours.epos)}; core driver ${fmtPct(d.cpuBusy.core.driver)}, Node-RED ${fmtPct(d.cpuBusy.core.epos)}; ` +
          `bare driver ${fmtPct(d.cpuBusy.bare.driver)}, bare client ${fmtPct(d.cpuBusy.bare.epos)}`,
        `checks (warm-up included): ${checkLine('ours', c.ours)}`,
        `                           ${checkLine('core', c.core)}`,
        `                           ${checkLine('bare', c.bare)}`,
        `flow errors ${c.flowErrors}, slices cut ${c.cutSlices}: ${c.ok ? 'every request answered once with its own id, no errors' : 'PROBLEMS (see above)'}`,
        `server: ${d.server}`,
      ],
    ));
    out.push('');
  } else if (report.errors.dojo) out.push(`5. Inbound requests: FAILED TO RUN: ${report.errors.dojo.split('\n')[0]}\n`);

  const jp = report.results['journal-pay'];
  if (jp) {
    const p2 = jp.pay;
    const jj = jp.journal;
    const lat = (l: { p50: number; p99: number; max: number }) => `p50 ${fmtLatency(l.p50)}, p99 ${fmtLatency(l.p99)}, max ${fmtLatency(l.max)}`;
    const f = payFigures(p2, { posPay: 'pos-paymentsense + pos-pay (FileJournal, fsync, group commit)', functionNode: 'function node + raw ws client (same sale frame, no journal)' }, jp.target, jp.pass);
    out.push(section(
      `6. journal-pay: pos-pay with the durable file journal vs function node (measurement 2's machinery, POS_PAYMENTS_DIR = a temp folder), ${p2.inflight} in flight, ${p2.rounds.length} rounds x ${p2.slicesPerRound} slices, ${fmtInt(p2.paymentsPerRound)} payments per contender per round`,
      f.body,
      [
        ...f.notes,
        `journal: ${jj.fileJournal ? 'the config node\'s journal is a FileJournal' : 'WARNING: not the expected FileJournal'} in <POS_PAYMENTS_DIR>/${jj.folder}; ` +
          `${fmtInt(jj.finishedEntries)} finished entries for ${fmtInt(jj.posPayPayments)} approved pos-pay payments; ${fmtBytes(jj.diskBytesPerPayment)} on disk per payment`,
        `commit latency in the timed rounds (${fmtInt(jj.claimMs.count)} payments): claim ${lat(jj.claimMs)}; finish ${lat(jj.finishMs)}`,
        `flushes (durable writes) per pos-pay payment: ${jj.flushesPerPayment} (${fmtInt(jj.flushes)} for ${fmtInt(jj.timedPayments)})`,
        `direct FileJournal, ${jp.direct.inflight} claim+finish loops, ${fmtInt(jp.direct.payments)} payments: ${fmtInt(jp.direct.perSecond)}/s, claim ${lat(jp.direct.claimMs)}; ` +
          `finish ${lat(jp.direct.finishMs)}; ${jp.direct.flushesPerPayment} flushes per payment${jp.direct.failures ? `; ${jp.direct.failures} FAILED` : ''}`,
        `checks: approved pos-pay ${p2.checks.posPayApproved}, function ${p2.checks.functionApproved}, errors ${p2.checks.errors}, not approved ${p2.checks.notApproved}, ` +
          `simulator ledger ${p2.checks.simulatorLedger} for ${p2.checks.sent} sent, slices cut ${p2.checks.cutSlices}`,
      ],
    ));
    out.push('');
  } else if (report.errors['journal-pay']) out.push(`6. journal-pay: FAILED TO RUN: ${report.errors['journal-pay'].split('\n')[0]}\n`);

  const jh = report.results['journal-heap'];
  if (jh) {
    out.push(section(
      `7. journal-heap: heap per retained finished payment, FileJournal (opened on yesterday's segment of ${fmtInt(jh.yesterdayPayments)}), ${fmtInt(jh.payments)} payments after ${fmtInt(jh.warmupPayments)} warm-up, ${jh.inflight} claim+finish loops, after full GC`,
      table([
        ['figure', 'value'],
        ['heap used per payment', fmtBytes(jh.heapBytesPerPayment)],
        ['external memory per payment', fmtBytes(jh.externalBytesPerPayment)],
        ['on disk per payment (pending + finished record)', fmtBytes(jh.disk.bytesPerPayment)],
        ['slim result JSON, mean', fmtBytes(jh.slimResultBytes)],
      ]),
      [
        `heap per payment ${fmtBytes(jh.heapBytesPerPayment)}  target <= ${fmtBytes(jh.target)}  ${jh.pass ? 'PASS' : 'FAIL'}${jh.gcExposed ? '' : ' (gc not exposed: not measured)'}`,
        `heapUsed ${fmtBytes(jh.heapUsedBefore)} -> ${fmtBytes(jh.heapUsedAfter)}; journal holds ${fmtInt(jh.journal.finished)} finished, ${jh.journal.pending} pending; ` +
          `${jh.disk.files} segment file(s), ${fmtBytes(jh.disk.bytes)}; first and last reference read back: ${jh.readBack ? 'yes' : 'NO'}`,
        `fill: ${fmtInt(jh.fillPerSecond)} payments/s, ${jh.flushesPerPayment} flushes per payment`,
      ],
    ));
    out.push('');
  } else if (report.errors['journal-heap']) out.push(`7. journal-heap: FAILED TO RUN: ${report.errors['journal-heap'].split('\n')[0]}\n`);

  const js = report.results['journal-startup'];
  if (js) {
    const o = js.open;
    const w = js.sweep;
    out.push(section(
      `8. journal-startup: FileJournal.open() with ${fmtInt(o.entries)} finished entries (${o.segments} daily segments, ${fmtBytes(o.diskBytes)}) vs an empty folder, a fresh process per open, ${o.rounds.length} alternating rounds`,
      table([
        ['folder', 'median', 'min', 'max'],
        ['empty', fmtLatency(o.empty.median), fmtLatency(o.empty.min), fmtLatency(o.empty.max)],
        [`${fmtInt(o.entries)} finished entries`, fmtLatency(o.full.median), fmtLatency(o.full.min), fmtLatency(o.full.max)],
      ]),
      [
        `added by the entries: ${fmtLatency(o.addedMs)} (difference of medians; median of per-round differences ${fmtLatency(o.pairedAddedMs)})  target <= ${o.target} ms  ${o.pass ? 'PASS' : 'FAIL'}`,
        `sweep(now - 7 days) of ${fmtInt(w.entries)} finished entries in ${w.segments} daily segments, dropping ${fmtInt(w.expectedDropped)}, ${w.rounds.length} rounds in fresh processes:`,
        `  longest event-loop block (gap between 1 ms probe ticks): median ${fmtLatency(w.maxGapMs.median)}, min ${fmtLatency(w.maxGapMs.min)}, max ${fmtLatency(w.maxGapMs.max)}  target <= ${w.target} ms  ${w.pass ? 'PASS' : 'FAIL'}`,
        `  monitorEventLoopDelay max: median ${fmtLatency(w.eldMaxMs.median)}, max ${fmtLatency(w.eldMaxMs.max)}; whole sweep took ${fmtLatency(w.sweepMs.median)} (median)`,
      ],
    ));
    out.push('');
  } else if (report.errors['journal-startup']) out.push(`8. journal-startup: FAILED TO RUN: ${report.errors['journal-startup'].split('\n')[0]}\n`);

  const sh = report.results['journal-shared'];
  if (sh) {
    const row = (name: string, cs: Array<{ perSecond: number; latency: { p50: number; p99: number } }>) => [
      name, `${fmtInt(median(cs.map((c) => c.perSecond)))}/s`, `${fmtInt(Math.min(...cs.map((c) => c.perSecond)))}–${fmtInt(Math.max(...cs.map((c) => c.perSecond)))}/s`,
      fmtLatency(median(cs.map((c) => c.latency.p50))), fmtLatency(median(cs.map((c) => c.latency.p99))),
    ];
    out.push(section(
      `9. journal-shared: two instances on one PostgreSQL journal (library, no Node-RED), ${sh.rounds} interleaved rounds`,
      table([
        ['contender', 'median', 'min–max', 'p50', 'p99'],
        row(`Paymentsense, shared PostgreSQL journal, ${sh.inflight} in flight over both`, sh.paymentsense.postgres),
        row('Paymentsense, the same pair on two file journals', sh.paymentsense.file),
        row(`Modulus sent to the lease holder, ${sh.modulus.inflight} in flight`, sh.modulus.holder),
        row('Modulus handed over by the standby', sh.modulus.handedOver),
      ]),
      [
        `shared / file journals: ${fmtRatio(sh.paymentsense.ratio)}; handed over / holder: ${fmtRatio(sh.modulus.ratio)} (medians of round rates)`,
        `lease takeover with leaseSeconds ${sh.lease.leaseSeconds}: after a crash ${sh.lease.crashMs.join(' / ')} ms, after a graceful stop ${sh.lease.gracefulMs.join(' / ')} ms  target <= ${sh.lease.targetMs} ms  ${sh.lease.pass ? 'PASS' : 'FAIL'}`,
      ],
    ));
    out.push('');
  } else if (report.errors['journal-shared']) out.push(`9. journal-shared: FAILED TO RUN: ${report.errors['journal-shared'].split('\n')[0]}\n`);
  const fg = report.results['frame-gap'];
  if (fg) {
    const shown = (r: { provider: string; shape: string; frame: number; bytes: number }) => `${r.provider} ${r.shape} #${r.frame} (${fmtBytes(r.bytes)})`;
    // One line per shape and provider: its worst frame.
    const worstOf = new Map<string, FrameGapResult['rows'][number]>();
    for (const r of fg.rows) {
      const key = `${r.provider}|${r.shape}`;
      const w = worstOf.get(key);
      if (!w || r.ours > w.ours) worstOf.set(key, r);
    }
    out.push(section(
      `10. frame-gap: longest event-loop block handling one huge frame (${fmtBytes(fg.valueBytes)} values of ${new Set(fg.rows.map((r) => r.shape)).size} shapes, ${fg.rows.length} frames), adapter vs bare ws + JSON.parse, median of ${fg.repeats} interleaved sends`,
      table([
        ['provider, shape: worst frame', 'adapter', 'bare ws', 'ratio'],
        ...[...worstOf.values()].map((r) => [shown(r), fmtLatency(r.ours), fmtLatency(r.bare), fmtRatio(r.ours / r.bare)]),
      ]),
      [
        `worst in the adapters: ${shown(fg.worst.ours)} ${fmtLatency(fg.worst.ours.ours)}  target <= ${fg.target} ms  ${fg.pass ? 'PASS' : 'FAIL'}`,
        `worst in the bare client: ${shown(fg.worst.bare)} ${fmtLatency(fg.worst.bare.bare)} (JSON.parse alone)`,
        `connections seen by the servers: ${Object.entries(fg.connections).map(([p, n]) => `${p} ${n} (expected ${fg.expectedConnections[p as keyof typeof fg.connections]})`).join(', ')}; 1 = survived every frame`,
      ],
    ));
    out.push('');
  } else if (report.errors['frame-gap']) out.push(`10. frame-gap: FAILED TO RUN: ${report.errors['frame-gap'].split('\n')[0]}\n`);

  for (const t of report.targets) out.push(`TARGET ${t.name}: ${t.value === null ? 'not measured' : t.shown} (${t.target}) ${t.pass ? 'PASS' : 'FAIL'}`);
  const failed = Object.keys(report.errors);
  if (failed.length) out.push(`measurements that failed to run: ${failed.join(', ')}`);
  out.push(`done in ${Math.round((report.durationMs ?? 0) / 1000)} s; full figures in bench/results/latest.json`);
  return out.join('\n');
}

/** The targets of the measurements that were asked for; one not measured counts as missed. */
/** One contender's row: its rate (median, min, max over the rounds) and its p50/p99 latency. */
function rateRow(label: string, rate: { median: number; min: number; max: number }, latency: { p50: number; p99: number }): string[] {
  return [label, fmtInt(rate.median), fmtInt(rate.min), fmtInt(rate.max), fmtLatency(latency.p50), fmtLatency(latency.p99)];
}

function targets(report: Report): TargetLine[] {
  const cfg = report.config;
  const out: TargetLine[] = [];
  if (enabled(cfg, 'jsonrpc')) {
    const r = report.results.jsonrpc;
    for (const [i, sizes] of [cfg.rpc, cfg.rpc.low].entries()) {
      const run = r?.runs[i];
      out.push({ measurement: 'jsonrpc', name: `JSON-RPC ours/bare at ${sizes.inflight} in flight`, value: run ? run.pairedRatio : null, shown: run ? fmtRatio(run.pairedRatio) : 'n/a', target: `>= ${sizes.target}`, pass: !!run?.pass });
    }
  }
  if (enabled(cfg, 'pay')) {
    const r = report.results.pay;
    out.push({ measurement: 'pay', name: 'pos-pay/function', value: r ? r.pairedRatio : null, shown: r ? fmtRatio(r.pairedRatio) : 'n/a', target: `>= ${cfg.pay.target}`, pass: !!r && r.pairedRatio >= cfg.pay.target });
  }
  if (enabled(cfg, 'dojo')) {
    const r = report.results.dojo;
    out.push({ measurement: 'dojo', name: 'Dojo inbound ours/core websocket flow', value: r ? r.pairedRatio : null, shown: r ? fmtRatio(r.pairedRatio) : 'n/a', target: `>= ${cfg.dojo.target}`, pass: !!r?.pass });
  }
  if (enabled(cfg, 'journal-pay')) {
    const r = report.results['journal-pay'];
    out.push({ measurement: 'journal-pay', name: 'journal-pay pos-pay/function', value: r ? r.pay.pairedRatio : null, shown: r ? fmtRatio(r.pay.pairedRatio) : 'n/a', target: `>= ${cfg.journal.payTarget}`, pass: !!r?.pass });
  }
  if (enabled(cfg, 'journal-heap')) {
    const r = report.results['journal-heap'];
    out.push({ measurement: 'journal-heap', name: 'journal-heap heap per retained payment', value: r ? r.heapBytesPerPayment : null, shown: r ? fmtBytes(r.heapBytesPerPayment) : 'n/a', target: `<= ${fmtBytes(cfg.journal.heapTargetBytes)}`, pass: !!r?.pass });
  }
  if (enabled(cfg, 'journal-startup')) {
    const r = report.results['journal-startup'];
    out.push({ measurement: 'journal-startup', name: `journal-startup open() added by ${fmtInt(cfg.journal.startupEntries)} entries`, value: r ? r.open.addedMs : null, shown: r ? fmtLatency(r.open.addedMs) : 'n/a', target: `<= ${cfg.journal.startupTargetMs} ms`, pass: !!r?.open.pass });
    out.push({ measurement: 'journal-startup', name: `journal-startup longest block during sweep of ${fmtInt(cfg.journal.sweepEntries)}`, value: r ? r.sweep.maxGapMs.median : null, shown: r ? fmtLatency(r.sweep.maxGapMs.median) : 'n/a', target: `<= ${cfg.journal.sweepTargetMs} ms`, pass: !!r?.sweep.pass });
  }
  if (enabled(cfg, 'journal-shared')) {
    const r = report.results['journal-shared'];
    const worst = r ? Math.max(...r.lease.crashMs, ...r.lease.gracefulMs) : null;
    out.push({ measurement: 'journal-shared', name: 'journal-shared lease takeover (slowest)', value: worst, shown: worst === null ? 'n/a' : fmtLatency(worst), target: r ? `<= ${r.lease.targetMs} ms` : '<= leaseSeconds + 5 s', pass: !!r?.lease.pass });
  }
  if (enabled(cfg, 'frame-gap')) {
    const r = report.results['frame-gap'];
    out.push({ measurement: 'frame-gap', name: 'frame-gap longest block on one huge frame', value: r ? r.worst.ours.ours : null, shown: r ? fmtLatency(r.worst.ours.ours) : 'n/a', target: `<= ${cfg.frameGap.targetMs} ms`, pass: !!r?.pass });
  }
  return out;
}

/** Scratch folders of measurements still running: removed on exit too (an interrupt exits at once). */
const scratches = new Set<string>();

async function main(): Promise<number> {
  killChildrenOnExit();
  process.once('exit', () => { for (const dir of scratches) removeDir(dir); });
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
    targets: [],
  };
  const here = __dirname;
  const jc = cfg.journal;
  const plan: Array<{ name: keyof Report['results']; file: string; execArgv: string[]; timeoutMs: number; scratch?: 'POS_PAYMENTS_DIR' | 'BENCH_SCRATCH_DIR'; env?: Record<string, string> }> = [
    { name: 'jsonrpc', file: 'jsonrpc.js', execArgv: ['--expose-gc'], timeoutMs: 240_000 },
    { name: 'pay', file: 'pay-node.js', execArgv: ['--expose-gc'], timeoutMs: 300_000, scratch: 'POS_PAYMENTS_DIR' },
    { name: 'memory', file: 'memory.js', execArgv: [], timeoutMs: 3 * (cfg.memory.connectTimeoutMs + 60_000) + 30_000, scratch: 'POS_PAYMENTS_DIR' },
    { name: 'startup', file: 'startup.js', execArgv: [], timeoutMs: (cfg.startup.rounds + 1) * 2 * (cfg.startup.timeoutMs + 5_000), scratch: 'POS_PAYMENTS_DIR' },
    { name: 'dojo', file: 'dojo-requests.js', execArgv: ['--expose-gc'], timeoutMs: 240_000, scratch: 'POS_PAYMENTS_DIR' },
    // Every measurement that writes journals gets a temporary folder made (and removed) here,
    // so it goes even when the measurement's process is killed, and a POS_PAYMENTS_DIR of the
    // shell is never written: those that start Node-RED with the pack get it as
    // POS_PAYMENTS_DIR (where config nodes open their journals), the journal measurements as
    // BENCH_SCRATCH_DIR (journal-pay sets its own POS_PAYMENTS_DIR inside it).
    { name: 'journal-pay', file: 'journal-pay.js', execArgv: ['--expose-gc'], timeoutMs: 420_000, scratch: 'BENCH_SCRATCH_DIR' },
    { name: 'journal-heap', file: 'journal-heap.js', execArgv: ['--expose-gc'], timeoutMs: 120_000 + Math.ceil(jc.heapPayments / 100), scratch: 'BENCH_SCRATCH_DIR' },
    { name: 'journal-startup', file: 'journal-startup.js', execArgv: [], timeoutMs: 120_000 + (2 * jc.startupRounds + 2) * 60_000 + jc.sweepRounds * 120_000, scratch: 'BENCH_SCRATCH_DIR' },
    // Starts its own throwaway PostgreSQL cluster (Debian postgresql, as the tests do).
    { name: 'journal-shared', file: 'journal-shared.js', execArgv: [], timeoutMs: 600_000, scratch: 'BENCH_SCRATCH_DIR', ...(cfg.quick ? { env: { BENCH_SHARED_ROUNDS: '2', BENCH_SHARED_PAYMENTS: '200' } } : {}) },
    { name: 'frame-gap', file: 'frame-gap.js', execArgv: [], timeoutMs: 120_000 + cfg.frameGap.repeats * 60_000 },
  ];
  for (const step of plan) {
    if (!enabled(cfg, step.name)) continue;
    log(`${step.name}: starting`);
    const s0 = Date.now();
    const scratch = step.scratch ? tempDir(step.name) : undefined;
    if (scratch) scratches.add(scratch);
    try {
      const env = step.scratch && scratch ? { ...step.env, [step.scratch]: scratch } : step.env;
      (report.results as Record<string, unknown>)[step.name] = await runChild(path.join(here, step.file), { execArgv: step.execArgv, timeoutMs: step.timeoutMs, ...(env ? { env } : {}) });
      log(`${step.name}: done in ${((Date.now() - s0) / 1000).toFixed(1)} s`);
    } catch (err) {
      report.errors[step.name] = (err as Error).message;
      log(`${step.name}: FAILED: ${(err as Error).message}`);
    } finally {
      if (scratch) {
        removeDir(scratch);
        scratches.delete(scratch);
      }
    }
  }
  report.targets = targets(report);
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.now() - t0;

  let code = 0;
  if (report.targets.some((t) => !t.pass)) code = 1;
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
