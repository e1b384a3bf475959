// The no-double-charge promise against real process deaths: a real Node-RED with its default
// settings (no context store configured) takes payments over HTTP from this test while the
// Paymentsense simulator runs here, outside it, so its ledger outlives every Node-RED. The
// process is killed (-9) or stopped (SIGTERM) at random moments during payments and started
// again; then every reference is repeated. Across all trials: no reference charged twice,
// every one charged exactly once by the end (nothing lost), every payment the flow never heard
// about reported by payment_recovered with its outcome once, none reported that it did hear.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { httpPayFlow } from '../support/http-pay-flow';
import { NodeRedProcess } from '../support/node-red-process';
import { waitFor } from '../support/quick-start';

const TERMINALS = ['CRASH001SIP0', 'CRASH002SIP0', 'CRASH003SIP0'];

const flows = (url: string, eventsFile: string) => httpPayFlow('crash', url, eventsFile);

/** A small seeded generator, so a failing run can be replayed (the seed is printed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Recovered { reference?: string; data?: { outcome?: string; message?: string } }

interface Payment { reference: string; amount: number; terminalId: string; answered?: { outcome: string } }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function crashSuite(name: string, opts: { trials: number; stepDelayMs: number; maxDelayMs: number; stop: (red: NodeRedProcess) => Promise<void> }) {
  describe(name, function () {
    this.timeout(Math.max(600000, opts.trials * 20000));
    const seed = Number(process.env.POS_CRASH_SEED) || Date.now() % 100000;
    const random = rng(seed);
    let sim: PaymentsenseSimulator;
    let red: NodeRedProcess;
    let nextAmount = 10000;
    let eventsFile = '';
    /** The payment_recovered events the flow has written so far. */
    const recoveredEvents = (): Recovered[] => (fs.existsSync(eventsFile) ? fs.readFileSync(eventsFile, 'utf8') : '')
      .split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recovered);
    const recoveredFinal = new Map<string, number>();
    const summary = { payments: 0, interrupted: 0, recovered: 0, deliveredBeforeKill: 0, chargedTwice: 0 };

    /** Every journal record of a reference, for a failure message. */
    function journalLines(reference: string): string {
      const root = path.join(red.userDir, 'pos-payments', 'journal');
      const out: string[] = [];
      for (const account of fs.existsSync(root) ? fs.readdirSync(root) : []) {
        for (const file of fs.readdirSync(path.join(root, account)).filter((f) => f.startsWith('journal-'))) {
          for (const line of fs.readFileSync(path.join(root, account, file), 'utf8').split('\n')) {
            if (line.includes(JSON.stringify(reference))) out.push(`${file}: ${line.slice(0, 300)}`);
          }
        }
      }
      return out.join('\n') || '(none)';
    }

    /** The journal's own files (read as text; a live Node-RED would hold the lock): is the reference finished? */
    function finishedInJournal(reference: string): boolean {
      return journalLines(reference).split('\n').some((line) => line.split(' ')[2] === 'f');
    }

    before(async () => {
      sim = new PaymentsenseSimulator({ stepDelayMs: opts.stepDelayMs, pingIntervalMs: 60000, terminals: TERMINALS.map((tid) => ({ tid, currency: 'GBP' })) });
      const { url } = await sim.start();
      red = new NodeRedProcess([]);
      eventsFile = path.join(red.userDir, 'recovered.jsonl');
      await red.start();
      const deployed = await red.api('/flows', { method: 'POST', body: JSON.stringify(flows(url, eventsFile)), headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' } });
      assert.equal(deployed.status, 204, await deployed.text());
      console.log(`      seed ${seed} (POS_CRASH_SEED=${seed} replays this run)`);
    });

    after(async () => {
      console.log(`      ${summary.payments} payments, ${summary.interrupted} interrupted, ${summary.recovered} reported by payment_recovered, ` +
        `${summary.deliveredBeforeKill} sent on by the pay node just before the kill, ${summary.chargedTwice} charged twice`);
      await red?.dispose();
      await sim?.stop();
    });

    const charges = (amount: number) => sim.ledger.filter((e) => e.amount === amount).length;
    const ledgerOf = (amount: number) => JSON.stringify(sim.ledger.filter((e) => e.amount === amount));

    async function pay(p: Payment): Promise<{ status: number; body: any }> {
      const res = await red.api('/pay', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ amount: p.amount, currency: 'GBP', reference: p.reference, terminalId: p.terminalId }) });
      return { status: res.status, body: await res.json().catch(() => ({})) };
    }

    /** Waits for the connection: a payment sent before it is refused (nothing sent), so try a probe until one is taken. */
    async function untilConnected(): Promise<void> {
      await waitFor('the Paymentsense connection after a start', 20000, async () => {
        const amount = (nextAmount += 100);
        const r = await pay({ reference: `probe-${amount}-${seed}`, amount, terminalId: TERMINALS[2]! });
        return r.status === 200 ? true : undefined;
      });
    }

    it(`${opts.trials} trials: payments cut off at random moments; none charged twice, none lost, every one reported once`, async () => {
      await untilConnected();
      for (let trial = 1; trial <= opts.trials; trial++) {
        const batch: Payment[] = TERMINALS.slice(0, 2).map((terminalId, i) => ({ reference: `T${trial}-${i}-${seed}`, amount: (nextAmount += 100), terminalId }));
        summary.payments += batch.length;
        const requests = batch.map((p) => pay(p).then((r) => { if (r.status === 200) p.answered = r.body; }, () => undefined));
        await sleep(Math.floor(random() * opts.maxDelayMs));
        await opts.stop(red);
        // What the dead process had finished: read before the restart, whose recoveries write more.
        const finishedAtDeath = new Set(batch.filter((p) => finishedInJournal(p.reference)).map((p) => p.reference));
        await Promise.all(requests);
        const seenBefore = recoveredEvents().length;
        await red.start();
        await untilConnected();
        for (const p of batch) {
          const charged = charges(p.amount);
          assert.ok(charged <= 1, `trial ${trial}: ${p.reference} charged ${charged} times before any repeat: ${ledgerOf(p.amount)}\n${red.allOutput.slice(-4000)}`);
          if (p.answered) continue;
          summary.interrupted++;
          if (charged === 0) continue;
          // Finished in the journal before the kill: the pay node had sent its result on, and the crash
          // cut the flow off after it (the HTTP answer). That is the flow's loss, not a payment left
          // without a result, so no payment_recovered is due; the repeat below still answers it.
          if (finishedAtDeath.has(p.reference)) {
            summary.deliveredBeforeKill++;
            continue;
          }
          // Charged, and the flow never heard: reported with its outcome once the terminal has finished.
          const ev = await waitFor(`payment_recovered for ${p.reference} (trial ${trial}, seed ${seed})`, 20000, async () =>
            recoveredEvents().slice(seenBefore).find((e) => e.reference === p.reference && e.data?.outcome !== 'unknown'))
            .catch((err: Error) => {
              throw new Error(`${err.message}\njournal: ${journalLines(p.reference)}\nledger: ${ledgerOf(p.amount)}\nevents since the start: ${JSON.stringify(recoveredEvents().slice(seenBefore))}\n${red.allOutput.slice(-3000)}`);
            });
          assert.equal(ev.data?.outcome, 'approved', JSON.stringify(ev));
          summary.recovered++;
        }
        // Let any late duplicate report show itself before counting.
        await sleep(200);
        for (const ev of recoveredEvents().slice(seenBefore)) {
          const p = batch.find((b) => b.reference === ev.reference);
          assert.ok(!p?.answered, `trial ${trial}: ${ev.reference} was reported although the flow had its result`);
          if (ev.reference && ev.data?.outcome !== 'unknown') recoveredFinal.set(ev.reference, (recoveredFinal.get(ev.reference) ?? 0) + 1);
        }
        // Every reference repeated: the journal answers, or (never sent / never received with the terminal idle) it pays now.
        for (const p of batch) {
          const again = await pay(p);
          assert.equal(again.status, 200, `trial ${trial}: repeating ${p.reference}: ${JSON.stringify(again.body).slice(0, 300)}`);
          assert.equal(again.body.outcome, 'approved', `trial ${trial}: ${p.reference}: ${again.body.message}`);
          const charged = charges(p.amount);
          if (charged > 1) summary.chargedTwice++;
          assert.equal(charged, 1, `trial ${trial}: ${p.reference} charged ${charged} times: ${ledgerOf(p.amount)}`);
        }
      }
      for (const [reference, n] of recoveredFinal) assert.equal(n, 1, `${reference} reported ${n} times with its outcome`);
      assert.equal(summary.chargedTwice, 0);
      assert.ok(summary.interrupted > 0, 'some payments were cut off (else the trials proved nothing)');
    });
  });
}

// POS_CRASH_TRIALS raises the count for the soak run (scripts/soak-journal.js); 30 in npm test.
crashSuite('journal: real Node-RED killed (-9) during payments', {
  trials: Number(process.env.POS_CRASH_TRIALS) || 30, stepDelayMs: 60, maxDelayMs: 600, stop: (red) => red.kill(),
});

crashSuite('journal: real Node-RED stopped (SIGTERM) during payments', {
  trials: 8, stepDelayMs: 500, maxDelayMs: 1500, stop: (red) => red.terminate(),
});
