// Paymentsense reports below the node: the adapter's report run against a scripted channel
// (wire params, progress matching, every error it translates), and the simulator's report
// method over a raw WebSocket (parameter checks, busy terminals, totals and banking sessions).

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { PosError } from '../../lib/core/errors';
import { JsonRpcError } from '../../lib/core/jsonrpc';
import type { ReportProgress } from '../../lib/core/report';
import type { NotificationEvent } from '../../lib/core/types';
import { runReport, type ReportChannel } from '../../lib/providers/paymentsense/report';
import { APP_ERROR } from '../../lib/providers/paymentsense/wire';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../../lib/simulators/paymentsense';

const TID = 'VCM00001SIP0';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Call { method: string; params: any; timeoutMs: number }

/** A channel whose answers the test scripts per method; records every request. */
function scripted(answers: Record<string, (params: any) => unknown>) {
  const calls: Call[] = [];
  const listeners = new Set<(e: NotificationEvent) => void>();
  const channel: ReportChannel = {
    async request(method, params, timeoutMs) {
      calls.push({ method, params, timeoutMs });
      const answer = answers[method];
      if (!answer) throw new JsonRpcError(-32601, `Method not found: ${method}`);
      return answer(params);
    },
    onNotification(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    redact: (t) => t,
  };
  const notify = (data: Record<string, unknown>) => {
    for (const l of [...listeners]) {
      l({ provider: 'paymentsense', event: String(data.notification).toLowerCase(), terminalId: TID, data, receivedAt: new Date().toISOString() });
    }
  };
  return { channel, calls, notify, listeners };
}

const free = () => ({ tid: TID, status: 'AVAILABLE', currency: 'GBP' });
const report = (extra: Record<string, unknown> = {}) => ({
  requestId: 'r', tid: TID, reportType: 'X_BALANCE', reportResult: 'COMPLETE', notifications: ['REPORT_STARTED', 'REPORT_FINISHED'],
  reportLines: [{ type: 'TEXT', value: 'X BALANCE REPORT' }, { type: 'LINE_SEPARATOR_SINGLE', value: '' }, { type: 'TICKET_FEED' }],
  balances: { currency: 'GBP', totalAmount: 950, totalSalesAmount: 1200, totalSalesCount: 2, totalRefundsAmount: 250, totalRefundsCount: 1, totalsSince: 'INSTALLATION', issuerTotals: {}, waiterTotals: {} },
  ...extra,
});
const run = (method?: string, progress: ReportProgress[] = []) => ({ deadline: Date.now() + 5000, onProgress: (p: ReportProgress) => progress.push(p), ...(method !== undefined ? { method } : {}) });

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PosError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('paymentsense report run (scripted channel)', () => {
  it('checks the terminal, then sends tid, reportType and a fresh requestId under the default method name', async () => {
    const { channel, calls } = scripted({ terminalDetails: free, report: () => report() });
    const r = await runReport(channel, { type: 'x_balance', terminalId: TID }, run());
    assert.deepEqual(calls.map((c) => c.method), ['terminalDetails', 'report']);
    assert.deepEqual(calls[0]!.params, { tid: TID });
    assert.equal(calls[1]!.params.tid, TID);
    assert.equal(calls[1]!.params.reportType, 'X_BALANCE');
    assert.match(calls[1]!.params.requestId, UUID);
    assert.ok(calls[1]!.timeoutMs > 4000 && calls[1]!.timeoutMs <= 5000, 'the report waits until the deadline');
    assert.deepEqual(r.lines, ['X BALANCE REPORT', '', '']);
    assert.equal(r.result, 'complete');
    assert.equal(r.type, 'x_balance');
    assert.deepEqual(r.balances, {
      currency: 'GBP', totalAmount: 950, salesAmount: 1200, salesCount: 2, refundsAmount: 250, refundsCount: 1, since: 'INSTALLATION',
    });
  });

  it('uses the node\'s method name, trimmed; an empty one falls back to the default', async () => {
    const { channel, calls } = scripted({ terminalDetails: free, endOfDay: () => report(), report: () => report() });
    await runReport(channel, { type: 'end_of_day', terminalId: TID }, run('  endOfDay '));
    await runReport(channel, { type: 'end_of_day', terminalId: TID }, run('  '));
    assert.deepEqual(calls.filter((c) => c.method !== 'terminalDetails').map((c) => [c.method, c.params.reportType]), [['endOfDay', 'END_OF_DAY'], ['report', 'END_OF_DAY']]);
  });

  it('passes on the progress of its own report only, and stops listening when done', async () => {
    const progress: ReportProgress[] = [];
    const s = scripted({
      terminalDetails: free,
      report: (params) => {
        s.notify({ tid: TID, requestId: 'someone-else', notification: 'REPORT_STARTED' });
        s.notify({ tid: TID, requestId: params.requestId, notification: 'REPORT_STARTED' });
        s.notify({ tid: TID, requestId: params.requestId, notification: 'REPORT_FINISHED' });
        return report();
      },
    });
    await runReport(s.channel, { type: 'x_balance', terminalId: TID }, run(undefined, progress));
    assert.deepEqual(progress.map((p) => [p.event, p.message, p.terminalId]), [['report_started', 'Report started', TID], ['report_finished', 'Report finished', TID]]);
    assert.equal(s.listeners.size, 0);
  });

  it('a busy terminal is refused before the report is sent', async () => {
    const { channel, calls } = scripted({ terminalDetails: () => ({ tid: TID, status: 'BUSY' }), report: () => report() });
    await rejectsWith(runReport(channel, { type: 'z_balance', terminalId: TID }, run()), 'bad_input', /terminal VCM00001SIP0 is busy.*no report was started/);
    assert.deepEqual(calls.map((c) => c.method), ['terminalDetails']);
  });

  it('an unknown terminal is bad input; a server without terminalDetails lets the report itself decide', async () => {
    const unknown = scripted({ terminalDetails: () => { throw new JsonRpcError(-32602, 'Unknown terminal'); } });
    await rejectsWith(runReport(unknown.channel, { type: 'z_balance', terminalId: TID }, run()), 'bad_input', /does not know terminal "VCM00001SIP0"/);
    assert.equal(unknown.calls.length, 1);
    const noDetails = scripted({ report: () => report() });
    assert.equal((await runReport(noDetails.channel, { type: 'x_balance', terminalId: TID }, run())).result, 'complete');
  });

  it('translates the report request\'s errors into codes a flow can act on', async () => {
    const failing = (err: Error) => scripted({ terminalDetails: free, report: () => { throw err; } }).channel;
    const req = { type: 'end_of_day' as const, terminalId: TID };
    await rejectsWith(runReport(failing(new JsonRpcError(APP_ERROR.terminalBusy, 'Terminal VCM00001SIP0 is busy')), req, run()), 'bad_input', /is busy/);
    // -32000 is also what an error without a code becomes: without "busy" it is the provider's error.
    await rejectsWith(runReport(failing(new JsonRpcError(-32000, 'Printer out of paper')), req, run()), 'provider_error', /Printer out of paper/);
    await rejectsWith(runReport(failing(new JsonRpcError(-32601, 'Method not found')), req, run()), 'provider_error', /does not know the report request "report".*Method/);
    await rejectsWith(runReport(failing(new JsonRpcError(-32602, 'reportType must be one of')), req, run()), 'bad_input', /refused the report: reportType/);
    await rejectsWith(runReport(failing(new PosError('timeout', 'No answer to "report" within 5000 ms')), req, run()), 'timeout', /may still have run on terminal VCM00001SIP0.*Check the terminal/);
    await rejectsWith(runReport(failing(new PosError('protocol_error', 'the connection to Paymentsense was lost')), req, run()), 'protocol_error', /connection .* was lost.*Check the terminal/);
  });

  it('an answer it cannot read is a protocol_error, never a made-up report', async () => {
    const answering = (answer: unknown) => scripted({ terminalDetails: free, report: () => answer }).channel;
    const req = { type: 'x_balance' as const, terminalId: TID };
    await rejectsWith(runReport(answering(report({ reportResult: 'PARTIAL' })), req, run()), 'protocol_error', /result "PARTIAL"/);
    await rejectsWith(runReport(answering({ reportLines: [] }), req, run()), 'protocol_error', /cannot read/);
    await rejectsWith(runReport(answering(report({ balances: { totalAmount: '12.00' } })), req, run()), 'protocol_error', /cannot read/);
    // Unknown members and a TIMED_OUT without lines are fine.
    const timedOut = await runReport(answering({ reportResult: 'TIMED_OUT', somethingNew: 1 }), req, run());
    assert.deepEqual([timedOut.result, timedOut.lines, timedOut.balances, timedOut.terminalId], ['timed_out', [], undefined, TID]);
  });
});

/** A bare till on the simulator: JSON-RPC calls and the notifications it is sent. */
async function till(base: string) {
  const url = new URL(`${base}/pac`);
  for (const [k, v] of Object.entries({ token: SIMULATOR_TOKEN, 'api-version': 'v1', 'software-house-id': 'SH', 'installer-id': 'IN' })) url.searchParams.set(k, v);
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const waiting = new Map<number, (frame: any) => void>();
  const notifications: any[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.id !== undefined && waiting.has(frame.id)) waiting.get(frame.id)!(frame);
    else if (frame.method) notifications.push(frame.params);
  });
  let next = 1;
  return {
    notifications,
    call(method: string, params: unknown): Promise<any> {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

describe('paymentsense simulator reports', function () {
  this.timeout(10000);
  let sim: PaymentsenseSimulator;
  let t: Awaited<ReturnType<typeof till>>;
  const start = async (stepDelayMs: number) => {
    sim = new PaymentsenseSimulator({ stepDelayMs, pingIntervalMs: 60_000 });
    t = await till((await sim.start()).url);
  };
  afterEach(async () => { t?.close(); await sim?.stop(); });

  it('checks its parameters like the other methods: -32602 naming the field, nothing recorded', async () => {
    await start(0);
    for (const [params, message] of [
      [{ reportType: 'X_BALANCE' }, /tid is required/],
      [{ tid: 'NOPE', reportType: 'X_BALANCE' }, /Unknown terminal/],
      [{ tid: TID, reportType: 'Y_BALANCE' }, /reportType must be one of END_OF_DAY, BANKING, X_BALANCE, Z_BALANCE/],
      [{ tid: TID, reportType: 'X_BALANCE', requestId: 7 }, /requestId must be/],
      [[TID], /params must be an object/],
    ] as const) {
      const answer = await t.call('report', params);
      assert.equal(answer.error?.code, -32602, JSON.stringify(params));
      assert.match(answer.error.message, message);
    }
    assert.equal(sim.reports.length, 0);
  });

  it('instant mode answers at once with the notifications in the report and none sent', async () => {
    await start(0);
    const answer = await t.call('report', { tid: TID, reportType: 'X_BALANCE', requestId: 'x-1' });
    assert.equal(answer.result.reportResult, 'COMPLETE');
    assert.equal(answer.result.requestId, 'x-1');
    assert.deepEqual(answer.result.notifications, ['REPORT_STARTED', 'REPORT_FINISHED']);
    assert.equal(t.notifications.length, 0);
    assert.deepEqual(sim.reports.map((e) => [e.requestId, e.reportType, e.result]), [['x-1', 'X_BALANCE', 'COMPLETE']]);
  });

  it('a running report makes its terminal BUSY: a sale and a second report are refused, other terminals are free', async () => {
    await start(100);
    const pending = t.call('report', { tid: TID, reportType: 'END_OF_DAY', requestId: 'eod-1' });
    const details = await t.call('terminalDetails', { tid: TID });
    assert.equal(details.result.status, 'BUSY');
    const sale = await t.call('sale', { tid: TID, amount: 100, currency: 'GBP' });
    assert.equal(sale.error?.code, APP_ERROR.terminalBusy);
    const second = await t.call('report', { tid: TID, reportType: 'X_BALANCE' });
    assert.equal(second.error?.code, APP_ERROR.terminalBusy);
    assert.equal((await t.call('terminalDetails', { tid: 'VCM00002SCD0' })).result.status, 'AVAILABLE');
    assert.equal((await pending).result.reportResult, 'COMPLETE');
    assert.deepEqual(t.notifications.map((n) => [n.requestId, n.notification]), [['eod-1', 'REPORT_STARTED'], ['eod-1', 'REPORT_FINISHED']]);
    assert.equal((await t.call('terminalDetails', { tid: TID })).result.status, 'AVAILABLE', 'free again once the report is answered');
    assert.equal(sim.ledger.length, 0, 'the refused sale was not charged');
  });

  it('an end of day closes the banking session: its sales move to the previous session', async () => {
    await start(0);
    assert.equal((await t.call('sale', { tid: TID, amount: 1000, currency: 'GBP', amountCashback: 500 })).result.transactionResult, 'SUCCESSFUL');
    assert.equal((await t.call('refund', { tid: TID, amount: 300, currency: 'GBP' })).result.transactionResult, 'SUCCESSFUL');
    const before = (await t.call('report', { tid: TID, reportType: 'BANKING' })).result;
    const bank = before.banking['SIMULATED ACQUIRER'];
    assert.deepEqual([bank.currentSessionTotals.totalSalesAmount, bank.currentSessionTotals.totalRefundsAmount, bank.currentSessionTotals.totalAmount], [1000, 300, 700]);
    assert.equal(bank.previousSessionTotals.totalSalesCount, 0);
    assert.equal(before.balances, undefined, 'a banking report has no balances');
    const eod = (await t.call('report', { tid: TID, reportType: 'END_OF_DAY' })).result;
    assert.equal(eod.balances.totalCashbackAmount, 500);
    assert.equal(eod.balances.totalCashbackCount, 1);
    assert.equal(eod.banking['SIMULATED ACQUIRER'].currentSessionTotals.totalSalesCount, 1);
    const after = (await t.call('report', { tid: TID, reportType: 'BANKING' })).result.banking['SIMULATED ACQUIRER'];
    assert.equal(after.currentSessionTotals.totalSalesCount, 0);
    assert.equal(after.previousSessionTotals.totalSalesAmount, 1000);
  });
});
