// Pre-auth, completion and account verification on Paymentsense Connect, adapter against the
// simulator through the payment service: the frames Connect documents, the simulator's
// acquirer rules (a completion names its pre-auth by auth code, takes at most the reserve,
// once), the shared amount rule, and a completion whose connection drops looked up, never resent.

import assert from 'node:assert/strict';
import { MemoryJournal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import { PosError } from '../../lib/core/errors';
import type { PaymentRequest } from '../../lib/core/types';
import { PaymentsenseProvider } from '../../lib/providers/paymentsense/client';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';

const TID = 'VCM00001SIP0';
const req = (kind: PaymentRequest['kind'], reference: string, amount: number, extra: Partial<PaymentRequest> = {}): PaymentRequest =>
  ({ kind, amount, currency: 'GBP', reference, terminalId: TID, ...extra });

describe('Paymentsense transaction kinds (adapter and simulator)', function () {
  this.timeout(20000);
  let sim: PaymentsenseSimulator;
  let provider: PaymentsenseProvider;
  let service: PaymentService;
  const pay = (r: PaymentRequest) => service.pay(r, { timeoutMs: 10000 });

  beforeEach(async () => {
    sim = new PaymentsenseSimulator({ token: 'tok-kinds', stepDelayMs: 5, pingIntervalMs: 60_000 });
    const { url } = await sim.start();
    provider = new PaymentsenseProvider({
      environment: 'custom', url, token: 'tok-kinds', softwareHouseId: 'SH01', installerId: 'IN01',
      backoff: { initialMs: 20, maxMs: 100 }, lookupIntervalMs: 50,
    });
    provider.start();
    for (let i = 0; i < 200 && provider.state.name !== 'connected'; i++) await new Promise((r) => setTimeout(r, 10));
    service = new PaymentService(provider, new MemoryJournal(), { debug() {}, info() {}, warn() {}, error() {} });
  });
  afterEach(async () => {
    await provider.stop();
    await sim.stop();
  });

  it('a pre-auth then a completion for less: preAuth, then completion with the pre-auth\'s authCode and total', async () => {
    const pre = await pay(req('preauth', 'tab-1', 5000));
    assert.equal(pre.result.outcome, 'approved');
    assert.equal(pre.result.kind, 'preauth');
    assert.equal((pre.result.raw as { transactionType: string }).transactionType, 'PRE_AUTH');
    assert.match(pre.result.authCode ?? '', /^[A-Z0-9]{6}$/);
    const done = await pay(req('completion', 'tab-1-close', 4200, { originalReference: 'tab-1', terminalId: undefined }));
    assert.equal(done.result.outcome, 'approved');
    assert.equal(done.result.kind, 'completion');
    assert.equal(done.result.amount, 4200);
    assert.equal(done.result.terminalId, TID, 'the completion goes to the pre-auth\'s terminal when none is named');
    assert.deepEqual(sim.ledger.map((e) => [e.method, e.amount, e.result]), [['preAuth', 5000, 'SUCCESSFUL'], ['completion', 4200, 'SUCCESSFUL']]);
    assert.deepEqual(sim.ledger.filter((e) => e.method === 'sale'), [], 'neither is a sale');
    const book = (sim as unknown as { engine: { preAuths: { get(code: string): { completed: boolean } | undefined } } }).engine.preAuths;
    assert.equal(book.get(pre.result.authCode!)?.completed, true);
  });

  it('the amount rule applies to a completion: …51 is declined, and the pre-auth can then be completed once more', async () => {
    await pay(req('preauth', 'tab-2', 9000));
    const declined = await pay(req('completion', 'tab-2-a', 1251, { originalReference: 'tab-2' }));
    assert.equal(declined.result.outcome, 'declined');
    const approved = await pay(req('completion', 'tab-2-b', 1250, { originalReference: 'tab-2' }));
    assert.equal(approved.result.outcome, 'approved');
    const third = await pay(req('completion', 'tab-2-c', 100, { originalReference: 'tab-2' })).catch((e: PosError) => e);
    assert.ok(third instanceof PosError && third.code === 'bad_input', 'the journal refuses a second completion before Connect hears of it');
    assert.equal(sim.ledger.filter((e) => e.method === 'completion').length, 2);
  });

  it('an account verification sends no amount and answers a zero-value approval', async () => {
    const { result } = await pay(req('verify', 'check-1', 0));
    assert.equal(result.outcome, 'approved');
    assert.equal(result.kind, 'verify');
    assert.equal(result.amount, 0);
    assert.equal((result.raw as { transactionType: string }).transactionType, 'ACCOUNT_VERIFICATION');
    assert.deepEqual(sim.ledger.map((e) => [e.method, e.amount]), [['accountVerification', 0]]);
  });

  it('release is not offered: capability_missing, nothing sent', async () => {
    await pay(req('preauth', 'tab-3', 1000));
    const err = await pay(req('release', 'tab-3-r', 0, { originalReference: 'tab-3' })).catch((e: PosError) => e);
    assert.ok(err instanceof PosError);
    assert.equal(err.code, 'capability_missing');
    assert.equal(sim.ledger.length, 1);
  });

  it('the simulator refuses a completion Connect would refuse: unknown auth code, over the reserve, twice', async () => {
    const pre = await pay(req('preauth', 'tab-4', 3000));
    const code = pre.result.authCode!;
    const raw = (params: Record<string, unknown>) => (provider as unknown as { peer: { request(m: string, p: unknown): Promise<unknown> } }).peer.request('completion', params);
    const base = { tid: TID, currency: 'GBP' };
    await assert.rejects(raw({ ...base, amount: 100, authCode: 'NOPE00' }), /No pre-auth with this authCode/);
    await assert.rejects(raw({ ...base, amount: 3001, authCode: code }), /must not exceed the pre-authorised 3000/);
    await assert.rejects(raw({ ...base, amount: 100 }), /authCode is required/);
    await assert.rejects(raw({ ...base, amount: 100, authCode: code, amountPreAuthorisedTotal: 2999 }), /amountPreAuthorisedTotal must be the sum/);
    await raw({ ...base, amount: 3000, authCode: code, requestId: 'r-ok' });
    await assert.rejects(raw({ ...base, amount: 1, authCode: code }), /already completed/);
    await assert.rejects(
      (provider as unknown as { peer: { request(m: string, p: unknown): Promise<unknown> } }).peer.request('sale', { ...base, amount: 100, authCode: code }),
      /only accepted on a completion/);
  });

  it('a completion whose connection drops (…55) is looked up, never resent', async () => {
    await pay(req('preauth', 'tab-5', 9000));
    const { result } = await pay(req('completion', 'tab-5-c', 1255, { originalReference: 'tab-5' }));
    assert.equal(result.outcome, 'approved');
    assert.equal(result.kind, 'completion');
    assert.equal(sim.ledger.filter((e) => e.method === 'completion').length, 1, 'sent once');
  });
});
