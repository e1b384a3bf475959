// Durable appends with group commit. Records are queued; one flush writes every queued record
// in a single durable write (see DSYNC), then resolves them all, so concurrent payments share a
// flush instead of queueing behind each other's. A new segment file starts when the clock
// enters a new segment period (a day by default), which makes retention a matter of deleting
// old files rather than rewriting one.
//
// The open segment is zero-filled ahead of its records (PREALLOCATE_BYTES at a time, off the
// payments' path), and records are written at their offset into that space. A durable write
// that grows a file must also commit its new size and blocks through the file system's journal;
// one into blocks that already exist commits only its data: measured on ext4, half the time and
// half the CPU per flush. A zero byte where a line would begin is therefore where the records of
// a segment end (line-format.ts); a segment is cut back to its records when it is left or closed.

import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NEWLINE, recordRoom, writeRecord, type RecordText } from './line-format';

/**
 * Where the system has O_DSYNC (Linux, macOS, the BSDs) the segment is opened with it: each
 * write returns once its bytes (and the size that reaches them) are on stable storage, as
 * fdatasync after it would, in one call instead of two, so a flush waits for one trip through
 * the thread pool and the event loop, not two. Elsewhere (Windows) a write is followed by datasync().
 */
const DSYNC: number | undefined = constants.O_DSYNC;
/**
 * Not O_APPEND: records are written at their offset, into space zero-filled ahead of them.
 * Read too: where the records of a segment left by a crash end is read back when it is reopened.
 */
const OPEN_FLAGS = constants.O_RDWR | constants.O_CREAT | (DSYNC ?? 0);

/** Zero-filled space kept ahead of the records; refilled once less than half of it is left. */
export const PREALLOCATE_BYTES = 1024 * 1024;
/** A file's end is looked for backwards in steps of this size (its zero-filled tail). */
const TAIL_STEP = 64 * 1024;

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
  /** The file's length: records up to `size`, zeros from there. */
  private allocated = 0;
  /** The zero fill running, if any; a flush that would reach past `allocated` waits for it. */
  private filling: Promise<void> | undefined;

  constructor(private readonly dir: string, private readonly segmentMs: number, private readonly preallocate = PREALLOCATE_BYTES) {}

  /** Resolves once the record is on stable storage; rejects when it could not be written. */
  append(rec: RecordText): Promise<Written> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rec, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Waits for queued records; then cuts the segment back to its records and closes it. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.leaveSegment();
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
        if (this.filling) await this.filling;
        await file.truncate(this.size);
        this.allocated = this.size;
        this.damaged = false;
      }
      const start = this.size;
      const ends: number[] = new Array(batch.length);
      const bytes = this.encode(batch, ends);
      // A zero fill must not land on these records: past the filled space, wait for it to end.
      if (this.filling && start + bytes.length > this.allocated) await this.filling;
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await file.write(bytes, done, bytes.length - done, start + done);
        done += bytesWritten;
      }
      if (DSYNC === undefined) await file.datasync();
      this.flushes += 1;
      this.size = start + bytes.length;
      if (this.size > this.allocated) this.allocated = this.size;
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve({ segment: this.segment, offset: start + (i === 0 ? 0 : ends[i - 1]!) });
      // Between flushes, so no record write is under way where the zeros go.
      if (this.allocated - this.size < this.preallocate / 2) this.filling ??= this.fill(file);
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

  /**
   * Zero-fills PREALLOCATE_BYTES past the file's end, durably, so that the next records are
   * written into blocks that exist. Only ever beyond every record; a failure only means the next
   * records grow the file (their own write reports a real disk problem).
   */
  private fill(file: fs.FileHandle): Promise<void> {
    const from = Math.max(this.allocated, this.size);
    const zeros = Buffer.alloc(this.preallocate);
    return (async () => {
      let done = 0;
      while (done < zeros.length) done += (await file.write(zeros, done, zeros.length - done, from + done)).bytesWritten;
      if (DSYNC === undefined) await file.datasync();
      if (this.file === file) this.allocated = Math.max(this.allocated, from + zeros.length);
    })().catch(() => undefined).finally(() => {
      this.filling = undefined;
    });
  }

  /** Cuts the current segment back to its records (its zero-filled space goes) and closes it. */
  private async leaveSegment(): Promise<void> {
    const file = this.file;
    if (!file) return;
    if (this.filling) await this.filling;
    this.file = undefined;
    // A failed write's part of a batch goes too, as the next flush would have cut it.
    if (this.allocated > this.size || this.damaged) await file.truncate(this.size).catch(() => undefined);
    await file.close().catch(() => undefined);
  }

  private async openSegment(segment: number): Promise<void> {
    if (this.file && segment === this.segment) return;
    const next = await fs.open(segmentFile(this.dir, segment), OPEN_FLAGS);
    const { size } = await next.stat();
    const end = size === 0 ? 0 : await recordsEnd(next, size);
    await this.leaveSegment();
    this.file = next;
    this.segment = segment;
    this.size = end;
    this.allocated = size;
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

/**
 * Where the records of a segment end: after the last newline before its zero-filled tail (a
 * crash leaves that space, and a torn record before it, which the next records overwrite).
 */
async function recordsEnd(file: fs.FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(TAIL_STEP);
  let end = size;
  let sawData = false;
  while (end > 0) {
    const from = Math.max(0, end - TAIL_STEP);
    const { bytesRead } = await file.read(buf, 0, end - from, from);
    for (let i = bytesRead - 1; i >= 0; i--) {
      const b = buf[i]!;
      if (!sawData && b === 0) continue;
      sawData = true;
      if (b === NEWLINE) return from + i + 1;
    }
    end = from;
  }
  return 0;
}
