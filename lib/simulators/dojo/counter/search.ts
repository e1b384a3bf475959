// POST /payment-intents/search: filters plus real cursor paging, newest first [inferred: the
// spec gives no order]. A cursor names the intent at the edge of the page it came from, so
// pages stay stable while new intents arrive.

import { Fields, bodyObject, isObject } from './input';
import type { Intent } from './intents';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

export interface SearchPage {
  data: Intent[];
  before?: string;
  after?: string;
}

export function searchIntents(all: Iterable<Intent>, body: unknown): SearchPage {
  const b = bodyObject(body, false);
  const f = new Fields();
  const statuses = readStatuses(f, b.statuses);
  const start = readDate(f, 'startDate', b.startDate);
  const end = readDate(f, 'endDate', b.endDate);
  const { limit, before, after } = readCursor(f, b.cursor);
  f.check();

  // Newest first.
  const matching = [...all]
    .filter((i) => (statuses === undefined || statuses.includes(i.status))
      && (start === undefined || i.createdMs >= start)
      && (end === undefined || i.createdMs <= end))
    .sort((x, y) => y.seq - x.seq);

  let page: Intent[];
  if (before !== undefined) {
    const newer = matching.filter((i) => i.seq > before);
    page = newer.slice(Math.max(0, newer.length - limit));
  } else {
    const older = after === undefined ? matching : matching.filter((i) => i.seq < after);
    page = older.slice(0, limit);
  }

  const result: SearchPage = { data: page };
  if (page.length > 0) {
    const first = page[0].seq;
    const last = page[page.length - 1].seq;
    if (matching.some((i) => i.seq > first)) result.before = encodeCursor(first);
    if (matching.some((i) => i.seq < last)) result.after = encodeCursor(last);
  }
  return result;
}

function readStatuses(f: Fields, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  // Unknown status names are not an error: they just match nothing (enums stay open).
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    f.add('statuses', 'The statuses field must be an array of status names.');
    return undefined;
  }
  return v.length === 0 ? undefined : (v as string[]);
}

function readDate(f: Fields, path: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) { f.add(path, `The ${path} field must be an ISO 8601 date-time.`); return undefined; }
  return ms;
}

function readCursor(f: Fields, v: unknown): { limit: number; before?: number; after?: number } {
  if (v === undefined || v === null) return { limit: DEFAULT_LIMIT };
  if (!isObject(v)) { f.add('cursor', 'The cursor field must be an object.'); return { limit: DEFAULT_LIMIT }; }
  let limit = DEFAULT_LIMIT;
  if (v.limit !== undefined && v.limit !== null) {
    if (typeof v.limit !== 'number' || !Number.isInteger(v.limit) || v.limit < 1 || v.limit > MAX_LIMIT) {
      f.add('cursor.limit', `The limit must be an integer between 1 and ${MAX_LIMIT}.`);
    } else limit = v.limit;
  }
  const before = readEdge(f, 'cursor.before', v.before);
  const after = readEdge(f, 'cursor.after', v.after);
  if (before !== undefined && after !== undefined) f.add('cursor', 'before and after are mutually exclusive.');
  return { limit, before, after };
}

function readEdge(f: Fields, path: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const seq = typeof v === 'string' ? decodeCursor(v) : undefined;
  if (seq === undefined) f.add(path, 'The cursor is not valid.');
  return seq;
}

export function encodeCursor(seq: number): string {
  return Buffer.from(`pi:${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(s: string): number | undefined {
  if (s.length > 64) return undefined;
  const m = /^pi:(\d{1,15})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}
