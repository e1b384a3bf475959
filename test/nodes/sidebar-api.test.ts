// The Payments sidebar's admin endpoints (nodes/shared/admin-api.ts) in Node-RED's test
// helper, against the Paymentsense simulator: the connection with its state and terminals,
// payments newest first with amounts in major units, no credential anywhere in an answer, and
// the ask-again button settling a payment whose result was lost, without paying it twice.
// (Authentication itself is a real Node-RED's job: test/e2e/sidebar-auth.test.ts.)

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { ALL_NODES, TOKEN, collect, configNode, connected, credentials, helper, startSimulator, until, type Msg } from './harness';

const journalNode = require('../../nodes/pos-journal.js');
const SIDEBAR = '/pos-payments/sidebar';

interface Row { reference: string; state: string; outcome?: string; amount: number; amountText: string; askable: boolean; running: boolean; connection: string; [k: string]: unknown }

describe('Payments sidebar endpoints (test helper, Paymentsense simulator)', function () {
  this.timeout(30000);
  let sim: PaymentsenseSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); await sim.stop(); });

  async function load(stepDelayMs = 20) {
    ({ sim, url } = await startSimulator({ stepDelayMs }));
    await helper.load([...ALL_NODES, journalNode], [
      configNode(url, { name: 'till 1' }),
      { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', currency: 'GBP', timeout: 20, wires: [['result'], []] },
      { id: 'events', type: 'pos-notification-in', provider: 'paymentsense', paymentsense: 'cfg', wires: [['events-out']] },
      { id: 'result', type: 'helper' },
      { id: 'events-out', type: 'helper' },
    ], credentials);
    await until(connected(), 'the connection');
    return { results: collect('result'), events: collect('events-out') };
  }

  async function pay(results: Msg[], payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Msg> {
    const before = results.length;
    helper.getNode('pay').receive({ payload: { currency: 'GBP', ...payload }, ...extra });
    await until(() => results.length > before, 'a result', 20000);
    return results[results.length - 1]!;
  }

  async function sidebar(): Promise<{ text: string; body: { connections: any[]; payments: Row[] } }> {
    const res = await helper.request().get(SIDEBAR).expect(200);
    return { text: res.text, body: res.body };
  }

  it('lists the connection (state, terminals) and its payments newest first, amounts in major units, no credential', async () => {
    const { results } = await load();
    await pay(results, { amount: 1250, reference: 'SB-1' });
    await pay(results, { amount: 1251, reference: 'SB-2' });
    const { text, body } = await sidebar();
    assert.equal(body.connections.length, 1);
    const c = body.connections[0];
    assert.deepEqual([c.id, c.type, c.provider, c.name, c.environment, c.state], ['cfg', 'pos-paymentsense', 'paymentsense', 'till 1', 'custom', 'connected']);
    assert.ok(c.terminals.length >= 2 && c.terminals.every((t: any) => typeof t.id === 'string' && t.status === 'available'), JSON.stringify(c.terminals));
    assert.deepEqual(body.payments.map((p) => `${p.reference} ${p.outcome} ${p.amountText}`), ['SB-2 declined 12.51 GBP', 'SB-1 approved 12.50 GBP']);
    assert.ok(body.payments.every((p) => p.connection === 'cfg' && !p.askable && !p.running));
    // Only what a person needs: no receipt, no raw answer, no provider notes.
    assert.ok(!/receipt|"raw"|notes|attemptId/.test(text), text);
    assert.ok(!text.includes(TOKEN), 'the API token is in the sidebar answer');
  });

  it('a payment whose result was lost shows unknown with the button; asking again settles it once, never pays twice', async () => {
    // Slow enough that a 1 s wait runs out while the terminal is still at it.
    const { results, events } = await load(300);
    const msg = await pay(results, { amount: 1250, reference: 'SB-LOST' }, { timeout: 1 });
    assert.equal(msg.payload.outcome, 'unknown');
    let row = (await sidebar()).body.payments.find((p) => p.reference === 'SB-LOST')!;
    assert.equal(row.outcome, 'unknown');
    assert.equal(row.askable, true);
    // Bounded: the simulated terminal finishes within about 3 s.
    let answer: { status: string; message: string; outcome?: string } | undefined;
    for (let i = 0; i < 20; i++) {
      answer = (await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'cfg', reference: 'SB-LOST' }).expect(200)).body;
      if (answer!.status !== 'still_running') break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(answer?.status, 'answered', JSON.stringify(answer));
    assert.equal(answer?.outcome, 'approved');
    row = (await sidebar()).body.payments.find((p) => p.reference === 'SB-LOST')!;
    assert.equal(row.outcome, 'approved');
    assert.equal(row.askable, false);
    await until(() => events.some((e) => e.topic === 'payment_recovered' && e.payload.reference === 'SB-LOST'), 'payment_recovered', 5000);
    assert.equal(events.filter((e) => e.topic === 'payment_recovered').length, 1);
    assert.equal(sim.ledger.filter((t: { amount: number }) => t.amount === 1250).length, 1, 'charged once');
    // Asked again now that it is known: nothing is asked.
    const again = (await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'cfg', reference: 'SB-LOST' }).expect(200)).body;
    assert.equal(again.status, 'final');
  });

  it('refuses a malformed ask-again and an unknown connection, and says so for an unknown reference', async () => {
    await load();
    await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'cfg' }).expect(400);
    await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'cfg', reference: 'x'.repeat(201) }).expect(400);
    await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'nope', reference: 'A' }).expect(404);
    const res = await helper.request().post(`${SIDEBAR}/ask-again`).send({ connection: 'cfg', reference: 'never-seen' }).expect(200);
    assert.equal(res.body.status, 'not_found');
  });

  it('a refused connection shows its state and reason, never the token it tried', async () => {
    ({ sim, url } = await startSimulator());
    // A token the simulator refuses: the connection is unauthorized and says why.
    await helper.load([...ALL_NODES, journalNode], [configNode(url), { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', wires: [[], []] }],
      { cfg: { token: 'WRONG-secret-token-123' } });
    await until(() => ['unauthorized', 'error'].includes(helper.getNode('cfg')?.connection?.provider.state.name), 'the refusal', 10000);
    const { text, body } = await sidebar();
    assert.ok(['unauthorized', 'error'].includes(body.connections[0].state), text);
    assert.ok(!text.includes('WRONG-secret-token-123'), text);
  });
});
