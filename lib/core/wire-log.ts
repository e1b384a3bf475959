// The wire log: every frame in and out of a connection, redacted, appended to a file that is
// rotated at a size bound, so a support engineer can see what the provider actually sent
// without the log filling the disk. Writes are synchronous and small: the log is for
// investigating, is off by default, and must not lose the frame just before a crash.

import fs from 'node:fs';
import path from 'node:path';
import { makeRedactor, type Redactor } from './redact';
import { redactFrame } from './wire-redact';

export type WireDirection = 'in' | 'out';

/** Sees every frame an adapter sends or receives, as text. Must not throw (callers guard anyway). */
export type WireTap = (direction: WireDirection, text: string, channel?: string) => void;

/** Calls a tap without letting it break the connection it watches. */
export function tapSafely(tap: WireTap | undefined, direction: WireDirection, text: string, channel?: string): void {
  if (!tap) return;
  try {
    tap(direction, text, channel);
  } catch {
    // A broken log must never drop a payment frame.
  }
}

export interface WireLogOptions {
  /** The directory, e.g. <userDir>/pos-payments/wire; created when missing. */
  dir: string;
  /** File name without extension, e.g. the provider and config node id. */
  name: string;
  /** Secrets the connection holds, masked wherever they appear. */
  secrets: Array<string | undefined>;
  /** Bytes per file before it is rotated. Default 1 MiB. */
  maxBytes?: number;
  /** Rotated files kept beside the current one. Default 3. */
  keep?: number;
  /** A frame longer than this is cut (the length is noted). Default 16 KiB. */
  maxFrameChars?: number;
  /** Told once when the log cannot be written (disk full, no permission); the log then stops. */
  onError?: (message: string) => void;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_KEEP = 3;
const DEFAULT_MAX_FRAME = 16 * 1024;

/** File names are built from ids the user chose; keep them to a safe alphabet. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'wire';
}

export class WireLog {
  readonly file: string;
  private readonly redact: Redactor;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly maxFrame: number;
  private size = -1;
  private broken = false;

  constructor(private readonly opts: WireLogOptions) {
    this.file = path.join(opts.dir, `${safeFileName(opts.name)}.log`);
    this.redact = makeRedactor(opts.secrets);
    this.maxBytes = Math.max(1024, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    this.keep = Math.max(1, Math.min(20, opts.keep ?? DEFAULT_KEEP));
    this.maxFrame = Math.max(256, opts.maxFrameChars ?? DEFAULT_MAX_FRAME);
  }

  /** The tap to give an adapter. */
  readonly tap: WireTap = (direction, text, channel) => this.write(direction, text, channel);

  write(direction: WireDirection, text: string, channel?: string): void {
    if (this.broken) return;
    const frame = redactFrame(String(text), this.redact);
    const cut = frame.length > this.maxFrame ? `${frame.slice(0, this.maxFrame)}… (${frame.length} chars)` : frame;
    const line = `${new Date().toISOString()} ${direction === 'in' ? '<-' : '->'}${channel ? ` [${channel}]` : ''} ${cut.replace(/\r?\n/g, '\\n')}\n`;
    try {
      if (this.size < 0) {
        fs.mkdirSync(this.opts.dir, { recursive: true });
        this.size = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
      }
      const bytes = Buffer.byteLength(line);
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      fs.appendFileSync(this.file, line, { mode: 0o600 });
      this.size += bytes;
    } catch (err) {
      this.broken = true;
      this.opts.onError?.(`the wire log ${this.file} cannot be written (${(err as Error).message}); it is off until the next deploy`);
    }
  }

  /** name.log -> name.1.log -> ... -> name.<keep>.log; the oldest is dropped. */
  private rotate(): void {
    const base = this.file.slice(0, -'.log'.length);
    const oldest = `${base}.${this.keep}.log`;
    if (fs.existsSync(oldest)) fs.rmSync(oldest, { force: true });
    for (let i = this.keep - 1; i >= 1; i -= 1) {
      const from = `${base}.${i}.log`;
      if (fs.existsSync(from)) fs.renameSync(from, `${base}.${i + 1}.log`);
    }
    fs.renameSync(this.file, `${base}.1.log`);
    this.size = 0;
  }
}
