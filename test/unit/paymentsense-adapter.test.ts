import assert from 'node:assert/strict';
import { eventName } from '../../lib/core/names';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { mapTerminal, mapTransaction, isWireTransaction } from '../../lib/providers/paymentsense/mapping';
import { paymentsenseUrl } from '../../lib/providers/paymentsense/url';
import { makeRedactor } from '../../lib/core/redact';
import type { PaymentRequest } from '../../lib/core/types';

const request: PaymentRequest = { kind: 'sale', amount: 1250, currency: 'GBP', reference: 'R', terminalId: 'T1' };

describe('paymentsense mapping', () => {
  const cases: Array<[string, string]> = [
    ['SUCCESSFUL', 'approved'], ['DECLINED', 'declined'], ['VOID', 'voided'],
    ['UNSUCCESSFUL', 'failed'], ['CANCELLED', 'cancelled'], ['TIMED_OUT', 'timed_out'], ['SOMETHING_NEW', 'unknown'],
  ];
  for (const [wire, outcome] of cases) {
    it(`${wire} → ${outcome}`, () => {
      const r = mapTransaction({ transactionResult: wire, tid: 'T1' }, request);
      assert.equal(r.outcome, outcome);
      assert.equal(r.approved, outcome === 'approved');
      assert.equal((r.raw as { transactionResult: string }).transactionResult, wire, 'raw keeps the provider value');
    });
  }

  it('maps card, receipt and amounts', () => {
    const r = mapTransaction({
      transactionResult: 'SUCCESSFUL', amountBase: 1250, amountTotal: 1750, amountCashback: 500, authCode: 'A1', transactionId: 'X9',
      cardSchemeName: 'VISA', primaryAccountNumber: '************1234', paymentMethod: 'ICC_CHIP', cardHolderVerificationMethod: 'PIN',
      receiptLines: { MERCHANT: [{ type: 'TEXT', value: 'Shop' }], CUSTOMER: [{ value: 'Thanks' }] },
    }, request);
    assert.equal(r.amount, 1250);
    assert.deepEqual(r.card, { scheme: 'VISA', last4: '1234', entryMode: 'icc_chip', verification: 'pin' });
    assert.deepEqual(r.receipt, { merchant: ['Shop'], customer: ['Thanks'] });
    assert.equal(r.authCode, 'A1');
    assert.equal(r.transactionId, 'X9');
  });

  it('the schema derived from the published spec rejects wrong types but keeps unknown members', () => {
    assert.equal(isWireTransaction({ transactionResult: 'SUCCESSFUL', somethingNew: 1 }), true);
    assert.equal(isWireTransaction({ transactionResult: 'SUCCESSFUL', amountTotal: '12.50' }), false);
    assert.match(isWireTransaction.explain(), /amountTotal/);
  });

  it('terminal statuses are open', () => {
    assert.equal(mapTerminal({ tid: 'A', status: 'AVAILABLE' }).status, 'available');
    assert.equal(mapTerminal({ tid: 'A', status: 'BUSY' }).status, 'busy');
    assert.equal(mapTerminal({ tid: 'A', status: 'ASLEEP' }).status, 'unknown');
  });

  it('progress names are stable lower-case', () => {
    assert.equal(eventName('PRESENT_CARD'), 'present_card');
    assert.equal(eventName('SIGNATURE_VERIFICATION_IN_PROGRESS'), 'signature_verification_in_progress');
  });

  it('the committed schemas match a fresh derivation from the spec', function () {
    const script = path.resolve(__dirname, '../../../scripts/derive-paymentsense-schemas.js');
    const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.match(out, /match/);
  });
});

describe('paymentsense url', () => {
  const base = { token: 'tok-123', softwareHouseId: 'SH1', installerId: 'IN1' };
  it('uses the documented hosts and parameter names', () => {
    const test = new URL(paymentsenseUrl({ ...base, environment: 'test', account: 'acme' }));
    assert.equal(test.host, 'acme.test.connect.paymentsense.cloud');
    assert.equal(test.protocol, 'wss:');
    assert.equal(test.pathname, '/pac');
    assert.equal(test.searchParams.get('token'), 'tok-123');
    assert.equal(test.searchParams.get('api-version'), 'v1');
    assert.equal(test.searchParams.get('software-house-id'), 'SH1');
    assert.equal(test.searchParams.get('installer-id'), 'IN1');
    assert.equal(test.searchParams.has('api-key'), false);
    assert.equal(new URL(paymentsenseUrl({ ...base, environment: 'production', account: 'acme' })).host, 'acme.connect.paymentsense.cloud');
  });

  it('adds path and query to a custom base URL', () => {
    const u = new URL(paymentsenseUrl({ ...base, environment: 'custom', url: 'ws://127.0.0.1:8080/proxy/' }));
    assert.equal(u.pathname, '/proxy/pac');
    assert.equal(u.host, '127.0.0.1:8080');
  });

  it('refuses configs that cannot work', () => {
    assert.throws(() => paymentsenseUrl({ ...base, environment: 'test', account: 'bad host!' }), /account/);
    assert.throws(() => paymentsenseUrl({ ...base, environment: 'custom', url: 'http://x' }), /ws:\/\//);
    assert.throws(() => paymentsenseUrl({ ...base, environment: 'custom', url: 'ws://x', token: '' }), /token/);
    assert.throws(() => paymentsenseUrl({ ...base, environment: 'custom', url: 'ws://x', installerId: '' }), /installer/);
  });

  it('redaction hides the token in URLs and in free text', () => {
    const redact = makeRedactor(['tok-123']);
    const url = paymentsenseUrl({ ...base, environment: 'custom', url: 'ws://127.0.0.1:1' });
    assert.ok(!redact(url).includes('tok-123'));
    assert.ok(!redact(`failed with tok-123 inside`).includes('tok-123'));
    assert.ok(!makeRedactor([])(`wss://h/pac?token=abc&x=1`).includes('abc'));
  });
});
