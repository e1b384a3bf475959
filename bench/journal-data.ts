// What the journal measurements (journal-pay, journal-heap, journal-startup) share: payments
// and results shaped like the Paymentsense simulator's (its own buildTransaction, mapped by the
// provider's own mapTransaction, so receipts carry the simulator's lines), segment files
// written ahead of a measurement with the journal's own record encoder, percentiles, and a
// scratch folder.

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { slimResult, type JournalEntry } from '../lib/core/journal';
import type { PaymentRequest, PaymentResult } from '../lib/core/types';
import { encodeRecord } from '../lib/journal/line-format';
import { segmentFile } from '../lib/journal/segment-writer';
import { mapTransaction } from '../lib/providers/paymentsense/mapping';
import { buildTransaction } from '../lib/simulators/paymentsense/result';
import { scriptFor } from '../lib/simulators/paymentsense/scenario';
import { tempDir } from './proc';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The two default GBP terminals that approve: chip & PIN and contactless (different receipts). */
const TERMINALS = ['VCM00001SIP0', 'VCM00002SCD0'];

/** A till's order reference: `T<till>-<yyyymmdd>-<n>`, about 20 characters. */
export function reference(prefix: string, n: number): string {
  return `${prefix}-20261204-${String(n).padStart(7, '0')}`;
}

/** The n-th sale: an approving amount (last two digits 00..39) on one of the two approving terminals. */
export function saleRequest(ref: string, n: number): PaymentRequest {
  return { kind: 'sale', amount: 1000 + (n % 40) + 100 * (n % 97), currency: 'GBP', reference: ref, terminalId: TERMINALS[n % TERMINALS.length]! };
}

/**
 * The result pos-pay would get for the request: the simulator's wire transaction (the card,
 * notifications and receipt lines of its script for this terminal and amount), mapped by the
 * Paymentsense provider. `raw` is the whole wire transaction, as in a real result; the journal
 * drops it (slimResult).
 */
export function simulatedResult(request: PaymentRequest, n: number, at: Date): PaymentResult {
  const tid = request.terminalId!;
  const script = scriptFor(tid, request.amount);
  const wire = buildTransaction({
    requestId: randomUUID(),
    tid,
    kind: 'sale',
    amount: request.amount,
    currency: request.currency,
    amountCashback: 0,
    amountGratuity: 0,
    transactionId: String(1_000_001 + n),
    transactionNumber: (n % 9999) + 1,
    result: script.signature ? 'SUCCESSFUL' : script.result,
    notifications: script.steps.map((s) => s.notification),
    at,
    ...(script.card ? { card: script.card } : {}),
  });
  return mapTransaction(wire, request);
}

/** The JSON text one slim result takes (what a repeat of the reference would get back). */
export function slimBytes(result: PaymentResult): number {
  return Buffer.byteLength(JSON.stringify(slimResult(result)));
}

/**
 * Writes `perSegment` finished payments into each of the daily segment files `days` days ago
 * (0 = today), as FileJournal itself writes them: a pending record when claimed, a finished
 * record (slim result) when done, both with the journal's own encoder. Returns the number of
 * payments and bytes written. Not fsync'd: these files are a fixture, not a journal in use.
 */
export function writeFinishedSegments(dir: string, daysAgo: number[], perSegment: number, refPrefix = 'T1'): { payments: number; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  let bytes = 0;
  const today = Math.floor(Date.now() / DAY_MS);
  for (const ago of [...daysAgo].sort((a, b) => b - a)) {
    const segment = today - ago;
    const dayStart = segment * DAY_MS;
    const fd = fs.openSync(segmentFile(dir, segment), 'a');
    try {
      const chunks: Buffer[] = [];
      let chunkBytes = 0;
      const flush = () => {
        if (chunks.length === 0) return;
        const buf = Buffer.concat(chunks);
        let done = 0;
        while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done);
        bytes += buf.length;
        chunks.length = 0;
        chunkBytes = 0;
      };
      for (let i = 0; i < perSegment; i++) {
        n++;
        // Spread over the day, a few seconds per payment, always inside the segment's period.
        const started = new Date(dayStart + Math.floor(((i + 0.5) / perSegment) * (DAY_MS - 60_000)));
        const finished = new Date(started.getTime() + 3_000);
        const request = saleRequest(reference(refPrefix, n), n);
        const pending: JournalEntry = { reference: request.reference, state: 'pending', attemptId: randomUUID(), request, startedAt: started.toISOString() };
        const done: JournalEntry = { ...pending, state: 'done', finishedAt: finished.toISOString(), result: slimResult(simulatedResult(request, n, finished)) };
        for (const rec of [encodeRecord('p', pending), encodeRecord('f', done)]) {
          chunks.push(rec);
          chunkBytes += rec.length;
        }
        if (chunkBytes > 1 << 20) flush();
      }
      flush();
    } finally {
      fs.closeSync(fd);
    }
  }
  return { payments: n, bytes };
}

/** Bytes of the journal's segment files in `dir`, and their count. */
export function segmentBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!/^journal-\d{12}\.log$/.test(name)) continue;
    files++;
    bytes += fs.statSync(path.join(dir, name)).size;
  }
  return { files, bytes };
}

/** Percentile of an ascending array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** p50/p99/max/mean (ms) of the first `count` values. */
export function summarize(values: Float64Array, count: number): LatencySummary {
  const sorted = values.slice(0, count).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { count, p50: r(percentile(sorted, 0.5)), p99: r(percentile(sorted, 0.99)), max: r(count ? sorted[count - 1]! : NaN), mean: r(count ? sum / count : NaN) };
}

/**
 * The folder a measurement may fill: BENCH_SCRATCH_DIR when the bench runner made one (it
 * removes it even when this process is killed), else a fresh one under os.tmpdir().
 */
export function scratchDir(prefix: string): string {
  const given = process.env.BENCH_SCRATCH_DIR;
  if (!given) return tempDir(prefix);
  fs.mkdirSync(given, { recursive: true });
  return fs.mkdtempSync(path.join(given, `${prefix}-`));
}
