// pos-pay / pos-refund against the Paymentsense simulator: every outcome, idempotency,
// control messages, and bad input that must send nothing.

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { ALL_NODES, TOKEN, collect, configNode, connected, credentials, errors, helper, statuses, until, useSimulator, type Msg } from './harness';

describe('pos-pay and pos-refund with Paymentsense (simulator)', function () {
  this.timeout(20000);
  let sim: PaymentsenseSimulator;
  let url: string;

  useSimulator((s) => { ({ sim, url } = s); });

  const flow = (extra: Record<string, unknown> = {}) => [
    configNode(url, extra),
    { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', currency: 'GBP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'refund', type: 'pos-refund', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', currency: 'GBP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'result', type: 'helper' },
    { id: 'progress', type: 'helper' },
  ];

  async function load(extra: Record<string, unknown> = {}) {
    await helper.load(ALL_NODES, flow(extra), credentials);
    await until(connected(), 'the connection');
    return { results: collect('result'), progress: collect('progress'), errs: errors('pay') };
  }

  async function pay(node: string, payload: unknown, results: Msg[], extra: Record<string, unknown> = {}): Promise<Msg> {
    const before = results.length;
    helper.getNode(node).receive({ payload, ...extra });
    await until(() => results.length > before, 'a result', 15000);
    return results[results.length - 1]!;
  }

  it('approved: the documented result shape, progress events, one ledger entry', async () => {
    const { results, progress } = await load();
    const status = statuses('pay');
    const msg = await pay('pay', { amount: 1250, currency: 'GBP', reference: 'A-1' }, results);
    const r = msg.payload;
    assert.equal(msg.topic, 'approved');
    assert.deepEqual(Object.keys(r).sort(), ['amount', 'approved', 'authCode', 'card', 'currency', 'kind', 'message', 'outcome', 'provider', 'raw', 'receipt', 'reference', 'terminalId', 'transactionId'].sort());
    assert.equal(r.outcome, 'approved');
    assert.equal(r.approved, true);
    assert.equal(r.amount, 1250);
    assert.equal(r.currency, 'GBP');
    assert.equal(r.reference, 'A-1');
    assert.equal(r.terminalId, 'VCM00001SIP0');
    assert.equal(r.provider, 'paymentsense');
    assert.equal(typeof r.authCode, 'string');
    assert.equal(r.card.verification, 'pin');
    assert.ok(Array.isArray(r.receipt.customer));
    const events = progress.map((m) => m.payload.event);
    assert.ok(events.includes('present_card') || events.includes('insert_card'), `progress: ${events.join(',')}`);
    assert.ok(events.includes('pin_entry'));
    for (const m of progress) {
      assert.equal(m.topic, m.payload.event);
      assert.equal(m.payload.reference, 'A-1');
      assert.equal(m.payload.provider, 'paymentsense');
      assert.equal(typeof m.payload.message, 'string');
    }
    assert.equal(sim.ledger.length, 1);
    assert.equal(sim.ledger[0]!.amount, 1250);
    assert.ok(status.some((s) => s.fill === 'blue'), 'a live prompt was shown while paying');
    // Statuses are throttled (at most one per 150 ms): the result's may show a moment after it is sent.
    await until(() => status[status.length - 1]?.fill === 'green', 'the green result status', 2000);
  });

  it('declined by amount (…51) and by terminal (DIP0) is a result, not an error', async () => {
    const { results, errs } = await load();
    assert.equal((await pay('pay', { amount: 1251, currency: 'GBP', reference: 'D-1' }, results)).payload.outcome, 'declined');
    const d2 = await pay('pay', { amount: 1000, currency: 'GBP', reference: 'D-2', terminalId: 'VCM00003DIP0' }, results);
    assert.equal(d2.payload.outcome, 'declined');
    assert.equal(d2.payload.approved, false);
    assert.deepEqual(errs, []);
  });

  it('signature accepted from the flow → approved with signature verification', async () => {
    const { results, progress } = await load();
    helper.getNode('progress').on('input', (m: Msg) => {
      if (m.payload.event === 'signature_required') helper.getNode('pay').receive({ action: 'accept-signature', payload: { reference: m.payload.reference } });
    });
    const msg = await pay('pay', { amount: 1000, currency: 'GBP', reference: 'S-1', terminalId: 'VCM00004SIS0' }, results);
    assert.equal(msg.payload.outcome, 'approved');
    assert.equal(msg.payload.card.verification, 'signature');
    assert.ok(progress.some((m) => m.payload.event === 'signature_required'));
  });

  it('signature rejected → voided; amount …53 asks for a signature too', async () => {
    const { results } = await load();
    helper.getNode('progress').on('input', (m: Msg) => {
      if (m.payload.event === 'signature_required') helper.getNode('pay').receive({ action: 'reject-signature', payload: { reference: m.payload.reference } });
    });
    assert.equal((await pay('pay', { amount: 1000, currency: 'GBP', reference: 'S-2', terminalId: 'VCM00004SIS0' }, results)).payload.outcome, 'voided');
    assert.equal((await pay('pay', { amount: 1253, currency: 'GBP', reference: 'S-3' }, results)).payload.outcome, 'voided');
  });

  it('cancel from the flow → cancelled; amount …54 is cancelled on the terminal', async () => {
    const { results } = await load();
    let sent = false;
    helper.getNode('progress').on('input', (m: Msg) => {
      if (!sent && m.payload.reference === 'C-1') {
        sent = true;
        helper.getNode('pay').receive({ action: 'cancel', payload: { reference: 'C-1' } });
      }
    });
    assert.equal((await pay('pay', { amount: 1000, currency: 'GBP', reference: 'C-1' }, results)).payload.outcome, 'cancelled');
    assert.equal((await pay('pay', { amount: 1254, currency: 'GBP', reference: 'C-2' }, results)).payload.outcome, 'cancelled');
  });

  it('timed out (…52 and TIP0) and unsuccessful (UIP0)', async () => {
    const { results } = await load();
    assert.equal((await pay('pay', { amount: 1252, currency: 'GBP', reference: 'T-1' }, results)).payload.outcome, 'timed_out');
    assert.equal((await pay('pay', { amount: 1000, currency: 'GBP', reference: 'T-2', terminalId: 'VCM00006TIP0' }, results)).payload.outcome, 'timed_out');
    assert.equal((await pay('pay', { amount: 1000, currency: 'GBP', reference: 'U-1', terminalId: 'VCM00005UIP0' }, results)).payload.outcome, 'failed');
  });

  it('refund: approved, recorded as a refund', async () => {
    const { results } = await load();
    const msg = await pay('refund', { amount: 500, currency: 'GBP', reference: 'RF-1' }, results);
    assert.equal(msg.payload.outcome, 'approved');
    assert.equal(msg.payload.amount, 500);
    assert.equal(sim.ledger.length, 1);
    assert.equal(sim.ledger[0]!.method, 'refund');
  });

  it('the same reference twice charges once; the second msg gets the first result', async () => {
    const { results } = await load();
    const node = helper.getNode('pay');
    node.receive({ payload: { amount: 700, currency: 'GBP', reference: 'DUP-1' } });
    node.receive({ payload: { amount: 700, currency: 'GBP', reference: 'DUP-1' } });
    await until(() => results.length === 2, 'both results', 15000);
    const third = await pay('pay', { amount: 700, currency: 'GBP', reference: 'DUP-1' }, results);
    assert.equal(sim.ledger.length, 1);
    assert.deepEqual(results[1]!.payload, results[0]!.payload);
    // Answered from the journal: the slim result, the provider's raw answer left out.
    assert.deepEqual(third.payload, { ...results[0]!.payload, raw: null });
    assert.equal(third.duplicate, true);
    assert.equal(results.filter((m) => m.duplicate).length, 2);
  });

  it('reference defaults to msg._msgid', async () => {
    const { results } = await load();
    const msg = await pay('pay', { amount: 800, currency: 'GBP' }, results, { _msgid: 'msgid-42' });
    assert.equal(msg.payload.reference, 'msgid-42');
  });

  it('a connection dropped mid-payment never leads to a second sale frame', async () => {
    const { results } = await load({ heartbeat: 1 });
    const msg = await pay('pay', { amount: 1255, currency: 'GBP', reference: 'DROP-1' }, results);
    assert.equal(sim.ledger.length, 1, 'one sale frame only');
    assert.ok(['approved', 'unknown'].includes(msg.payload.outcome), msg.payload.outcome);
    // The simulator keeps the result, so asking after the reconnect finds it.
    assert.equal(msg.payload.outcome, 'approved');
  });

  it('a payment whose result cannot be established ends unknown with a message a person can act on', async () => {
    const { results, errs } = await load();
    // The socket drops mid-payment and the reconnection is refused, so Paymentsense cannot be asked.
    sim.setFault('dropMidPayment', true);
    sim.setFault('refuseToken', true);
    helper.getNode('pay').receive({ payload: { amount: 900, currency: 'GBP', reference: 'LOST-1' }, timeout: 2 });
    await until(() => results.length === 1, 'a result', 10000);
    assert.equal(results[0]!.payload.outcome, 'unknown');
    assert.equal(results[0]!.payload.approved, false);
    assert.match(results[0]!.payload.message, /Check the terminal/);
    assert.deepEqual(errs, []);
    assert.equal(sim.ledger.length, 1, 'sent once');
    // Asking again with the same reference returns the same unknown result and sends nothing.
    sim.setFault('refuseToken', false);
    const again = await pay('pay', { amount: 900, currency: 'GBP', reference: 'LOST-1' }, results);
    assert.equal(again.payload.outcome, 'unknown');
    assert.equal(sim.ledger.length, 1);
  });

  it('the node timeout while the terminal still runs: unknown, still running, sent once, signature rejected', async () => {
    const { results } = await load();
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'SLOW-1', terminalId: 'VCM00004SIS0' }, timeout: 0.5 });
    await until(() => results.length === 1, 'a result', 10000);
    assert.equal(results[0]!.payload.outcome, 'unknown');
    assert.match(results[0]!.payload.message, /still running on the terminal/);
    assert.equal(sim.ledger.length, 1);
    // The open signature check was answered "rejected", so the terminal reverses the payment.
    await until(() => sim.ledger[0]!.result !== undefined, 'the terminal to finish');
    assert.equal(sim.ledger[0]!.result, 'VOID');
    // Sending the same reference again asks Paymentsense, which knows the outcome by now; nothing is resent.
    const again = await pay('pay', { amount: 1000, currency: 'GBP', reference: 'SLOW-1', terminalId: 'VCM00004SIS0' }, results);
    assert.equal(again.payload.outcome, 'voided');
    assert.equal(again.duplicate, true);
    assert.equal(sim.ledger.length, 1);
  });

  describe('bad input goes to done(err) and sends nothing', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['float amount', { payload: { amount: 12.5, currency: 'GBP' } }, /whole number/],
      ['string amount', { payload: { amount: '1250', currency: 'GBP' } }, /whole number/],
      ['negative amount', { payload: { amount: -5, currency: 'GBP' } }, /more than zero/],
      ['unsafe integer', { payload: { amount: 2 ** 60, currency: 'GBP' } }, /too large/],
      ['unknown currency', { payload: { amount: 100, currency: 'ZZZ' } }, /ISO 4217/],
      ['no payload', {}, /payload is missing/],
      ['unknown action', { action: 'refund-everything', payload: { reference: 'x' } }, /msg.action/],
      ['bad timeout', { payload: { amount: 100, currency: 'GBP' }, timeout: 'soon' }, /timeout/],
    ];
    for (const [name, msg, pattern] of cases) {
      it(name, async () => {
        const { results, progress, errs } = await load();
        helper.getNode('pay').receive(msg);
        await until(() => errs.length === 1, 'the error');
        assert.match(errs[0]!, pattern);
        assert.equal(results.length, 0);
        assert.equal(progress.length, 0);
        assert.equal(sim.ledger.length, 0);
      });
    }

    it('missing terminal', async () => {
      await helper.load(ALL_NODES, [configNode(url), { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', wires: [['result'], []] }, { id: 'result', type: 'helper' }], credentials);
      await until(connected(), 'the connection');
      const errs = errors('pay');
      helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP' } });
      await until(() => errs.length === 1, 'the error');
      assert.match(errs[0]!, /terminalId is required/);
      assert.equal(sim.ledger.length, 0);
    });

    it('a capability the provider lacks (no connection selected, unknown provider)', async () => {
      await helper.load(ALL_NODES, [
        { id: 'pay', type: 'pos-pay', provider: 'quickpay', wires: [[]] },
      ], {});
      const errs = errors('pay');
      helper.getNode('pay').receive({ payload: { amount: 100, currency: 'GBP', terminalId: 'T' } });
      await until(() => errs.length === 1, 'the error');
      assert.match(errs[0]!, /no quickpay connection/);
    });

    it('cancel or signature for a payment that is not running', async () => {
      const { errs } = await load();
      helper.getNode('pay').receive({ action: 'cancel', payload: { reference: 'nothing-here' } });
      helper.getNode('pay').receive({ action: 'accept-signature', payload: { reference: 'nothing-here' } });
      await until(() => errs.length === 2, 'two errors');
      assert.match(errs[0]!, /nothing to cancel/);
      assert.match(errs[1]!, /no signature check/);
    });
  });

  it('the token never appears in logs, status or output', async () => {
    const { results, progress } = await load();
    const status = statuses('pay');
    sim.setFault('malformedFrames', true);
    await pay('pay', { amount: 1250, currency: 'GBP', reference: 'SEC-1' }, results);
    sim.setFault('refuseToken', true);
    sim.setFault('dropMidPayment', true);
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'GBP', reference: 'SEC-2' }, timeout: 3 });
    await until(() => results.length === 2, 'the second result', 10000);
    const logged = JSON.stringify(helper.log().args);
    assert.ok(logged.length > 100, 'something was logged');
    for (const text of [logged, JSON.stringify(status), JSON.stringify(results), JSON.stringify(progress)]) {
      assert.ok(!text.includes(TOKEN), 'token leaked');
    }
  });
});
