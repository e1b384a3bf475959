// The Dojo AnswerCache prunes from an oldest-first queue instead of the Map's front (issue 14):
// the same answers as before, checked against a plain model of the old behaviour (entries in
// set order, expired ones dropped from the front, the oldest dropped beyond the cap).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AnswerCache } from '../../lib/providers/dojo/answer-cache';

/** The old AnswerCache, written as plainly as possible: a list in set order. */
class Model {
  private list: Array<{ key: string; value: number; expiresAt: number }> = [];
  constructor(private readonly ttlMs: number, private readonly maxEntries: number, private readonly now: () => number) {}
  get size(): number {
    this.prune();
    return this.list.length;
  }
  get(key: string): number | undefined {
    const i = this.list.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    if (this.list[i]!.expiresAt <= this.now()) {
      this.list.splice(i, 1);
      return undefined;
    }
    return this.list[i]!.value;
  }
  set(key: string, value: number): void {
    this.delete(key);
    this.list.push({ key, value, expiresAt: this.now() + this.ttlMs });
    this.prune();
    while (this.list.length > this.maxEntries) this.list.shift();
  }
  delete(key: string): boolean {
    const i = this.list.findIndex((e) => e.key === key);
    if (i >= 0) this.list.splice(i, 1);
    return i >= 0;
  }
  clear(): void {
    this.list = [];
  }
  private prune(): void {
    while (this.list.length > 0 && this.list[0]!.expiresAt <= this.now()) this.list.shift();
  }
}

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'get' | 'has' | 'delete'; key: string }
  | { op: 'size' | 'clear' }
  | { op: 'tick'; ms: number };

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('size' as const, 'clear' as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
);

describe('AnswerCache (queue-pruned)', () => {
  it('answers every sequence of operations as the old Map-front version did', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (ttlMs, maxEntries, ops) => {
        let now = 0;
        const cache = new AnswerCache<number>({ ttlMs, maxEntries, now: () => now });
        const model = new Model(ttlMs, maxEntries, () => now);
        for (const o of ops) {
          switch (o.op) {
            case 'set': cache.set(o.key, o.value); model.set(o.key, o.value); break;
            case 'get': assert.equal(cache.get(o.key), model.get(o.key)); break;
            case 'has': assert.equal(cache.has(o.key), model.get(o.key) !== undefined); break;
            case 'delete': assert.equal(cache.delete(o.key), model.delete(o.key)); break;
            case 'size': assert.equal(cache.size, model.size); break;
            case 'clear': cache.clear(); model.clear(); break;
            case 'tick': now += o.ms; break;
          }
        }
        assert.equal(cache.size, model.size);
      }),
      { numRuns: 2000 },
    );
  });

  it('evicts in set order, a refreshed key counting as new', () => {
    const cache = new AnswerCache<number>({ ttlMs: 1000, maxEntries: 3, now: () => 0 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.set('a', 4); // a is now the newest
    cache.set('d', 5); // b goes
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cache.get(k)), [4, undefined, 3, 5]);
    cache.set('e', 6); // c goes
    assert.deepEqual(['a', 'c', 'd', 'e'].map((k) => cache.get(k)), [4, undefined, 5, 6]);
  });

  it('expires each entry ttlMs after its own set, refreshed ones later', () => {
    let now = 0;
    const cache = new AnswerCache<number>({ ttlMs: 100, maxEntries: 10, now: () => now });
    cache.set('a', 1);
    now = 40;
    cache.set('b', 2);
    now = 80;
    cache.set('a', 3);
    now = 100;
    assert.deepEqual([cache.get('a'), cache.get('b')], [3, 2]);
    now = 140;
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.size], [3, undefined, 1]);
    now = 180;
    assert.equal(cache.size, 0);
  });

  it('keeps its queue bounded when the same keys are refreshed again and again within the TTL', () => {
    const cache = new AnswerCache<number>({ ttlMs: 3_600_000, maxEntries: 10_000, now: () => 0 });
    for (let i = 0; i < 200_000; i++) cache.set(`k${i % 10}`, i);
    assert.equal(cache.size, 10);
    const queued = (cache as unknown as { queueKeys: string[]; head: number });
    assert.ok(queued.queueKeys.length - queued.head < 2 * 10 + 1024 + 1, `queue holds ${queued.queueKeys.length - queued.head}`);
    assert.equal(cache.get('k9'), 199_999);
  });

  it('a full cache of 10,000 keeps exactly the newest 10,000 through 100,000 sets', () => {
    const cache = new AnswerCache<number>({ ttlMs: 3_600_000, maxEntries: 10_000, now: () => 0 });
    for (let i = 0; i < 100_000; i++) cache.set(`k${i}`, i);
    assert.equal(cache.size, 10_000);
    assert.equal(cache.get('k89999'), undefined);
    assert.equal(cache.get('k90000'), 90_000);
    assert.equal(cache.get('k99999'), 99_999);
  });
});
