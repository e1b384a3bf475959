// Input that must be refused before anything is sent, the same for every provider.

import assert from 'node:assert/strict';
import { forEachProvider, helper, sleep, until, type Conformance } from './fixture';

forEachProvider('bad input goes to done(err) and sends nothing', (c: Conformance) => {
  const cur = c.entry.currency;
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['float amount', { payload: { amount: 12.5, currency: cur } }, /whole number/],
    ['string amount', { payload: { amount: '1250', currency: cur } }, /whole number/],
    ['negative amount', { payload: { amount: -5, currency: cur } }, /more than zero/],
    ['unsafe integer', { payload: { amount: 2 ** 60, currency: cur } }, /too large/],
    ['unknown currency', { payload: { amount: 100, currency: 'ZZZ' } }, /ISO 4217/],
    ['no payload', {}, /payload is missing/],
    ['unknown action', { action: 'refund-everything', payload: { reference: 'x' } }, /msg.action/],
    ['bad timeout', { payload: { amount: 100, currency: cur }, timeout: 'soon' }, /timeout/],
  ];
  for (const [name, msg, pattern] of cases) {
    it(name, async () => {
      const { results, progress, errs } = await c.load();
      helper.getNode('pay').receive(msg);
      await until(() => errs.pay.length === 1, 'the error');
      assert.match(errs.pay[0]!, pattern);
      // A person reads this: a sentence, not a code or a stack.
      assert.ok(errs.pay[0]!.length >= 15 && /\s/.test(errs.pay[0]!), errs.pay[0]);
      await sleep(50);
      assert.equal(errs.pay.length, 1);
      assert.equal(results.length, 0);
      assert.equal(progress.length, 0);
      assert.equal(c.handle.charges(), 0);
    });
  }
}, 'pay');
