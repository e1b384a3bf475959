// The payment service over each journal: a reference is sent once, a repeat gets the first
// result, restarts are asked about rather than resent, a stop leaves payments pending, and a
// journal that cannot be written refuses new payments but never swallows a result.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal, slimResult, type Journal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import type { Logger, PaymentRequest, PaymentResult, Terminal } from '../../lib/core/types';
import { silentLogger } from '../../lib/core/types';
import { ScriptedProvider } from '../support/scripted-provider';
import { FileJournal } from '../../lib/journal/file-journal';

/** A provider whose behaviour each test scripts (approved by default, sales and refunds only). */
class FakeProvider extends ScriptedProvider {
  constructor() {
    super(approved);
  }
}

function approved(r: PaymentRequest): PaymentResult {
  return {
    outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense',
    card: { last4: '0119' }, receipt: { customer: ['THANK YOU'] }, message: 'ok', raw: { big: 'x'.repeat(4000) },
  };
}

const sale = (reference: string, amount = 1000): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });
const idle: Terminal = { id: 'T1', name: 'T1', status: 'available', provider: 'paymentsense', raw: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How each journal is made, and made again as after a restart. */
interface Kind {
  name: string;
  open(): Promise<Journal>;
  /** The journal as the next start of Node-RED sees it. */
  reopen(j: Journal): Promise<Journal>;
  done(): Promise<void>;
}

function memoryKind(): Kind {
  return { name: 'memory journal', open: async () => new MemoryJournal(), reopen: async (j) => j, done: async () => {} };
}

function fileKind(): Kind {
  let dir = '';
  const open: Journal[] = [];
  return {
    name: 'file journal',
    async open() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-journal-'));
      const j = await FileJournal.open(dir);
      open.push(j);
      return j;
    },
    async reopen(j) {
      await j.close();
      const next = await FileJournal.open(dir);
      open.push(next);
      return next;
    },
    async done() {
      for (const j of open.splice(0)) await j.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const makeKind of [memoryKind, fileKind]) {
  const kind = makeKind();
  describe(`payment service (${kind.name})`, () => {
    let provider: FakeProvider;
    let journal: Journal;
    let service: PaymentService;
    let errors: string[];
    const logger: Logger = { ...silentLogger, error: (m) => errors.push(m) };

    beforeEach(async () => {
      provider = new FakeProvider();
      journal = await kind.open();
      errors = [];
      service = new PaymentService(provider, journal, logger, { watchEveryMs: 20 });
    });
    afterEach(() => kind.done());

    it('sends a reference once; a later message gets the first result, slim (no raw answer)', async () => {
      const first = await service.pay(sale('R1'), { timeoutMs: 1000 });
      const second = await service.pay(sale('R1'), { timeoutMs: 1000 });
      assert.equal(provider.attempts.length, 1);
      assert.equal(first.duplicate, false);
      assert.deepEqual(first.result.raw, { big: 'x'.repeat(4000) }, 'the flow gets the raw answer the first time');
      assert.equal(second.duplicate, true);
      assert.deepEqual(second.result, { ...first.result, raw: null });
    });

    it('two messages with one reference at the same moment charge once', async () => {
      let release!: () => void;
      provider.behaviour = (a) => new Promise((resolve) => { release = () => resolve(approved(a.request)); });
      const a = service.pay(sale('R2'), { timeoutMs: 1000 });
      const b = service.pay(sale('R2'), { timeoutMs: 1000 });
      while (!release) await sleep(1);
      release();
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(provider.attempts.length, 1);
      assert.equal(ra.result.reference, rb.result.reference);
      assert.equal(rb.duplicate, true);
    });

    it('two services on one journal (two config nodes for one account) charge a reference once', async () => {
      const other = new PaymentService(provider, journal, logger);
      let release!: () => void;
      provider.behaviour = (a) => new Promise((resolve) => { release = () => resolve(approved(a.request)); });
      const a = service.pay(sale('R2b'), { timeoutMs: 1000 });
      while (!release) await sleep(1);
      const b = other.pay(sale('R2b'), { timeoutMs: 1000 });
      await sleep(10);
      release();
      await Promise.all([a, b]);
      assert.equal(provider.attempts.length, 1);
    });

    it('a reused reference for a different amount is refused', async () => {
      await service.pay(sale('R3', 1000), { timeoutMs: 1000 });
      await assert.rejects(service.pay(sale('R3', 2000), { timeoutMs: 1000 }), /already used/);
      assert.equal(provider.attempts.length, 1);
    });

    it('not connected: nothing sent, the reason in the error, and the reference stays free', async () => {
      provider.state = { name: 'unauthorized', reason: 'HTTP 401' };
      await assert.rejects(service.pay(sale('R4'), { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'unauthorized' && /unauthorized: HTTP 401/.test(e.message));
      assert.equal(provider.attempts.length, 0);
      assert.equal(await journal.get('R4'), undefined);
      provider.state = { name: 'connected' };
      await service.pay(sale('R4'), { timeoutMs: 1000 });
      assert.equal(provider.attempts.length, 1);
    });

    it('a repeat is answered from the journal while offline', async () => {
      await service.pay(sale('R4b'), { timeoutMs: 1000 });
      provider.state = { name: 'reconnecting', attempt: 1, delayMs: 1000, reason: 'x' };
      const again = await service.pay(sale('R4b'), { timeoutMs: 1000 });
      assert.equal(again.duplicate, true);
      assert.equal(again.result.outcome, 'approved');
    });

    it('a refusal by the provider frees the reference; a lost result does not', async () => {
      provider.behaviour = async () => { throw new PosError('provider_error', 'terminal busy'); };
      await assert.rejects(service.pay(sale('R5'), { timeoutMs: 1000 }), /terminal busy/);
      assert.equal(await journal.get('R5'), undefined);

      provider.behaviour = async () => { throw new PosError('timeout', 'result lost'); };
      const lost = await service.pay(sale('R6'), { timeoutMs: 1000 });
      assert.equal(lost.result.outcome, 'unknown');
      assert.match(lost.result.message, /Check the terminal/);
      const again = await service.pay(sale('R6'), { timeoutMs: 1000 });
      assert.equal(again.result.outcome, 'unknown');
      assert.match(again.result.message, /Check the terminal/, 'the earlier unknown answer stands');
      assert.equal(provider.attempts.length, 2, 'R6 was sent once, never again');
    });

    it('writes the journal entry before the provider is called', async () => {
      provider.behaviour = async (a) => {
        const entry = await journal.get(a.request.reference);
        assert.equal(entry?.state, 'pending');
        assert.equal(entry?.attemptId, a.attemptId);
        return approved(a.request);
      };
      await service.pay(sale('R7'), { timeoutMs: 1000 });
    });

    it('after a restart, pending references are asked about once, reported, not resent', async () => {
      await journal.claim(sale('R8'), 'attempt-8');
      await journal.claim(sale('R9'), 'attempt-9');
      journal = await kind.reopen(journal);
      service = new PaymentService(provider, journal, logger);
      provider.lookupAnswer = () => ({ found: 'result', result: approved(sale('R8')) });
      const recovered: PaymentResult[] = [];
      service.onRecovered((r) => recovered.push(r));
      await service.recoverPending();
      await service.recoverPending();
      assert.equal(provider.attempts.length, 0);
      assert.equal(provider.lookups, 2);
      assert.equal(recovered.length, 2);
      assert.equal((await journal.get('R8'))?.state, 'done');
      const again = await service.pay(sale('R8'), { timeoutMs: 1000 });
      assert.equal(again.duplicate, true);
      assert.equal(provider.attempts.length, 0);
    });

    it('a payment the provider never received, with its terminal idle, is released and a repeat takes it', async () => {
      await journal.claim(sale('R10'), 'attempt-10');
      journal = await kind.reopen(journal);
      service = new PaymentService(provider, journal, logger);
      provider.terminals = [idle];
      const recovered: PaymentResult[] = [];
      service.onRecovered((r) => recovered.push(r));
      await service.recoverPending();
      assert.equal(recovered.length, 1);
      assert.equal(recovered[0]!.outcome, 'unknown');
      assert.match(recovered[0]!.message, /never taken\. Send the same reference again to take it/);
      assert.equal(await journal.get('R10'), undefined);
      const again = await service.pay(sale('R10'), { timeoutMs: 1000 });
      assert.equal(again.duplicate, false);
      assert.equal(again.result.outcome, 'approved');
      assert.equal(provider.attempts.length, 1);
    });

    it('"no record" while the terminal is busy, or with no terminal to check, stays protected', async () => {
      await journal.claim(sale('R11'), 'a11');
      await journal.claim({ ...sale('R12'), terminalId: undefined } as PaymentRequest, 'a12');
      provider.terminals = [{ ...idle, status: 'busy' }];
      const recovered: PaymentResult[] = [];
      service.onRecovered((r) => recovered.push(r));
      journal = await kind.reopen(journal);
      service = new PaymentService(provider, journal, logger);
      service.onRecovered((r) => recovered.push(r));
      await service.recoverPending();
      assert.equal(recovered.length, 2);
      for (const ref of ['R11', 'R12']) {
        const again = await service.pay(ref === 'R11' ? sale(ref) : ({ ...sale(ref), terminalId: undefined } as PaymentRequest), { timeoutMs: 1000 });
        assert.equal(again.duplicate, true);
        assert.equal(again.result.outcome, 'unknown');
      }
      assert.equal(provider.attempts.length, 0);
    });

    it('a payment still running on the terminal: reported unknown, then again with its real outcome when it ends', async () => {
      await journal.claim(sale('R13'), 'a13');
      journal = await kind.reopen(journal);
      service = new PaymentService(provider, journal, logger, { watchEveryMs: 20 });
      let asked = 0;
      provider.lookupAnswer = () => (++asked < 4 ? { found: 'in_progress' } : { found: 'result', result: approved(sale('R13')) });
      const recovered: PaymentResult[] = [];
      service.onRecovered((r) => recovered.push(r));
      await service.recoverPending();
      assert.equal(recovered.length, 1);
      assert.match(recovered[0]!.message, /still in progress/);
      const end = Date.now() + 3000;
      while (recovered.length < 2 && Date.now() < end) await sleep(10);
      assert.equal(recovered.length, 2);
      assert.equal(recovered[1]!.outcome, 'approved');
      assert.equal((await journal.get('R13'))?.state, 'done');
      await service.close();
    });

    it('a stop during a payment leaves it pending (not unknown, not released); the next start reports it', async () => {
      let finish!: (r: PaymentResult) => void;
      provider.behaviour = () => new Promise((resolve) => { finish = resolve; });
      const paying = service.pay(sale('R14'), { timeoutMs: 60000 });
      while (!finish) await sleep(1);
      const closing = service.close();
      // The provider's stop cuts the payment off the way adapters do: an unknown result.
      finish({ ...approved(sale('R14')), outcome: 'unknown', approved: false, message: 'connection closed' });
      await closing;
      await assert.rejects(paying, (e: unknown) => e instanceof PosError && e.code === 'closed' && /payment_recovered/.test(e.message));
      assert.equal((await journal.get('R14'))?.state, 'pending');
      journal = await kind.reopen(journal);
      service = new PaymentService(provider, journal, logger);
      provider.lookupAnswer = () => ({ found: 'result', result: approved(sale('R14')) });
      const recovered: PaymentResult[] = [];
      service.onRecovered((r) => recovered.push(r));
      await service.recoverPending();
      assert.deepEqual(recovered.map((r) => r.outcome), ['approved']);
      assert.equal(provider.attempts.length, 1);
    });

    it('close() waits at most drainMs, and a result in time is recorded as usual', async () => {
      service = new PaymentService(provider, journal, logger, { drainMs: 100 });
      provider.behaviour = (a) => new Promise((resolve) => setTimeout(() => resolve(approved(a.request)), 30));
      const paying = service.pay(sale('R15'), { timeoutMs: 1000 });
      await sleep(5);
      const t0 = Date.now();
      await service.close();
      assert.ok(Date.now() - t0 < 1000);
      assert.equal((await paying).result.outcome, 'approved');
      assert.equal((await journal.get('R15'))?.state, 'done');
      await assert.rejects(service.pay(sale('R16'), { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'closed');
    });

    it('a capability the provider lacks is an error and sends nothing', async () => {
      provider.capabilities = { ...provider.capabilities, refund: false };
      await assert.rejects(service.pay({ ...sale('R17'), kind: 'refund' }, { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
      assert.equal(provider.attempts.length, 0);
    });
  });
}

describe('payment service: a journal that cannot be written', () => {
  it('refuses a new payment before anything is sent; a result that cannot be written still reaches the flow', async () => {
    const provider = new FakeProvider();
    const journal = new MemoryJournal();
    const errors: string[] = [];
    const service = new PaymentService(provider, journal, { ...silentLogger, error: (m) => errors.push(m) });
    journal.failing = 'ENOSPC: no space left on device';
    await assert.rejects(service.pay(sale('J1'), { timeoutMs: 1000 }), (e: unknown) => e instanceof PosError && e.code === 'journal_unavailable' && /nothing was sent/.test(e.message));
    assert.equal(provider.attempts.length, 0);

    journal.failing = undefined;
    provider.behaviour = async (a) => {
      journal.failing = 'ENOSPC: no space left on device';
      return approved(a.request);
    };
    const paid = await service.pay(sale('J2'), { timeoutMs: 1000 });
    assert.equal(paid.result.outcome, 'approved');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /J2 ended approved but the journal could not record it/);
    // Answered from memory meanwhile: the repeat is a duplicate, not a second charge.
    const again = await service.pay(sale('J2'), { timeoutMs: 1000 });
    assert.equal(again.duplicate, true);
    assert.equal(provider.attempts.length, 1);
  });

  it('forgets finished references after the retention period, never pending ones', async () => {
    const provider = new FakeProvider();
    const journal = new MemoryJournal();
    const old = await journal.claim(sale('OLD'), 'a1');
    await journal.finish(old.entry, approved(sale('OLD')));
    journal.backdate('OLD', new Date(Date.now() - 8 * 24 * 3600e3));
    await journal.claim(sale('STUCK'), 'a2');
    const swept = new PaymentService(provider, journal, silentLogger, { keepMs: 7 * 24 * 3600e3, sweepEveryMs: 0 });
    await swept.pay(sale('NEW'), { timeoutMs: 1000 });
    await sleep(20);
    assert.equal(await journal.get('OLD'), undefined, 'old finished entry forgotten');
    assert.equal((await journal.get('STUCK'))?.state, 'pending', 'pending entry kept');
    assert.equal((await journal.get('NEW'))?.state, 'done', 'recent entry kept');
  });
});

describe('slimResult', () => {
  it('keeps the receipt lines by value and only the sides the result has', () => {
    const result: PaymentResult = { ...approved(sale('slim-1')), receipt: { merchant: ['M1', 'M2'], customer: ['C1'] } };
    const slim = slimResult(result);
    assert.deepEqual(slim.receipt, { merchant: ['M1', 'M2'], customer: ['C1'] });
    assert.equal(slim.raw, null);
    // A flow that edits its result's receipt must not reach what the journal answers a repeat with.
    result.receipt.merchant!.push('edited');
    result.receipt.customer![0] = 'edited';
    assert.deepEqual(slim.receipt, { merchant: ['M1', 'M2'], customer: ['C1'] });
    // An absent side stays absent: no key with undefined (the JSON on disk and a repeat's answer are the same).
    assert.deepEqual(Object.keys(slimResult({ ...result, receipt: { customer: ['C'] } }).receipt), ['customer']);
    assert.deepEqual(Object.keys(slimResult({ ...result, receipt: {} }).receipt), []);
  });
});
