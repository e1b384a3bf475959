import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkCurrency, checkMinorUnits, currencyExponent, formatMinor } from '../../lib/core/money';
import { parsePaymentRequest, parseReference } from '../../lib/core/request';
import { PosError } from '../../lib/core/errors';

const badInput = (fn: () => unknown, pattern?: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof PosError && err.code === 'bad_input' && (!pattern || pattern.test(err.message)));

describe('money', () => {
  it('knows ISO 4217 exponents, including the ones CLDR gets differently', () => {
    assert.equal(currencyExponent('GBP'), 2);
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('KWD'), 3);
    assert.equal(currencyExponent('IQD'), 3);
    assert.equal(currencyExponent('CLF'), 4);
    assert.equal(currencyExponent('XYZ'), undefined);
  });

  it('accepts whole positive minor units and rejects everything else', () => {
    assert.equal(checkMinorUnits('amount', 1250), 1250);
    badInput(() => checkMinorUnits('amount', 12.5), /whole number/);
    badInput(() => checkMinorUnits('amount', '1250'), /whole number/);
    badInput(() => checkMinorUnits('amount', -1), /more than zero/);
    badInput(() => checkMinorUnits('amount', 0), /more than zero/);
    badInput(() => checkMinorUnits('amount', 2 ** 53), /too large/);
    badInput(() => checkMinorUnits('amount', NaN));
    badInput(() => checkMinorUnits('amount', Infinity));
    assert.equal(checkMinorUnits('tip', 0, { allowZero: true }), 0);
  });

  it('property: every non-integer number is rejected', () => {
    fc.assert(fc.property(fc.double().filter((d) => !Number.isInteger(d)), (d) => {
      badInput(() => checkMinorUnits('amount', d));
    }));
  });

  it('property: every safe positive integer is kept exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => checkMinorUnits('amount', n) === n));
  });

  it('normalises currency case and rejects unknown codes', () => {
    assert.equal(checkCurrency('gbp'), 'GBP');
    badInput(() => checkCurrency('XXY'), /ISO 4217/);
    badInput(() => checkCurrency(826));
  });

  it('formats for people by exponent', () => {
    assert.equal(formatMinor(1250, 'GBP'), '12.50 GBP');
    assert.equal(formatMinor(5, 'GBP'), '0.05 GBP');
    assert.equal(formatMinor(1250, 'JPY'), '1250 JPY');
    assert.equal(formatMinor(1234, 'KWD'), '1.234 KWD');
  });
});

describe('payment request', () => {
  it('builds a request with defaults from the node and msg', () => {
    const r = parsePaymentRequest('sale', { amount: 1250 }, { currency: 'GBP', terminalId: 'T1', reference: 'msg-1' });
    assert.deepEqual(r, { kind: 'sale', amount: 1250, currency: 'GBP', reference: 'msg-1', terminalId: 'T1' });
  });

  it('lets the payload override defaults and keeps tip, cashback and options', () => {
    const r = parsePaymentRequest('sale', { amount: 100, currency: 'EUR', reference: 'A', terminalId: 'T2', tip: 0, cashback: 500, options: { cardholderNotPresent: true } },
      { currency: 'GBP', terminalId: 'T1', reference: 'msg' });
    assert.equal(r.currency, 'EUR');
    assert.equal(r.terminalId, 'T2');
    assert.equal(r.reference, 'A');
    assert.equal(r.tip, 0);
    assert.equal(r.cashback, 500);
    assert.deepEqual(r.options, { cardholderNotPresent: true });
  });

  it('rejects a missing payload, a misspelt field and cashback on a refund', () => {
    badInput(() => parsePaymentRequest('sale', undefined, { reference: 'x' }), /payload is missing/);
    badInput(() => parsePaymentRequest('sale', 'pay 12', { reference: 'x' }), /must be an object/);
    badInput(() => parsePaymentRequest('sale', { ammount: 100, currency: 'GBP' }, { reference: 'x' }), /amount must be a whole number/);
    badInput(() => parsePaymentRequest('sale', { amount: 100, currency: 'GBP', curency: 'EUR' }, { reference: 'x' }), /unknown field\(s\) curency/);
    badInput(() => parsePaymentRequest('refund', { amount: 100, currency: 'GBP', cashback: 10 }, { reference: 'x' }), /cashback/);
    badInput(() => parsePaymentRequest('sale', { amount: 100, currency: 'GBP' }), /reference/);
    badInput(() => parsePaymentRequest('sale', { amount: 100, currency: 'GBP', reference: 'r', tip: 1.5 }), /tip/);
  });

  it('control messages need a reference', () => {
    assert.equal(parseReference({ reference: 'abc' }), 'abc');
    badInput(() => parseReference({}), /reference/);
    badInput(() => parseReference(undefined), /reference/);
  });
});
