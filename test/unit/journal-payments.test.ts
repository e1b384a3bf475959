import assert from 'node:assert/strict';
import { PosError } from '../../lib/core/errors';
import { Journal, MemoryJournalStore, journalKey } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import type { LookupResult, PaymentAttempt, PaymentProvider } from '../../lib/core/provider';
import type { ConnectionState, PaymentRequest, PaymentResult } from '../../lib/core/types';
import { silentLogger } from '../../lib/core/types';

/** A provider whose behaviour each test scripts; it records every attempt it was given. */
class FakeProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  capabilities = { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false };
  state: ConnectionState = { name: 'connected' };
  attempts: PaymentAttempt[] = [];
  lookups = 0;
  behaviour: (a: PaymentAttempt) => Promise<PaymentResult> = async (a) => approved(a.request);
  lookupAnswer: LookupResult = { found: 'nothing' };
  start() {}
  async stop() {}
  pay(a: PaymentAttempt) { this.attempts.push(a); return this.behaviour(a); }
  async cancel() {}
  async answerSignature() {}
  async listTerminals() { return []; }
  async lookup() { this.lookups++; return this.lookupAnswer; }
  onState() { return () => {}; }
  onNotification() { return () => {}; }
}

function approved(r: PaymentRequest): PaymentResult {
  return { outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense', card: {}, receipt: {}, message: 'ok', raw: null };
}

const sale = (reference: string, amount = 1000): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });

describe('payment service (journal + idempotency)', () => {
  let provider: FakeProvider;
  let store: MemoryJournalStore;
  let service: PaymentService;
  beforeEach(() => {
    provider = new FakeProvider();
    store = new MemoryJournalStore();
    service = new PaymentService(provider, new Journal(store), silentLogger);
  });

  it('journal keys never contain property-path characters', () => {
    for (const ref of ['a.b', 'x[0]', 'π €', '']) assert.match(journalKey(ref), /^posj_[A-Za-z0-9_-]*$/);
  });

  it('sends a reference once; a later message gets the first result', async () => {
    const first = await service.pay(sale('R1'), { timeoutMs: 1000 });
    const second = await service.pay(sale('R1'), { timeoutMs: 1000 });
    assert.equal(provider.attempts.length, 1);
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.deepEqual(second.result, first.result);
  });

  it('two messages with one reference at the same moment charge once', async () => {
    let release!: () => void;
    provider.behaviour = (a) => new Promise((resolve) => { release = () => resolve(approved(a.request)); });
    const a = service.pay(sale('R2'), { timeoutMs: 1000 });
    const b = service.pay(sale('R2'), { timeoutMs: 1000 });
    await new Promise((r) => setImmediate(r));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(provider.attempts.length, 1);
    assert.equal(ra.result.reference, rb.result.reference);
    assert.equal(rb.duplicate, true);
  });

  it('a reused reference for a different amount is refused', async () => {
    await service.pay(sale('R3', 1000), { timeoutMs: 1000 });
    await assert.rejects(service.pay(sale('R3', 2000), { timeoutMs: 1000 }), /already used/);
    assert.equal(provider.attempts.length, 1);
  });

  it('not connected: nothing sent, error, and the reference stays free', async () => {
    provider.state = { name: 'reconnecting', attempt: 1, delayMs: 1000, reason: 'x' };
    await assert.rejects(service.pay(sale('R4'), { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'not_connected');
    assert.equal(provider.attempts.length, 0);
    provider.state = { name: 'connected' };
    await service.pay(sale('R4'), { timeoutMs: 1000 });
    assert.equal(provider.attempts.length, 1);
  });

  it('a refusal by the provider frees the reference; a lost result does not', async () => {
    provider.behaviour = async () => { throw new PosError('provider_error', 'terminal busy'); };
    await assert.rejects(service.pay(sale('R5'), { timeoutMs: 1000 }), /terminal busy/);
    assert.equal((await store.keys()).length, 0);

    provider.behaviour = async () => { throw new PosError('timeout', 'result lost'); };
    const lost = await service.pay(sale('R6'), { timeoutMs: 1000 });
    assert.equal(lost.result.outcome, 'unknown');
    assert.match(lost.result.message, /Check the terminal/);
    const again = await service.pay(sale('R6'), { timeoutMs: 1000 });
    assert.equal(again.result.outcome, 'unknown');
    assert.equal(provider.attempts.length, 2, 'R6 was sent once, never again');
  });

  it('writes the journal entry before the provider is called', async () => {
    provider.behaviour = async (a) => {
      const entry = await new Journal(store).get(a.request.reference);
      assert.equal(entry?.state, 'pending');
      assert.equal(entry?.attemptId, a.attemptId);
      return approved(a.request);
    };
    await service.pay(sale('R7'), { timeoutMs: 1000 });
  });

  it('after a restart, pending references are asked about, not resent', async () => {
    const journal = new Journal(store);
    await journal.begin(sale('R8'), 'attempt-8');
    await journal.begin(sale('R9'), 'attempt-9');
    provider.lookupAnswer = { found: 'result', result: approved(sale('R8')) };
    const recovered: PaymentResult[] = [];
    await service.recoverPending((r) => recovered.push(r));
    assert.equal(provider.attempts.length, 0);
    assert.equal(provider.lookups, 2);
    assert.equal(recovered.length, 2);
    assert.equal((await journal.get('R8'))?.state, 'done');
    const again = await service.pay(sale('R8'), { timeoutMs: 1000 });
    assert.equal(again.duplicate, true);
    assert.equal(provider.attempts.length, 0);
  });

  it('a capability the provider lacks is an error and sends nothing', async () => {
    provider.capabilities = { ...provider.capabilities, refund: false };
    await assert.rejects(service.pay({ ...sale('R10'), kind: 'refund' }, { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    assert.equal(provider.attempts.length, 0);
  });

  it('forgets finished references after the retention period, never pending ones', async () => {
    const journal = new Journal(store);
    const old = await journal.begin(sale('OLD'), 'a1');
    await journal.finish(old, approved(sale('OLD')));
    await store.set(journalKey('OLD'), { ...(await journal.get('OLD'))!, finishedAt: new Date(Date.now() - 8 * 24 * 3600e3).toISOString() });
    await journal.begin(sale('STUCK'), 'a2');
    await store.set(journalKey('STUCK'), { ...(await journal.get('STUCK'))!, startedAt: '2000-01-01T00:00:00.000Z' });
    const swept = new PaymentService(provider, journal, silentLogger, { keepMs: 7 * 24 * 3600e3, sweepEveryMs: 0 });
    await swept.pay(sale('NEW'), { timeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await journal.get('OLD'), undefined, 'old finished entry forgotten');
    assert.equal((await journal.get('STUCK'))?.state, 'pending', 'pending entry kept');
    assert.equal((await journal.get('NEW'))?.state, 'done', 'recent entry kept');
  });
});
