// Small statistics and formatting helpers shared by every measurement.

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function min(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.min(...values);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** A rate in operations per second from a count and a duration in milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : NaN;
}

/** Elapsed milliseconds since `start` (a value of performance.now()). */
export function since(start: number): number {
  return performance.now() - start;
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function fmtInt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return Math.round(value).toLocaleString('en-GB');
}

export function fmtRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

export function fmtBytes(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const sign = value < 0 ? '-' : '';
  const v = Math.abs(value);
  if (v >= 1024 * 1024) return `${sign}${(v / 1024 / 1024).toFixed(1)} MiB`;
  if (v >= 1024) return `${sign}${(v / 1024).toFixed(1)} KiB`;
  return `${sign}${Math.round(v)} B`;
}

export function fmtMs(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a';
}

/** A plain-text table: the first row is the header, columns padded, numbers right-aligned. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  const numeric = (s: string) => /^[-+]?[\d,.]+( ?[a-zA-Z/%]+)?$|^n\/a$/.test(s);
  const line = (row: string[]) => row.map((cell, i) => (i > 0 && numeric(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join('\n');
}

/** Latency percentiles (ms) of one contender's timed requests. */
export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Collects one contender's request latencies (ms) into a growing Float64Array: no boxing on the hot path. */
export class LatencyRecorder {
  private values = new Float64Array(4096);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = ms;
  }

  /** p50 / p99 (nearest rank) and max, rounded to µs. */
  summary(): Latency {
    const sorted = this.values.slice(0, this.n).sort();
    const at = (p: number) => (this.n === 0 ? NaN : sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(p * this.n) - 1))]!);
    return { count: this.n, p50: round(at(0.5), 3), p99: round(at(0.99), 3), max: round(this.n ? sorted[this.n - 1]! : NaN, 3) };
  }
}

/** min / median / max of per-round figures. */
export function spread(values: readonly number[], digits = 0): { median: number; min: number; max: number } {
  return { median: round(median(values), digits), min: round(min(values), digits), max: round(max(values), digits) };
}
