// Two real Node-RED processes sharing one PostgreSQL journal (a cluster this test starts), in
// front of one Paymentsense simulator running here: 1,000 payments with random duplicates sent
// to either instance at random, one of them killed (-9) and started again every 100 payments,
// and PostgreSQL itself stopped and started mid-run. Then every reference is repeated.
// Nothing is charged twice, nothing is lost, and every payment the flow never heard about is
// reported by payment_recovered exactly once across the two instances.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { httpPayFlow, startNodeReds } from '../support/http-pay-flow';
import { needsTool } from '../support/needs-tool';
import { NodeRedProcess } from '../support/node-red-process';
import { postgresTool, startPostgres, type PostgresServer } from '../support/postgres';
import { waitFor } from '../support/quick-start';

const TERMINALS = Array.from({ length: 8 }, (_, i) => `SHARE00${i}SIP0`);
const PAYMENTS = 1000;
const KILL_EVERY = 100;

const flows = (simUrl: string, dbUrl: string, eventsFile: string) => httpPayFlow('share', simUrl, eventsFile, { journal: 'share-journal' }, [
  { id: 'share-journal', type: 'pos-journal', name: 'shared', store: 'postgres', table: 'pos_payments_journal', leaseSeconds: 2, credentials: { connectionString: dbUrl } },
]);

/** `answered`: the first send of the reference got its result (a duplicate's answer does not count: the first may still be cut off and reported). */
interface Payment { reference: string; amount: number; terminalId: string; answered: boolean; errors: number; answeredLater?: boolean; sentAt?: number }
interface Recovered { reference?: string; data?: { outcome?: string } }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('journal: two Node-RED instances on one PostgreSQL', function () {
  this.timeout(900000);
  let db: PostgresServer | undefined;
  let sim: PaymentsenseSimulator;
  const reds: NodeRedProcess[] = [];
  const eventFiles: string[] = [];
  const seed = Number(process.env.POS_SHARED_SEED) || Date.now() % 100000;
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);

  before(async function () {
    needsTool(this, postgresTool());
    db = await startPostgres();
    sim = new PaymentsenseSimulator({ stepDelayMs: 20, pingIntervalMs: 60000, terminals: TERMINALS.map((tid) => ({ tid, currency: 'GBP' })) });
    const { url } = await sim.start();
    for (const { red, events } of await startNodeReds(2, (events) => flows(url, db!.url, events))) {
      reds.push(red);
      eventFiles.push(events);
    }
    console.log(`      seed ${seed} (POS_SHARED_SEED=${seed} replays this run)`);
  });

  after(async () => {
    for (const red of reds) await red.dispose();
    await sim?.stop();
    await db?.stop();
  });

  const charges = (amount: number) => sim.ledger.filter((e) => e.amount === amount).length;
  const events = (): Recovered[] => eventFiles.flatMap((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recovered));

  async function send(red: NodeRedProcess, p: Payment, first = true): Promise<'ok' | 'error' | 'down'> {
    if (!red.running) return 'down';
    try {
      const res = await red.api('/pay', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ amount: p.amount, currency: 'GBP', reference: p.reference, terminalId: p.terminalId }) });
      const body = await res.json().catch(() => ({})) as { outcome?: string };
      if (res.status === 200 && body.outcome === 'approved') {
        if (first) p.answered = true;
        else p.answeredLater = true;
        return 'ok';
      }
      p.errors++;
      return 'error';
    } catch {
      return 'down';
    }
  }

  it(`${PAYMENTS} payments with duplicates to either instance, a kill -9 every ${KILL_EVERY}, PostgreSQL restarted mid-run: none charged twice, none lost, each reported once`, async () => {
    const payments: Payment[] = [];
    const kills: number[] = [];
    const free = [...TERMINALS];
    const inflight = new Set<Promise<unknown>>();
    let refused = 0;
    for (let n = 1; n <= PAYMENTS; n++) {
      // A duplicate of an earlier reference one time in five, to whichever instance.
      const dup = payments.length > 0 && random() < 0.2;
      while (!dup && free.length === 0) await sleep(10);
      const p: Payment = dup ? payments[Math.floor(random() * payments.length)]! : { reference: `S${n}-${seed}`, amount: 20000 + n * 100, terminalId: free.shift()!, answered: false, errors: 0 };
      if (!dup) {
        p.sentAt = Date.now();
        payments.push(p);
      }
      const red = reds[Math.floor(random() * 2)]!;
      const work = send(red, p, !dup).then((r) => { if (r === 'error') refused++; }).finally(() => {
        inflight.delete(work);
        if (!dup) setTimeout(() => free.push(p.terminalId), 300);
      });
      inflight.add(work);
      if (n % KILL_EVERY === 0) {
        const victim = reds[Math.floor(random() * 2)]!;
        await victim.kill();
        // After the process is gone: whatever it finished, it finished before this.
        kills.push(Date.now());
        await victim.start();
      }
      if (n === PAYMENTS / 2) {
        // The database goes away and comes back: payments in that window are refused, nothing is sent twice.
        await db!.kill();
        await sleep(1500);
        await db!.resume();
      }
      await sleep(Math.floor(random() * 15));
    }
    await Promise.all(inflight);

    // Every instance sees the unfinished payments of the dead ones within leaseSeconds + the recovery interval.
    for (const p of payments) assert.ok(charges(p.amount) <= 1, `${p.reference} charged ${charges(p.amount)} times`);
    // Finished in the journal before the kill that cut its HTTP answer off: the pay node had sent the result
    // on and the crash cut the flow after it; that is not a payment left without a result.
    const finishedAt = new Map<string, number>();
    {
      const { Client } = require('pg') as typeof import('pg');
      const client = new Client({ connectionString: db!.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT reference, finished_at FROM pos_payments_journal WHERE state = 'done'");
        for (const r of rows) finishedAt.set(r.reference, new Date(r.finished_at).getTime());
      } finally {
        await client.end();
      }
    }
    const sentOnBeforeKill = (p: Payment) => {
      const kill = kills.find((k) => k >= (p.sentAt ?? 0));
      const done = finishedAt.get(p.reference);
      return kill !== undefined && done !== undefined && done < kill;
    };
    // Charged, and no send of it got the result: its entry was left pending by a kill, so it must be reported.
    const unanswered = payments.filter((p) => !p.answered && !p.answeredLater && charges(p.amount) === 1 && !sentOnBeforeKill(p));
    await waitFor(`payment_recovered for ${unanswered.length} payments charged without an answer (seed ${seed})`, 60000, async () => {
      const seen = new Set(events().filter((e) => e.data?.outcome && e.data.outcome !== 'unknown').map((e) => e.reference));
      return unanswered.every((p) => seen.has(p.reference)) ? true : undefined;
    });

    const answeredBefore = payments.filter((p) => p.answered).map((p) => p.reference);
    // Nothing is left pending in the shared journal: every interrupted payment was resolved by some instance.
    await waitFor('no pending entries left in the shared journal', 30000, async () => {
      const { Client } = require('pg') as typeof import('pg');
      const client = new Client({ connectionString: db!.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT count(*)::int AS n FROM pos_payments_journal WHERE state = 'pending'");
        return rows[0].n === 0 ? true : undefined;
      } finally {
        await client.end();
      }
    });
    // Every reference once more, alternating instances: the journal answers, or it pays what was never sent.
    for (const [i, p] of payments.entries()) {
      let result: string = 'down';
      for (let attempt = 0; attempt < 20 && result !== 'ok'; attempt++) {
        result = await send(reds[i % 2]!, p, false);
        if (result !== 'ok') await sleep(250);
      }
      assert.equal(result, 'ok', `repeating ${p.reference}`);
    }
    const twice = payments.filter((p) => charges(p.amount) > 1);
    const lost = payments.filter((p) => charges(p.amount) === 0);
    const finals = new Map<string, number>();
    for (const e of events()) if (e.reference && e.data?.outcome !== 'unknown') finals.set(e.reference, (finals.get(e.reference) ?? 0) + 1);
    const reportedTwice = [...finals].filter(([, n]) => n > 1);
    console.log(`      ${payments.length} references (${PAYMENTS - payments.length} duplicate sends), ${unanswered.length} charged without an answer and recovered, ` +
      `${refused} refused sends (retried), ${twice.length} charged twice, ${lost.length} lost, ${reportedTwice.length} reported twice`);
    assert.deepEqual(twice.map((p) => p.reference), []);
    assert.deepEqual(lost.map((p) => p.reference), []);
    assert.deepEqual(reportedTwice, []);
    assert.deepEqual(answeredBefore.filter((r) => finals.has(r)), [], 'payments whose result the flow had are not reported again');
  });
});
