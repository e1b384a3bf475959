// isoNow(): the time as toISOString() gives it, formatted at most once per millisecond.
import assert from 'node:assert/strict';
import { isoNow } from '../../lib/core/iso-now';

describe('isoNow', () => {
  it('is the current time in ISO 8601, as toISOString() writes it', () => {
    const before = Date.now();
    const iso = isoNow();
    const after = Date.now();
    assert.match(iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const at = Date.parse(iso);
    assert.ok(at >= before && at <= after, `${iso} between ${before} and ${after}`);
  });

  it('moves on with the clock: a later call in another millisecond is a later time', async () => {
    const first = isoNow();
    await new Promise((r) => setTimeout(r, 5));
    const second = isoNow();
    assert.ok(Date.parse(second) > Date.parse(first), `${second} after ${first}`);
  });
});
