// Measurement 7 (journal-heap): heap a FileJournal keeps per retained finished payment.
//
// In an --expose-gc process: open a FileJournal in a temporary folder that already holds
// yesterday's segment (1,000 finished payments: as in a journal in use for more than a day,
// today's records are then not in the journal's first segment slot, so their locations are
// past 2^32 and not small integers; a first-day-only journal would flatter the figure), run a warm-up of
// payments (so code is compiled, the segment file is open and one-time allocations are made),
// force GC and read heapUsed; then claim + finish N more payments (default 100,000) from 64
// concurrent loops, each finish with a result shaped like the Paymentsense simulator's (its
// receipt lines, card, ids; the raw wire transaction too, which the journal drops), force GC
// again and read heapUsed. (after - before) / N is the heap each retained finished payment
// costs. Also: the bytes its segment files take per payment, and a read-back of the first and
// last reference (a repeat must still get its result from disk).

import type { PaymentRequest } from '../lib/core/types';
import { FileJournal } from '../lib/journal/file-journal';
import { loadConfig } from './config';
import { reference, saleRequest, scratchDir, segmentBytes, simulatedResult, slimBytes, writeFinishedSegments } from './journal-data';
import { childMain, log, removeDir } from './proc';
import { round } from './stats';

export interface JournalHeapResult {
  payments: number;
  warmupPayments: number;
  /** Finished payments in yesterday's segment, there before the journal opened. */
  yesterdayPayments: number;
  inflight: number;
  gcExposed: boolean;
  heapUsedBefore: number;
  heapUsedAfter: number;
  heapBytesPerPayment: number;
  /** Same, external memory (Buffers). */
  externalBytesPerPayment: number;
  target: number;
  pass: boolean;
  journal: { finished: number; pending: number };
  disk: { files: number; bytes: number; bytesPerPayment: number };
  /** Mean JSON size of one slim result (what a repeat gets back). */
  slimResultBytes: number;
  fillMs: number;
  fillPerSecond: number;
  flushesPerPayment: number;
  /** The first and the last reference read back from the journal after the measurement. */
  readBack: boolean;
}

const gcAll = async (): Promise<void> => {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
};

async function fill(journal: FileJournal, from: number, count: number, inflight: number, slimSample: { bytes: number; n: number }): Promise<number> {
  let next = from;
  const end = from + count;
  let failures = 0;
  const loop = async (): Promise<void> => {
    while (next < end) {
      const n = next++;
      const request: PaymentRequest = saleRequest(reference('T1', n), n);
      try {
        const claim = await journal.claim(request, `attempt-${n}`);
        if (!claim.claimed) throw new Error(`reference ${request.reference} was already taken`);
        const result = simulatedResult(request, n, new Date());
        if (n % 1000 === 0) {
          slimSample.bytes += slimBytes(result);
          slimSample.n++;
        }
        await journal.finish(claim.entry, result);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  return failures;
}

export async function main(): Promise<JournalHeapResult> {
  const cfg = loadConfig();
  const { heapPayments: payments, inflight, heapTargetBytes } = cfg.journal;
  const warmup = cfg.quick ? 2_000 : 5_000;
  const dir = scratchDir('journal-heap');
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  let journal: FileJournal | undefined;
  try {
    const yesterday = writeFinishedSegments(dir, [1], 1_000, 'Y1').payments;
    journal = await FileJournal.open(dir);
    const slim = { bytes: 0, n: 0 };
    let failures = await fill(journal, 1, warmup, inflight, slim);
    await gcAll();
    const before = process.memoryUsage();
    const flushes0 = journal.flushes;
    log(`journal-heap: warm-up of ${warmup} done, heapUsed ${before.heapUsed}; filling ${payments}`);
    const t0 = performance.now();
    failures += await fill(journal, warmup + 1, payments, inflight, slim);
    const fillMs = performance.now() - t0;
    const flushes = journal.flushes - flushes0;
    await gcAll();
    const after = process.memoryUsage();
    if (failures > 0) throw new Error(`${failures} claim/finish calls failed`);
    const size = journal.size;
    const first = await journal.get(reference('T1', 1));
    const last = await journal.get(reference('T1', warmup + payments));
    const readBack = first?.state === 'done' && !!first.result?.receipt.merchant?.length && last?.state === 'done' && !!last.result?.receipt.customer?.length;
    await journal.close();
    journal = undefined;
    const disk = segmentBytes(dir);
    const perPayment = (after.heapUsed - before.heapUsed) / payments;
    log(`journal-heap: ${round(perPayment)} B heap per payment`);
    return {
      payments,
      warmupPayments: warmup,
      yesterdayPayments: yesterday,
      inflight,
      gcExposed,
      heapUsedBefore: before.heapUsed,
      heapUsedAfter: after.heapUsed,
      heapBytesPerPayment: round(perPayment, 1),
      externalBytesPerPayment: round((after.external - before.external) / payments, 1),
      target: heapTargetBytes,
      pass: gcExposed && perPayment <= heapTargetBytes,
      journal: size,
      disk: { ...disk, bytesPerPayment: round(disk.bytes / (yesterday + warmup + payments)) },
      slimResultBytes: round(slim.bytes / Math.max(1, slim.n)),
      fillMs: round(fillMs),
      fillPerSecond: round((payments * 1000) / fillMs),
      flushesPerPayment: round(flushes / payments, 3),
      readBack,
    };
  } finally {
    await journal?.close().catch(() => undefined);
    removeDir(dir);
  }
}

if (require.main === module) childMain(main);
