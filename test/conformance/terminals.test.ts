// pos-terminals for every provider: the documented list where offered, a clear error where not.

import assert from 'node:assert/strict';
import { forEachProvider, helper, until, type Conformance } from './fixture';

const STATUSES = ['available', 'busy', 'offline', 'unknown'];

forEachProvider('terminals', (c: Conformance) => {
  it('lists terminals in the documented shape where offered, otherwise done(err)', async () => {
    const { list, errs } = await c.load();
    helper.getNode('terminals').receive({ payload: '' });
    if (!c.entry.capabilities.terminals) {
      await until(() => errs.terminals.length === 1, 'the error');
      assert.match(errs.terminals[0]!, /does not support terminals|cannot/);
      assert.equal(list.length, 0);
      return;
    }
    await until(() => list.length === 1, 'the list', 10000);
    assert.deepEqual(errs.terminals, []);
    const terminals = list[0]!.payload as Array<Record<string, unknown>>;
    assert.ok(Array.isArray(terminals), 'msg.payload is an array');
    assert.ok(terminals.length >= 2, `at least two terminals, got ${terminals.length}`);
    for (const t of terminals) {
      assert.deepEqual(Object.keys(t).sort(), ['id', 'name', 'provider', 'raw', 'status']);
      assert.equal(typeof t.id, 'string');
      assert.ok((t.id as string).length > 0);
      assert.equal(typeof t.name, 'string');
      assert.ok(STATUSES.includes(t.status as string), `status ${String(t.status)}`);
      assert.equal(t.provider, c.entry.provider);
      assert.notEqual(t.raw, undefined);
    }
    assert.ok(terminals.filter((t) => t.status === 'available').length >= 2, 'at least two available');
    if (c.entry.terminalId) assert.ok(terminals.some((t) => t.id === c.entry.terminalId), 'the id a payment takes is listed');
  });
});
