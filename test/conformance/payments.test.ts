// Pay and refund, the same for every provider: outcomes by the shared amount rule, cancel from
// the flow, a connection lost mid-payment, one charge per reference, refunds.

import assert from 'node:assert/strict';
import { assertProgress, assertResult, allStatuses, forEachProvider, helper, until, type Conformance, type Msg } from './fixture';

forEachProvider('pay and refund', (c: Conformance) => {
  const expected = (outcome: string, amount: number, reference: string) => ({
    outcome, amount, reference, currency: c.entry.currency, provider: c.entry.provider,
    ...(c.entry.terminalId ? { terminalId: c.entry.terminalId } : {}),
  });

  it('approved: the documented result and progress shapes, one charge, a green status', async () => {
    const { results, progress, status, errs } = await c.load();
    const reference = c.ref('approved');
    const msg = await c.send('pay', c.payment(c.amounts.approved, reference), results);
    assert.equal(msg.topic, 'approved');
    assertResult(msg.payload, expected('approved', c.amounts.approved, reference));
    assert.ok(progress.length >= 1, 'at least one progress event');
    for (const m of progress) assertProgress(m, reference, c.entry.provider);
    assert.equal(c.handle.charges(), 1);
    assert.deepEqual(errs.pay, []);
    // The node showed a status, green last. Statuses are throttled (at most one per 150 ms):
    // the result's may show a moment after the result is sent.
    await until(() => status.pay.length > 0 && status.pay[status.pay.length - 1]!.fill === 'green', 'the green result status', 2000);
  });

  const outcomes: Array<[string, (a: Conformance['amounts']) => number, string]> = [
    ['declined (…51)', (a) => a.declined, 'declined'],
    ['timed out on the terminal (…52)', (a) => a.timedOut, 'timed_out'],
    ['cancelled on the terminal (…54)', (a) => a.cancelledOnTerminal, 'cancelled'],
  ];
  for (const [name, pick, outcome] of outcomes) {
    it(`${name} is a result, not an error`, async () => {
      const { results, errs } = await c.load();
      const amount = pick(c.amounts);
      const reference = c.ref(outcome);
      const msg = await c.send('pay', c.payment(amount, reference), results, 20000);
      assert.equal(msg.topic, outcome);
      assertResult(msg.payload, expected(outcome, amount, reference));
      assert.deepEqual(errs.pay, []);
      assert.equal(c.handle.charges(), 1);
    });
  }

  it('cancel from the flow: cancelled where the provider can cancel, otherwise a clear error that changes nothing', async () => {
    const { results, progress, errs, status } = await c.load();
    const pay = helper.getNode('pay');
    const reference = c.ref('flow-cancel');
    const cancel = { action: 'cancel', payload: { reference } };
    if (!c.entry.capabilities.cancel) {
      pay.receive(c.payment(c.amounts.approved, reference));
      pay.receive(cancel);
      await until(() => errs.pay.length === 1, 'the error');
      assert.match(errs.pay[0]!, /does not support cancel|cannot/);
      // The payment it named goes on untouched.
      await until(() => results.length === 1, 'the result', 15000);
      assert.equal(results[0]!.payload.outcome, 'approved');
      assert.equal(c.handle.charges(), 1);
      return;
    }
    assert.ok(c.entry.cancelFromFlow, 'an entry with capability cancel says when its cancel lands');
    const amount = c.entry.cancelAmount ?? c.amounts.approved;
    if (c.entry.cancelFromFlow === 'on_progress') {
      let sent = false;
      helper.getNode('progress').on('input', (m: Msg) => {
        if (sent || m.payload.reference !== reference) return;
        sent = true;
        pay.receive(cancel);
      });
      pay.receive(c.payment(amount, reference));
    } else {
      // Before the terminal shows anything: as soon as the provider has the payment to cancel.
      pay.receive(c.payment(amount, reference));
      for (let i = 0; i < 100 && results.length === 0; i++) {
        const errsBefore = errs.pay.length;
        const statusBefore = status.pay.length;
        pay.receive(cancel);
        await until(() => errs.pay.length > errsBefore || results.length > 0 || status.pay.slice(statusBefore).some((s) => /cancel/i.test(s.text ?? '')), 'the cancel to be taken or refused', 5000);
        if (errs.pay.length === errsBefore) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await until(() => results.length === 1, 'the result', 15000);
    assertResult(results[0]!.payload, expected('cancelled', amount, reference));
    assert.ok(progress.every((m) => m.payload.reference === reference));
    if (c.entry.cancelFromFlow === 'on_progress') assert.deepEqual(errs.pay, [], 'the cancel was taken');
    assert.equal(c.handle.charges(), 1);
  });

  it('the connection drops mid-payment (…55): the documented outcome, never a second charge', async () => {
    const { results } = await c.load();
    const reference = c.ref('drop');
    const msg = await c.send('pay', c.payment(c.amounts.drop, reference), results, 25000);
    assertResult(msg.payload, expected(c.entry.dropOutcome, c.amounts.drop, reference));
    assert.equal(c.handle.charges(), 1, 'one charge only');
  });

  it('the same reference twice at once, then again later: one charge, the same result, marked duplicate', async () => {
    const { results } = await c.load();
    const pay = helper.getNode('pay');
    const reference = c.ref('dup');
    // `seq` rides along on each msg so the results can be told apart whatever order they come in.
    pay.receive({ ...c.payment(c.amounts.approved, reference), seq: 1 });
    pay.receive({ ...c.payment(c.amounts.approved, reference), seq: 2 });
    await until(() => results.length === 2, 'both results', 15000);
    const third = await c.send('pay', { ...c.payment(c.amounts.approved, reference), seq: 3 }, results);
    assert.equal(c.handle.charges(), 1);
    const [first, second] = [1, 2].map((n) => results.find((m) => m.seq === n)!);
    assert.ok(first && second, 'one result per msg');
    assert.equal(first.payload.outcome, 'approved');
    assert.equal(first.duplicate, undefined, 'the first msg is the one that paid');
    assert.equal(second.duplicate, true);
    assert.equal(third.duplicate, true);
    assert.deepEqual(second.payload, first.payload, 'a repeat while the payment runs gets the very result');
    // A later repeat is answered from the journal, which keeps the result without the provider's raw answer.
    assert.deepEqual(third.payload, { ...first.payload, raw: null });
  });

  it('refund: approved and recorded once where offered; a clear error and status where not', async () => {
    const { results, refunded, errs } = await c.load();
    const reference = c.ref('refund');
    if (!c.entry.capabilities.refund) {
      helper.getNode('refund').receive(c.payment(500, reference));
      await until(() => errs.refund.length === 1, 'the error');
      assert.match(errs.refund[0]!, /does not support refund|cannot/);
      assert.ok(allStatuses('refund').some((s) => s.fill === 'red' && /cannot do this|capabilityMissing|does not support/.test(s.text ?? '')),
        `status says the provider cannot refund: ${JSON.stringify(allStatuses('refund'))}`);
      assert.equal(refunded.length, 0);
      assert.equal(c.handle.refunds(), 0);
      assert.equal(c.handle.charges(), 0);
      return;
    }
    const paid = await c.send('pay', c.payment(c.amounts.approved, c.ref('refund-sale')), results);
    assert.equal(paid.payload.outcome, 'approved');
    const options = c.entry.refundOptions?.(paid.payload) ?? {};
    const msg = await c.send('refund', c.payment(500, reference, Object.keys(options).length ? { options } : {}), refunded);
    assert.equal(msg.topic, 'approved');
    assertResult(msg.payload, { outcome: 'approved', amount: 500, reference, currency: c.entry.currency, provider: c.entry.provider });
    assert.deepEqual(errs.refund, []);
    assert.equal(c.handle.refunds(), 1);
    assert.equal(c.handle.charges(), 1, 'the refund is not a second sale');
  });
}, 'pay');
