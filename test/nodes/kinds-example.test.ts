// Example 11 (pre-auth and completion), run as a user runs it: its buttons clicked in order
// against the two simulators, through its own change nodes, pay nodes and Catch node.

import assert from 'node:assert/strict';
import { ALL_NODES, TOKEN, collect, configNode, helper, startSimulator, until, type Msg } from './harness';
import { DOJO_KEY, dojoConfig, dojoNodes, startDojo } from './dojo-harness';
import type { DojoSimulator } from '../../lib/simulators/dojo';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';

const EXAMPLE = '11 pre-auth and completion.json';

describe('example 11: pre-auth and completion', function () {
  this.timeout(20000);
  let ps: { sim: PaymentsenseSimulator; url: string };
  let dojo: { sim: DojoSimulator; url: string };

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    ps = await startSimulator({ stepDelayMs: 5 });
    dojo = await startDojo({ stepDelayMs: 5 });
  });
  afterEach(async () => {
    await helper.unload();
    await ps.sim.stop();
    await dojo.sim.stop();
  });

  async function load() {
    const flow = (require(`../../../examples/${EXAMPLE}`) as Array<Record<string, any>>).map((n) => {
      if (n.type === 'pos-paymentsense') return { ...configNode(ps.url), id: n.id };
      if (n.type === 'pos-dojo') return dojoConfig(dojo.url, n.id);
      return { ...n };
    });
    const byName = (name: string) => flow.find((n) => n.name === name)!.id as string;
    // Every debug node's messages, by name.
    const debug = (name: string) => collect(byName(name));
    const nodes = [...new Set([...ALL_NODES, ...dojoNodes])];
    await helper.load(nodes, flow, { 'pos-sim-paymentsense': { token: TOKEN }, 'pos-sim-dojo': { apiKey: DOJO_KEY } });
    const connected = (id: string) => helper.getNode(id)?.connection?.provider.state.name === 'connected';
    await until(() => connected('pos-sim-paymentsense') && connected('pos-sim-dojo'), 'both connections', 10000);
    const click = (name: string) => helper.getNode(byName(name)).receive({});
    return { debug, click };
  }

  async function next(into: Msg[], count: number, what: string): Promise<Msg> {
    await until(() => into.length >= count, what, 15000);
    return into[count - 1]!;
  }

  it('the bar tab: reserve, refuse more than the reserve, close for less; a card check; all on Paymentsense', async () => {
    const { debug, click } = await load();
    const results = debug('bar tab result');
    const errors = debug('error');
    click('bar tab: reserve 50.00 (preauth)');
    const pre = await next(results, 1, 'the pre-auth');
    assert.deepEqual([pre.payload.kind, pre.payload.outcome, pre.payload.amount], ['preauth', 'approved', 5000]);
    click('close it for 60.00: refused, over the reserve');
    const refused = await next(errors, 1, 'the refusal');
    assert.equal(refused.error.code, 'bad_input');
    assert.match(refused.error.message, /more than the pre-auth/);
    click('close the tab: 42.50 (completion)');
    const done = await next(results, 2, 'the completion');
    assert.deepEqual([done.payload.kind, done.payload.outcome, done.payload.amount], ['completion', 'approved', 4250]);
    assert.equal(done.payload.reference, `${pre.payload.reference}-close`);
    click('check a card: verify (zero amount)');
    const check = await next(results, 3, 'the check');
    assert.deepEqual([check.payload.kind, check.payload.outcome, check.payload.amount], ['verify', 'approved', 0]);
    assert.deepEqual(ps.sim.ledger.map((e) => e.method), ['preAuth', 'completion', 'accountVerification']);
  });

  it('the hotel deposit: hold at check-in, charge part of it at check-out; a second stay released; all on Dojo', async () => {
    const { debug, click } = await load();
    const results = debug('hotel result');
    const errors = debug('error');
    click('check-in: hold a 200.00 deposit (preauth)');
    const pre = await next(results, 1, 'the hold');
    assert.deepEqual([pre.payload.kind, pre.payload.outcome], ['preauth', 'approved']);
    click('check-out: charge 175.00 of it (completion)');
    const out = await next(results, 2, 'the charge');
    assert.deepEqual([out.payload.kind, out.payload.outcome, out.payload.amount], ['completion', 'approved', 17500]);
    click('nothing to pay: release the deposit');
    const late = await next(errors, 1, 'the refusal of a release after the charge');
    assert.match(late.error.message, /already completed/);
    await new Promise((r) => setTimeout(r, 5)); // a new $millis() reference for the second stay
    click('check-in: hold a 200.00 deposit (preauth)');
    await next(results, 3, 'the second hold');
    click('nothing to pay: release the deposit');
    const released = await next(results, 4, 'the release');
    assert.deepEqual([released.payload.kind, released.payload.outcome, released.payload.amount], ['release', 'approved', 20000]);
    assert.deepEqual(dojo.sim.counter.ledger.map((e) => e.kind), ['sale', 'capture', 'sale', 'reversal']);
  });
});
