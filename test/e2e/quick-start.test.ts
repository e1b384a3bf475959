// The README's quick start, for real: `npm start` (scripts/start.js) brings up Node-RED with
// the pack and the example flows; clicking the approved-payment inject gives an approved
// result in the Debug sidebar; the Dojo pay-at-table example records a payment by itself (the
// built-in simulator's card machine walks the sequence); the Dojo counter example takes an
// approved payment; a second start keeps the user's flows.

import assert from 'node:assert/strict';
import { DebugTap, QuickStart, waitFor } from '../support/quick-start';

interface FlowNode { id: string; type: string; z?: string; wires?: string[][]; payload?: string; name?: string; [k: string]: unknown }

/** The API key the built-in Dojo simulator accepts: never for a user's eyes in the Debug sidebar. */
const DOJO_SIMULATOR_KEY = 'sk_sandbox_simulator';

describe('quick start: npm start', function () {
  this.timeout(120000);
  const app = new QuickStart();
  const api = (p: string, init?: RequestInit) => app.api(p, init);
  let flows: FlowNode[] = [];
  /** Every Debug sidebar message since just after the flows started. */
  let tap: DebugTap | undefined;
  let flowsStartedAt = 0;

  after(async () => {
    await tap?.close();
    await app.dispose();
  });

  /** The node `from` sends to (any output) that `match` accepts. */
  const wiredFrom = (from: FlowNode, match: (n: FlowNode) => boolean) =>
    flows.find((n) => (from.wires ?? []).flat().includes(n.id) && match(n));
  /** Debug nodes this test turned on (their sidebar output is off in the examples), as a person does with the node's button. */
  const turnedOn = new Set<string>();
  async function turnOn(debug: FlowNode): Promise<void> {
    assert.equal(debug.active, false, `${debug.name} starts with its sidebar output off`);
    const res = await api(`/debug/${debug.id}/enable`, { method: 'POST' });
    assert.equal(res.status, 200);
    turnedOn.add(debug.id);
  }
  /** The last status a node showed, once `ok` accepts it (polled, bounded). */
  const statusOf = (id: string, ok: RegExp, limitMs: number, what: string) =>
    waitFor(`${what} (last status ${JSON.stringify(tap!.statuses.get(id))})`, limitMs, async () => {
      const text = tap!.statuses.get(id)?.text;
      return text !== undefined && ok.test(String(text)) ? String(text) : undefined;
    });
  /** The inject node with the approved amount (12.50) that feeds `pay`. */
  const approvedInject = (pay: FlowNode) =>
    flows.find((n) => n.type === 'inject' && (n.wires ?? []).flat().includes(pay.id) && /\b1250\b/.test(String(n.payload)));

  it('starts Node-RED with the pack and the example flows, and takes an approved payment', async () => {
    await app.start();
    flowsStartedAt = Date.now();
    // Listen at once: the Dojo simulator's card machine starts paying a few seconds after this.
    tap = await DebugTap.open(app.port);
    flows = (await (await api('/flows')).json()) as FlowNode[];
    // The two pay-at-table walks are followed below through their debug nodes: turn those on now.
    for (const [provider, method] of [['dojo', 'RecordOrderPaymentByIdV1'], ['paymentsense', 'transactionResponse']]) {
      const requestIn = flows.find((n) => n.type === 'pos-request-in' && n.provider === provider && n.method === method)!;
      await turnOn(wiredFrom(wiredFrom(requestIn, (n) => n.type === 'function')!, (n) => n.type === 'debug')!);
    }
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['pos-paymentsense', 'pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in', 'pos-dojo', 'pos-request-in', 'pos-response', 'pos-modulus', 'pos-sensepass', 'pos-quickpay']) {
      assert.ok(types.has(t), `${t} deployed`);
    }
    const nodesApi = await (await api('/nodes', { headers: { Accept: 'application/json' } })).json() as Array<{ module: string; types: string[] }>;
    assert.ok(nodesApi.some((s) => s.module === 'node-red-contrib-pos-payments'), 'the pack is installed');
    assert.ok(!/Error|error loading/i.test(app.output.split('\n').filter((l) => /pos-payments/.test(l)).join('\n')), app.output);

    const pay = flows.find((n) => n.type === 'pos-pay' && n.provider === 'paymentsense' && approvedInject(n));
    assert.ok(pay, 'a Paymentsense pay node fed by the approved-payment inject');
    const inject = approvedInject(pay)!;
    const result = wiredFrom({ ...pay, wires: [(pay.wires ?? [])[0] ?? []] }, (n) => n.type === 'debug');
    assert.ok(result, 'a debug node on the pay node\'s result output');

    // The config node connects to its simulator when the flows start; give it a moment.
    const isApproved = (m: { id: string; msg: string }) => m.id === result.id && /"outcome":"approved"/.test(m.msg);
    await waitFor('the approved result in the Debug sidebar', 20000, async () => {
      if (tap!.messages.some(isApproved)) return true;
      await api(`/inject/${inject.id}`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 1500));
      return tap!.messages.some(isApproved) ? true : undefined;
    });
    assert.ok(!tap.messages.some((m) => m.msg.includes('simulator-token')), 'no token in debug output');
    // The sidebar may speak for the tab the test clicked on (its result, or its error when a
    // click found the terminal still busy with the one before).
    for (const d of flows.filter((n) => n.type === 'debug' && n.z === pay.z)) turnedOn.add(d.id);
  });

  it('the Dojo pay-at-table example records a payment by itself within 20 s of the start', async () => {
    const record = flows.find((n) => n.type === 'pos-request-in' && n.method === 'RecordOrderPaymentByIdV1');
    assert.ok(record, 'a request-in node for RecordOrderPaymentByIdV1');
    const recordFn = wiredFrom(record, (n) => n.type === 'function');
    assert.ok(recordFn, 'a function node answers RecordOrderPaymentByIdV1');
    const recorded = wiredFrom(recordFn, (n) => n.type === 'debug');
    assert.ok(recorded, 'a debug node shows the recorded payment');

    // Nobody clicks anything: the simulator's card machine searches, locks, pays and records.
    const m = await tap!.waitFor('the "payment recorded" debug message', flowsStartedAt + 20000 - Date.now(), (d) => d.id === recorded.id);
    assert.ok(m.receivedAt - flowsStartedAt <= 20000, `recorded ${m.receivedAt - flowsStartedAt} ms after the flows started`);
    const order = JSON.parse(m.msg) as {
      id: string; status: string;
      totalAmount: { value: number; currencyCode: string }; paidAmount: { value: number; currencyCode: string };
      payments: Array<{ paymentIntentId: string; paidAmount: { value: number } }>;
    };
    assert.match(order.id, /^order-\d+$/, m.msg);
    assert.ok(Number.isInteger(order.paidAmount.value) && order.paidAmount.value > 0, `paidAmount ${JSON.stringify(order.paidAmount)}`);
    assert.ok(order.paidAmount.value <= order.totalAmount.value, `paid ${order.paidAmount.value} of ${order.totalAmount.value}`);
    assert.equal(order.paidAmount.currencyCode, 'GBP');
    assert.ok(order.payments.length >= 1 && order.payments.every((p) => /\S/.test(p.paymentIntentId)), JSON.stringify(order.payments));
    assert.equal(order.payments.reduce((sum, p) => sum + p.paidAmount.value, 0), order.paidAmount.value, 'the payments add up to the paid amount');
    assert.equal(order.status, order.paidAmount.value === order.totalAmount.value ? 'Finalized' : 'Accepted');
  });

  it('the Paymentsense pay-at-table example records the terminal\'s payments by itself within 20 s of the start', async () => {
    const txIn = flows.find((n) => n.type === 'pos-request-in' && n.provider === 'paymentsense' && n.method === 'transactionResponse');
    assert.ok(txIn, 'a request-in node for transactionResponse');
    const recordFn = wiredFrom(txIn, (n) => n.type === 'function');
    assert.ok(recordFn, 'a function node records the payments');
    const recorded = wiredFrom(recordFn, (n) => n.type === 'debug');
    assert.ok(recorded, 'a debug node shows the recorded payments');
    // Nobody clicks anything: about 10 s after /pat connects the simulated terminal lists, locks, pays and unlocks.
    const m = await tap!.waitFor('the "payments recorded" debug message', flowsStartedAt + 20000 - Date.now(), (d) => d.id === recorded.id);
    assert.match(m.msg, /^table T\d+: recorded \d+\.\d\d( \+ \d+\.\d\d)? GBP, \d+\.\d\d left to pay$/, m.msg);
    assert.ok(!tap!.messages.some((d) => d.msg.includes('simulator-token')), 'no token in debug output');
  });

  it('nobody clicking: the examples\' streams and walks show under their debug nodes and leave the Debug sidebar alone', async () => {
    // The QuickPay stream (a rate every 2 s), both pay-at-table walks and every notification
    // node have had time to speak by now.
    await new Promise((r) => setTimeout(r, Math.max(0, flowsStartedAt + 22000 - Date.now())));
    const others = tap!.messages.filter((m) => !turnedOn.has(m.id));
    assert.deepEqual(others.map((m) => `${m.name || m.id}: ${m.msg.slice(0, 80)}`), [], 'debug messages nobody asked for');
    // The live values are under the nodes instead.
    const quickpay = flows.find((n) => n.type === 'pos-notification-in' && n.provider === 'quickpay' && n.streams === 'rates')!;
    const rateDebug = flows.find((n) => n.type === 'debug' && flows.some((c) => (quickpay.wires ?? []).flat().includes(c.id) && (c.wires ?? []).flat().includes(n.id)))!;
    assert.match(await statusOf(rateDebug.id, /./, 5000, 'the rate under its debug node'), /^USD\/USDT \d+(\.\d+)?$/);
    const dojoRecord = flows.find((n) => n.type === 'pos-request-in' && n.method === 'RecordOrderPaymentByIdV1')!;
    const dojoRecorded = wiredFrom(wiredFrom(dojoRecord, (n) => n.type === 'function')!, (n) => n.type === 'debug')!;
    assert.match(await statusOf(dojoRecorded.id, /./, 5000, 'the recorded order under its debug node'), /^order-\d+: (Accepted|Finalized)$/);
  });

  it('the Dojo counter example: the approved-payment inject gives an approved result from Dojo', async () => {
    const pay = flows.find((n) => n.type === 'pos-pay' && n.provider === 'dojo' && approvedInject(n));
    assert.ok(pay, 'a Dojo pay node fed by the approved-payment inject');
    const inject = approvedInject(pay)!;
    const result = wiredFrom({ ...pay, wires: [(pay.wires ?? [])[0] ?? []] }, (n) => n.type === 'debug');
    assert.ok(result, 'a debug node on the Dojo pay node\'s result output');

    // One click, as a person would: the flows have long been connected (the walk above ran).
    const progressDebug = wiredFrom({ ...pay, wires: [(pay.wires ?? [])[1] ?? []] }, (n) => n.type === 'debug');
    assert.ok(progressDebug, 'a debug node on the Dojo pay node\'s progress output');
    await turnOn(progressDebug);
    const clicked = await api(`/inject/${inject.id}`, { method: 'POST' });
    assert.equal(clicked.status, 200);
    const m = await tap!.waitFor('the Dojo pay node\'s result', 20000, (d) => d.id === result.id);
    const payload = JSON.parse(m.msg) as { outcome: string; approved: boolean; provider: string; amount: number; currency: string; terminalId?: string };
    assert.equal(payload.outcome, 'approved', m.msg);
    assert.equal(payload.approved, true);
    assert.equal(payload.provider, 'dojo');
    assert.equal(payload.amount, 1250);
    assert.equal(payload.currency, 'GBP');
    assert.ok(payload.terminalId, 'the result names the terminal');
    assert.equal(tap!.messages.filter((d) => d.id === result.id).length, 1, 'one result for one click');
    const all = tap!.messages.map((d) => d.msg).join('\n');
    assert.ok(!all.includes(DOJO_SIMULATOR_KEY), 'the Dojo API key never reaches the Debug sidebar');
    // Progress from Dojo's terminal session (the pay node's second output) came before the result.
    const progress = wiredFrom({ ...pay, wires: [(pay.wires ?? [])[1] ?? []] }, (n) => n.type === 'debug');
    assert.ok(progress, 'a debug node on the Dojo pay node\'s progress output');
    const before = tap!.messages.slice(0, tap!.messages.indexOf(m)).filter((d) => d.id === progress.id);
    assert.ok(before.length > 0 && before.every((d) => /"provider":"dojo"/.test(d.msg)), `progress before the result: ${JSON.stringify(before.map((d) => d.topic))}`);
  });

  // The built-in simulators' secrets: never for a user's eyes in the Debug sidebar.
  const secrets: Record<string, string> = { modulus: 'mk_simulator_key', sensepass: 'sp_sim_device_1' };
  for (const provider of ['modulus', 'sensepass']) {
    it(`the ${provider} example: the approved-payment inject gives an approved result, and a notification`, async () => {
      const pay = flows.find((n) => n.type === 'pos-pay' && n.provider === provider && approvedInject(n));
      assert.ok(pay, `a ${provider} pay node fed by the approved-payment inject`);
      const inject = approvedInject(pay)!;
      const result = wiredFrom({ ...pay, wires: [(pay.wires ?? [])[0] ?? []] }, (n) => n.type === 'debug');
      assert.ok(result, `a debug node on the ${provider} pay node's result output`);
      const events = flows.find((n) => n.type === 'pos-notification-in' && n.provider === provider);
      const eventsDebug = events && wiredFrom(events, (n) => n.type === 'debug');
      assert.ok(eventsDebug, `a debug node on the ${provider} notification node`);
      await turnOn(eventsDebug);
      const since = tap!.messages.length;
      const clicked = await api(`/inject/${inject.id}`, { method: 'POST' });
      assert.equal(clicked.status, 200);
      const m = await tap!.waitFor(`the ${provider} pay node's result`, 20000, (d) => d.id === result.id);
      const payload = JSON.parse(m.msg) as { outcome: string; provider: string; amount: number };
      assert.equal(payload.outcome, 'approved', m.msg);
      assert.equal(payload.provider, provider);
      assert.equal(payload.amount, 1250);
      assert.ok(tap!.messages.slice(since).some((d) => d.id === eventsDebug.id), `a ${provider} event reached the notification node's debug`);
      assert.ok(!tap!.messages.map((d) => d.msg).join('\n').includes(secrets[provider]!), `the ${provider} simulator's secret never reaches the Debug sidebar`);
    });
  }

  it('the QuickPay example: live rates and payment status changes show under the debug nodes by themselves', async () => {
    const rates = flows.find((n) => n.type === 'pos-notification-in' && n.provider === 'quickpay' && n.streams === 'rates');
    const payments = flows.find((n) => n.type === 'pos-notification-in' && n.provider === 'quickpay' && String(n.streams).includes('payments'));
    assert.ok(rates && payments, 'two QuickPay notification nodes: rates, and payments');
    const rateDebug = flows.find((n) => n.type === 'debug' && flows.some((c) => (rates.wires ?? []).flat().includes(c.id) && (c.wires ?? []).flat().includes(n.id)));
    const paymentDebug = wiredFrom(payments, (n) => n.type === 'debug');
    assert.ok(rateDebug && paymentDebug, 'debug nodes for both');
    // Live values show under the debug nodes (their sidebar output is off until someone clicks their button).
    assert.match(await statusOf(rateDebug.id, /^USD\/USDT /, 15000, 'a rate under its debug node'), /^USD\/USDT \d+(\.\d+)?$/);
    await statusOf(paymentDebug.id, /^pay_\d+: (pending|processing|completed|failed|expired)$/, 20000, 'a payment status change under its debug node');
    await turnOn(rateDebug);
    const rate = await tap!.waitFor('a rate in the Debug sidebar once turned on', 15000, (d) => d.id === rateDebug.id);
    assert.match(rate.msg, /USD\/USDT \d+(\.\d+)?/, rate.msg);
    const all = tap!.messages.map((d) => d.msg).join('\n');
    assert.ok(!all.includes('PRIVATE KEY') && !all.includes('qp_simulator_api_key'), 'no QuickPay secret in the Debug sidebar');
  });

  it('a second start keeps the user\'s own flows', async () => {
    await tap?.close();
    tap = undefined;
    const flows = (await (await api('/flows')).json()) as FlowNode[];
    const tab = flows.find((n) => n.type === 'tab')!;
    flows.push({ id: 'users-own-node', type: 'comment', z: tab.id, name: 'my own note', x: 100, y: 500, wires: [] });
    const deployed = await api('/flows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(deployed.status, 204);
    await app.stop();
    await app.start();
    const again = (await (await api('/flows')).json()) as FlowNode[];
    assert.ok(again.some((n) => n.id === 'users-own-node'), 'the user\'s node survived');
    assert.equal(again.length, flows.length);
  });
});
