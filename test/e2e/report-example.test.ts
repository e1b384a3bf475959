// Example 12 as a person meets it: `npm start`, click "take a payment", then "X balance": the
// Debug sidebar shows the report with the payment in its totals and the printed lines as text;
// "report on a busy terminal" shows a bad_input error from the Catch node.

import assert from 'node:assert/strict';
import { DebugTap, QuickStart, waitFor } from '../support/quick-start';

interface FlowNode { id: string; type: string; z?: string; name?: string; wires?: string[][]; [k: string]: unknown }

describe('example 12 terminal report (npm start)', function () {
  this.timeout(120000);
  const app = new QuickStart();
  let tap: DebugTap | undefined;
  let flows: FlowNode[] = [];

  before(async () => {
    await app.start();
    tap = await DebugTap.open(app.port);
    flows = (await (await app.api('/flows')).json()) as FlowNode[];
  });
  after(async () => {
    await tap?.close();
    await app.dispose();
  });

  const report = () => flows.find((n) => n.type === 'pos-report');
  const tab = () => report()!.z;
  const named = (type: string, name: string) => {
    const node = flows.find((n) => n.z === tab() && n.type === type && n.name === name);
    assert.ok(node, `a ${type} "${name}" on the report tab`);
    return node;
  };
  const click = (name: string) => app.api(`/inject/${named('inject', name).id}`, { method: 'POST' });

  it('a payment, then an X balance: the report counts it and prints as text', async () => {
    assert.ok(report(), 'the example deploys a pos-report node');
    const payment = named('debug', 'payment');
    const approved = (m: { id: string; msg: string }) => m.id === payment.id && /"outcome":"approved"/.test(m.msg);
    // The connection comes up when the flows start; click until the simulator answers.
    await waitFor('the approved payment', 20000, async () => {
      if (!tap!.messages.some(approved)) {
        await click('take a payment: 12.50 GBP');
        await new Promise((r) => setTimeout(r, 2500));
      }
      return tap!.messages.some(approved) ? true : undefined;
    });
    await click('X balance');
    const shown = await tap!.waitFor('the report', 20000, (m) => m.id === named('debug', 'report').id);
    const r = JSON.parse(shown.msg);
    assert.equal(r.result, 'complete');
    assert.equal(r.type, 'x_balance');
    assert.equal(r.terminalId, 'VCM00001SIP0');
    assert.ok(r.balances.salesCount >= 1 && r.balances.salesAmount >= 1250, JSON.stringify(r.balances));
    const text = await tap!.waitFor('the printed report', 5000, (m) => m.id === named('debug', 'printed report').id);
    assert.match(text.msg, /VCM00001SIP0 x_balance \(complete\)/);
    assert.match(text.msg, /X BALANCE REPORT/);
  });

  it('a report on a busy terminal: the Catch node shows a bad_input error', async () => {
    await click('report on a busy terminal');
    const error = await tap!.waitFor('the error', 20000, (m) => m.id === named('debug', 'error').id);
    // The sentence itself, at a glance: a string, no class name in front; the code is the topic.
    assert.equal(error.topic, 'bad_input');
    assert.match(error.msg, /^terminal VCM00004SIS0 is busy \(a payment or a report is running on it\)/);
  });
});
