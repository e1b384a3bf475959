// Transaction kinds, the same for every provider: what a provider offers works end to end
// through the pay node (pre-auth, completion for less, release, verify; each result with its
// kind), the journal refuses what would settle a pre-auth wrongly, and a kind a provider lacks
// is "not offered": a clear error, nothing sent.

import assert from 'node:assert/strict';
import type { Capability } from '../../lib/core/provider';
import { assertResult, forEachProvider, helper, sleep, until, type Conformance } from './fixture';

const KINDS = ['preauth', 'completion', 'release', 'verify'] as const;

forEachProvider('transaction kinds', (c: Conformance) => {
  const offers = (kind: (typeof KINDS)[number]) => c.entry.capabilities.pay && c.entry.capabilities[kind as Capability];
  const expected = (kind: string, outcome: string, amount: number, reference: string) => ({
    kind, outcome, amount, reference, currency: c.entry.currency, provider: c.entry.provider,
    ...(c.entry.terminalId ? { terminalId: c.entry.terminalId } : {}),
  });

  if (offers('preauth') && offers('completion')) {
    it('a pre-auth, then a completion for less; a second completion, one over the reserve or of an unknown pre-auth is refused, nothing sent', async () => {
      const { results, errs } = await c.load();
      const pre = c.ref('tab');
      const reserved = c.amounts.approved;
      const first = await c.send('pay', c.payment(reserved, pre, { kind: 'preauth' }), results);
      assertResult(first.payload, expected('preauth', 'approved', reserved, pre));
      const done = await c.send('pay', c.payment(reserved - 200, c.ref('tab-close'), { kind: 'completion', originalReference: pre }), results);
      assertResult(done.payload, expected('completion', 'approved', reserved - 200, c.ref('tab-close')));
      const sent = c.handle.transactions!();
      const refusals: Array<[Record<string, unknown>, RegExp]> = [
        [{ kind: 'completion', originalReference: pre, amount: 100, reference: c.ref('tab-again') }, /already completed/],
        [{ kind: 'completion', originalReference: c.ref('nope'), amount: 100, reference: c.ref('tab-nope') }, /no pre-auth with reference/],
      ];
      if (offers('release')) refusals.push([{ kind: 'release', originalReference: pre, reference: c.ref('tab-release') }, /already completed/]);
      for (const [payload, why] of refusals) {
        const before = errs.pay.length;
        helper.getNode('pay').receive({ payload: { currency: c.entry.currency, ...payload } });
        await until(() => errs.pay.length > before, 'the refusal');
        assert.match(errs.pay[before]!, why);
      }
      // Over the reserve, on a fresh pre-auth.
      const pre2 = c.ref('tab-2');
      await c.send('pay', c.payment(reserved, pre2, { kind: 'preauth' }), results);
      const before = errs.pay.length;
      helper.getNode('pay').receive(c.payment(reserved + 1, c.ref('tab-2-over'), { kind: 'completion', originalReference: pre2 }));
      await until(() => errs.pay.length > before, 'the refusal');
      assert.match(errs.pay[before]!, /more than the pre-auth/);
      await sleep(50);
      assert.equal(c.handle.transactions!(), sent + 1, 'only the second pre-auth reached the simulator');
      assert.equal(results.length, 3);
    });
  }

  if (offers('release')) {
    it('a pre-auth given back whole by a release', async () => {
      const { results } = await c.load();
      const pre = c.ref('deposit');
      await c.send('pay', c.payment(c.amounts.approved, pre, { kind: 'preauth' }), results);
      const msg = await c.send('pay', { payload: { kind: 'release', originalReference: pre, reference: c.ref('deposit-back'), currency: c.entry.currency } }, results);
      assert.equal(msg.topic, 'approved');
      assertResult(msg.payload, { ...expected('release', 'approved', c.amounts.approved, c.ref('deposit-back')) });
    });
  }

  if (offers('verify')) {
    it('a verify checks the card for zero', async () => {
      const { results } = await c.load();
      const msg = await c.send('pay', { payload: { kind: 'verify', reference: c.ref('check'), currency: c.entry.currency } }, results);
      assertResult(msg.payload, expected('verify', 'approved', 0, c.ref('check')));
    });
  }

  const missing = KINDS.filter((k) => !offers(k));
  if (missing.length > 0) {
    it(`not offered: ${missing.join(', ')}; each is a clear error with nothing sent`, async () => {
      const { results, progress, errs } = await c.load();
      const charges = c.handle.charges();
      for (const kind of missing) {
        const before = errs.pay.length;
        const linked = kind === 'completion' || kind === 'release';
        helper.getNode('pay').receive(c.payment(kind === 'verify' ? 0 : c.amounts.approved, c.ref(`no-${kind}`),
          { kind, ...(linked ? { originalReference: c.ref('some-preauth') } : {}) }));
        await until(() => errs.pay.length > before, `the ${kind} refusal`);
        // A provider that cannot pay at all says so first; one that pays names the kind it lacks.
        assert.match(errs.pay[before]!, new RegExp(`${c.entry.provider} does not support (${kind}|pay)`));
      }
      await sleep(50);
      assert.equal(results.length + progress.length, 0);
      assert.equal(c.handle.charges(), charges);
    });
  }
});
