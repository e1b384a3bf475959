import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PosError } from '../../lib/core/errors';
import type { PaymentRequest } from '../../lib/core/types';
import { decimalToMinor, minorToDecimal } from '../../lib/core/money';
import {
  failureOutcome, mapPaymentResponse, mapTerminal, receiptOf, terminalEvent, terminalStatus, voidedTransactionId,
} from '../../lib/providers/modulus/mapping';
import { fromTransaction } from '../../lib/providers/modulus/recovery-http';
import { isPaymentComplete, isStatusUpdate, isTerminal, isTerminalsResponse, isTransaction } from '../../lib/providers/modulus/schemas';
import { bodyHash, signRequest, signatureMatches } from '../../lib/providers/modulus/signature';
import { modulusEndpoints } from '../../lib/providers/modulus/url';

const request: PaymentRequest = { kind: 'sale', amount: 9999, currency: 'USD', reference: 'R-1', terminalId: 'TERM-001' };
const isBadInput = (e: unknown) => e instanceof PosError && e.code === 'bad_input';

describe('modulus amounts (minor units <-> decimal strings)', () => {
  it('converts the documented examples exactly', () => {
    assert.equal(minorToDecimal(1, 'JPY'), '1');
    assert.equal(minorToDecimal(5, 'GBP'), '0.05');
    assert.equal(minorToDecimal(1234, 'KWD'), '1.234');
    assert.equal(minorToDecimal(9999, 'USD'), '99.99');
    assert.equal(minorToDecimal(100, 'PHP'), '1.00');
    assert.equal(minorToDecimal(0, 'EUR'), '0.00');
    assert.equal(decimalToMinor('99.99', 'USD'), 9999);
    assert.equal(decimalToMinor(99.99, 'USD'), 9999, 'a number is read through its decimal spelling, not multiplied');
    assert.equal(decimalToMinor(0.29, 'USD'), 29, '0.29 * 100 is 28.999999999999996 in floating point');
    assert.equal(decimalToMinor('1.500', 'EUR'), 150, 'zeros beyond the exponent are harmless');
    assert.equal(decimalToMinor('7', 'JPY'), 7);
  });

  it('refuses what cannot be represented exactly', () => {
    assert.equal(decimalToMinor('1.234', 'USD'), undefined, 'a third decimal would be lost');
    assert.equal(decimalToMinor('1.5', 'JPY'), undefined);
    assert.equal(decimalToMinor('-1.00', 'USD'), undefined);
    assert.equal(decimalToMinor('1e3', 'USD'), undefined);
    assert.equal(decimalToMinor(1e21, 'USD'), undefined);
    assert.equal(decimalToMinor('abc', 'USD'), undefined);
    assert.equal(decimalToMinor('1.00', 'XXX'), undefined);
    assert.equal(decimalToMinor(null, 'USD'), undefined);
    assert.throws(() => minorToDecimal(1.5, 'USD'), isBadInput);
    assert.throws(() => minorToDecimal(-1, 'USD'), isBadInput);
    assert.throws(() => minorToDecimal(1, 'ZZZ'), isBadInput);
  });

  for (const [currency, exp] of [['JPY', 0], ['GBP', 2], ['KWD', 3]] as const) {
    it(`round-trips every safe amount exactly for exponent ${exp} (${currency})`, () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (minor) => {
        const text = minorToDecimal(minor, currency);
        const decimals = text.includes('.') ? text.split('.')[1]!.length : 0;
        return decimals === exp && decimalToMinor(text, currency) === minor;
      }), { numRuns: 500 });
    });
  }
});

describe('modulus mapping', () => {
  const response = (extra: Record<string, unknown>) => ({ transactionId: 'tx-1', ...extra }) as never;

  it('SUCCESS -> approved with the authorization code; receiptData that is not text gives no receipt', () => {
    const m = mapPaymentResponse(response({ status: 'SUCCESS', authorizationCode: 'AUTH123456', receiptData: { cardBrand: 'VISA', maskedPan: '****4242' } }), request);
    assert.equal(m.pending, false);
    const r = (m as { result: any }).result;
    assert.equal(r.outcome, 'approved');
    assert.equal(r.approved, true);
    assert.equal(r.authCode, 'AUTH123456');
    assert.equal(r.transactionId, 'tx-1');
    assert.equal(r.amount, 9999);
    assert.equal(r.provider, 'modulus');
    assert.deepEqual(r.receipt, {});
    assert.deepEqual(r.card, { scheme: 'VISA', last4: '4242' });
  });

  it('receipts only from lines of text', () => {
    assert.deepEqual(receiptOf(['SHOP', 'TOTAL 99.99']), { merchant: ['SHOP', 'TOTAL 99.99'], customer: ['SHOP', 'TOTAL 99.99'] });
    assert.deepEqual(receiptOf('A\nB'), { merchant: ['A', 'B'], customer: ['A', 'B'] });
    assert.deepEqual(receiptOf({ customer: ['C'], merchant: 'M' }), { merchant: ['M'], customer: ['C'] });
    assert.deepEqual(receiptOf({ blob: 'xyz' }), {});
    assert.deepEqual(receiptOf([1, 2]), {});
  });

  it('FAILED: decline codes decline, timeouts time out, anything else fails', () => {
    for (const code of ['INSUFFICIENT_FUNDS', 'CARD_DECLINED', 'DO_NOT_HONOR', 'DO_NOT_HONOUR', 'EXPIRED_CARD', 'LOST_CARD', 'PIN_TRIES_EXCEEDED', 'ISSUER_DECLINED_X']) {
      assert.equal(failureOutcome(code), 'declined', code);
    }
    for (const code of ['TIMEOUT', 'TERMINAL_TIMED_OUT', 'CARD_READ_TIMEOUT']) assert.equal(failureOutcome(code), 'timed_out', code);
    for (const code of ['TERMINAL_DISCONNECTED', 'PROCESSOR_ERROR', undefined]) assert.equal(failureOutcome(code), 'failed', String(code));
    const declined = (mapPaymentResponse(response({ status: 'FAILED', errorCode: 'INSUFFICIENT_FUNDS', errorMessage: 'Insufficient funds' }), request) as { result: any }).result;
    assert.equal(declined.outcome, 'declined');
    assert.equal(declined.message, 'Insufficient funds');
    const failed = (mapPaymentResponse(response({ status: 'FAILED', errorCode: 'PROCESSOR_ERROR' }), request) as { result: any }).result;
    assert.equal(failed.outcome, 'failed');
    assert.match(failed.message, /PROCESSOR_ERROR/, 'without a message the code is named');
    const viaMessage = (mapPaymentResponse(response({ status: 'FAILED', errorCode: 'X', message: 'from message' }), request) as { result: any }).result;
    assert.equal(viaMessage.message, 'from message');
  });

  it('CANCELLED, PENDING and unknown statuses', () => {
    assert.equal((mapPaymentResponse(response({ status: 'CANCELLED' }), request) as { result: any }).result.outcome, 'cancelled');
    assert.deepEqual(mapPaymentResponse(response({ status: 'PENDING' }), request), { pending: true });
    const odd = (mapPaymentResponse(response({ status: 'PARTIALLY_APPROVED' }), request) as { result: any }).result;
    assert.equal(odd.outcome, 'unknown');
    assert.equal(odd.approved, false);
    assert.match(odd.message, /PARTIALLY_APPROVED/);
    assert.equal(odd.raw.status, 'PARTIALLY_APPROVED', 'raw keeps the gateway value');
  });

  it('normalises both terminal vocabularies, and keeps unknown values as unknown', () => {
    const cases: Array<[string, string, string]> = [
      ['online', 'available', 'terminal_online'], ['connected', 'available', 'terminal_online'],
      ['offline', 'offline', 'terminal_offline'], ['disconnected', 'offline', 'terminal_offline'],
      ['reconnecting', 'offline', 'terminal_reconnecting'], ['sleeping', 'unknown', 'terminal_status'],
    ];
    for (const [wire, status, event] of cases) {
      assert.equal(terminalStatus(wire), status, wire);
      assert.equal(terminalEvent(wire), event, wire);
    }
    const t = mapTerminal({ deviceId: 'TERM-001', status: 'online', metadata: { name: 'Counter 1' } })!;
    assert.deepEqual({ id: t.id, name: t.name, status: t.status, provider: t.provider }, { id: 'TERM-001', name: 'Counter 1', status: 'available', provider: 'modulus' });
    assert.equal(mapTerminal({ connectionId: 'c-1', status: 'online' })!.id, 'c-1', 'connectionId when nothing better');
    assert.equal(mapTerminal({ terminalId: 'T', deviceId: 'D' })!.id, 'D', 'deviceId first');
  });

  it('finds the voided transaction id at the top level or nested', () => {
    assert.equal(voidedTransactionId({ transactionId: 'a' }), 'a');
    assert.equal(voidedTransactionId({ paymentResponse: { transactionId: 'b' } }), 'b');
    assert.equal(voidedTransactionId({ transaction: { transactionId: 'c' } }), 'c');
    assert.equal(voidedTransactionId({ reason: 'x' }), undefined);
  });

  it('maps HTTP transactions to look-up answers', () => {
    assert.deepEqual(fromTransaction({ status: 'PENDING' }, request), { found: 'in_progress' });
    assert.deepEqual(fromTransaction({ status: 'AWAITING_RECONNECT' }, request), { found: 'in_progress' });
    const done = fromTransaction({ transactionId: 'tx', status: 'COMPLETED', response: { transactionId: 'tx', status: 'SUCCESS', authorizationCode: 'AUTH000001' } }, request);
    assert.equal(done.found, 'result');
    assert.equal((done as { result: any }).result.authCode, 'AUTH000001');
    const bare = fromTransaction({ transactionId: 'tx', status: 'CANCELLED' }, request);
    assert.equal((bare as { result: any }).result.outcome, 'cancelled');
    const voided = fromTransaction({ transactionId: 'tx', status: 'VOIDED', voidReason: 'LATE_TERMINAL_RECONNECTION' }, request);
    assert.equal((voided as { result: any }).result.outcome, 'voided');
    assert.equal((voided as { result: any }).result.approved, false);
    assert.equal(fromTransaction({ status: 'ARCHIVED' }, request).found, 'cannot_ask');
  });
});

describe('modulus schemas', () => {
  it('accept the documented shapes with extra members, reject wrong types', () => {
    assert.ok(isTerminalsResponse({ action: 'terminalsResponse', terminals: [{ deviceId: 'TERM-001', status: 'online' }], extra: 1 }));
    assert.ok(!isTerminalsResponse({ action: 'terminalsResponse', terminals: 'none' }));
    assert.ok(isTerminal({ deviceId: 'TERM-001', status: 'brand-new-status' }), 'enum values stay open');
    assert.ok(!isTerminal({ status: 'online' }), 'a terminal needs some id');
    assert.ok(isStatusUpdate({ action: 'terminalStatusUpdate', terminalId: 'T', status: 'connected', version: 'v1' }));
    assert.ok(!isStatusUpdate({ action: 'terminalStatusUpdate', terminalId: 'T' }));
    assert.ok(isPaymentComplete({ action: 'paymentComplete', paymentResponse: { transactionId: 'x', status: 'SUCCESS', amount: '1.00' } }));
    assert.ok(isPaymentComplete({ action: 'paymentComplete', paymentResponse: { transactionId: 'x', status: 'SUCCESS', amount: 1 } }));
    assert.ok(!isPaymentComplete({ action: 'paymentComplete', paymentResponse: { status: 'SUCCESS' } }));
    assert.ok(!isPaymentComplete({ action: 'paymentComplete', paymentResponse: { transactionId: 7, status: 'SUCCESS' } }));
    assert.ok(isTransaction({ status: 'COMPLETED', response: {} }));
    assert.ok(!isTransaction({ transactionId: 'x' }));
  });
});

describe('modulus HTTP signature', () => {
  it('follows the documented canonical string, with the empty-body hash for GET', () => {
    assert.equal(bodyHash(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const ts = '2024-01-15T10:00:00.000Z';
    const sig = signRequest('secret', 'get', '/v1/transactions/abc', ts);
    assert.equal(sig, signRequest('secret', 'GET', '/v1/transactions/abc', ts, ''));
    assert.match(sig, /^[A-Za-z0-9+/]+=*$/, 'base64');
    assert.notEqual(sig, signRequest('secret', 'GET', '/v1/transactions/abd', ts));
    assert.notEqual(sig, signRequest('other', 'GET', '/v1/transactions/abc', ts));
    assert.ok(signatureMatches(sig, sig));
    assert.ok(!signatureMatches(sig, sig.slice(1)));
  });
});

describe('modulus endpoints', () => {
  const key = 'mk_live_abc123';
  it('test and production use the provisioned host, with /v1', () => {
    for (const environment of ['test', 'production'] as const) {
      const e = modulusEndpoints({ environment, endpoint: 'gw.example.com', apiKey: key });
      assert.equal(e.wsUrl, 'wss://gw.example.com/v1');
      assert.equal(e.httpBase, 'https://gw.example.com');
    }
    assert.equal(modulusEndpoints({ environment: 'production', endpoint: 'wss://gw.example.com:8443/v1', apiKey: key }).wsUrl, 'wss://gw.example.com:8443/v1');
  });

  it('custom bases: ws, wss, http(s) turned into ws(s), a prefix kept, /v1 not doubled', () => {
    assert.deepEqual(modulusEndpoints({ environment: 'custom', url: 'ws://127.0.0.1:8080', apiKey: key }), { wsUrl: 'ws://127.0.0.1:8080/v1', httpBase: 'http://127.0.0.1:8080' });
    assert.equal(modulusEndpoints({ environment: 'custom', url: 'https://proxy.local/gw/', apiKey: key }).wsUrl, 'wss://proxy.local/gw/v1');
    assert.equal(modulusEndpoints({ environment: 'custom', url: 'http://h:1/v1', apiKey: key }).wsUrl, 'ws://h:1/v1');
  });

  it('puts the key in the query only when asked', () => {
    const u = new URL(modulusEndpoints({ environment: 'custom', url: 'ws://h:1', apiKey: key, keyInQuery: true }).wsUrl);
    assert.equal(u.searchParams.get('x-api-key'), key);
    assert.equal(new URL(modulusEndpoints({ environment: 'custom', url: 'ws://h:1', apiKey: key }).wsUrl).search, '');
  });

  it('refuses configs that cannot work', () => {
    assert.throws(() => modulusEndpoints({ environment: 'test', apiKey: key }), /endpoint/);
    assert.throws(() => modulusEndpoints({ environment: 'production', endpoint: 'gw.example.com/some/path', apiKey: key }), isBadInput);
    assert.throws(() => modulusEndpoints({ environment: 'custom', apiKey: key }), /base URL/);
    assert.throws(() => modulusEndpoints({ environment: 'custom', url: 'ftp://h', apiKey: key }), /ws:\/\//);
    assert.throws(() => modulusEndpoints({ environment: 'custom', url: 'ws://u:p@h', apiKey: key }), /user name/);
    assert.throws(() => modulusEndpoints({ environment: 'custom', url: 'ws://h/?a=1', apiKey: key }), /query/);
    assert.throws(() => modulusEndpoints({ environment: 'staging' as never, apiKey: key }), /environment/);
  });
});
