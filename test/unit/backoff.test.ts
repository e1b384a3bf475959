import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Backoff } from '../../lib/core/backoff';
import { isPosError } from '../../lib/core/errors';

const options = fc.record({
  initialMs: fc.integer({ min: 0, max: 10_000 }),
  maxMs: fc.integer({ min: 0, max: 120_000 }),
  factor: fc.double({ min: 1, max: 4, noNaN: true }),
  jitter: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe('Backoff', () => {
  it('defaults: about 1 s, doubling, capped at 30 s', () => {
    const b = new Backoff({ random: () => 0.5 }); // 0.5 = no jitter
    const delays = Array.from({ length: 8 }, () => b.next());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(b.attempt, 8);
  });

  it('applies jitter of +/-25 % by default', () => {
    assert.equal(new Backoff({ random: () => 0 }).next(), 750);
    assert.equal(new Backoff({ random: () => 0.999999 }).next(), 1250);
  });

  it('reset() starts over at the first delay', () => {
    const b = new Backoff({ random: () => 0.5 });
    b.next();
    b.next();
    b.next();
    b.reset();
    assert.equal(b.attempt, 0);
    assert.equal(b.next(), 1000);
    assert.equal(b.attempt, 1);
  });

  it('rejects nonsensical options', () => {
    for (const bad of [{ initialMs: -1 }, { maxMs: Number.NaN }, { factor: 0.5 }, { jitter: 2 }, { jitter: -0.1 }]) {
      assert.throws(() => new Backoff(bad), (e: unknown) => isPosError(e) && e.code === 'bad_input');
    }
  });

  it('treats an explicit undefined option as the default', () => {
    assert.equal(new Backoff({ initialMs: undefined, random: () => 0.5 }).next(), 1000);
  });

  it('property: every delay is a whole number within [0, maxMs] and within the jitter band', () => {
    fc.assert(
      fc.property(options, fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 60 }), (o, randoms) => {
        let i = 0;
        const b = new Backoff({ ...o, random: () => randoms[i++ % randoms.length] });
        for (let n = 1; n <= randoms.length; n++) {
          const d = b.next();
          const base = b.baseDelay(n);
          assert.ok(Number.isInteger(d), `not an integer: ${d}`);
          assert.ok(d >= 0 && d <= o.maxMs, `out of [0, ${o.maxMs}]: ${d}`);
          assert.ok(d >= Math.floor(base * (1 - o.jitter)) - 1, `below band: ${d} for base ${base}`);
          assert.ok(d <= Math.ceil(base * (1 + o.jitter)) + 1, `above band: ${d} for base ${base}`);
        }
      }),
    );
  });

  it('property: the un-jittered base never decreases and reaches the cap', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: 1, max: 2000 }), (o, n) => {
        const b = new Backoff(o);
        assert.ok(b.baseDelay(n + 1) >= b.baseDelay(n));
        assert.ok(b.baseDelay(n) <= o.maxMs);
        if (o.factor >= 1.5 && o.initialMs > 0) assert.equal(b.baseDelay(2000), o.maxMs);
      }),
    );
  });

  it('property: hostile random sources still give delays within [0, maxMs]', () => {
    fc.assert(
      fc.property(options, fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Infinity), fc.constant(-5)), (o, r) => {
        const b = new Backoff({ ...o, random: () => r });
        for (let n = 0; n < 40; n++) {
          const d = b.next();
          assert.ok(Number.isFinite(d) && d >= 0 && d <= o.maxMs, `bad delay ${d}`);
        }
      }),
    );
  });

  it('property: 1000 delays past the cap stay at or below the cap', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (r) => {
        const b = new Backoff({ random: () => r });
        for (let n = 0; n < 1000; n++) assert.ok(b.next() <= 30000);
        assert.equal(b.attempt, 1000);
      }),
      { numRuns: 50 },
    );
  });
});
