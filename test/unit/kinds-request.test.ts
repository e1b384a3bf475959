// msg.payload.kind as the pay and refund nodes read it: every refusal is bad_input before
// anything else happens.

import assert from 'node:assert/strict';
import { PosError } from '../../lib/core/errors';
import { parsePaymentRequest } from '../../lib/core/request';

function badInput(fn: () => unknown, why: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof PosError && err.code === 'bad_input' && why.test(err.message));
}

const d = { currency: 'GBP', reference: 'msg-1' };

describe('transaction kinds in msg.payload', () => {
  it('a pay node defaults to sale and takes preauth, completion, release and verify', () => {
    assert.equal(parsePaymentRequest('sale', { amount: 100 }, d).kind, 'sale');
    assert.deepEqual(parsePaymentRequest('sale', { kind: 'preauth', amount: 5000 }, d), { kind: 'preauth', amount: 5000, currency: 'GBP', reference: 'msg-1' });
    assert.deepEqual(parsePaymentRequest('sale', { kind: 'completion', amount: 4200, originalReference: 'tab-1' }, d),
      { kind: 'completion', amount: 4200, currency: 'GBP', reference: 'msg-1', originalReference: 'tab-1' });
    // A release may leave the amount out (the whole reserve, filled in from the journal).
    assert.equal(parsePaymentRequest('sale', { kind: 'release', originalReference: 'tab-1' }, d).amount, 0);
    assert.equal(parsePaymentRequest('sale', { kind: 'release', amount: 5000, originalReference: 'tab-1' }, d).amount, 5000);
    // Zero is valid for a verify only, and it is the default there.
    assert.equal(parsePaymentRequest('sale', { kind: 'verify' }, d).amount, 0);
    assert.equal(parsePaymentRequest('sale', { kind: 'verify', amount: 0 }, d).amount, 0);
    assert.equal(parsePaymentRequest('refund', { amount: 100 }, d).kind, 'refund');
  });

  it('refuses what cannot be meant', () => {
    badInput(() => parsePaymentRequest('sale', { kind: 'preauth', amount: 0 }, d), /amount must be more than zero/);
    badInput(() => parsePaymentRequest('sale', { kind: 'sale', amount: 0 }, d), /amount must be more than zero/);
    badInput(() => parsePaymentRequest('sale', { kind: 'verify', amount: 100 }, d), /amount must be 0 or left out/);
    badInput(() => parsePaymentRequest('sale', { kind: 'completion', amount: 100 }, d), /needs originalReference/);
    badInput(() => parsePaymentRequest('sale', { kind: 'completion', originalReference: 'x' }, d), /amount must be a whole number/);
    badInput(() => parsePaymentRequest('sale', { kind: 'completion', amount: 100, originalReference: 'msg-1' }, d), /reference of its own/);
    badInput(() => parsePaymentRequest('sale', { kind: 'preauth', amount: 100, originalReference: 'x' }, d), /originalReference only goes with/);
    badInput(() => parsePaymentRequest('sale', { kind: 'refund', amount: 100 }, d), /refund node/);
    badInput(() => parsePaymentRequest('sale', { kind: 'PREAUTH', amount: 100 }, d), /payload.kind must be one of sale, preauth, completion, release, verify/);
    badInput(() => parsePaymentRequest('refund', { kind: 'preauth', amount: 100 }, d), /takes refunds only/);
    badInput(() => parsePaymentRequest('sale', { kind: 'preauth', amount: 100, cashback: 10 }, d), /cashback cannot be given on a preauth/);
    badInput(() => parsePaymentRequest('sale', { kind: 'completion', amount: 100, originalReference: 'x', tip: 10 }, d), /tip cannot be given on a completion/);
    badInput(() => parsePaymentRequest('sale', { amount: 100, reference: '\u0001settles x' }, d), /control character/);
  });
});
