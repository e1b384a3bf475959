// PaymentService.askAgain: the Payments sidebar's button. It does the look-up a repeated
// reference does and never sends a payment: only an unfinished payment nobody here runs, or
// one that ended unknown, is asked about, and a newly known result reaches the flow once.

import assert from 'node:assert/strict';
import { MemoryJournal, type JournalEntry } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import { silentLogger, type PaymentRequest, type PaymentResult } from '../../lib/core/types';
import { ScriptedProvider } from '../support/scripted-provider';

/** Approved by default, with one idle terminal (so a look-up that finds nothing frees the reference). */
const scripted = () => new ScriptedProvider(approved, { terminals: [{ id: 'T1', name: 'T1', status: 'available', provider: 'paymentsense', raw: null }] });

function approved(r: PaymentRequest): PaymentResult {
  return { outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense', card: { last4: '0119' }, receipt: {}, message: 'ok', raw: null };
}

const sale = (reference: string): PaymentRequest => ({ kind: 'sale', amount: 1255, currency: 'GBP', reference, terminalId: 'T1' });

async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PaymentService.askAgain (the sidebar\'s ask-again button)', () => {
  let provider: ScriptedProvider;
  let journal: MemoryJournal;
  let service: PaymentService;
  let recovered: PaymentResult[];

  beforeEach(() => {
    provider = scripted();
    journal = new MemoryJournal();
    service = new PaymentService(provider, journal, silentLogger, { watchEveryMs: 20, watchForMs: 5000 });
    recovered = [];
    service.onRecovered((r) => recovered.push(r));
  });
  afterEach(() => service.close());

  /** A payment whose result was lost: the flow got `unknown`. */
  async function endedUnknown(reference: string): Promise<void> {
    provider.behaviour = async () => { throw new Error('the connection dropped'); };
    const { result } = await service.pay(sale(reference), { timeoutMs: 1000 });
    assert.equal(result.outcome, 'unknown');
  }

  it('an unknown payment the provider now knows: answered, recorded, reported once, never sent again', async () => {
    await endedUnknown('U1');
    assert.equal(service.mayAskAgain((await journal.get('U1'))!), true, 'unknown: the button is offered');
    provider.lookupAnswer = () => ({ found: 'result', result: approved(sale('U1')) });
    const answer = await service.askAgain('U1');
    assert.equal(answer.status, 'answered');
    assert.equal(answer.result?.outcome, 'approved');
    assert.equal((await journal.get('U1'))?.result?.outcome, 'approved', 'the journal has the outcome now');
    assert.deepEqual(recovered.map((r) => `${r.reference}:${r.outcome}`), ['U1:approved']);
    assert.equal(provider.attempts.length, 1, 'asked, never sent again');
    // Asked once more: the outcome is final, nothing is asked or reported.
    const lookups = provider.lookups;
    assert.equal((await service.askAgain('U1')).status, 'final');
    assert.equal(provider.lookups, lookups);
    assert.equal(recovered.length, 1);
    assert.equal(service.mayAskAgain((await journal.get('U1'))!), false, 'known: no button');
  });

  it('still running on the terminal: says so, and the result is reported when it finishes', async () => {
    await endedUnknown('U2');
    provider.lookupAnswer = () => ({ found: 'in_progress' });
    const answer = await service.askAgain('U2');
    assert.equal(answer.status, 'still_running');
    assert.equal((await journal.get('U2'))?.result?.outcome, 'unknown', 'nothing recorded yet');
    assert.equal(recovered.length, 0);
    provider.lookupAnswer = () => ({ found: 'result', result: approved(sale('U2')) });
    await eventually('the watch reports the result', 2000, () => recovered.length === 1);
    assert.equal(recovered[0]!.outcome, 'approved');
    assert.equal((await journal.get('U2'))?.result?.outcome, 'approved');
    assert.equal(provider.attempts.length, 1);
  });

  it('a payment being watched (still running) is asked about now, and reported once, not again by the watch', async () => {
    await service.close();
    service = new PaymentService(provider, journal, silentLogger, { watchEveryMs: 150, watchForMs: 5000 });
    service.onRecovered((r) => recovered.push(r));
    await endedUnknown('U4');
    provider.lookupAnswer = () => ({ found: 'in_progress' });
    assert.equal((await service.askAgain('U4')).status, 'still_running');
    assert.equal((await service.askAgain('U4')).status, 'still_running', 'asked again while it runs: still running, no error');
    provider.lookupAnswer = () => ({ found: 'result', result: approved(sale('U4')) });
    const answer = await service.askAgain('U4');
    assert.equal(answer.status, 'answered');
    assert.deepEqual(recovered.map((r) => r.outcome), ['approved']);
    // Past the watch's next tick: it was stopped, so nothing is reported twice.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(recovered.length, 1);
    assert.equal(provider.attempts.length, 1);
  });

  it('still unknown: the entry stays as it was and the flow is not told the same thing twice', async () => {
    await endedUnknown('U3');
    provider.lookupAnswer = () => ({ found: 'cannot_ask', reason: 'not connected' });
    const answer = await service.askAgain('U3');
    assert.equal(answer.status, 'still_unknown');
    assert.match(answer.message, /still cannot say/);
    assert.equal(recovered.length, 0);
    assert.equal(provider.attempts.length, 1);
  });

  it('a pending payment left by a restart that never reached the provider: freed, reported, not sent', async () => {
    const claim = await journal.claim(sale('P1'), 'attempt-1');
    assert.ok(claim.claimed);
    const answer = await service.askAgain('P1');
    assert.equal(answer.status, 'released');
    assert.equal(await journal.get('P1'), undefined, 'the reference is free again');
    assert.equal(recovered.length, 1, 'the flow hears what became of it');
    assert.equal(provider.attempts.length, 0, 'nothing was sent');
  });

  it('a payment running now is not asked about', async () => {
    let finish: (r: PaymentResult) => void = () => {};
    provider.behaviour = () => new Promise((resolve) => { finish = resolve; });
    const paying = service.pay(sale('R1'), { timeoutMs: 5000 });
    await eventually('the payment starts', 1000, () => provider.attempts.length === 1);
    assert.equal(service.mayAskAgain((await journal.get('R1'))!), false, 'running here: no button');
    const answer = await service.askAgain('R1');
    assert.equal(answer.status, 'running_here');
    assert.equal(provider.lookups, 0);
    finish(approved(sale('R1')));
    assert.equal((await paying).result.outcome, 'approved');
  });

  it('an unknown reference, and one another instance runs, are not asked about', async () => {
    assert.equal((await service.askAgain('nope')).status, 'not_found');
    const shared = new (class extends MemoryJournal {
      readonly instanceId = 'node-a';
      override async get(reference: string): Promise<JournalEntry | undefined> {
        const e = await super.get(reference);
        return e && { ...e, owner: 'node-b' };
      }
    })();
    await shared.claim(sale('S1'), 'attempt-b');
    const other = new PaymentService(provider, shared, silentLogger);
    try {
      assert.equal(other.mayAskAgain((await shared.get('S1'))!), false, 'no button for it');
      assert.equal((await other.askAgain('S1')).status, 'elsewhere');
      assert.equal(provider.lookups, 0);
    } finally {
      await other.close();
    }
  });

  it('refuses once the service is closing', async () => {
    await service.close();
    await assert.rejects(service.askAgain('X'), (err: Error & { code?: string }) => err.code === 'closed');
  });
});
