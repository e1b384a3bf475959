// Journal.recent(limit): the most recently active entries, newest first, bounded, for the
// editor's Payments sidebar. The same checks run on every journal: memory, file (also after a
// reopen, where the finished entries are only on disk) and PostgreSQL (when a server can run).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryJournal, RECENT_MAX, recentLimit, type Journal } from '../../lib/core/journal';
import type { PaymentRequest, PaymentResult } from '../../lib/core/types';
import { DeferredJournal } from '../../lib/journal/deferred-journal';
import { FileJournal } from '../../lib/journal/file-journal';
import { PostgresJournal } from '../../lib/journal/postgres-journal';
import { usePostgres, type PostgresServer } from '../support/postgres';

const sale = (reference: string, amount = 1250): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });
const approved = (r: PaymentRequest): PaymentResult => ({
  outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense',
  card: { scheme: 'VISA', last4: '0119' }, receipt: {}, message: 'ok', raw: { big: 'x'.repeat(2000) },
});
const tick = () => new Promise((r) => setTimeout(r, 2));

/** Pays `n` references one after another (each finishes before the next starts). */
async function payAll(j: Journal, refs: string[]): Promise<void> {
  for (const ref of refs) {
    const c = await j.claim(sale(ref), `a-${ref}`);
    await tick();
    await j.finish(c.entry, approved(sale(ref)));
    await tick();
  }
}

/** The checks every journal passes; `reopen` gives the same journal as a fresh process would see it. */
function recentBehaviour(make: () => Promise<Journal>, reopen?: (j: Journal) => Promise<Journal>): void {
  it('lists the newest first, at most the limit, with their results and no raw answer', async () => {
    const j = await make();
    await payAll(j, ['R1', 'R2', 'R3', 'R4']);
    const list = await j.recent(3);
    assert.deepEqual(list.map((e) => e.reference), ['R4', 'R3', 'R2']);
    assert.ok(list.every((e) => e.state === 'done' && e.result?.outcome === 'approved' && e.result.raw === null));
    assert.equal(list[0]!.request.amount, 1250);
  });

  it('an unfinished payment is listed by when it started, among the finished ones by when they finished', async () => {
    const j = await make();
    await payAll(j, ['F1']);
    await j.claim(sale('P1', 1255), 'a-P1');
    await tick();
    await payAll(j, ['F2']);
    const list = await j.recent(10);
    assert.deepEqual(list.map((e) => `${e.reference}:${e.state}`), ['F2:done', 'P1:pending', 'F1:done']);
  });

  it('a released reference is gone; one finished again is listed once, where it finished last', async () => {
    const j = await make();
    await payAll(j, ['A']);
    const b = await j.claim(sale('B'), 'a-B');
    await j.release(b.entry);
    await payAll(j, ['C']);
    assert.deepEqual((await j.recent(10)).map((e) => e.reference), ['C', 'A']);
    // Taken again after the release and finished: one entry, at the top.
    await payAll(j, ['B']);
    assert.deepEqual((await j.recent(10)).map((e) => e.reference), ['B', 'C', 'A']);
  });

  it('an empty journal lists nothing; a silly limit is taken as a sensible one', async () => {
    const j = await make();
    assert.deepEqual(await j.recent(5), []);
    await payAll(j, ['X1', 'X2']);
    assert.equal((await j.recent(0)).length, 2, '0 means the default, not nothing');
    assert.equal((await j.recent(Number.NaN)).length, 2);
    assert.equal((await j.recent(1.9)).length, 1);
  });

  if (reopen) {
    it('after a reopen the finished entries come from disk, newest first, a pending one too', async () => {
      const j = await make();
      await payAll(j, ['D1', 'D2', 'D3']);
      await j.claim(sale('D4'), 'a-D4');
      const again = await reopen(j);
      const list = await again.recent(3);
      assert.deepEqual(list.map((e) => `${e.reference}:${e.state}`), ['D4:pending', 'D3:done', 'D2:done']);
      assert.equal(list[1]!.result?.card.last4, '0119');
    });
  }
}

describe('journal recent()', () => {
  it('recentLimit clamps to 1..RECENT_MAX and defaults to 50', () => {
    assert.equal(recentLimit(10), 10);
    assert.equal(recentLimit(10_000), RECENT_MAX);
    assert.equal(recentLimit(-3), 50);
    assert.equal(recentLimit(Number.POSITIVE_INFINITY), 50);
  });

  describe('MemoryJournal', () => {
    recentBehaviour(async () => new MemoryJournal());
  });

  describe('DeferredJournal (waits for the opening)', () => {
    recentBehaviour(async () => new DeferredJournal(new Promise((r) => setTimeout(() => r(new MemoryJournal()), 20))));

    it('says journal_unavailable when the journal could not be opened', async () => {
      const j = new DeferredJournal(Promise.reject(new Error('disk gone')));
      await assert.rejects(j.recent(5), (err: Error & { code?: string }) => err.code === 'journal_unavailable' && /disk gone/.test(err.message));
    });
  });

  describe('FileJournal', () => {
    let dir: string;
    const opened: FileJournal[] = [];
    const open = async () => {
      const j = await FileJournal.open(dir);
      opened.push(j);
      return j;
    };
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-recent-')); });
    afterEach(async () => {
      for (const j of opened.splice(0)) await j.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    recentBehaviour(open, async (j) => {
      await j.close();
      return open();
    });

    it('reads only what it lists: a journal of 3000 finished payments answers recent(5) from five records', async function () {
      this.timeout(20000);
      const j = await open();
      // Concurrent claims share flushes, so this builds a big journal quickly.
      const refs = Array.from({ length: 3000 }, (_, i) => `B${String(i).padStart(4, '0')}`);
      for (let i = 0; i < refs.length; i += 500) {
        const batch = refs.slice(i, i + 500);
        const claims = await Promise.all(batch.map((ref) => j.claim(sale(ref), `a-${ref}`)));
        await Promise.all(claims.map((c) => j.finish(c.entry, approved(c.entry.request))));
      }
      await j.close();
      const again = await open();
      const reads: number[] = [];
      // Every record read back goes through readRecord: count them.
      const inner = again as unknown as { readRecord: (loc: number, type: string) => Promise<unknown> };
      const original = inner.readRecord.bind(again);
      inner.readRecord = (loc, type) => { reads.push(loc); return original(loc, type); };
      const list = await again.recent(5);
      assert.equal(list.length, 5);
      assert.ok(list.every((e) => e.state === 'done' && e.reference.startsWith('B2')), list.map((e) => e.reference).join());
      assert.equal(reads.length, 5, 'one read per listed entry, not a scan of the journal');
      const finished = list.map((e) => e.finishedAt!);
      assert.deepEqual([...finished].sort().reverse(), finished, 'newest first');
    });
  });

  describe('PostgresJournal', function () {
    this.timeout(30000);
    let server: PostgresServer;
    let tables = 0;
    const opened: PostgresJournal[] = [];
    usePostgres((s) => { server = s; }, async () => {
      for (const j of opened.splice(0)) await j.close().catch(() => undefined);
    });
    const table = () => `recent_test_${++tables}`;
    const open = async (name = table(), account = 'acct-1') => {
      const j = await PostgresJournal.open({ connectionString: server.url, table: name, account, instanceId: 'node-a', leaseSeconds: 2 });
      opened.push(j);
      return j;
    };

    recentBehaviour(() => open(), async (j) => {
      const name = (j as PostgresJournal).table;
      await j.close();
      return open(name);
    });

    it('lists only its own account', async () => {
      const name = table();
      const mine = await open(name, 'acct-1');
      const other = await open(name, 'acct-2');
      await payAll(mine, ['M1']);
      await payAll(other, ['O1', 'O2']);
      assert.deepEqual((await mine.recent(10)).map((e) => e.reference), ['M1']);
    });
  });
});
