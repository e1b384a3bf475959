// Measurement 6 (journal-pay): pos-pay with the durable file journal in its path against a
// function node doing equivalent work, side by side in one run. It is measurement 2's
// machinery (pay-node.ts: the same embedded Node-RED, simulator, flows, driver, slices and
// rounds), run with:
//
//   - POS_PAYMENTS_DIR set (in this process, before Node-RED starts) to a temporary folder
//     inside the runner's BENCH_SCRATCH_DIR (which the runner removes afterwards, even if this
//     process is killed), so the config node opens its FileJournal
//     there, not in a user directory; the bench checks that the config node's journal is a
//     FileJournal in that folder and that it took every pos-pay payment;
//   - FileJournal.prototype.claim and .finish wrapped to time each call from call to resolve
//     during the timed rounds (the durable write of the pending record, fsync included, and
//     of the result): the journal's commit latency under 64 payments in flight;
//   - the journal's flush counter (group commit) read before and after the timed rounds:
//     flushes per pos-pay payment.
//
// Then, in the same process with Node-RED stopped, a direct FileJournal run: 64 concurrent
// loops of claim + finish (a simulator-shaped result each) on a fresh folder, for the
// journal's own commit latency, flushes per payment and payments/s without Node-RED around it.

import path from 'node:path';
import type { Claim, JournalEntry } from '../lib/core/journal';
import type { PaymentRequest, PaymentResult } from '../lib/core/types';
import { FileJournal } from '../lib/journal/file-journal';
import { loadConfig } from './config';
import { reference, saleRequest, scratchDir, segmentBytes, simulatedResult, summarize, type LatencySummary } from './journal-data';
import { runPay, type PayResult } from './pay-node';
import { childMain, log, removeDir } from './proc';
import { round } from './stats';

export interface JournalPayResult {
  pay: PayResult;
  target: number;
  /** pay.pairedRatio >= target. */
  pass: boolean;
  journal: {
    /** The config node's journal is a FileJournal under POS_PAYMENTS_DIR. */
    fileJournal: boolean;
    /** Its folder, relative to POS_PAYMENTS_DIR. */
    folder: string;
    /** Timed rounds: FileJournal.claim, call -> resolve (ms). */
    claimMs: LatencySummary;
    /** Timed rounds: FileJournal.finish, call -> resolve (ms). */
    finishMs: LatencySummary;
    flushes: number;
    timedPayments: number;
    flushesPerPayment: number;
    /** Finished entries the journal held at the end vs pos-pay payments sent (warm-up included). */
    finishedEntries: number;
    posPayPayments: number;
    /** Segment files at the end: bytes per finished entry. */
    diskBytesPerPayment: number;
  };
  direct: {
    payments: number;
    inflight: number;
    ms: number;
    perSecond: number;
    claimMs: LatencySummary;
    finishMs: LatencySummary;
    flushesPerPayment: number;
    failures: number;
  };
}

// ---- timing FileJournal.claim / finish ----------------------------------------------------

interface Recorder {
  on: boolean;
  claims: Float64Array;
  finishes: Float64Array;
  nClaims: number;
  nFinishes: number;
}

const rec: Recorder = { on: false, claims: new Float64Array(0), finishes: new Float64Array(0), nClaims: 0, nFinishes: 0 };
const instances = new Set<FileJournal>();

function startRecording(capacity: number): void {
  rec.claims = new Float64Array(capacity);
  rec.finishes = new Float64Array(capacity);
  rec.nClaims = 0;
  rec.nFinishes = 0;
  rec.on = true;
}

/**
 * Wraps the prototype methods once, before Node-RED loads the pack: the pack's nodes require the
 * same compiled module (dist/lib/journal/file-journal.js, through the symlink's real path), so
 * the config node's journal runs through these wrappers.
 */
function instrument(): void {
  const proto = FileJournal.prototype;
  const claim = proto.claim;
  const finish = proto.finish;
  proto.claim = function (this: FileJournal, request: PaymentRequest, attemptId: string): Promise<Claim> {
    instances.add(this);
    if (!rec.on) return claim.call(this, request, attemptId);
    const t0 = performance.now();
    const p = claim.call(this, request, attemptId);
    p.then(() => { if (rec.on && rec.nClaims < rec.claims.length) rec.claims[rec.nClaims++] = performance.now() - t0; }, () => undefined);
    return p;
  };
  proto.finish = function (this: FileJournal, entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    if (!rec.on) return finish.call(this, entry, result);
    const t0 = performance.now();
    const p = finish.call(this, entry, result);
    p.then(() => { if (rec.on && rec.nFinishes < rec.finishes.length) rec.finishes[rec.nFinishes++] = performance.now() - t0; }, () => undefined);
    return p;
  };
}

// ---- the direct run --------------------------------------------------------------------------

async function directRun(dir: string, payments: number, inflight: number, limitMs: number): Promise<JournalPayResult['direct']> {
  const journal = await FileJournal.open(dir);
  try {
    // An untimed warm-up of a quarter as many first. Results are built before the clock
    // starts: only the journal is timed.
    const warmup = Math.ceil(payments / 4);
    const work: Array<{ request: PaymentRequest; result: PaymentResult }> = [];
    for (let n = 1; n <= warmup + payments; n++) {
      const request = saleRequest(reference('D1', n), n);
      work.push({ request, result: simulatedResult(request, n, new Date()) });
    }
    const claims = new Float64Array(payments);
    const finishes = new Float64Array(payments);
    let nc = 0;
    let nf = 0;
    let next = 0;
    let failures = 0;
    let timed = false;
    const deadline = performance.now() + limitMs;
    const run = (until: number) => {
      const loop = async (): Promise<void> => {
        while (next < until && performance.now() < deadline) {
          const { request, result } = work[next++]!;
          try {
            const c0 = performance.now();
            const claim = await journal.claim(request, `attempt-${request.reference}`);
            if (timed) claims[nc++] = performance.now() - c0;
            if (!claim.claimed) throw new Error(`reference ${request.reference} was already taken`);
            const f0 = performance.now();
            await journal.finish(claim.entry, result);
            if (timed) finishes[nf++] = performance.now() - f0;
          } catch {
            failures++;
          }
        }
      };
      return Promise.all(Array.from({ length: inflight }, loop));
    };
    await run(warmup);
    const flushes0 = journal.flushes;
    timed = true;
    const t0 = performance.now();
    await run(work.length);
    const ms = performance.now() - t0;
    const done = nf;
    return {
      payments: done,
      inflight,
      ms: round(ms),
      perSecond: round((done * 1000) / ms),
      claimMs: summarize(claims, nc),
      finishMs: summarize(finishes, nf),
      flushesPerPayment: round((journal.flushes - flushes0) / Math.max(1, done), 3),
      failures,
    };
  } finally {
    await journal.close();
  }
}

// ---- main --------------------------------------------------------------------------------------

export async function main(): Promise<JournalPayResult> {
  const all = loadConfig();
  const cfg = all.journal;
  // Always a fresh temporary folder (inside the runner's BENCH_SCRATCH_DIR, which the runner
  // removes even if this process is killed), whatever POS_PAYMENTS_DIR the shell may have set:
  // the config node reads it when it opens its journal.
  const packDir = path.resolve(scratchDir('journal-pay'));
  process.env.POS_PAYMENTS_DIR = packDir;
  instrument();
  try {
    let flushes0 = 0;
    let journal: FileJournal | undefined;
    let fileJournal = false;
    let timed: { flushes: number; claims: LatencySummary; finishes: LatencySummary } | undefined;
    const perSlice = Math.max(1, Math.ceil(all.pay.payments / all.pay.slices));
    const pay = await runPay({
      beforeTimed: async (RED) => {
        // The config node's own journal, as its connection holds it (a DeferredJournal around the FileJournal).
        const deferred = RED.nodes.getNode('cfg')?.connection?.journal;
        const opened: unknown = deferred && typeof deferred.whenOpen === 'function' ? await deferred.whenOpen() : undefined;
        fileJournal = opened instanceof FileJournal && path.resolve(opened.dir).startsWith(packDir + path.sep) && instances.has(opened);
        if (!(opened instanceof FileJournal)) throw new Error('the config node\'s journal is not a FileJournal');
        journal = opened;
        flushes0 = opened.flushes;
        startRecording(all.pay.rounds * all.pay.slices * perSlice + 1024);
      },
      afterTimed: () => {
        rec.on = false;
        timed = { flushes: journal!.flushes - flushes0, claims: summarize(rec.claims, rec.nClaims), finishes: summarize(rec.finishes, rec.nFinishes) };
      },
    });
    if (!journal || !timed) throw new Error('the pay run ended without its timed rounds');
    const j = journal as FileJournal;
    const t = timed as { flushes: number; claims: LatencySummary; finishes: LatencySummary };
    const posPayPayments = pay.checks.posPayApproved;
    const finishedEntries = j.size.finished;
    const disk = segmentBytes(j.dir);
    const timedPayments = t.claims.count;
    log(`journal-pay: claim p50 ${t.claims.p50} ms p99 ${t.claims.p99} ms, ${t.flushes} flushes for ${timedPayments} timed payments`);

    log(`journal-pay: direct FileJournal run, ${cfg.directPayments} payments, ${cfg.inflight} loops`);
    const directDir = path.join(packDir, 'direct');
    const direct = await directRun(directDir, cfg.directPayments, cfg.inflight, 120_000);
    removeDir(directDir);
    return {
      pay,
      target: cfg.payTarget,
      pass: Number.isFinite(pay.pairedRatio) && pay.pairedRatio >= cfg.payTarget,
      journal: {
        fileJournal,
        folder: path.relative(packDir, j.dir),
        claimMs: t.claims,
        finishMs: t.finishes,
        flushes: t.flushes,
        timedPayments,
        flushesPerPayment: round(t.flushes / Math.max(1, timedPayments), 3),
        finishedEntries,
        posPayPayments,
        diskBytesPerPayment: round(disk.bytes / Math.max(1, finishedEntries)),
      },
      direct,
    };
  } finally {
    removeDir(packDir);
  }
}

if (require.main === module) childMain(main);
