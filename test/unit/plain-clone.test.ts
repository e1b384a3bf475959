// cloneData(): the journal's copy of an entry. JSON-shaped data is copied by hand; anything
// else behaves as structuredClone did.

import assert from 'node:assert/strict';
import vm from 'node:vm';
import { cloneData } from '../../lib/journal/plain-clone';

describe('cloneData (journal entry copies)', () => {
  it('copies plain objects and arrays deeply: nothing is shared', () => {
    const v = { a: 1, b: 'x', c: null, d: [1, { e: true }], f: { g: { h: [] as unknown[] } }, u: undefined };
    const c = cloneData(v);
    assert.deepEqual(c, v);
    assert.ok('u' in c);
    assert.notEqual(c.d, v.d);
    assert.notEqual(c.d[1], v.d[1]);
    assert.notEqual(c.f.g.h, v.f.g.h);
    (c.d[1] as { e: boolean }).e = false;
    assert.equal((v.d[1] as { e: boolean }).e, true);
  });

  it('keeps an own "__proto__" key a key', () => {
    const v = JSON.parse('{"__proto__": {"polluted": 1}, "ok": 2}') as Record<string, unknown>;
    const c = cloneData(v);
    assert.equal(Object.getPrototypeOf(c), Object.prototype);
    assert.deepEqual(Object.keys(c), ['__proto__', 'ok']);
    assert.equal((c as { polluted?: number }).polluted, undefined);
  });

  it('leaves non-plain values to structuredClone (Date, Map, other realms, cycles) and still refuses functions', () => {
    const when = new Date(0);
    const c = cloneData({ when, m: new Map([[1, 2]]) });
    assert.ok(c.when instanceof Date && c.when !== when && c.when.getTime() === 0);
    assert.ok(c.m instanceof Map && c.m.get(1) === 2);
    const foreign = vm.runInNewContext('({ a: { b: 1 } })') as { a: { b: number } };
    assert.deepEqual(cloneData(foreign), { a: { b: 1 } });
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    const cc = cloneData(cyclic);
    assert.equal(cc.n, 1);
    assert.throws(() => cloneData({ f: () => 1 }));
  });
});
