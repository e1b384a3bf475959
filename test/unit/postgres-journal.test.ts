// The shared journal and lease on a real PostgreSQL server (a throwaway cluster on 127.0.0.1):
// a reference is claimed by exactly one of several instances, results survive an outage, the
// payments of a dead instance go to exactly one live one, and one lease has one holder.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Pool } from 'pg';
import { isPosError } from '../../lib/core/errors';
import type { JournalEntry } from '../../lib/core/journal';
import type { Logger, PaymentRequest, PaymentResult } from '../../lib/core/types';
import { PostgresJournal, type PostgresJournalOptions } from '../../lib/journal/postgres-journal';
import { PostgresLease, type PostgresLeaseOptions } from '../../lib/journal/postgres-lease';
import { needsTool } from '../support/needs-tool';
import { postgresTool, startPostgres, type PostgresServer } from '../support/postgres';

const PASSWORD = 'Sup3r-Secret-Pw0rd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sale = (reference: string, amount = 1250): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });

function approved(r: PaymentRequest): PaymentResult {
  return {
    outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'modulus', terminalId: 'T1',
    transactionId: `tx-${r.reference}`, authCode: 'A1B2', card: { scheme: 'VISA', last4: '0119' }, receipt: { customer: ['THANK YOU'] },
    message: 'ok', raw: { big: 'x'.repeat(5000) },
  };
}

/** Polls `check` until it holds, at most `ms`. */
async function eventually(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (err) {
    return err as Error & { code?: string };
  }
  return assert.fail('expected a rejection');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A logger that keeps what it was told, so a test can prove the password never reached it. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string) => { lines.push(m); };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('PostgresJournal without a database', function () {
  this.timeout(15000);

  it('importing it does not load pg', function () {
    const file = path.join(__dirname, '../../lib/journal/postgres-journal.js');
    const loaded = execFileSync(process.execPath, ['-e',
      `require(${JSON.stringify(file)}); console.log(Object.keys(require.cache).some((k) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(k)))`], { encoding: 'utf8' });
    assert.equal(loaded.trim(), 'false');
  });

  it('refuses a table name that is not a plain identifier, before connecting', async function () {
    const base = { connectionString: `postgresql://u:${PASSWORD}@127.0.0.1:1/db`, account: 'a', instanceId: 'i' };
    for (const table of ['Payments', 'pay-ments', '1abc', 'a;drop table x', 'a b', '"quoted"', '', 'x'.repeat(54), 'x'.repeat(64)]) {
      const j = await rejection(PostgresJournal.open({ ...base, table }));
      assert.equal(j.code, 'bad_input', `journal table ${JSON.stringify(table)}: ${j.message}`);
      const l = await rejection(PostgresLease.open({ ...base, table, name: 'n' }));
      assert.equal(l.code, 'bad_input', `lease table ${JSON.stringify(table)}: ${l.message}`);
    }
    // Valid names get as far as connecting (and fail there: nothing listens on port 1).
    for (const table of ['pos_payments_journal', '_x', 'x'.repeat(53)]) {
      const err = await rejection(PostgresJournal.open({ ...base, table }));
      assert.equal(err.code, 'journal_unavailable', err.message);
    }
  });

  it('an unreachable server rejects the open quickly with journal_unavailable and no password', async function () {
    const port = await freePort();
    const logger = recordingLogger();
    const started = Date.now();
    const err = await rejection(PostgresJournal.open({ connectionString: `postgresql://pay:${PASSWORD}@127.0.0.1:${port}/db`, account: 'a', instanceId: 'i', logger }));
    assert.ok(isPosError(err) && err.code === 'journal_unavailable', err.message);
    assert.ok(Date.now() - started < 5000);
    assert.ok(!err.message.includes(PASSWORD) && !logger.lines.join('\n').includes(PASSWORD), err.message);
  });
});

describe('PostgresJournal and PostgresLease on PostgreSQL', function () {
  this.timeout(30000);
  let server: PostgresServer;
  let url: string;
  let admin: Pool;
  let tables = 0;
  const closers: Array<() => Promise<void>> = [];

  before(async function () {
    needsTool(this, postgresTool());
    this.timeout(120000);
    server = await startPostgres();
    // Trust auth accepts any password: it is there so the tests can look for it in messages.
    url = server.url.replace('postgres@', `postgres:${PASSWORD}@`);
    admin = new Pool({ connectionString: server.url, max: 2 });
    admin.on('error', () => {}); // its idle connections die with the server's planned outages
  });

  after(async function () {
    this.timeout(60000);
    await admin?.end();
    await server?.stop();
  });

  afterEach(async function () {
    this.timeout(20000);
    await server?.resume();
    await Promise.allSettled(closers.splice(0).map((close) => close()));
  });

  const freshTable = () => `pj_test_${++tables}`;

  async function journal(opts: Partial<PostgresJournalOptions> & { table: string }): Promise<PostgresJournal> {
    const j = await PostgresJournal.open({ connectionString: url, account: 'acct-1', instanceId: 'node-a', leaseSeconds: 2, ...opts });
    closers.push(() => j.close());
    return j;
  }

  async function lease(opts: Partial<PostgresLeaseOptions> & { table: string; instanceId: string }): Promise<PostgresLease> {
    const l = await PostgresLease.open({ connectionString: url, name: 'modulus:acct-1', leaseSeconds: 1, ...opts });
    closers.push(() => l.stop());
    return l;
  }

  async function row(table: string, reference: string, account = 'acct-1'): Promise<Record<string, unknown> | undefined> {
    const { rows } = await admin.query(`SELECT * FROM ${table} WHERE account = $1 AND reference = $2`, [account, reference]);
    return rows[0] as Record<string, unknown> | undefined;
  }

  describe('claims', function () {
    it('exactly one of four instances claims each reference, however they race', async function () {
      const table = freshTable();
      // Opened at once: their CREATE TABLE statements race too.
      const instances = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((instanceId) => journal({ table, instanceId })));
      const refs = Array.from({ length: 50 }, (_, i) => `R${i}`);
      const claims = await Promise.all(instances.flatMap((j) => refs.map(async (ref) => ({ j, ref, claim: await j.claim(sale(ref), `${j.instanceId}:${ref}`) }))));
      for (const ref of refs) {
        const mine = claims.filter((c) => c.ref === ref);
        const winners = mine.filter((c) => c.claim.claimed);
        assert.equal(winners.length, 1, `${ref} claimed by ${winners.length}`);
        const winner = winners[0];
        for (const c of mine) {
          assert.equal(c.claim.entry.attemptId, `${winner.j.instanceId}:${ref}`);
          assert.equal(c.claim.entry.owner, winner.j.instanceId);
        }
      }
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${table}`);
      assert.equal(rows[0].n, 50);
    });

    it('a claim is committed when it resolves: another instance sees it at once', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      const claim = await a.claim(sale('DUR1'), 'att-1');
      assert.equal(claim.claimed, true);
      assert.equal(claim.entry.state, 'pending');
      assert.equal(claim.entry.owner, 'a');
      const seen = await b.get('DUR1');
      assert.equal(seen?.attemptId, 'att-1');
      assert.deepEqual(seen?.request, sale('DUR1'));
      const again = await b.claim(sale('DUR1'), 'att-2');
      assert.equal(again.claimed, false);
      assert.equal(again.entry.attemptId, 'att-1');
      assert.equal((await row(table, 'DUR1'))?.state, 'pending');
    });

    it('notes merge, finish keeps the slim result, release frees only its own pending attempt', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      const { entry } = await a.claim(sale('NF1'), 'att-1');
      let noted = await a.note(entry, { providerId: 'p-1' });
      noted = await a.note(noted, { intent: 'i-9' });
      assert.deepEqual(noted.notes, { providerId: 'p-1', intent: 'i-9' });
      const done = await a.finish(noted, approved(sale('NF1')));
      assert.equal(done.state, 'done');
      assert.equal(done.result?.raw, null);
      assert.equal(done.result?.transactionId, 'tx-NF1');
      assert.ok(done.finishedAt);
      assert.deepEqual(done.notes, { providerId: 'p-1', intent: 'i-9' });
      const stored = await row(table, 'NF1');
      assert.equal((stored?.result as PaymentResult).raw, null);
      assert.ok(JSON.stringify(stored?.result).length < 1000, 'the raw answer is not stored');
      const repeat = await b.claim(sale('NF1'), 'att-2');
      assert.equal(repeat.claimed, false);
      assert.equal(repeat.entry.result?.outcome, 'approved');
      // A finished entry is never released.
      await a.release(done);
      assert.equal((await b.get('NF1'))?.state, 'done');

      const second = await a.claim(sale('NF2'), 'att-3');
      await b.release({ ...second.entry, attemptId: 'someone-else' });
      assert.equal((await b.get('NF2'))?.attemptId, 'att-3');
      await a.release(second.entry);
      assert.equal(await b.get('NF2'), undefined);
      assert.equal((await b.claim(sale('NF2'), 'att-4')).claimed, true);
    });

    it('two accounts in one table never see each other\'s rows', async function () {
      const table = freshTable();
      const shop1 = await journal({ table, account: 'shop-1', instanceId: 'a' });
      const shop2 = await journal({ table, account: 'shop-2', instanceId: 'a' });
      assert.equal((await shop1.claim(sale('SAME'), 'one')).claimed, true);
      assert.equal((await shop2.claim(sale('SAME'), 'two')).claimed, true);
      await shop2.finish((await shop2.get('SAME'))!, approved(sale('SAME')));
      assert.equal((await shop1.get('SAME'))?.state, 'pending');
      assert.equal((await shop1.get('SAME'))?.attemptId, 'one');
      assert.equal(await shop1.get('ONLY2'), undefined);
      await shop2.claim(sale('ONLY2'), 'x');
      assert.equal(await shop1.get('ONLY2'), undefined);
      await admin.query(`UPDATE ${table} SET finished_at = now() - interval '2 days' WHERE state = 'done'`);
      assert.equal(await shop1.sweep(new Date(Date.now() - 86_400_000)), 0);
      assert.equal(await shop2.sweep(new Date(Date.now() - 86_400_000)), 1);
    });
  });

  describe('waitForResult', function () {
    it('wakes on another instance\'s finish, by NOTIFY rather than the next poll', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      const { entry } = await a.claim(sale('W1'), 'att-1');
      const waiting = b.waitForResult('W1', 10000);
      // Past the first poll (500 ms) and the LISTEN set-up; the next poll is ~450 ms away.
      await sleep(550);
      const finishedAt = Date.now();
      await a.finish(entry, approved(sale('W1')));
      const seen = await waiting;
      const latency = Date.now() - finishedAt;
      assert.equal(seen?.state, 'done');
      assert.equal(seen?.result?.outcome, 'approved');
      assert.ok(latency < 300, `woken after ${latency} ms`);
    });

    it('answers with the entry as it is when the time is up, or at once when there is nothing to wait for', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      const { entry } = await a.claim(sale('W2'), 'att-1');
      let started = Date.now();
      const still = await b.waitForResult('W2', 400);
      const took = Date.now() - started;
      assert.equal(still?.state, 'pending');
      assert.ok(took >= 390 && took < 2500, `took ${took} ms`);

      started = Date.now();
      const released = b.waitForResult('W2', 10000);
      await sleep(100);
      await a.release(entry);
      assert.equal(await released, undefined);
      assert.ok(Date.now() - started < 2000);
      assert.equal(await b.waitForResult('NEVER', 10000), undefined);
    });

    it('a wait ends when its journal closes', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await PostgresJournal.open({ connectionString: url, account: 'acct-1', instanceId: 'b', table });
      await a.claim(sale('W3'), 'att-1');
      const waiting = b.waitForResult('W3', 20000);
      await sleep(200);
      const started = Date.now();
      await b.close();
      assert.equal((await waiting)?.state, 'pending');
      assert.ok(Date.now() - started < 2500);
    });
  });

  describe('recoverable', function () {
    it('hands back what an earlier run with the same instanceId left pending, once, and again after handBack', async function () {
      const table = freshTable();
      const first = await PostgresJournal.open({ connectionString: url, account: 'acct-1', instanceId: 'node-a', table });
      await first.claim(sale('OLD1'), 'o1');
      await first.claim(sale('OLD2'), 'o2');
      await first.close();
      const second = await journal({ table, instanceId: 'node-a' });
      const running = await second.claim(sale('NEW1'), 'n1');
      const recovered = await second.recoverable();
      assert.deepEqual(recovered.map((e) => e.reference).sort(), ['OLD1', 'OLD2']);
      assert.deepEqual(await second.recoverable(), [], 'handed out once');
      second.handBack(recovered[0]);
      assert.deepEqual((await second.recoverable()).map((e) => e.reference), [recovered[0].reference]);
      await second.finish(running.entry, approved(sale('NEW1')));
      assert.deepEqual(await second.recoverable(), []);
    });

    it('a live instance keeps its pending payments', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      await a.claim(sale('LIVE1'), 'l1');
      assert.deepEqual(await b.recoverable(), []);
      assert.equal((await row(table, 'LIVE1'))?.owner, 'a');
    });

    it('the payments of a dead instance go to exactly one of two live instances', async function () {
      const table = freshTable();
      // One closed (its heartbeat row is gone), one whose heartbeat stopped long ago.
      const closed = await PostgresJournal.open({ connectionString: url, account: 'acct-1', instanceId: 'gone', table, leaseSeconds: 2 });
      const stale = await PostgresJournal.open({ connectionString: url, account: 'acct-1', instanceId: 'stale', table, leaseSeconds: 2 });
      const refs: string[] = [];
      for (let i = 0; i < 6; i++) {
        const dead = i % 2 === 0 ? closed : stale;
        await dead.claim(sale(`DEAD${i}`), `d${i}`);
        refs.push(`DEAD${i}`);
      }
      await closed.close();
      await stale.close();
      await admin.query(`INSERT INTO ${table}_instances (instance_id, alive_at) VALUES ('stale', now() - interval '1 hour')`);
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      await a.claim(sale('ALIVE'), 'al');
      const [fromA, fromB] = await Promise.all([a.recoverable(), b.recoverable()]);
      const all = [...fromA, ...fromB].map((e) => e.reference).sort();
      assert.deepEqual(all, [...refs].sort(), `a: ${fromA.map((e) => e.reference)}, b: ${fromB.map((e) => e.reference)}`);
      for (const e of fromA) assert.equal((await row(table, e.reference))?.owner, 'a');
      for (const e of fromB) assert.equal((await row(table, e.reference))?.owner, 'b');
      assert.deepEqual([...await a.recoverable(), ...await b.recoverable()], []);
      assert.equal((await row(table, 'ALIVE'))?.owner, 'a');
    });

    it('an instance whose heartbeat is older than leaseSeconds loses its pending payments', async function () {
      const table = freshTable();
      const quiet = await journal({ table, instanceId: 'quiet', leaseSeconds: 30 });
      const b = await journal({ table, instanceId: 'b', leaseSeconds: 30 });
      await quiet.claim(sale('Q1'), 'q1');
      assert.deepEqual(await b.recoverable(), []);
      // Its next heartbeat is 10 s away: until then it looks dead.
      await admin.query(`UPDATE ${table}_instances SET alive_at = now() - interval '31 seconds' WHERE instance_id = 'quiet'`);
      assert.deepEqual((await b.recoverable()).map((e) => e.reference), ['Q1']);
      assert.deepEqual(await quiet.recoverable(), []);
    });
  });

  describe('sweep', function () {
    it('deletes only finished rows older than the cutoff, of its own account, in batches', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const other = await journal({ table, instanceId: 'a', account: 'acct-2' });
      for (const ref of ['OLD1', 'OLD2', 'NEW1']) await a.finish((await a.claim(sale(ref), ref)).entry, approved(sale(ref)));
      await a.claim(sale('PEND'), 'p');
      await other.finish((await other.claim(sale('OLD1'), 'x')).entry, approved(sale('OLD1')));
      await admin.query(`UPDATE ${table} SET finished_at = now() - interval '2 days', started_at = now() - interval '2 days'
                         WHERE reference IN ('OLD1', 'OLD2', 'PEND')`);
      await admin.query(`INSERT INTO ${table} (account, reference, state, attempt_id, owner, request, result, started_at, finished_at)
                         SELECT 'acct-1', 'BULK' || g, 'done', 'b' || g, 'a', '{}'::jsonb, '{}'::jsonb, now() - interval '3 days', now() - interval '3 days'
                         FROM generate_series(1, 2500) g`);
      const cutoff = new Date(Date.now() - 86_400_000);
      assert.equal(await a.sweep(cutoff), 2502);
      assert.equal(await a.get('OLD1'), undefined);
      assert.equal((await a.get('NEW1'))?.state, 'done');
      assert.equal((await a.get('PEND'))?.state, 'pending');
      assert.equal((await other.get('OLD1'))?.state, 'done');
      assert.equal(await a.sweep(cutoff), 0);
    });
  });

  describe('PostgresLease', function () {
    /** Fails the test if two leases ever believe they hold at once. */
    function exclusive(leases: PostgresLease[]): { holders(): PostgresLease[] } {
      for (const l of leases) {
        l.onChange((holding) => {
          if (holding) {
            const others = leases.filter((o) => o !== l && o.holding);
            assert.deepEqual(others.map((o) => o.instanceId), [], `${l.instanceId} took the lease while others held it`);
          }
        });
      }
      return { holders: () => leases.filter((l) => l.holding) };
    }

    it('one of two contenders holds it, and stop() hands it over at once', async function () {
      const table = freshTable();
      const a = await lease({ table, instanceId: 'a' });
      const b = await lease({ table, instanceId: 'b' });
      const watch = exclusive([a, b]);
      a.start();
      b.start();
      await eventually('a holder', 3000, () => watch.holders().length === 1);
      for (let i = 0; i < 40; i++) {
        assert.ok(watch.holders().length <= 1);
        await sleep(50);
      }
      const [holder] = watch.holders();
      const other = holder === a ? b : a;
      const started = Date.now();
      await holder.stop();
      assert.equal(holder.holding, false);
      await eventually('the other takes over', 2000, () => other.holding);
      assert.ok(Date.now() - started < 1500, `handed over after ${Date.now() - started} ms`);
    });

    it('a holder that dies without releasing is replaced within leaseSeconds + 5 s', async function () {
      const table = freshTable();
      const a = await lease({ table, instanceId: 'a' });
      a.start();
      await eventually('a holds', 3000, () => a.holding);
      const b = await lease({ table, instanceId: 'b' });
      exclusive([a, b]);
      b.start();
      await sleep(500);
      assert.equal(b.holding, false);
      const started = Date.now();
      await a.stop({ release: false });
      await eventually('b takes over', 1000 + 5000, () => b.holding);
      assert.ok(Date.now() - started >= 300, 'not before the dead holder\'s lease ran out');
    });

    it('a holder that cannot reach the database stops holding once its lease has run out', async function () {
      const table = freshTable();
      const a = await lease({ table, instanceId: 'a' });
      const b = await lease({ table, instanceId: 'b' });
      const watch = exclusive([a, b]);
      a.start();
      await eventually('a holds', 3000, () => a.holding);
      b.start();
      const lost: number[] = [];
      a.onChange((holding) => { if (!holding) lost.push(Date.now()); });
      const down = Date.now();
      await server.pause();
      await eventually('a gives up', 1000 + 1000, () => !a.holding);
      assert.ok(lost.length === 1 && lost[0] - down <= 1500, `gave up after ${lost[0] - down} ms`);
      assert.deepEqual(watch.holders(), []);
      await server.resume();
      await eventually('someone holds again', 8000, () => watch.holders().length === 1);
    });
  });

  // Last: these take the server down.
  describe('database outages', function () {
    it('a claim while the database is down rejects quickly with journal_unavailable, without the password', async function () {
      const table = freshTable();
      const logger = recordingLogger();
      const a = await journal({ table, instanceId: 'a', logger });
      await server.pause();
      let started = Date.now();
      const err = await rejection(a.claim(sale('DOWN1'), 'd1'));
      assert.equal(err.code, 'journal_unavailable', err.message);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.ok(!err.message.includes(PASSWORD), err.message);
      assert.equal((await rejection(a.get('DOWN1'))).code, 'journal_unavailable');
      assert.equal((await rejection(a.recoverable())).code, 'journal_unavailable');
      await server.resume();
      assert.equal((await a.claim(sale('DOWN1'), 'd1')).claimed, true);
      started = Date.now();
      await server.pause();
      await a.close();
      assert.ok(Date.now() - started < 2500 + 5000, 'pause plus close');
      assert.ok(!logger.lines.join('\n').includes(PASSWORD));
    });

    it('a claim to a server that stopped answering rejects within the connect and query timeouts', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      await a.claim(sale('HUNG0'), 'h0'); // an idle pooled connection, to be caught by the freeze
      server.freeze();
      const started = Date.now();
      const errs = await Promise.all([rejection(a.claim(sale('HUNG1'), 'h1')), rejection(a.claim(sale('HUNG2'), 'h2'))]);
      const took = Date.now() - started;
      for (const err of errs) assert.equal(err.code, 'journal_unavailable', err.message);
      assert.ok(took < 8000, `took ${took} ms`);
      server.thaw();
      await eventually('claims work again', 10000, async () => (await a.claim(sale('HUNG3'), 'h3').catch(() => undefined)) !== undefined);
    });

    it('a result finished while the database is down is answered from memory and written when it is back', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const { entry } = await a.claim(sale('KEEP1'), 'k1');
      await server.pause();
      const err = await rejection(a.finish(entry, approved(sale('KEEP1'))));
      assert.equal(err.code, 'journal_unavailable', err.message);
      assert.ok(!err.message.includes(PASSWORD));
      const held: JournalEntry | undefined = await a.get('KEEP1');
      assert.equal(held?.state, 'done');
      assert.equal(held?.result?.transactionId, 'tx-KEEP1');
      const repeat = await a.claim(sale('KEEP1'), 'k2');
      assert.equal(repeat.claimed, false);
      assert.equal(repeat.entry.result?.outcome, 'approved');
      await server.resume();
      await eventually('the result is written', 10000, async () => (await row(table, 'KEEP1'))?.state === 'done');
      const stored = await row(table, 'KEEP1');
      assert.equal((stored?.result as PaymentResult).transactionId, 'tx-KEEP1');
      assert.equal((stored?.result as PaymentResult).raw, null);
    });

    it('keeps working after PostgreSQL crashes and restarts mid-run', async function () {
      const table = freshTable();
      const a = await journal({ table, instanceId: 'a' });
      const b = await journal({ table, instanceId: 'b' });
      const { entry } = await a.claim(sale('CR1'), 'c1');
      const waiting = b.waitForResult('CR1', 20000);
      await sleep(700);
      await server.kill();
      await server.resume();
      const claim = await a.claim(sale('CR2'), 'c2');
      assert.equal(claim.claimed, true);
      await a.finish(entry, approved(sale('CR1')));
      assert.equal((await waiting)?.state, 'done');
      assert.equal((await b.get('CR2'))?.attemptId, 'c2');
    });
  });
});
