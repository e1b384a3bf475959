// The default journal: append-only segment files in one folder per provider account, written
// with group commit (segment-writer.ts) and locked to one process (dir-lock.ts). Pending
// entries are in memory (they are few: payments running or waiting to be resolved); a finished
// entry is only a number in memory, where its record is on disk, read back when a repeat of
// its reference asks. Retention deletes whole segment files, carrying any still-pending entry
// forward first, in slices that never hold the event loop for long.

import fs from 'node:fs/promises';
import path from 'node:path';
import { PosError } from '../core/errors';
import { RECENT_MAX, journalUnavailable, newestFirst, recentLimit, slimResult, type Claim, type Journal, type JournalEntry } from '../core/journal';
import { silentLogger, type Logger, type PaymentRequest, type PaymentResult } from '../core/types';
import { takeDirLock } from './dir-lock';
import { isoNow } from '../core/iso-now';
import { NEWLINE, encodeReference, readEntry, readHeader, recordText, type RecordType } from './line-format';
import { cloneData } from './plain-clone';
import { SEGMENT_NAME, SegmentWriter, segmentFile, type Written } from './segment-writer';

export interface FileJournalOptions {
  /** Length of one segment file's period. Default one day; retention is counted in whole segments. */
  segmentMs?: number;
  /** How often unsaved results are retried while the disk refuses them. Default 5 s. */
  retryMs?: number;
  /** Zero-filled space kept ahead of the records (segment-writer.ts). Default 1 MiB. */
  preallocateBytes?: number;
  logger?: Logger;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A location packs the segment's slot and the byte offset into one number (2^32 bytes per segment). */
const SLOT = 2 ** 32;
/** A sweep yields to the event loop after holding it this long. */
const SWEEP_SLICE_MS = 4;
/** Segment files are read in chunks of this size when a journal opens. */
const READ_CHUNK = 1024 * 1024;

export interface OpenStats {
  segments: number;
  finished: number;
  pending: number;
  /** Lines that failed their check (torn by a crash, or damaged) and were left out. */
  damaged: number;
}

export class FileJournal implements Journal {
  private readonly pending = new Map<string, JournalEntry>();
  /** Finished entries whose record is not (yet) on disk: answered from here until it is. */
  private readonly held = new Map<string, JournalEntry>();
  private readonly unsaved = new Set<string>();
  /** Finished entries: key -> location of their record. */
  private readonly done = new Map<string, number>();
  /** Pending entries a payment of this process is running (not to be recovered behind its back). */
  private readonly live = new Set<string>();
  /**
   * The latest finished records in the order they were written (key and location), for
   * recent(): a few hundred numbers instead of a walk of the whole index. An item whose key has
   * since moved (released, finished again, swept) no longer matches `done` and is skipped.
   */
  private recentDone: Array<{ key: string; loc: number }> = [];
  private readonly slots = new Map<number, number>();
  private readonly segmentOfSlot: number[] = [];
  private readonly readers = new Map<number, Promise<fs.FileHandle>>();
  private readonly writer: SegmentWriter;
  private readonly logger: Logger;
  private readonly retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  stats: OpenStats = { segments: 0, finished: 0, pending: 0, damaged: 0 };

  private constructor(readonly dir: string, private readonly segmentMs: number, opts: FileJournalOptions, private readonly unlock: () => Promise<void>) {
    this.writer = new SegmentWriter(dir, segmentMs, opts.preallocateBytes);
    this.logger = opts.logger ?? silentLogger;
    this.retryMs = opts.retryMs ?? 5000;
  }

  /** Opens (creating) the journal in `dir`; rejects with a sentence when it cannot be used. */
  static async open(dir: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
    await fs.mkdir(dir, { recursive: true });
    const unlock = await takeDirLock(dir);
    const journal = new FileJournal(dir, opts.segmentMs ?? DAY_MS, opts, unlock);
    try {
      await journal.load();
    } catch (err) {
      await unlock();
      throw err;
    }
    return journal;
  }

  /** Flushes so far (group commit shares one among concurrent writes). */
  get flushes(): number {
    return this.writer.flushes;
  }

  get size(): { pending: number; finished: number } {
    return { pending: this.pending.size, finished: this.done.size + this.held.size };
  }

  async claim(request: PaymentRequest, attemptId: string): Promise<Claim> {
    this.assertOpen();
    const key = encodeReference(request.reference);
    if (this.pending.has(key) || this.held.has(key) || this.done.has(key)) {
      const prior = await this.getByKey(key);
      if (!prior) throw new PosError('journal_unavailable', `the journal record of reference "${request.reference}" cannot be read; it stays blocked, nothing was sent`);
      return { claimed: false, entry: prior };
    }
    // Taken in memory before the first await, so a concurrent claim of the same reference sees it.
    const entry: JournalEntry = { reference: request.reference, state: 'pending', attemptId, request: cloneData(request), startedAt: isoNow() };
    this.pending.set(key, entry);
    this.live.add(key);
    try {
      await this.write('p', key, entry);
    } catch (err) {
      if (this.pending.get(key) === entry) {
        this.pending.delete(key);
        this.live.delete(key);
      }
      throw journalUnavailable(describe(err));
    }
    return { claimed: true, entry: cloneData(entry) };
  }

  get(reference: string): Promise<JournalEntry | undefined> {
    return this.getByKey(encodeReference(reference));
  }

  async note(entry: JournalEntry, notes: Record<string, unknown>): Promise<JournalEntry> {
    this.assertOpen();
    const key = encodeReference(entry.reference);
    const noted: JournalEntry = { ...(this.pending.get(key) ?? entry), notes: { ...entry.notes, ...notes } };
    this.pending.set(key, noted);
    try {
      await this.write('p', key, noted);
    } catch (err) {
      throw journalUnavailable(describe(err));
    }
    return cloneData(noted);
  }

  async finish(entry: JournalEntry, result: PaymentResult): Promise<JournalEntry> {
    const key = encodeReference(entry.reference);
    // The pending entry in the map is the journal's own (claim, note and load never hand it out):
    // it becomes the finished one in place, without a copy. An entry known only to the caller is copied.
    const done: JournalEntry = this.pending.get(key) ?? { ...entry };
    done.state = 'done';
    done.finishedAt = isoNow();
    done.result = slimResult(result);
    this.pending.delete(key);
    this.live.delete(key);
    this.done.delete(key);
    this.held.set(key, done);
    try {
      await this.saveFinished(key, done);
    } catch (err) {
      this.unsaved.add(key);
      this.scheduleRetry();
      throw journalUnavailable(describe(err));
    }
    // Saved: the journal keeps only its location, so `done` is nobody else's and goes back uncopied.
    return this.held.get(key) === done ? cloneData(done) : done;
  }

  async release(entry: JournalEntry): Promise<void> {
    const key = encodeReference(entry.reference);
    const current = this.pending.get(key) ?? this.held.get(key);
    if (current && current.attemptId !== entry.attemptId) return;
    this.pending.delete(key);
    this.held.delete(key);
    this.unsaved.delete(key);
    this.live.delete(key);
    this.done.delete(key);
    // If this record is lost, the entry comes back pending after a restart and is asked about: safe.
    await this.write('r', key, entry).catch((err) => this.logger.warn(`payment journal: could not record that ${entry.reference} is free again (${describe(err)})`));
  }

  async recoverable(): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const [key, entry] of this.pending) {
      if (this.live.has(key)) continue;
      this.live.add(key);
      out.push(cloneData(entry));
    }
    return out;
  }

  /** A recovered entry still unresolved (the payment is still running): another recovery may take it. */
  handBack(entry: JournalEntry): void {
    const key = encodeReference(entry.reference);
    if (this.pending.has(key)) this.live.delete(key);
  }

  async sweep(finishedBefore: Date): Promise<number> {
    const lastGone = Math.floor(finishedBefore.getTime() / this.segmentMs) - 1;
    const old = [...this.slots.keys()].filter((seg) => seg <= lastGone && seg !== this.currentSegment());
    if (old.length === 0 || this.closed) return 0;
    const slots = new Set(old.map((seg) => this.slots.get(seg)!));
    // Pending entries whose latest record is in an old file move forward before it goes.
    for (const [key, entry] of [...this.pending]) await this.write('p', key, entry);
    // One walk of the index for every old file, in slices of a few milliseconds.
    let dropped = 0;
    let sliceStart = Date.now();
    let n = 0;
    for (const key of this.done.keys()) {
      if (slots.has(Math.floor(this.done.get(key)! / SLOT))) {
        this.done.delete(key);
        dropped++;
      }
      if (++n % 256 === 0 && Date.now() - sliceStart >= SWEEP_SLICE_MS) {
        // A timer, not setImmediate: other timers (and I/O) get their turn between slices.
        await new Promise((r) => setTimeout(r, 0));
        sliceStart = Date.now();
      }
    }
    for (const segment of old) {
      const reader = this.readers.get(segment);
      this.readers.delete(segment);
      if (reader) await reader.then((h) => h.close()).catch(() => undefined);
      await fs.rm(segmentFile(this.dir, segment), { force: true });
      this.slots.delete(segment);
    }
    return dropped;
  }

  async recent(limit: number): Promise<JournalEntry[]> {
    const n = recentLimit(limit);
    // Unfinished entries and results not yet on disk are in memory (and few); finished ones are read from disk, at most n.
    const out = [...this.pending.values(), ...this.held.values()].map((e) => cloneData(e));
    const seen = new Set([...this.pending.keys(), ...this.held.keys()]);
    let read = 0;
    for (let i = this.recentDone.length - 1; i >= 0 && read < n; i--) {
      const { key, loc } = this.recentDone[i]!;
      if (seen.has(key) || this.done.get(key) !== loc) continue;
      seen.add(key);
      const entry = await this.readAt(loc);
      if (!entry) continue;
      out.push(entry);
      read++;
    }
    return out.sort(newestFirst).slice(0, n);
  }

  /** Entries from elsewhere (the context journal of an earlier version) not already known here. */
  async importEntries(entries: JournalEntry[]): Promise<number> {
    let added = 0;
    for (const entry of entries) {
      const key = encodeReference(entry.reference);
      if (this.pending.has(key) || this.held.has(key) || this.done.has(key)) continue;
      if (entry.state === 'done' && entry.result) {
        const done: JournalEntry = { ...entry, result: slimResult(entry.result) };
        this.held.set(key, done);
        await this.saveFinished(key, done);
      } else {
        const pending: JournalEntry = { ...entry, state: 'pending' };
        this.pending.set(key, pending);
        await this.write('p', key, pending);
      }
      added++;
    }
    return added;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.unsaved.size > 0) {
      await this.retryUnsaved();
      if (this.unsaved.size > 0) this.logger.error(`payment journal: ${this.unsaved.size} result(s) could not be written to ${this.dir} before closing`);
    }
    await this.writer.close();
    for (const reader of this.readers.values()) await reader.then((h) => h.close()).catch(() => undefined);
    this.readers.clear();
    await this.unlock().catch(() => undefined);
  }

  // ---- internals ----------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new PosError('journal_unavailable', 'the payment journal is closed; nothing was sent');
  }

  private currentSegment(): number {
    return Math.floor(Date.now() / this.segmentMs);
  }

  private async getByKey(key: string): Promise<JournalEntry | undefined> {
    const live = this.pending.get(key) ?? this.held.get(key);
    if (live) return cloneData(live);
    const loc = this.done.get(key);
    return loc === undefined ? undefined : this.readAt(loc);
  }

  private async saveFinished(key: string, done: JournalEntry): Promise<void> {
    const at = await this.write('f', key, done);
    if (this.held.get(key) === done) {
      this.held.delete(key);
      this.unsaved.delete(key);
      const loc = this.locate(at);
      this.done.set(key, loc);
      this.rememberDone(key, loc);
    }
  }

  private rememberDone(key: string, loc: number): void {
    this.recentDone.push({ key, loc });
    // Trimmed in batches so a long load does not shift the array on every record.
    if (this.recentDone.length > 2 * RECENT_MAX) this.recentDone = this.recentDone.slice(-RECENT_MAX);
  }

  /** `key`: encodeReference(entry.reference), which every caller has made already. */
  private write(type: RecordType, key: string, entry: JournalEntry): Promise<Written> {
    return this.writer.append(recordText(type, key, entry));
  }

  private slotOf(segment: number): number {
    let slot = this.slots.get(segment);
    if (slot === undefined) {
      slot = this.segmentOfSlot.length;
      this.segmentOfSlot.push(segment);
      this.slots.set(segment, slot);
    }
    return slot;
  }

  private locate(at: Written): number {
    return this.slotOf(at.segment) * SLOT + at.offset;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryUnsaved().then(() => { if (this.unsaved.size > 0) this.scheduleRetry(); });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private async retryUnsaved(): Promise<void> {
    for (const key of [...this.unsaved]) {
      const entry = this.held.get(key);
      if (!entry) {
        this.unsaved.delete(key);
        continue;
      }
      try {
        await this.saveFinished(key, entry);
        this.logger.warn(`payment journal: the result of ${entry.reference} is written now`);
      } catch {
        return;
      }
    }
  }

  /** Reads the finished record at a location; undefined when it is gone or fails its check. */
  private readAt(loc: number): Promise<JournalEntry | undefined> {
    return this.readRecord(loc, 'f');
  }

  private async readRecord(loc: number, type: RecordType): Promise<JournalEntry | undefined> {
    const slot = Math.floor(loc / SLOT);
    const offset = loc - slot * SLOT;
    const segment = this.segmentOfSlot[slot];
    if (segment === undefined) return undefined;
    let reader = this.readers.get(segment);
    if (!reader) {
      reader = fs.open(segmentFile(this.dir, segment), 'r');
      this.readers.set(segment, reader);
      reader.catch(() => this.readers.delete(segment));
    }
    const handle = await reader.catch(() => undefined);
    if (!handle) return undefined;
    for (let length = 4096; length <= 64 * 1024 * 1024; length *= 4) {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      const end = buf.indexOf(NEWLINE);
      if (end !== -1 && end < bytesRead) {
        const header = readHeader(buf, 0, end);
        if (!header || header.type !== type) return undefined;
        return readEntry(buf, header) as JournalEntry;
      }
      if (bytesRead < length) return undefined;
    }
    return undefined;
  }

  /**
   * Indexes every segment file without holding it in memory: each is read in chunks, and only
   * the header of each line is looked at (type and key). Records still pending at the end are
   * read back by position and parsed; finished ones stay on disk.
   */
  private async load(): Promise<void> {
    const names = (await fs.readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    /** Pending keys -> location of their latest record. */
    const pendingAt = new Map<string, number>();
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    for (const [i, name] of names.entries()) {
      const segment = Number(SEGMENT_NAME.exec(name)![1]);
      const file = path.join(this.dir, name);
      const slot = this.slotOf(segment);
      const newest = i === names.length - 1;
      const handle = await fs.open(file, 'r');
      let torn = -1;
      /** Where the zero-filled space ahead of the records begins, if the file has it (a crash left it). */
      let zeros = -1;
      try {
        const size = (await handle.stat()).size;
        /** File offset of buf[0]; `filled` bytes of buf hold file data. */
        let base = 0;
        let filled = 0;
        while (base + filled < size || filled > 0) {
          if (base + filled < size) {
            if (filled === buf.length) {
              // A line longer than the buffer: grow it.
              const bigger = Buffer.allocUnsafe(buf.length * 2);
              buf.copy(bigger, 0, 0, filled);
              buf = bigger;
            }
            const { bytesRead } = await handle.read(buf, filled, buf.length - filled, base + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          const atEof = base + filled >= size;
          let pos = 0;
          for (;;) {
            if (pos < filled && buf[pos] === 0) {
              zeros = base + pos;
              break;
            }
            const nl = buf.indexOf(NEWLINE, pos);
            if (nl === -1 || nl >= filled) break;
            const last = atEof && nl === filled - 1;
            // Only the tail of a file can be torn, so only last lines are checked here; every other
            // line is checked when it is read back.
            const header = readHeader(buf, pos, nl, last);
            if (!header) {
              this.stats.damaged++;
              if (newest && last) torn = base + pos;
            } else {
              const loc = slot * SLOT + base + pos;
              if (header.type === 'p') {
                pendingAt.set(header.key, loc);
                this.done.delete(header.key);
              } else if (header.type === 'f') {
                this.done.set(header.key, loc);
                this.rememberDone(header.key, loc);
                pendingAt.delete(header.key);
              } else {
                this.done.delete(header.key);
                pendingAt.delete(header.key);
              }
            }
            pos = nl + 1;
          }
          if (zeros >= 0) break;
          if (atEof) {
            if (pos < filled) {
              // No newline at the end: a record torn while it was written.
              this.stats.damaged++;
              if (newest) torn = base + pos;
            }
            break;
          }
          buf.copy(buf, 0, pos, filled);
          base += pos;
          filled -= pos;
        }
      } finally {
        await handle.close();
      }
      if (torn >= 0) {
        // Cut it so the next append starts on a clean line.
        await fs.truncate(file, torn);
        this.logger.warn(`payment journal: dropped a record torn by a crash at the end of ${name}`);
      } else if (zeros >= 0 && !newest) {
        // An older segment is never written again: its unused space goes (the newest keeps it for the next records).
        await fs.truncate(file, zeros);
      }
    }
    for (const [key, loc] of pendingAt) {
      const entry = await this.readRecord(loc, 'p');
      if (!entry) {
        // A damaged pending record: the reference stays taken (never sent twice), as an entry a person must check.
        this.stats.damaged++;
        this.logger.error(`payment journal: a pending record in ${this.dir} is damaged; its reference stays blocked`);
        // Indexed where nothing can be read back: a claim of it is refused rather than sent.
        this.done.set(key, loc);
        continue;
      }
      this.pending.set(key, entry);
    }
    // Readers opened for pending records are reopened on demand; a closed journal leaves none.
    this.stats = { ...this.stats, segments: names.length, finished: this.done.size, pending: this.pending.size };
  }

}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? err);
}
