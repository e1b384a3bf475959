// pos-pay / pos-refund / pos-terminals / pos-notification-in with Dojo at the counter, against
// the simulator's REST side: every outcome, signature answered from the flow, cancel, refunds,
// and the rule that one reference never creates a second payment intent.

import assert from 'node:assert/strict';
import type { DojoSimulator } from '../../lib/simulators/dojo';
import { collect, errors, until, type Msg } from './harness';
import { DOJO_KEY, dojoConfig, dojoCredentials, dojoNodes, helper, startDojo } from './dojo-harness';

describe('pay, refund, terminals and notifications with Dojo (simulator)', function () {
  this.timeout(30000);
  let sim: DojoSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => { ({ sim, url } = await startDojo({ stepDelayMs: 20, sessionExpiryMs: 400, signatureTimeoutMs: 5000 })); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });

  const at = (y: number) => ({ z: 'tab', x: 100, y });
  const flow = () => [
    { id: 'tab', type: 'tab', label: 'test' },
    dojoConfig(url, 'cfg', { pollInterval: 0.05 }),
    { id: 'pay', type: 'pos-pay', ...at(100), provider: 'dojo', dojo: 'cfg', terminalId: '', currency: 'GBP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'refund', type: 'pos-refund', ...at(140), provider: 'dojo', dojo: 'cfg', terminalId: '', currency: 'GBP', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'terminals', type: 'pos-terminals', ...at(180), provider: 'dojo', dojo: 'cfg', timeout: 10, wires: [['list']] },
    { id: 'events', type: 'pos-notification-in', ...at(220), provider: 'dojo', dojo: 'cfg', events: '', wires: [['event']] },
    { id: 'result', type: 'helper', ...at(260) },
    { id: 'progress', type: 'helper', ...at(300) },
    { id: 'list', type: 'helper', ...at(340) },
    { id: 'event', type: 'helper', ...at(380) },
  ];

  async function load() {
    await helper.load(dojoNodes, flow(), dojoCredentials());
    await until(() => helper.getNode('cfg')?.connection?.provider.state.name === 'connected', 'the Dojo connection');
    await sim.waitForCapabilities(['HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated'], 5000);
    return { results: collect('result'), progress: collect('progress'), list: collect('list'), events: collect('event'), errs: errors('pay') };
  }

  async function send(node: string, msg: Msg, results: Msg[]): Promise<Msg> {
    const before = results.length;
    helper.getNode(node).receive(msg);
    await until(() => results.length > before, 'a result', 15000);
    return results[results.length - 1]!;
  }

  it('approved: the documented result shape, progress, one payment intent and one captured sale', async () => {
    const { results, progress } = await load();
    const msg = await send('pay', { payload: { amount: 1250, currency: 'GBP', reference: 'D-1' } }, results);
    const r = msg.payload;
    assert.equal(msg.topic, 'approved');
    assert.deepEqual(Object.keys(r).sort(), ['amount', 'approved', 'authCode', 'card', 'currency', 'kind', 'message', 'outcome', 'provider', 'raw', 'receipt', 'reference', 'terminalId', 'transactionId'].sort());
    assert.equal(r.provider, 'dojo');
    assert.equal(r.approved, true);
    assert.equal(r.amount, 1250);
    assert.equal(r.reference, 'D-1');
    assert.match(r.transactionId, /^pi_/);
    assert.equal(r.terminalId, 'tm_sim_counter_1');
    assert.equal(r.card.last4?.length, 4);
    assert.ok(Array.isArray(r.receipt.customer) && r.receipt.customer.length > 0);
    const events = progress.map((m) => m.payload.event);
    assert.ok(events.includes('present_card'), events.join(','));
    assert.ok(events.includes('pin_entry'), events.join(','));
    assert.equal(sim.counter.intentCount(), 1);
    const sales = sim.counter.ledger.filter((e) => e.kind === 'sale');
    assert.equal(sales.length, 1);
    assert.equal(sales[0]!.amount, 1250);
  });

  it('the same reference twice: one payment intent, the first result again', async () => {
    const { results } = await load();
    const first = await send('pay', { payload: { amount: 990, currency: 'GBP', reference: 'D-dup' } }, results);
    const second = await send('pay', { payload: { amount: 990, currency: 'GBP', reference: 'D-dup' } }, results);
    assert.equal(second.duplicate, true);
    assert.equal(second.payload.transactionId, first.payload.transactionId);
    assert.equal(sim.counter.intentCount(), 1);
    assert.equal(sim.counter.ledger.filter((e) => e.kind === 'sale').length, 1);
  });

  for (const [amount, outcome] of [[1251, 'declined'], [1254, 'cancelled'], [1252, 'timed_out']] as const) {
    it(`amount ending ${amount % 100}: ${outcome}, a result not an error`, async () => {
      const { results, errs } = await load();
      const msg = await send('pay', { payload: { amount, currency: 'GBP', reference: `D-${amount}` } }, results);
      assert.equal(msg.payload.outcome, outcome);
      assert.equal(msg.payload.approved, false);
      assert.deepEqual(errs, []);
    });
  }

  for (const [action, outcome] of [['accept-signature', 'approved'], ['reject-signature', 'voided']] as const) {
    it(`signature check answered from the flow (${action}) -> ${outcome}`, async () => {
      const { results, progress } = await load();
      helper.getNode('pay').receive({ payload: { amount: 1253, currency: 'GBP', reference: `D-sig-${action}` } });
      await until(() => progress.some((m) => m.payload.event === 'signature_required'), 'the signature prompt', 10000);
      helper.getNode('pay').receive({ action, payload: { reference: `D-sig-${action}` } });
      await until(() => results.length === 1, 'the result', 10000);
      assert.equal(results[0]!.payload.outcome, outcome);
      assert.equal(results[0]!.payload.card.verification, 'signature');
    });
  }

  it('cancel from the flow while the card is awaited -> cancelled', async () => {
    const { results, progress } = await load();
    helper.getNode('pay').receive({ payload: { amount: 1252, currency: 'GBP', reference: 'D-cancel' } });
    await until(() => progress.some((m) => m.payload.event === 'present_card'), 'present card', 10000);
    helper.getNode('pay').receive({ action: 'cancel', payload: { reference: 'D-cancel' } });
    await until(() => results.length === 1, 'the result', 10000);
    assert.equal(results[0]!.payload.outcome, 'cancelled');
  });

  it('online refund of a payment, twice with one reference: one refund at Dojo', async () => {
    const { results } = await load();
    const refundErrors = errors('refund');
    const sale = await send('pay', { payload: { amount: 2000, currency: 'GBP', reference: 'D-sale-for-refund' } }, results);
    const paymentIntentId = sale.payload.transactionId;
    const refund = () => ({ payload: { amount: 500, currency: 'GBP', reference: 'D-refund-1', options: { paymentIntentId } } });
    const first = await send('refund', refund(), results);
    assert.equal(first.payload.outcome, 'approved');
    const again = await send('refund', refund(), results);
    assert.deepEqual(refundErrors, []);
    assert.equal(again.duplicate, true);
    const refunds = sim.counter.ledger.filter((e) => e.kind === 'refund');
    assert.equal(refunds.length, 1);
    assert.equal(refunds[0]!.mode, 'online');
    assert.equal(refunds[0]!.amount, 500);
  });

  it('matched refund on a terminal and unlinked refund without a payment', async () => {
    const { results } = await load();
    const sale = await send('pay', { payload: { amount: 3000, currency: 'GBP', reference: 'D-sale-2' } }, results);
    const matched = await send('refund', { payload: { amount: 1000, currency: 'GBP', reference: 'D-mr', terminalId: 'tm_sim_counter_2', options: { paymentIntentId: sale.payload.transactionId } } }, results);
    assert.equal(matched.payload.outcome, 'approved');
    const unlinked = await send('refund', { payload: { amount: 700, currency: 'GBP', reference: 'D-ur', terminalId: 'tm_sim_counter_1' } }, results);
    assert.equal(unlinked.payload.outcome, 'approved');
    assert.deepEqual(sim.counter.ledger.filter((e) => e.kind === 'refund').map((e) => e.mode).sort(), ['matched', 'unlinked']);
  });

  it('terminals: the documented list shape with statuses mapped', async () => {
    const { list } = await load();
    helper.getNode('terminals').receive({ payload: '' });
    await until(() => list.length === 1, 'the list');
    const terminals = list[0]!.payload as Array<Record<string, unknown>>;
    assert.ok(terminals.length >= 2);
    for (const t of terminals) assert.deepEqual(Object.keys(t).sort(), ['id', 'name', 'provider', 'raw', 'status']);
    const byId = new Map(terminals.map((t) => [t.id, t]));
    assert.equal(byId.get('tm_sim_counter_1')?.status, 'available');
    assert.equal(byId.get('tm_sim_counter_1')?.name, '00000001');
    assert.equal(byId.get('tm_sim_offline')?.status, 'offline');
  });

  it('payment-intent events arrive on notification in once per event id, with our reference', async () => {
    const { results, events } = await load();
    sim.faults.duplicateEvents = true;
    const sale = await send('pay', { payload: { amount: 1500, currency: 'GBP', reference: 'D-events' } }, results);
    await until(() => events.some((m) => m.payload.data?.data?.paymentStatus === 'Captured'), 'the captured event', 5000);
    const ids = events.map((m) => m.payload.data.id);
    assert.equal(new Set(ids).size, ids.length, `each event once: ${ids.join(',')}`);
    const delivered = sim.received.filter((f) => f.method === 'HandleEventV1' || (f.result && Object.keys(f.result).length === 0));
    assert.ok(delivered.length >= ids.length * 2, 'the simulator really sent each event twice');
    for (const m of events) {
      assert.equal(m.topic, m.payload.event);
      assert.match(m.payload.event, /^payment_intent\./);
      assert.equal(m.payload.provider, 'dojo');
      assert.equal(m.payload.reference, 'D-events');
      assert.equal(m.payload.data.data.paymentIntentId, sale.payload.transactionId);
    }
  });

  it('a wrong API key: unauthorized under every node, one attempt, nothing sent', async () => {
    await helper.load(dojoNodes, flow(), { cfg: { apiKey: 'sk_sandbox_wrong_key' } });
    await until(() => helper.getNode('cfg')?.connection?.provider.state.name === 'unauthorized', 'unauthorized', 5000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sim.upgradeAttempts, 1);
    const errs = errors('pay');
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'GBP', reference: 'D-unauth' } });
    await until(() => errs.length === 1, 'the error');
    assert.match(errs[0]!, /not connected|unauthori/i);
    assert.equal(sim.counter.intentCount(), 0);
    const logged = JSON.stringify(helper.log().args);
    assert.ok(!logged.includes('sk_sandbox_wrong_key'), 'the key never reaches the log');
    assert.ok(!logged.includes(DOJO_KEY));
  });
});
