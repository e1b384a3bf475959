import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PosError } from '../../lib/core/errors';
import type { PaymentRequest } from '../../lib/core/types';
import { decimalToMinor as majorToMinor } from '../../lib/core/money';
import { eventOf, mapSaleResult, notificationOf, pendingCommit, progressOf } from '../../lib/providers/sensepass/mapping';
import { refundResult, refundTarget } from '../../lib/providers/sensepass/refund';
import { describeAnswer } from '../../lib/providers/sensepass/rest';
import { checkTransaction, type SensePassTransaction } from '../../lib/providers/sensepass/schemas';
import { isApprovedStatus, isFinalStatus, statusInfo } from '../../lib/providers/sensepass/status';
import { sensepassEndpoints } from '../../lib/providers/sensepass/urls';

const request: PaymentRequest = { kind: 'sale', amount: 123456, currency: 'ILS', reference: 'R-1' };

/** The docs' notification example as plain JSON (the seed's comments removed). */
const seed = (): SensePassTransaction => ({
  TransactionNumber: '14a4334a32c852aeb0cfae52cbff1314649da7f175a8e140b35c147c',
  date: '2019-12-19T09:47:59.105Z',
  amount: 1234.56,
  currency: 'ILS',
  status: 0,
  statusName: 'Transaction Approved',
  pos: 'POS 3, Branch Tel Aviv',
  posData: { foo: 'bar', hello: ['world'] },
  businessName: 'Coffee Bar',
  businessId: 144,
  paymentCommit: {
    messsage: 'Payment commit is enabled for this transaction', isPaymentCommitted: false, secondsToCommit: 60,
    commitLink: 'https://pay.sensepass-api.com/api/transactions/commitPayment/ec2dc489d161aa27a803f48bcf5ffcf',
  },
  confirmations: [{
    paymentType: 'Regular', confirmationNumber: '063-d9j09YsY1', paymentMethodName: 'PayPal', approvedBy: 'PayPal',
    authNumber: '123213dsf13111', acquirer: 'Visa', lastFourDigits: '8858',
    settlement: { status: 2, created: '2019-12-19T09:47:59.105Z', confirmation: '091239831' },
  }],
  balance: 0,
});

describe('sensepass status table', () => {
  const expected: Array<[number, string, boolean, string | undefined]> = [
    [0, 'initialize', false, undefined],
    [1, 'tap_detected', false, undefined],
    [2, 'user_approved', false, undefined],
    [3, 'user_declined', false, undefined],
    [4, 'processing_payment', false, undefined],
    [5, 'transaction_approved', true, 'approved'],
    [6, 'transaction_declined', true, 'declined'],
    [7, 'transaction_failed', true, 'failed'],
    [8, 'transaction_timeout', true, 'timed_out'],
    [9, 'transaction_cancelled', true, 'cancelled'],
    [10, 'waiting_for_tap', false, undefined],
    [11, 'transaction_refunded', true, undefined],
    [12, 'processing_refund', false, undefined],
    [13, 'partially_refunded', true, undefined],
  ];

  for (const [code, event, final, outcome] of expected) {
    it(`${code}: ${event}, ${final ? 'final' : 'not final'}${outcome ? `, ${outcome}` : ''}`, () => {
      const info = statusInfo(code);
      assert.equal(info.event, event);
      assert.equal(info.final, final);
      assert.equal(info.outcome, outcome);
      assert.ok(info.message.length > 0);
    });
  }

  it('3 (a consumer declined) says another person may still pay', () => {
    assert.match(statusInfo(3).message, /another person may still pay/);
  });

  it('an unknown code passes through as status_<n>: not final, never an outcome', () => {
    assert.deepEqual({ ...statusInfo(14), message: '' }, { code: 14, event: 'status_14', final: false, message: '' });
    assert.equal(statusInfo(-1).event, 'status_minus_1');
  });

  it('property: over all integers only 5 approves, and only 5-9 are outcomes', () => {
    fc.assert(fc.property(fc.integer(), (code) => {
      const info = statusInfo(code);
      assert.equal(isApprovedStatus(code), code === 5);
      assert.equal(info.outcome === 'approved', code === 5);
      assert.equal(info.outcome !== undefined, code >= 5 && code <= 9);
      assert.equal(isFinalStatus(code), [5, 6, 7, 8, 9, 11, 13].includes(code));
      if (code < 0 || code > 13) assert.match(info.event, /^status_(minus_)?\d+$/);
    }), { numRuns: 2000 });
  });
});

describe('sensepass mapping', () => {
  it('the seed case: status 0 named "Transaction Approved" is initialize, not approved', () => {
    const t = seed();
    assert.ok(checkTransaction(t), checkTransaction.explain());
    const p = progressOf(t, request);
    assert.equal(p.event, 'initialize');
    assert.equal(p.terminalId, 'POS 3, Branch Tel Aviv');
    assert.equal(pendingCommit(t), undefined, 'no commit for a status that is not 5');
    const result = mapSaleResult({ ...t, status: 5 }, request);
    assert.equal(result.outcome, 'approved');
    assert.equal(result.transactionId, t.TransactionNumber);
    assert.equal(result.authCode, '123213dsf13111');
    assert.deepEqual(result.card, { scheme: 'Visa', last4: '8858' });
    assert.equal(result.amount, 123456, 'the amount of the request, in minor units');
    assert.equal(result.terminalId, 'POS 3, Branch Tel Aviv');
  });

  it('the payment commit is read from either spelling of its message', () => {
    const t = { ...seed(), status: 5 };
    assert.deepEqual(pendingCommit(t), {
      link: 'https://pay.sensepass-api.com/api/transactions/commitPayment/ec2dc489d161aa27a803f48bcf5ffcf',
      secondsToCommit: 60, message: 'Payment commit is enabled for this transaction',
    });
    const spelled = { ...t, paymentCommit: { message: 'right spelling', isPaymentCommitted: false, commitLink: 'http://x/c' } };
    assert.equal(pendingCommit(spelled)?.message, 'right spelling');
    assert.equal(pendingCommit({ ...t, paymentCommit: { isPaymentCommitted: true, commitLink: 'http://x/c' } }), undefined);
    assert.equal(pendingCommit({ ...t, paymentCommit: { isPaymentCommitted: false, commitLink: 42 } }), undefined);
  });

  it('settlement (status 5 with a confirmation settled = 2) is its own event; settlement 1 is not', () => {
    assert.equal(eventOf({ ...seed(), status: 5 }), 'settled');
    const unsettled = { ...seed(), status: 5, confirmations: [{ settlement: { status: 1 } }] };
    assert.equal(eventOf(unsettled), 'transaction_approved');
    assert.equal(eventOf({ ...seed(), status: 0 }), 'initialize', 'a settled confirmation on a non-approved status is not settlement');
  });

  it('notifications name our reference, else posData.reference, and the pos as terminal', () => {
    const t = { ...seed(), posData: { reference: 'theirs' } };
    assert.equal(notificationOf(t, 'ours').reference, 'ours');
    assert.equal(notificationOf(t, undefined).reference, 'theirs');
    assert.equal(notificationOf(seed(), undefined).reference, undefined);
    const n = notificationOf(t, undefined);
    assert.equal(n.provider, 'sensepass');
    assert.equal(n.terminalId, 'POS 3, Branch Tel Aviv');
    assert.equal(n.data, t);
    assert.ok(!Number.isNaN(Date.parse(n.receivedAt)));
  });

  it('refunded statuses on a sale are reported as unknown, never approved', () => {
    for (const status of [11, 13]) {
      const r = mapSaleResult({ ...seed(), status }, request);
      assert.equal(r.outcome, 'unknown');
      assert.equal(r.approved, false);
      assert.match(r.message, /refunded/);
    }
  });

  it('a digit-string status is accepted; a non-numeric one or no TransactionNumber is not a transaction', () => {
    assert.ok(checkTransaction({ TransactionNumber: 'a', status: '5' }));
    assert.equal(mapSaleResult({ TransactionNumber: 'a', status: '5' }, request).outcome, 'approved');
    assert.ok(!checkTransaction({ TransactionNumber: 'a', status: 'approved' }));
    assert.ok(!checkTransaction({ status: 5 }));
    assert.ok(!checkTransaction({ TransactionNumber: 5, status: 5 }));
    assert.ok(!checkTransaction({ TransactionNumber: 'a', status: 5.5 }));
    assert.ok(!checkTransaction('{"TransactionNumber":"a","status":5}'));
  });

  it('major-unit amounts become minor units exactly, strings and numbers alike', () => {
    assert.equal(majorToMinor('12.50', 'USD'), 1250);
    assert.equal(majorToMinor('12.5', 'USD'), 1250);
    assert.equal(majorToMinor(12.5, 'USD'), 1250);
    assert.equal(majorToMinor(1234.56, 'ILS'), 123456);
    assert.equal(majorToMinor('0.29', 'USD'), 29, '0.29 * 100 is 28.999999999999996 in floating point');
    assert.equal(majorToMinor(0.29, 'USD'), 29);
    assert.equal(majorToMinor('1200', 'JPY'), 1200);
    assert.equal(majorToMinor('1.234', 'KWD'), 1234);
    assert.equal(majorToMinor('12.505', 'USD'), undefined, 'more decimals than the currency has');
    assert.equal(majorToMinor('12.500', 'USD'), 1250, 'trailing zeros are harmless');
    assert.equal(majorToMinor('1e3', 'USD'), undefined);
    assert.equal(majorToMinor('-1.00', 'USD'), undefined);
    assert.equal(majorToMinor('12.50', 'XXX'), undefined);
    assert.equal(majorToMinor(null, 'USD'), undefined);
  });

  it('property: every minor amount survives the trip through SensePass\'s major-unit string and number', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 13 }), fc.constantFrom('USD', 'JPY', 'KWD', 'CLF'), (minor, currency) => {
      const exp = { USD: 2, JPY: 0, KWD: 3, CLF: 4 }[currency]!;
      const digits = String(minor).padStart(exp + 1, '0');
      const major = exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
      assert.equal(majorToMinor(major, currency), minor);
      assert.equal(majorToMinor(Number(major), currency), minor);
    }), { numRuns: 1000 });
  });
});

describe('sensepass refunds, answers and endpoints', () => {
  const refund: PaymentRequest = { kind: 'refund', amount: 500, currency: 'USD', reference: 'RF-1', options: { transactionNumber: 'abc' } };

  it('the refund target comes from transactionNumber or transactionId, else bad_input', () => {
    assert.equal(refundTarget(refund), 'abc');
    assert.equal(refundTarget({ ...refund, options: { transactionId: 'def' } }), 'def');
    assert.throws(() => refundTarget({ ...refund, options: {} }), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
    assert.throws(() => refundTarget({ ...refund, options: { transactionNumber: '  ' } }), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
  });

  it('refund answers: errorCode 0 approves, a code or "Declined" declines with SensePass\'s words', () => {
    const ok = refundResult({ errorCode: 0, result: 'Approved', refundConfirmation: 'RF-9' }, 'abc', refund);
    assert.equal(ok.outcome, 'approved');
    assert.equal(ok.transactionId, 'RF-9');
    assert.equal(ok.authCode, 'RF-9');
    const noConfirmation = refundResult({ errorCode: 0, result: 'Approved' }, 'abc', refund);
    assert.equal(noConfirmation.transactionId, 'abc');
    const declined = refundResult({ errorCode: 22, errorMessage: 'refund operation declined by Processor', result: 'Declined' }, 'abc', refund);
    assert.equal(declined.outcome, 'declined');
    assert.match(declined.message, /refund operation declined by Processor.*22/);
    assert.equal(refundResult({ errorCode: 0, result: 'Declined' }, 'abc', refund).outcome, 'declined');
    assert.equal(refundResult({ errorCode: '7', result: 'Approved' }, 'abc', refund).outcome, 'declined');
  });

  it('error answers are described from whichever member SensePass used', () => {
    assert.equal(describeAnswer({ status: 400, status_message: 'amount is required' }, ''), 'amount is required');
    assert.equal(describeAnswer({ message: 'bad' }, ''), 'bad');
    assert.equal(describeAnswer(undefined, 'plain text'), 'plain text');
    assert.equal(describeAnswer(undefined, '<html>'), '');
  });

  it('endpoints: sandbox, production, and a custom base with its prefix', () => {
    assert.deepEqual(sensepassEndpoints({ environment: 'test' }), {
      restBase: 'https://api.sandbox.sensepass.com/api', socketOrigin: 'https://api.sandbox.sensepass.com', socketPath: '/socket.io/',
    });
    assert.equal(sensepassEndpoints({ environment: 'production' }).restBase, 'https://api.sensepass.com/api');
    assert.deepEqual(sensepassEndpoints({ environment: 'custom', url: 'http://127.0.0.1:8080/' }), {
      restBase: 'http://127.0.0.1:8080/api', socketOrigin: 'http://127.0.0.1:8080', socketPath: '/socket.io/',
    });
    assert.deepEqual(sensepassEndpoints({ environment: 'custom', url: 'wss://proxy.example/sp' }), {
      restBase: 'https://proxy.example/sp/api', socketOrigin: 'https://proxy.example', socketPath: '/sp/socket.io/',
    });
    for (const url of ['', 'ftp://x', 'http://u:p@x', 'http://x/?id=id_abc', 'not a url']) {
      assert.throws(() => sensepassEndpoints({ environment: 'custom', url }), (e: unknown) => e instanceof PosError && e.code === 'bad_input', url);
    }
    assert.throws(() => sensepassEndpoints({ environment: 'staging' as 'test' }), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
  });
});
