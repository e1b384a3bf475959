// Issue 13, for every paying provider: a payment sent the moment the flow starts (an inject
// "once after 0.1 s") waits for the connection instead of failing "not connected ... (idle)".

import assert from 'node:assert/strict';
import { collect, errors } from '../nodes/harness';
import { forEachProvider, helper, until, type Conformance } from './fixture';

forEachProvider('a payment sent as the flow starts', (c: Conformance) => {
  it('waits for the connection, is approved and charged once', async () => {
    await helper.load(c.entry.nodeModules, c.flow(), c.handle.credentials('cfg'));
    const results = collect('result');
    const errs = errors('pay');
    // Like an inject "once" as the flow starts: sent before the connection is up.
    const sentWhile = c.connectionState();
    assert.notEqual(sentWhile, 'connected', 'the payment must be sent before the connection is up');
    helper.getNode('pay').receive(c.payment(c.amounts.approved, c.ref('early')));
    await until(() => results.length + errs.length > 0, 'the answer', 20000);
    assert.deepEqual(errs, [], `sent while ${sentWhile}`);
    assert.equal(results[0]!.payload.outcome, 'approved');
    assert.equal(c.handle.charges(), 1);
  });
}, 'pay');
