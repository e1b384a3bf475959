// What a person sees when a message fails (issue 13): the Catch node gets the sentence alone
// (no "PosError: " in front) with the stable code beside it, and the pay node's status says why
// in a few words from the catalog, replacing whatever it showed before and replaced in turn by
// the next payment's status.

import assert from 'node:assert/strict';
import type { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { MAX_TEXT } from '../../nodes/shared/status';
import { ALL_NODES, collect, configNode, connected, credentials, helper, statuses, until, useSimulator, type Msg } from './harness';

const catchNode = require('@node-red/nodes/core/common/25-catch.js');

describe('errors: the Catch path and the pay node\'s status', function () {
  this.timeout(20000);
  let sim: PaymentsenseSimulator;
  let url: string;

  useSimulator((s) => { ({ sim, url } = s); });

  // Nodes with x and y: Node-RED takes a node without them for a config node.
  async function load() {
    await helper.load([...ALL_NODES, catchNode], [
      { id: 'tab', type: 'tab', label: 'errors' },
      configNode(url),
      { id: 'pay', z: 'tab', x: 100, y: 100, type: 'pos-pay', provider: 'paymentsense', paymentsense: 'cfg', terminalId: 'VCM00001SIP0', currency: 'GBP', timeout: 20, wires: [['result'], []] },
      { id: 'result', z: 'tab', x: 100, y: 100, type: 'helper' },
      { id: 'catch', z: 'tab', x: 100, y: 100, type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', x: 100, y: 100, type: 'helper' },
    ], credentials);
    await until(connected(), 'the connection');
    return { results: collect('result'), caught: collect('caught'), shown: statuses('pay') };
  }

  const last = (list: Array<{ fill?: string; shape?: string; text?: string }>) => list[list.length - 1];
  /** The catalog text, or its key where the test runtime has no catalog for the pack. */
  const said = (key: string, text: string) => new RegExp(`^(pos\\.${key.replace('.', '\\.')}|${text})$`);

  it('bad input: the Catch node gets the plain sentence and the code; the status says "bad input" in red', async () => {
    const { caught, shown } = await load();
    helper.getNode('pay').receive({ payload: { amount: 12.5, currency: 'GBP' } });
    await until(() => caught.length === 1, 'the caught error');
    const error = (caught[0] as Msg).error as { message: string; code: string; source: { id: string } };
    assert.equal(error.code, 'bad_input');
    assert.equal(error.source.id, 'pay');
    assert.doesNotMatch(error.message, /PosError|^Error:/, 'no class name in front of the sentence');
    assert.match(error.message, /^amount must be a whole number of minor units \(e\.g\. 1250 for 12\.50\), got 12\.5$/);
    await until(() => last(shown)?.fill === 'red', 'the red status');
    assert.equal(last(shown)?.shape, 'ring');
    assert.match(last(shown)?.text ?? '', said('error.bad_input', 'bad input: nothing sent'));
    assert.equal(sim.ledger.length, 0);
  });

  it('each failure replaces the status with its own reason, and the next payment replaces that', async () => {
    const { results, caught, shown } = await load();
    helper.getNode('pay').receive({ action: 'cancel', payload: { reference: 'nothing-here' } });
    await until(() => caught.length === 1, 'the failed cancel');
    await until(() => said('error.not_found', 'no such payment running').test(last(shown)?.text ?? ''), `the not-found status (got ${JSON.stringify(shown)})`);
    assert.match((caught[0] as Msg).error.message, /^no payment with reference "nothing-here" is running/);
    // A later, different failure: its own reason, not the older one.
    helper.getNode('pay').receive({ payload: { amount: 100, currency: 'ZZZ' } });
    await until(() => caught.length === 2, 'the bad currency');
    await until(() => said('error.bad_input', 'bad input: nothing sent').test(last(shown)?.text ?? ''), `the bad-input status (got ${JSON.stringify(shown)})`);
    // The next payment takes the status over.
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'GBP' } });
    await until(() => results.length === 1, 'the result');
    await until(() => last(shown)?.fill === 'green', `the approved status (got ${JSON.stringify(shown)})`);
    assert.match(last(shown)?.text ?? '', /^(pos\.outcome\.approved|approved 12\.50 GBP)$/);
    assert.equal(last(shown)?.fill, 'green');
    assert.ok(shown.every((s) => (s.text ?? '').length <= MAX_TEXT), JSON.stringify(shown));
  });
});
