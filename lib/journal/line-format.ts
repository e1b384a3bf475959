// One journal record per line: `<crc32 hex> <type> <reference, base64url> <json>\n`. The type
// and the encoded reference stand before the JSON so that opening a journal indexes tens of
// thousands of finished payments without parsing them; the CRC (over everything after it)
// finds a line torn by a power cut. Every record is self-contained: the last line of a
// reference says everything the journal knows about it. A line never begins with a zero byte:
// one there is the zero-filled space ahead of the records (segment-writer.ts), where they end.

import { crc32 } from 'node:zlib';
import type { JournalEntry } from '../core/journal';

/** p: pending (claimed, or noted since); f: finished; r: released (the reference is free again). */
export type RecordType = 'p' | 'f' | 'r';

export const encodeReference = (reference: string): string => Buffer.from(reference, 'utf8').toString('base64url');

/**
 * A record as text, made when it is queued (so a later change to the entry cannot reach it):
 * `head` is `<type> <key> ` (ASCII: the key is base64url), `json` the entry. The bytes and the
 * CRC are made when a flush writes the batch into one buffer (writeRecord), so a record costs no
 * buffer and no concatenated copy of its text of its own.
 */
export interface RecordText {
  head: string;
  json: string;
}

/** `key` is encodeReference(entry.reference), which the caller has already made. */
export function recordText(type: RecordType, key: string, entry: JournalEntry): RecordText {
  return { head: `${type} ${key} `, json: JSON.stringify(type === 'r' ? { attemptId: entry.attemptId } : entry) };
}

/** Bytes writeRecord may need: UTF-8 takes at most 3 bytes per UTF-16 unit. */
export const recordRoom = (rec: RecordText): number => 10 + rec.head.length + 3 * rec.json.length;

/** Writes the line `<crc32 hex> <head><json>\n` at `offset` (with recordRoom(rec) bytes free); returns where it ends. */
export function writeRecord(buf: Buffer, offset: number, rec: RecordText): number {
  let end = offset + 9;
  end += buf.write(rec.head, end, 'latin1');
  end += buf.write(rec.json, end, 'utf8');
  buf[end++] = NEWLINE;
  // The CRC covers everything after it, the newline excepted; written into its place last.
  buf.write(crc32(buf.subarray(offset + 9, end - 1)).toString(16).padStart(8, '0') + ' ', offset, 'latin1');
  return end;
}

/** One record as its own buffer (bench data, tests). */
export function encodeRecord(type: RecordType, entry: JournalEntry): Buffer {
  const rec = recordText(type, encodeReference(entry.reference), entry);
  const buf = Buffer.allocUnsafe(recordRoom(rec));
  return buf.subarray(0, writeRecord(buf, 0, rec));
}

const SPACE = 0x20;
export const NEWLINE = 0x0a;

/** Where one line's fields are in a buffer (end excludes the newline). */
export interface LineHeader {
  type: RecordType;
  key: string;
  start: number;
  end: number;
}

/**
 * Reads the header of the line at `start..end` and, with `verify`, checks its CRC. Returns
 * undefined for a line that is torn or damaged; it is then not a record.
 */
export function readHeader(buf: Buffer, start: number, end: number, verify = true): LineHeader | undefined {
  if (end - start < 13 || buf[start + 8] !== SPACE || buf[start + 10] !== SPACE) return undefined;
  const type = String.fromCharCode(buf[start + 9]!);
  if (type !== 'p' && type !== 'f' && type !== 'r') return undefined;
  const keyEnd = buf.indexOf(SPACE, start + 11);
  if (keyEnd === -1 || keyEnd >= end) return undefined;
  if (verify) {
    const crc = parseInt(buf.toString('latin1', start, start + 8), 16);
    if (!Number.isFinite(crc) || crc32(buf.subarray(start + 9, end)) !== crc) return undefined;
  }
  return { type, key: buf.toString('latin1', start + 11, keyEnd), start, end };
}

/** The entry a checked line carries. */
export function readEntry(buf: Buffer, header: LineHeader): JournalEntry | { attemptId: string } {
  const jsonStart = buf.indexOf(SPACE, header.start + 11) + 1;
  return JSON.parse(buf.toString('utf8', jsonStart, header.end)) as JournalEntry;
}
