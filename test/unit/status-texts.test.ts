// Every status text in the catalogs fits under a node without running over its neighbours
// (issue 13): with the longest value each placeholder can realistically take, at most MAX_TEXT
// characters; free text (a provider's reason) is cut to MAX_TEXT by the code that shows it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PosError } from '../../lib/core/errors';
import { formatMinor } from '../../lib/core/money';
import { DOJO_METHODS, EPOS_ERROR_TYPES } from '../../lib/providers/dojo/schemas';
import { PAT_METHODS } from '../../lib/providers/paymentsense/pat-wire';
import { ERROR_STATUS_KEYS, errorStatus } from '../../nodes/shared/error-status';
import type { RedApi } from '../../nodes/shared/red';
import { MAX_TEXT, connectionStatus, progressStatus, textStatus } from '../../nodes/shared/status';

const dir = path.join(__dirname, '../../../nodes/locales/en-US');
const catalogs: Record<string, Record<string, unknown>> = Object.fromEntries(
  fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]),
);

/** Every leaf of a catalog as [dotted key, text]. */
function leaves(o: unknown, prefix = ''): Array<[string, string]> {
  if (typeof o === 'string') return [[prefix, o]];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}
const all = Object.values(catalogs).flatMap((c) => leaves(c));
const lookup = new Map(all);
/** What a node shows under it: the shared `pos.status|outcome|progress|error` texts and each node's own `status` / `progress`. */
const statusTexts = all.filter(([k]) => /^pos\.(status|outcome|progress|error)\.|^pos-[a-z-]+\.(status|progress)\./.test(k));

const longest = (xs: readonly string[]) => xs.reduce((a, b) => (b.length > a.length ? b : a), '');
const reportTypes = leaves((catalogs['pos-report.json']!['pos-report'] as Record<string, unknown>).type).map(([, v]) => v);
/** The longest value each placeholder takes; a placeholder missing here fails the test until someone decides its worst case. */
const WORST: Record<string, string> = {
  amount: longest(['GBP', 'JPY', 'BHD', 'EUR', 'USD'].map((c) => formatMinor(99_999_999, c))),
  // Method names as the providers spell them, both kinds of request-in.
  method: longest([...DOJO_METHODS.map((m) => m.method), ...PAT_METHODS]),
  type: longest([...EPOS_ERROR_TYPES, 'InvalidRequest', ...reportTypes]),
  provider: 'paymentsense',
  count: '99999', done: '99', total: '99', attempt: '999', seconds: '30', available: '99999',
  // A terminal id: Paymentsense's TIDs are 12 characters, Dojo's ids longer; 24 leaves room.
  terminal: 'x'.repeat(24),
  label: 'tables',
  // A step of a report: the catalog's progress texts (a provider's own words are cut, see below).
  step: longest(leaves((catalogs['pos-report.json']!['pos-report'] as Record<string, unknown>).progress).map(([, v]) => v)),
};
/** Placeholders filled with free text (a reason, another status): shown only through the code that cuts it to MAX_TEXT. */
const FREE_TEXT = new Set(['reason', 'text']);

const fill = (text: string, subs: Record<string, string>) => text.replace(/__([a-zA-Z]+)__/g, (_m, name: string) => subs[name] ?? `__${name}__`);

/** A RED._ over the real catalogs, as the build merges them (`pos.` into every node's). */
const RED = {
  _: (key: string, subs?: Record<string, unknown>) => {
    const text = lookup.get(key);
    if (text === undefined) return String((subs as { defaultValue?: string } | undefined)?.defaultValue ?? key);
    return fill(text, Object.fromEntries(Object.entries(subs ?? {}).map(([k, v]) => [k, String(v)])));
  },
} as unknown as RedApi;

describe('status texts fit under a node', () => {
  it('the catalogs have status texts to check (the filter finds them)', () => {
    assert.ok(statusTexts.length > 60, `${statusTexts.length} status texts`);
    for (const k of ['pos.status.reconnecting', 'pos.outcome.unknown', 'pos.error.bad_input', 'pos-report.status.complete']) {
      assert.ok(statusTexts.some(([key]) => key === k), k);
    }
  });

  it(`every status text, with the longest value of each placeholder, is at most ${MAX_TEXT} characters`, () => {
    const over: string[] = [];
    for (const [key, text] of statusTexts) {
      const names = [...text.matchAll(/__([a-zA-Z]+)__/g)].map((m) => m[1]!);
      for (const n of names) assert.ok(n in WORST || FREE_TEXT.has(n), `${key}: no worst case for __${n}__`);
      // Free text counts as nothing here: it is cut by the code (next test); the words around it must still leave room.
      const shown = fill(text, { ...WORST, reason: '', text: '' });
      const room = names.some((n) => FREE_TEXT.has(n)) ? MAX_TEXT - 16 : MAX_TEXT;
      if (shown.length > room) over.push(`${key} (${shown.length} > ${room}): ${shown}`);
    }
    assert.deepEqual(over, [], 'status texts too long for a flow');
  });

  it('the texts around free text are cut to the limit where they are shown', () => {
    const reason = `the provider said ${'very '.repeat(40)}much`;
    const shown = [
      connectionStatus(RED, { name: 'error', reason } as never),
      textStatus(RED, 'status.failed', { reason }, 'red'),
      progressStatus(RED, 'no_such_event_in_the_catalog', reason),
    ];
    for (const s of shown) {
      assert.equal(s.text!.length, MAX_TEXT, s.text);
      assert.ok(s.text!.endsWith('…'), s.text);
    }
  });

  it('every error code has its own short status, and an unexpected error one too', () => {
    for (const [code, key] of Object.entries(ERROR_STATUS_KEYS)) {
      assert.ok(lookup.has(`pos.${key}`), `pos.${key} in the catalog`);
      const err = code === 'unexpected' ? new Error('boom') : new PosError(code as never, 'a long sentence for the Catch node');
      const s = errorStatus(RED, err);
      assert.equal(s.fill, 'red');
      assert.equal(s.text, lookup.get(`pos.${key}`), code);
      assert.doesNotMatch(s.text!, /sentence|boom/, 'the status has the catalog\'s words, not the error\'s');
    }
    assert.equal(new Set(Object.values(ERROR_STATUS_KEYS).map((k) => lookup.get(`pos.${k}`))).size, Object.keys(ERROR_STATUS_KEYS).length, 'each reason reads differently');
  });

  it('a PosError reads as its sentence alone (what Node-RED puts in msg.error.message and the log)', () => {
    const err = new PosError('bad_input', 'amount must be more than zero, got -5');
    assert.equal(err.toString(), 'amount must be more than zero, got -5');
    assert.equal(`${err}`, 'amount must be more than zero, got -5');
    assert.equal(err.code, 'bad_input');
    assert.equal(err.name, 'PosError', 'the class name stays for developers (stack traces)');
    assert.match(String(err.stack), /^PosError: amount must be/);
  });
});
