// The config nodes' saved-field readers: what an old or hand-written flow may hold.

import assert from 'node:assert/strict';
import { environmentOf, onlyIfTrue, secondsMs, unlessFalse } from '../../nodes/shared/config-fields';

describe('config node fields', () => {
  it('an unknown environment is the simulator', () => {
    for (const env of ['simulator', 'test', 'production', 'custom'] as const) assert.equal(environmentOf(env), env);
    for (const junk of [undefined, '', 'live', 42, null]) assert.equal(environmentOf(junk), 'simulator');
  });

  it('checkboxes read true/false and their text forms, each with its own default', () => {
    assert.deepEqual([true, 'true', undefined, '', false, 'false'].map(unlessFalse), [true, true, true, true, false, false]);
    assert.deepEqual([true, 'true', undefined, '', false, 'false'].map(onlyIfTrue), [true, true, false, false, false, false]);
  });

  it('seconds: above zero and the minimum, capped, else the default', () => {
    const heartbeat = { fallback: 25, max: 30 };
    assert.equal(secondsMs('10', heartbeat), 10000);
    assert.equal(secondsMs(45, heartbeat), 30000);
    for (const junk of [0, '0', -1, '', 'soon', undefined, NaN]) assert.equal(secondsMs(junk, heartbeat), 25000, String(junk));
    const poll = { fallback: 1, min: 0.05, max: 10 };
    assert.equal(secondsMs(0.05, poll), 50);
    assert.equal(secondsMs(0.04, poll), 1000);
    assert.equal(secondsMs(1.5, { fallback: 30, min: 1, max: 300 }), 1500);
    assert.equal(secondsMs(0.5, { fallback: 30, min: 1, max: 300 }), 30000);
  });
});
