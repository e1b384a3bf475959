// pos-report against the Paymentsense simulator: every report type, the totals it prints,
// progress, a busy terminal, bad input, timeouts, the configurable method name, and a
// provider without reports. Everything refused must leave the simulator's report ledger empty.

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { modulusEntry } from '../conformance/entries/modulus';
import { ALL_NODES, collect, configNode, connected, credentials, helper, startSimulator, statuses, until, useSimulator, type Msg } from './harness';

const reportNode = require('../../nodes/pos-report.js');
const modules = [...ALL_NODES, reportNode];

const SIP = 'VCM00001SIP0';
const REPORT_KEYS = ['lines', 'provider', 'raw', 'result', 'terminalId', 'type'];
const BALANCE_KEYS = ['cashbackAmount', 'cashbackCount', 'currency', 'gratuityAmount', 'gratuityCount', 'refundsAmount', 'refundsCount', 'salesAmount', 'salesCount', 'since', 'totalAmount'];

interface Failure { message: string; code?: string }

/** What a Catch node would see: the error and its stable code. */
function failures(id: string): Failure[] {
  const list: Failure[] = [];
  helper.getNode(id).on('call:error', (call: { args: unknown[] }) => {
    const err = call.args[0] as { message?: string; code?: string };
    list.push({ message: String(err?.message ?? err), ...(err?.code ? { code: err.code } : {}) });
  });
  return list;
}

describe('pos-report with Paymentsense (simulator)', function () {
  this.timeout(20000);
  let sim: PaymentsenseSimulator;
  let url: string;

  useSimulator((s) => { ({ sim, url } = s); });

  const flow = (report: Record<string, unknown> = {}) => [
    configNode(url),
    { id: 'reporter', type: 'pos-report', provider: 'paymentsense', paymentsense: 'cfg', method: 'report', timeout: 10, ...report, wires: [['out']] },
    { id: 'pay', type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: SIP, currency: 'GBP', timeout: 20, wires: [['paid'], ['progress']] },
    { id: 'events', type: 'pos-notification-in', provider: 'paymentsense', paymentsense: 'cfg', events: '', wires: [['event']] },
    { id: 'out', type: 'helper' },
    { id: 'paid', type: 'helper' },
    { id: 'progress', type: 'helper' },
    { id: 'event', type: 'helper' },
  ];

  async function load(report: Record<string, unknown> = {}) {
    await helper.load(modules, flow(report), credentials);
    await until(connected(), 'the connection');
    return { out: collect('out'), paid: collect('paid'), progress: collect('progress'), events: collect('event'), errs: failures('reporter'), status: statuses('reporter') };
  }

  async function run(payload: unknown, out: Msg[], extra: Record<string, unknown> = {}): Promise<Msg> {
    const before = out.length;
    helper.getNode('reporter').receive({ payload, ...extra });
    await until(() => out.length > before, 'the report', 10000);
    return out[out.length - 1]!;
  }

  async function refused(payload: unknown, errs: Failure[], extra: Record<string, unknown> = {}): Promise<Failure> {
    const before = errs.length;
    helper.getNode('reporter').receive({ payload, ...extra });
    await until(() => errs.length > before, 'the error', 10000);
    return errs[errs.length - 1]!;
  }

  it('runs every report type: the documented shape, printed lines, balances where the type has them', async () => {
    const { out, errs } = await load();
    const expected = {
      end_of_day: { wire: 'END_OF_DAY', title: 'END OF DAY REPORT', balances: true },
      banking: { wire: 'BANKING', title: 'BANKING REPORT', balances: false },
      x_balance: { wire: 'X_BALANCE', title: 'X BALANCE REPORT', balances: true },
      z_balance: { wire: 'Z_BALANCE', title: 'Z BALANCE REPORT', balances: true },
    } as const;
    for (const [type, want] of Object.entries(expected)) {
      const msg = await run({ type, terminalId: SIP }, out, { topic: 'keep me' });
      const r = msg.payload;
      assert.equal(msg.topic, 'keep me', 'the rest of the message is passed on');
      assert.deepEqual(Object.keys(r).filter((k) => k !== 'balances').sort(), REPORT_KEYS);
      assert.equal(r.provider, 'paymentsense');
      assert.equal(r.terminalId, SIP);
      assert.equal(r.type, type);
      assert.equal(r.result, 'complete');
      assert.ok(Array.isArray(r.lines) && r.lines.every((l: unknown) => typeof l === 'string'), 'lines are strings');
      assert.ok(r.lines.includes(want.title), `${type} prints its title: ${r.lines.join(' | ')}`);
      assert.equal(r.raw.reportType, want.wire);
      assert.equal(r.raw.tid, SIP);
      assert.deepEqual(r.raw.notifications, ['REPORT_STARTED', 'REPORT_FINISHED']);
      if (want.balances) {
        assert.deepEqual(Object.keys(r.balances).sort(), BALANCE_KEYS);
        assert.equal(r.balances.currency, 'GBP');
      } else {
        assert.equal(r.balances, undefined, `${type} has no balances`);
        assert.ok(r.raw.banking['SIMULATED ACQUIRER'], 'banking totals ride along in raw');
      }
    }
    assert.deepEqual(sim.reports.map((e) => e.reportType), ['END_OF_DAY', 'BANKING', 'X_BALANCE', 'Z_BALANCE']);
    assert.deepEqual(errs, []);
  });

  it('balances count the approved payments; X keeps them, Z prints then resets them', async () => {
    const { out, paid } = await load();
    // Two approved sales and one declined (…51): only the approved ones count.
    for (const [amount, reference] of [[1250, 'R-1'], [800, 'R-2'], [1251, 'R-3']] as const) {
      const before = paid.length;
      helper.getNode('pay').receive({ payload: { amount, currency: 'GBP', reference } });
      await until(() => paid.length > before, `payment ${reference}`, 10000);
    }
    const x1 = (await run({ type: 'x_balance', terminalId: SIP }, out)).payload;
    assert.equal(x1.balances.salesCount, 2);
    assert.equal(x1.balances.salesAmount, 2050);
    assert.equal(x1.balances.totalAmount, 2050);
    assert.equal(x1.balances.since, 'INSTALLATION');
    assert.ok(x1.lines.includes('SALES 2 20.50 GBP'), x1.lines.join(' | '));
    const x2 = (await run({ type: 'x_balance', terminalId: SIP }, out)).payload;
    assert.equal(x2.balances.salesCount, 2, 'an X balance resets nothing');
    const z = (await run({ type: 'z_balance', terminalId: SIP }, out)).payload;
    assert.equal(z.balances.salesAmount, 2050);
    assert.ok(z.lines.includes('TOTALS RESET'));
    const x3 = (await run({ type: 'x_balance', terminalId: SIP }, out)).payload;
    assert.equal(x3.balances.salesCount, 0, 'the Z balance reset the totals');
    assert.notEqual(x3.balances.since, 'INSTALLATION');
    // Another terminal's totals are its own.
    const other = (await run({ type: 'x_balance', terminalId: 'VCM00002SCD0' }, out)).payload;
    assert.equal(other.balances.salesCount, 0);
  });

  it('shows REPORT_STARTED / REPORT_FINISHED as progress under the node and on notification-in', async () => {
    const { out, events, status } = await load();
    await run({ type: 'end_of_day', terminalId: SIP }, out);
    // The test runtime has no catalogs (RED._ answers the key), so the status is read by kind: progress is a blue dot.
    // Statuses are throttled (first at once, then at most one per 150 ms, latest wins): the
    // running and progress statuses may be merged into the result's; green shows last.
    await until(() => status[status.length - 1]?.fill === 'green', 'the green status', 2000);
    await until(() => events.length >= 2, 'the notifications');
    assert.deepEqual(events.map((m) => m.payload.event), ['report_started', 'report_finished']);
    for (const m of events) assert.equal(m.payload.terminalId, SIP);
  });

  it('a busy terminal: a clear bad_input error and no report sent', async () => {
    const { out, progress, errs } = await load();
    // A signature check keeps the terminal busy until the flow answers it.
    helper.getNode('pay').receive({ payload: { amount: 1000, currency: 'GBP', reference: 'BUSY-1', terminalId: 'VCM00004SIS0' } });
    await until(() => progress.some((m) => m.payload.event === 'signature_required'), 'the signature check');
    const err = await refused({ type: 'z_balance', terminalId: 'VCM00004SIS0' }, errs);
    assert.equal(err.code, 'bad_input');
    assert.match(err.message, /terminal VCM00004SIS0 is busy.*no report was started/);
    assert.equal(sim.reports.length, 0, 'nothing was sent');
    assert.equal(out.length, 0);
    helper.getNode('pay').receive({ action: 'reject-signature', payload: { reference: 'BUSY-1' } });
  });

  it('a running report holds its terminal: a second report on it is refused as busy', async () => {
    const { out, errs } = await load();
    helper.getNode('reporter').receive({ payload: { type: 'end_of_day', terminalId: SIP } });
    await until(() => sim.reports.length === 1, 'the first report');
    const err = await refused({ type: 'x_balance', terminalId: SIP }, errs);
    assert.equal(err.code, 'bad_input');
    assert.match(err.message, /busy/);
    await until(() => out.length === 1, 'the first report to finish');
    assert.equal(sim.reports.length, 1);
  });

  it('bad input is refused before anything is sent: missing terminalId, unknown type, no object', async () => {
    const { out, errs } = await load();
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'end_of_day' }, /terminalId is required/],
      [{ type: 'end_of_day', terminalId: '  ' }, /terminalId is required/],
      [{ type: 'end_of_day', terminalId: 1 }, /terminalId must be a string/],
      [{ type: 'y_balance', terminalId: SIP }, /type must be one of end_of_day, banking, x_balance, z_balance/],
      [{ terminalId: SIP }, /type must be one of/],
      ['end_of_day', /must be an object/],
    ];
    for (const [payload, message] of cases) {
      const err = await refused(payload, errs);
      assert.equal(err.code, 'bad_input', JSON.stringify(payload));
      assert.match(err.message, message);
    }
    const unknown = await refused({ type: 'x_balance', terminalId: 'VCM99999XXX0' }, errs);
    assert.equal(unknown.code, 'bad_input');
    assert.match(unknown.message, /does not know terminal "VCM99999XXX0"/);
    const badTimeout = await refused({ type: 'x_balance', terminalId: SIP }, errs, { timeout: 'soon' });
    assert.equal(badTimeout.code, 'bad_input');
    assert.equal(sim.reports.length, 0, 'nothing was sent');
    assert.equal(out.length, 0);
  });

  it('the terminal times out (TIP0): result timed_out, no lines, no balances', async () => {
    const { out, status } = await load();
    const r = (await run({ type: 'end_of_day', terminalId: 'VCM00006TIP0' }, out)).payload;
    assert.equal(r.result, 'timed_out');
    assert.deepEqual(r.lines, []);
    assert.equal(r.balances, undefined);
    assert.equal(r.raw.reportResult, 'TIMED_OUT');
    await until(() => status[status.length - 1]?.fill === 'yellow', 'the yellow status', 2000);
  });

  it('no answer within the timeout: a timeout error that says to check the terminal', async () => {
    await sim.stop();
    ({ sim, url } = await startSimulator({ stepDelayMs: 2000 }));
    const { out, errs } = await load();
    const started = Date.now();
    const err = await refused({ type: 'z_balance', terminalId: SIP }, errs, { timeout: 0.5 });
    assert.equal(err.code, 'timeout');
    assert.match(err.message, /may still have run on terminal VCM00001SIP0.*Check the terminal before running it again/);
    assert.ok(Date.now() - started < 3000, 'the node did not wait for the simulator');
    assert.equal(sim.reports.length, 1, 'the report was sent once and not repeated');
    assert.equal(out.length, 0);
  });

  it('the method name is the node\'s: a name Connect does not know is a clear provider_error', async () => {
    const { out, errs } = await load({ method: 'endOfDayReport' });
    const err = await refused({ type: 'end_of_day', terminalId: SIP }, errs);
    assert.equal(err.code, 'provider_error');
    assert.match(err.message, /does not know the report request "endOfDayReport".*set the report node's Method/);
    assert.equal(sim.reports.length, 0);
    assert.equal(out.length, 0);
  });

  it('a report sent while the connection is still being made waits for it', async () => {
    await helper.load(modules, flow(), credentials);
    const out = collect('out');
    const state = helper.getNode('cfg').connection.provider.state.name;
    assert.notEqual(state, 'connected', 'the message goes in before the connection is up');
    helper.getNode('reporter').receive({ payload: { type: 'x_balance', terminalId: SIP } });
    await until(() => out.length === 1, 'the report', 10000);
    assert.equal(out[0]!.payload.result, 'complete');
  });

  it('a refused token: unauthorized, nothing sent', async () => {
    sim.setFault('refuseToken', true);
    await helper.load(modules, flow(), credentials);
    const errs = failures('reporter');
    await until(() => helper.getNode('cfg').connection.provider.state.name === 'unauthorized', 'the refusal');
    const err = await refused({ type: 'x_balance', terminalId: SIP }, errs);
    assert.equal(err.code, 'unauthorized');
    assert.equal(sim.reports.length, 0);
  });
});

describe('pos-report with a provider that has no reports', function () {
  this.timeout(20000);
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  afterEach(async () => { await helper.unload(); });

  it('Modulus: capability_missing, the status says so, no connection is even opened', async () => {
    const handle = await modulusEntry.start();
    try {
      await helper.load([...modulusEntry.nodeModules, reportNode], [
        handle.config('mcfg'),
        { id: 'reporter', type: 'pos-report', provider: 'modulus', modulus: 'mcfg', timeout: 5, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ], handle.credentials('mcfg'));
      const out = collect('out');
      const errs = failures('reporter');
      const shown = (helper.getNode('reporter').status as { getCalls(): Array<{ args: Array<{ fill?: string; text?: string }> }> }).getCalls().map((c) => c.args[0]);
      assert.ok(shown.some((s) => s.fill === 'red' && /capabilityMissing|modulus cannot do this/.test(String(s.text))), JSON.stringify(shown));
      helper.getNode('reporter').receive({ payload: { type: 'end_of_day', terminalId: 'TERM-001' } });
      await until(() => errs.length === 1, 'the error');
      assert.equal(errs[0]!.code, 'capability_missing');
      assert.match(errs[0]!.message, /modulus does not support reports/);
      assert.equal(out.length, 0);
      assert.equal(handle.openConnections?.(), 0, 'nothing was sent: no connection was opened');
    } finally {
      await helper.unload();
      await handle.stop();
    }
  });
});
