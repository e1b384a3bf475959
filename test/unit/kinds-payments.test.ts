// Transaction kinds over the payment service and each local journal: a completion or release
// is linked to its pre-auth by originalReference, settles it once, and every refusal is
// bad_input with nothing sent; a lost completion is asked about, never resent.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal, type Journal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import { isSettlementReference, settlementReference } from '../../lib/core/settlements';
import type { PaymentRequest, PaymentResult } from '../../lib/core/types';
import { silentLogger } from '../../lib/core/types';
import { FileJournal } from '../../lib/journal/file-journal';
import { ALL, KindsProvider, req, result } from '../support/kinds';

async function refusal(work: Promise<unknown>): Promise<PosError> {
  try {
    await work;
  } catch (err) {
    return err as PosError;
  }
  return assert.fail('expected a refusal');
}

interface Store { name: string; open(): Promise<Journal>; reopen(j: Journal): Promise<Journal>; done(): Promise<void> }

function stores(): Store[] {
  let dir = '';
  const opened: Journal[] = [];
  return [
    { name: 'memory journal', open: async () => new MemoryJournal(), reopen: async (j) => j, done: async () => {} },
    {
      name: 'file journal',
      async open() {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-kinds-'));
        const j = await FileJournal.open(dir);
        opened.push(j);
        return j;
      },
      async reopen(j) {
        await j.close();
        const next = await FileJournal.open(dir);
        opened.push(next);
        return next;
      },
      async done() {
        for (const j of opened.splice(0)) await j.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
  ];
}

for (const store of stores()) {
  describe(`transaction kinds over the ${store.name}`, () => {
    let journal: Journal;
    let provider: KindsProvider;
    let service: PaymentService;
    const pay = (r: PaymentRequest) => service.pay(r, { timeoutMs: 2000 });

    beforeEach(async () => {
      journal = await store.open();
      provider = new KindsProvider();
      service = new PaymentService(provider, journal, silentLogger);
    });
    afterEach(() => store.done());

    it('every result says its kind, sale and refund included', async () => {
      for (const kind of ['sale', 'refund', 'preauth', 'verify'] as const) {
        const { result: r } = await pay(req(kind, `k-${kind}`, kind === 'verify' ? 0 : 1000));
        assert.equal(r.kind, kind);
      }
      // A repeat answered from the journal says it too.
      const again = await pay(req('sale', 'k-sale', 1000));
      assert.equal(again.duplicate, true);
      assert.equal(again.result.kind, 'sale');
    });

    it('a completion for less than the reserve gets the pre-auth\'s ids from the journal, not from the flow', async () => {
      const pre = await pay(req('preauth', 'tab-1', 5000));
      assert.equal(pre.result.kind, 'preauth');
      const { result: done } = await pay(req('completion', 'tab-1-close', 4200, { originalReference: 'tab-1' }));
      assert.equal(done.kind, 'completion');
      assert.equal(done.outcome, 'approved');
      assert.equal(done.amount, 4200);
      const sent = provider.attempts[1]!.request;
      assert.deepEqual(sent.original, {
        reference: 'tab-1', amount: 5000, currency: 'GBP', terminalId: 'T1', transactionId: 'tx-tab-1', authCode: pre.result.authCode,
      });
      assert.equal((await journal.get(settlementReference('tab-1')))?.state, 'done', 'the pre-auth is settled for good');
    });

    it('refuses, with nothing sent: an unknown pre-auth, more than the reserve, another currency, a sale, a declined pre-auth', async () => {
      await pay(req('preauth', 'p-ok', 3000));
      await pay(req('sale', 's-1', 3000));
      provider.behaviour = async (a) => result(a.request, 'declined');
      await pay(req('preauth', 'p-declined', 3000));
      provider.behaviour = async (a) => result(a.request, 'approved');
      const before = provider.attempts.length;
      const cases: Array<[PaymentRequest, RegExp]> = [
        [req('completion', 'c-1', 1000, { originalReference: 'nope' }), /no pre-auth with reference "nope"/],
        [req('completion', 'c-2', 3001, { originalReference: 'p-ok' }), /more than the pre-auth "p-ok" reserved \(3000/],
        [req('completion', 'c-3', 1000, { originalReference: 'p-ok', currency: 'EUR' }), /reserved GBP, not EUR/],
        [req('completion', 'c-4', 1000, { originalReference: 's-1' }), /is a sale, not a pre-auth/],
        [req('release', 'c-5', 0, { originalReference: 'p-declined' }), /ended declined: nothing is reserved/],
        [req('release', 'c-6', 1000, { originalReference: 'p-ok' }), /gives back the whole reserve/],
      ];
      for (const [r, why] of cases) {
        const err = await refusal(pay(r));
        assert.equal(err.code, 'bad_input', `${r.reference}: ${err.message}`);
        assert.match(err.message, why);
        assert.match(err.message, /nothing was sent/);
        assert.equal(await journal.get(r.reference), undefined, `${r.reference} is not journalled, so it may be sent again corrected`);
      }
      assert.equal(provider.attempts.length, before);
    });

    it('a pre-auth is settled once: a second completion, or a release after it, is refused', async () => {
      await pay(req('preauth', 'hotel-7', 20000));
      await pay(req('completion', 'hotel-7-out', 18000, { originalReference: 'hotel-7' }));
      const before = provider.attempts.length;
      const again = await refusal(pay(req('completion', 'hotel-7-out-2', 100, { originalReference: 'hotel-7' })));
      assert.equal(again.code, 'bad_input');
      assert.match(again.message, /already completed \(reference "hotel-7-out"\)/);
      const release = await refusal(pay(req('release', 'hotel-7-rel', 0, { originalReference: 'hotel-7' })));
      assert.match(release.message, /already completed/);
      assert.equal(provider.attempts.length, before);
      // The completion's own reference repeated is its first result, not a refusal.
      const repeat = await pay(req('completion', 'hotel-7-out', 18000, { originalReference: 'hotel-7' }));
      assert.equal(repeat.duplicate, true);
      assert.equal(repeat.result.outcome, 'approved');
    });

    it('a release takes the whole reserve when no amount is given, and a completion after it is refused', async () => {
      await pay(req('preauth', 'car-1', 30000));
      const { result: r } = await pay(req('release', 'car-1-back', 0, { originalReference: 'car-1' }));
      assert.equal(r.kind, 'release');
      assert.equal(r.amount, 30000);
      assert.equal(provider.attempts[1]!.request.amount, 30000);
      const err = await refusal(pay(req('completion', 'car-1-late', 100, { originalReference: 'car-1' })));
      assert.match(err.message, /already released \(reference "car-1-back"\)/);
    });

    it('a completion that took no money (declined) leaves the pre-auth free for another one', async () => {
      await pay(req('preauth', 'bar-2', 6000));
      provider.behaviour = async (a) => result(a.request, 'declined');
      const first = await pay(req('completion', 'bar-2-a', 5000, { originalReference: 'bar-2' }));
      assert.equal(first.result.outcome, 'declined');
      provider.behaviour = async (a) => result(a.request, 'approved');
      const second = await pay(req('completion', 'bar-2-b', 4000, { originalReference: 'bar-2' }));
      assert.equal(second.result.outcome, 'approved');
    });

    it('a completion the provider refused before any card step frees the pre-auth and its own reference', async () => {
      await pay(req('preauth', 'p-9', 6000));
      provider.behaviour = async () => { throw new PosError('provider_error', 'terminal busy'); };
      const err = await refusal(pay(req('completion', 'p-9-c', 5000, { originalReference: 'p-9' })));
      assert.equal(err.code, 'provider_error');
      assert.equal(await journal.get(settlementReference('p-9')), undefined);
      provider.behaviour = async (a) => result(a.request, 'approved');
      assert.equal((await pay(req('completion', 'p-9-c2', 5000, { originalReference: 'p-9' }))).result.outcome, 'approved');
    });

    it('a journal that cannot take the pre-auth refuses the completion: nothing sent, its reference free again', async () => {
      await pay(req('preauth', 'p-j', 1000));
      const real = journal.claim.bind(journal);
      journal.claim = async (r, attemptId) => {
        if (isSettlementReference(r.reference)) throw new PosError('journal_unavailable', 'the disk is full');
        return real(r, attemptId);
      };
      const err = await refusal(pay(req('completion', 'p-j-c', 500, { originalReference: 'p-j' })));
      assert.equal(err.code, 'journal_unavailable');
      assert.equal(await journal.get('p-j-c'), undefined);
      assert.equal(provider.attempts.length, 1, 'only the pre-auth was sent');
    });

    it('two completions of one pre-auth at once: exactly one is sent', async () => {
      await pay(req('preauth', 'p-race', 6000));
      provider.behaviour = async (a) => { await new Promise((r) => setTimeout(r, 20)); return result(a.request, 'approved'); };
      const runs = await Promise.allSettled(['r1', 'r2', 'r3'].map((ref) => pay(req('completion', ref, 1000, { originalReference: 'p-race' }))));
      assert.equal(runs.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of runs) if (r.status === 'rejected') assert.equal((r.reason as PosError).code, 'bad_input');
      assert.equal(provider.attempts.filter((a) => a.request.kind === 'completion').length, 1);
    });

    it('a completion whose result is lost is asked about, never resent, and holds the pre-auth meanwhile', async () => {
      await pay(req('preauth', 'p-lost', 7000));
      provider.behaviour = async () => { throw new PosError('protocol_error', 'the connection was lost'); };
      provider.lookupAnswer = () => ({ found: 'cannot_ask', reason: 'not connected' });
      const lost = await pay(req('completion', 'p-lost-c', 7000, { originalReference: 'p-lost' }));
      assert.equal(lost.result.outcome, 'unknown');
      assert.equal(lost.result.kind, 'completion');
      const other = await refusal(pay(req('completion', 'p-lost-c2', 7000, { originalReference: 'p-lost' })));
      assert.match(other.message, /outcome is unknown/);
      // Asked again with the same reference: the provider knows now. One completion was ever sent.
      let found = 0;
      provider.lookupAnswer = () => { found++; return { found: 'result', result: result(req('completion', 'p-lost-c', 7000), 'approved') }; };
      const again = await pay(req('completion', 'p-lost-c', 7000, { originalReference: 'p-lost' }));
      assert.equal(again.result.outcome, 'approved');
      assert.equal(again.result.kind, 'completion');
      assert.equal(found, 1);
      assert.equal(provider.attempts.filter((a) => a.request.kind === 'completion').length, 1);
      assert.equal((await journal.get(settlementReference('p-lost')))?.state, 'done');
    });

    it('a kind the provider lacks is capability_missing before the journal hears of it', async () => {
      provider.capabilities = { ...ALL, release: false };
      await pay(req('preauth', 'p-x', 1000));
      const err = await refusal(pay(req('release', 'p-x-r', 0, { originalReference: 'p-x' })));
      assert.equal(err.code, 'capability_missing');
      assert.match(err.message, /paymentsense does not support release/);
      assert.equal(await journal.get('p-x-r'), undefined);
      assert.equal(provider.attempts.length, 1);
    });

    it('after a restart, a completion left running is looked up and settles its pre-auth', async () => {
      await pay(req('preauth', 'p-rs', 8000));
      // The terminal takes the card, but this Node-RED dies before it hears the answer.
      provider.behaviour = () => new Promise(() => {});
      void pay(req('completion', 'p-rs-c', 8000, { originalReference: 'p-rs' })).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 30));
      // The completion and its settlement stay pending in the journal across the restart.
      journal = await store.reopen(journal);
      const after = new KindsProvider();
      after.lookupAnswer = () => ({ found: 'result', result: result(req('completion', 'p-rs-c', 8000), 'approved') });
      const recovered: PaymentResult[] = [];
      const restarted = new PaymentService(after, journal, silentLogger);
      restarted.onRecovered((r) => recovered.push(r));
      await restarted.recoverPending();
      assert.deepEqual(recovered.map((r) => [r.reference, r.kind, r.outcome]), [['p-rs-c', 'completion', 'approved']], 'the settlement entry is not reported');
      assert.equal((await journal.get(settlementReference('p-rs')))?.state, 'done');
      const err = await refusal(restarted.pay(req('release', 'p-rs-r', 0, { originalReference: 'p-rs' }), { timeoutMs: 1000 }));
      assert.match(err.message, /already completed/);
      assert.equal(after.attempts.length, 0);
    });
  });
}
