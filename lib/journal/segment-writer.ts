// Durable appends with group commit. Records are queued; one flush writes every queued record
// in a single durable write (see DSYNC), then resolves them all, so concurrent payments share a
// flush instead of queueing behind each other's. A new segment file starts when the clock
// enters a new segment period (a day by default), which makes retention a matter of deleting
// old files rather than rewriting one.

import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { recordRoom, writeRecord, type RecordText } from './line-format';

/**
 * Where the system has O_DSYNC (Linux, macOS, the BSDs) the segment is opened with it: each
 * write returns once its bytes (and the size that reaches them) are on stable storage, as
 * fdatasync after it would, in one call instead of two, so a flush waits for one trip through
 * the thread pool and the event loop, not two. Elsewhere (Windows) a write is followed by datasync().
 */
const DSYNC: number | undefined = constants.O_DSYNC;
const OPEN_FLAGS: string | number = DSYNC === undefined ? 'a' : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | DSYNC;

export interface Written {
  /** The segment number (period since the epoch) the record landed in. */
  segment: number;
  offset: number;
}

interface Queued {
  rec: RecordText;
  resolve: (at: Written) => void;
  reject: (err: Error) => void;
}

/**
 * A flush encodes its batch into one buffer, kept for the next flush up to this size (flushes
 * never overlap, and a write has copied the bytes once it resolves); a larger batch (a sweep
 * carrying many pending entries forward) gets a buffer of its own.
 */
const KEPT_BUFFER_BYTES = 256 * 1024;

export const segmentFile = (dir: string, segment: number): string => path.join(dir, `journal-${String(segment).padStart(12, '0')}.log`);
export const SEGMENT_NAME = /^journal-(\d{12})\.log$/;

export class SegmentWriter {
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  private file: fs.FileHandle | undefined;
  private segment = -1;
  /** The end of the last good record in the current segment: a failed write is cut back to it. */
  private size = 0;
  private damaged = false;
  /** Flushes so far; the bench reports flushes per payment. */
  flushes = 0;
  private kept: Buffer | undefined;

  constructor(private readonly dir: string, private readonly segmentMs: number) {}

  /** Resolves once the record is on stable storage; rejects when it could not be written. */
  append(rec: RecordText): Promise<Written> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rec, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Waits for queued records; then closes the file. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.flush(batch);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async flush(batch: Queued[]): Promise<void> {
    try {
      await this.openSegment(Math.floor(Date.now() / this.segmentMs));
      const file = this.file!;
      if (this.damaged) {
        await file.truncate(this.size);
        this.damaged = false;
      }
      const start = this.size;
      const ends: number[] = new Array(batch.length);
      const bytes = this.encode(batch, ends);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await file.write(bytes, done, bytes.length - done, null);
        done += bytesWritten;
      }
      if (DSYNC === undefined) await file.datasync();
      this.flushes += 1;
      this.size = start + bytes.length;
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve({ segment: this.segment, offset: start + (i === 0 ? 0 : ends[i - 1]!) });
    } catch (err) {
      // Part of the batch may be in the file: cut it off before the next write appends to it.
      this.damaged = true;
      for (const q of batch) q.reject(err as Error);
    }
  }

  /** The batch's lines, one after another in one buffer; `ends[i]` is where line i ends in it. */
  private encode(batch: Queued[], ends: number[]): Buffer {
    let room = 0;
    for (const q of batch) room += recordRoom(q.rec);
    let buf: Buffer;
    if (room > KEPT_BUFFER_BYTES) buf = Buffer.allocUnsafe(room);
    else {
      if (this.kept === undefined || this.kept.length < room) this.kept = Buffer.allocUnsafe(Math.min(KEPT_BUFFER_BYTES, Math.max(room, 16 * 1024)));
      buf = this.kept;
    }
    let end = 0;
    for (let i = 0; i < batch.length; i++) {
      end = writeRecord(buf, end, batch[i]!.rec);
      ends[i] = end;
    }
    return buf.subarray(0, end);
  }

  private async openSegment(segment: number): Promise<void> {
    if (this.file && segment === this.segment) return;
    const next = await fs.open(segmentFile(this.dir, segment), OPEN_FLAGS);
    const { size } = await next.stat();
    if (this.file) await this.file.close().catch(() => undefined);
    this.file = next;
    this.segment = segment;
    this.size = size;
    this.damaged = false;
    // The new file's name must survive a power cut too.
    const dirHandle = await fs.open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}
