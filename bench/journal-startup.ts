// Measurement 8 (journal-startup): what retained payments cost a FileJournal when it opens,
// and how long a sweep of old segments holds the event loop.
//
// open   A folder with 35,000 finished payments (7 daily segment files of 5,000, today and the
//        6 days before: a week of retention at 5,000 a day) is written beforehand with the
//        journal's own record encoder: a pending and a finished record per payment, results
//        shaped like the Paymentsense simulator's. FileJournal.open() is timed, from call to
//        resolve, in a fresh Node process per open, on that folder and on an empty one; one
//        untimed open of each first (checks the entry count, warms the file cache), then
//        rounds alternating the order. Figure: median(full) - median(empty).
// sweep  A folder with 100,000 finished payments in 10 daily segments of 10,000 (13 to 4 days
//        ago) is written once and copied afresh for each round. In a fresh process the
//        journal is opened (untimed), a 1 ms setInterval probe and monitorEventLoopDelay
//        (resolution 1 ms) are started 20 ms ahead, and sweep(now - 7 days) runs (called from
//        a timer callback): it drops the 6 segments
//        older than the retention (60,000 entries) and walks the index of all 100,000. Figure:
//        the longest gap between two probe ticks (or the last tick and the sweep's end) while
//        the sweep ran: the longest single block of the event loop, plus up to 1 ms of timer
//        granularity.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { FileJournal } from '../lib/journal/file-journal';
import { loadConfig } from './config';
import { DAY_MS, scratchDir, segmentBytes, writeFinishedSegments } from './journal-data';
import { childMain, log, removeDir, runChild } from './proc';
import { median, round } from './stats';

type Kind = 'empty' | 'full';

export interface OpenRun {
  kind: Kind;
  ms: number;
  finished: number;
  damaged: number;
}

export interface SweepRun {
  /** Longest gap between 1 ms probe ticks during the sweep (ms). */
  maxGapMs: number;
  /** monitorEventLoopDelay max and p99 during the sweep (ms). */
  eldMaxMs: number;
  eldP99Ms: number;
  ticks: number;
  sweepMs: number;
  dropped: number;
  remaining: number;
  filesBefore: number;
  filesAfter: number;
}

export interface JournalStartupResult {
  open: {
    entries: number;
    segments: number;
    diskBytes: number;
    rounds: OpenRun[][];
    empty: { median: number; min: number; max: number };
    full: { median: number; min: number; max: number };
    /** median(full) - median(empty). */
    addedMs: number;
    /** Median of per-round differences. */
    pairedAddedMs: number;
    target: number;
    pass: boolean;
  };
  sweep: {
    entries: number;
    segments: number;
    expectedDropped: number;
    rounds: SweepRun[];
    /** Median over rounds of each round's longest block. */
    maxGapMs: { median: number; min: number; max: number };
    eldMaxMs: { median: number; max: number };
    sweepMs: { median: number };
    target: number;
    pass: boolean;
  };
}

const SELF = __filename;
const OPEN_DAYS = [6, 5, 4, 3, 2, 1, 0];
const SWEEP_DAYS = [13, 12, 11, 10, 9, 8, 7, 6, 5, 4];
const KEEP_MS = 7 * DAY_MS;

// ---- child sides ---------------------------------------------------------------------------

async function openOnce(dir: string): Promise<OpenRun> {
  const t0 = performance.now();
  const journal = await FileJournal.open(dir);
  const ms = performance.now() - t0;
  const { finished, damaged } = journal.stats;
  await journal.close();
  return { kind: 'empty', ms: round(ms, 2), finished, damaged };
}

async function sweepOnce(dir: string): Promise<SweepRun> {
  const journal = await FileJournal.open(dir);
  try {
    const filesBefore = segmentBytes(dir).files;
    const total = journal.size.finished;
    // Let the open settle (its file reads are done; timers run) before the probe starts.
    await new Promise((r) => setTimeout(r, 100));
    // Both probes start 20 ms before the sweep: monitorEventLoopDelay records nothing for its
    // first interval after enable(), so a block right at the sweep's start would be missed.
    const eld = monitorEventLoopDelay({ resolution: 1 });
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    let timing = false;
    const probe = setInterval(() => {
      const now = performance.now();
      if (timing && now - last > maxGap) maxGap = now - last;
      last = now;
      if (timing) ticks++;
    }, 1);
    eld.enable();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    last = t0;
    timing = true;
    const dropped = await journal.sweep(new Date(Date.now() - KEEP_MS));
    const end = performance.now();
    clearInterval(probe);
    eld.disable();
    if (end - last > maxGap) maxGap = end - last;
    const remaining = journal.size.finished;
    if (remaining !== total - dropped) throw new Error(`sweep dropped ${dropped} of ${total} but ${remaining} remain`);
    return {
      maxGapMs: round(maxGap, 2),
      eldMaxMs: round(eld.max / 1e6, 2),
      eldP99Ms: round(eld.percentile(99) / 1e6, 2),
      ticks,
      sweepMs: round(end - t0, 1),
      dropped,
      remaining,
      filesBefore,
      filesAfter: segmentBytes(dir).files,
    };
  } finally {
    await journal.close();
  }
}

// ---- parent side ---------------------------------------------------------------------------

const OPEN_TIMEOUT_MS = 60_000;

function openInChild(kind: Kind, dir: string): Promise<OpenRun> {
  return runChild<OpenRun>(SELF, { args: ['open', dir], timeoutMs: OPEN_TIMEOUT_MS }).then((r) => ({ ...r, kind }));
}

const spread = (values: number[]) => ({ median: round(median(values), 2), min: Math.min(...values), max: Math.max(...values) });

export async function main(): Promise<JournalStartupResult> {
  const cfg = loadConfig().journal;
  const scratch = scratchDir('journal-startup');
  try {
    // ---- open ----
    const fullDir = path.join(scratch, 'full');
    const emptyDir = path.join(scratch, 'empty');
    fs.mkdirSync(emptyDir, { recursive: true });
    const perDay = Math.ceil(cfg.startupEntries / OPEN_DAYS.length);
    const w0 = performance.now();
    const written = writeFinishedSegments(fullDir, OPEN_DAYS, perDay, 'T1');
    log(`journal-startup: wrote ${written.payments} finished payments (${(written.bytes / 1048576).toFixed(1)} MiB) in ${Math.round(performance.now() - w0)} ms`);
    for (const [kind, dir] of [['empty', emptyDir], ['full', fullDir]] as const) {
      const r = await openInChild(kind, dir);
      const want = kind === 'full' ? written.payments : 0;
      if (r.finished !== want || r.damaged !== 0) throw new Error(`${kind} folder opened with ${r.finished} finished (${r.damaged} damaged), expected ${want}`);
    }
    const rounds: OpenRun[][] = [];
    for (let r = 0; r < cfg.startupRounds; r++) {
      const order: Kind[] = r % 2 === 0 ? ['empty', 'full'] : ['full', 'empty'];
      const runs: OpenRun[] = [];
      for (const kind of order) runs.push(await openInChild(kind, kind === 'full' ? fullDir : emptyDir));
      rounds.push(runs);
      const get = (k: Kind) => runs.find((x) => x.kind === k)!.ms;
      log(`journal-startup open round ${r + 1}/${cfg.startupRounds}: empty ${get('empty')} ms, ${written.payments} entries ${get('full')} ms`);
    }
    const of = (k: Kind) => rounds.map((runs) => runs.find((x) => x.kind === k)!.ms);
    const empty = of('empty');
    const full = of('full');
    const addedMs = round(median(full) - median(empty), 2);
    const open: JournalStartupResult['open'] = {
      entries: written.payments,
      segments: OPEN_DAYS.length,
      diskBytes: written.bytes,
      rounds,
      empty: spread(empty),
      full: spread(full),
      addedMs,
      pairedAddedMs: round(median(full.map((v, i) => v - empty[i]!)), 2),
      target: cfg.startupTargetMs,
      pass: addedMs <= cfg.startupTargetMs,
    };
    removeDir(fullDir);
    removeDir(emptyDir);

    // ---- sweep ----
    const template = path.join(scratch, 'sweep-template');
    const perSegment = Math.ceil(cfg.sweepEntries / SWEEP_DAYS.length);
    const w1 = performance.now();
    const sw = writeFinishedSegments(template, SWEEP_DAYS, perSegment, 'S1');
    // As FileJournal.sweep counts: every segment up to the one before the cutoff's goes.
    const lastGone = Math.floor((Date.now() - KEEP_MS) / DAY_MS) - 1;
    const today = Math.floor(Date.now() / DAY_MS);
    const expectedDropped = SWEEP_DAYS.filter((ago) => today - ago <= lastGone).length * perSegment;
    log(`journal-startup: wrote ${sw.payments} finished payments for the sweep (${(sw.bytes / 1048576).toFixed(1)} MiB) in ${Math.round(performance.now() - w1)} ms`);
    const sweeps: SweepRun[] = [];
    for (let r = 0; r < cfg.sweepRounds; r++) {
      const copy = path.join(scratch, `sweep-${r}`);
      fs.cpSync(template, copy, { recursive: true });
      try {
        const run = await runChild<SweepRun>(SELF, { args: ['sweep', copy], timeoutMs: 120_000 });
        if (run.dropped !== expectedDropped) throw new Error(`sweep dropped ${run.dropped}, expected ${expectedDropped}`);
        sweeps.push(run);
        log(`journal-startup sweep round ${r + 1}/${cfg.sweepRounds}: longest block ${run.maxGapMs} ms (ELD max ${run.eldMaxMs} ms), ` +
          `sweep ${run.sweepMs} ms, dropped ${run.dropped}, ${run.filesBefore} -> ${run.filesAfter} files`);
      } finally {
        removeDir(copy);
      }
    }
    removeDir(template);
    const gaps = sweeps.map((s) => s.maxGapMs);
    const gapSpread = spread(gaps);
    return {
      open,
      sweep: {
        entries: sw.payments,
        segments: SWEEP_DAYS.length,
        expectedDropped,
        rounds: sweeps,
        maxGapMs: gapSpread,
        eldMaxMs: { median: round(median(sweeps.map((s) => s.eldMaxMs)), 2), max: Math.max(...sweeps.map((s) => s.eldMaxMs)) },
        sweepMs: { median: round(median(sweeps.map((s) => s.sweepMs)), 1) },
        target: cfg.sweepTargetMs,
        pass: gapSpread.median <= cfg.sweepTargetMs,
      },
    };
  } finally {
    removeDir(scratch);
  }
}

if (require.main === module) {
  const [mode, dir] = process.argv.slice(2);
  if (mode === 'open') childMain(() => openOnce(dir!));
  else if (mode === 'sweep') childMain(() => sweepOnce(dir!));
  else childMain(main);
}
