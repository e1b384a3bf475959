// The provider's credential never shows: not in the log, a status, an output or an error,
// after a normal payment and after a reconnect the provider refuses.

import assert from 'node:assert/strict';
import { NODE_IDS, allStatuses, forEachProvider, helper, until, type Conformance, type Msg } from './fixture';

forEachProvider('secrets', (c: Conformance) => {
  it('the secret never appears in logs, statuses, outputs or errors', async () => {
    const loaded = await c.load();
    const { results, errs } = loaded;
    if (c.entry.capabilities.pay) {
      const paid = await c.send('pay', c.payment(c.amounts.approved, c.ref('secret-1')), results);
      assert.equal(paid.payload.outcome, 'approved');
    } else {
      c.handle.emitEvent?.();
      await until(() => loaded.events.length > 0, 'an event', 10000);
    }
    const refuse = c.handle.faults?.refuseCredentials;
    const drop = c.handle.faults?.drop;
    if (refuse && !c.entry.capabilities.pay && drop) {
      // No payment to drop the connection with: refuse the credential, drop, and watch the reconnect fail.
      const states: string[] = [];
      const off = helper.getNode('cfg').connection.provider.onState((s: { name: string }) => states.push(s.name));
      try {
        refuse(true);
        drop();
        await until(() => states.some((n) => ['unauthorized', 'error'].includes(n)), 'the refused reconnect', 15000);
      } finally {
        off();
      }
    } else if (refuse) {
      // The credential is refused from the first prompt on, then the connection drops (…55): the reconnect is refused.
      const reference = c.ref('secret-2');
      let refused = false;
      // States from the moment the credential is refused: a reconnect attempt, then its failure.
      const states: string[] = [];
      const off = helper.getNode('cfg').connection.provider.onState((s: { name: string }) => { if (refused) states.push(s.name); });
      helper.getNode('progress').on('input', (m: Msg) => {
        if (refused || m.payload.reference !== reference) return;
        refused = true;
        refuse(true);
      });
      try {
        helper.getNode('pay').receive({ ...c.payment(c.amounts.drop, reference), timeout: 3 });
        await until(() => results.length === 2 || errs.pay.length > 0, 'the second payment to end', 15000);
        assert.ok(refused, 'the fault was switched on mid-payment');
        // Providers refuse differently (an HTTP 401, a hang-up after connect), so any failure after the attempt counts.
        const failedAfterAttempt = () => {
          const attempt = states.indexOf('connecting');
          return attempt >= 0 && states.slice(attempt + 1).some((n) => ['unauthorized', 'reconnecting', 'error', 'displaced'].includes(n));
        };
        await until(failedAfterAttempt, 'a reconnect attempt to be refused', 15000);
      } finally {
        off();
      }
    }
    const logged = JSON.stringify(helper.log().args);
    assert.ok(logged.length > 100, 'something was logged');
    const seen = {
      log: logged,
      statuses: JSON.stringify(['cfg', ...NODE_IDS].map((id) => allStatuses(id))),
      outputs: JSON.stringify([loaded.results, loaded.progress, loaded.refunded, loaded.refundProgress, loaded.list, loaded.events]),
      errors: JSON.stringify(loaded.errs),
    };
    for (const [where, text] of Object.entries(seen)) assert.ok(!text.includes(c.handle.secret), `the secret leaked into ${where}`);
  });
});
