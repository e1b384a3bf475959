// The limits that keep one frame from holding the event loop (issue 14): a JSON-RPC batch of
// more than 100 items, a megabyte method name and a deeply nested frame are each refused with
// one error; log lines redact only the head they show, and still mask a secret cut by it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_NESTING, NESTING_CHECK_FROM_CHARS, nestedTooDeep } from '../../lib/core/frame-guard';
import { JsonRpcPeer, MAX_BATCH_ITEMS, RPC_ERRORS } from '../../lib/core/jsonrpc';
import { REDACT_MARGIN, describeFrame, makeRedactor, redactHead } from '../../lib/core/redact';
import type { Logger } from '../../lib/core/types';

function peer() {
  const out: string[] = [];
  const lines: string[] = [];
  const logger: Logger = { debug: (m) => void lines.push(m), info: (m) => void lines.push(m), warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
  const p = new JsonRpcPeer({ send: (t) => void out.push(t), logger, redact: makeRedactor(['tok_SECRET_abcdef']) });
  const methods: string[] = [];
  p.handle('echo', (params) => params);
  p.onNotification((m) => methods.push(m));
  return { p, out, lines, methods, replies: () => out.map((t) => JSON.parse(t) as any) };
}

const pad = (n: number) => ' '.repeat(n);

describe('frame limits', () => {
  describe('JSON-RPC batches', () => {
    it(`answers a batch of ${MAX_BATCH_ITEMS} requests item by item`, async () => {
      const { p, replies } = peer();
      p.receive(JSON.stringify(Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'echo', params: [i] }))));
      await new Promise((r) => setImmediate(r));
      const [batch] = replies();
      assert.equal(batch.length, MAX_BATCH_ITEMS);
    });

    it(`refuses a batch of ${MAX_BATCH_ITEMS + 1} or 200,000 items with one error and one log line, handling none`, async () => {
      for (const n of [MAX_BATCH_ITEMS + 1, 200_000]) {
        const { p, replies, lines, methods } = peer();
        p.receive(JSON.stringify(Array.from({ length: n }, () => ({ jsonrpc: '2.0', method: 'tick' }))));
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(methods, [], 'no item was handled');
        assert.equal(replies().length, 1);
        const [reply] = replies();
        assert.equal(reply.id, null);
        assert.equal(reply.error.code, RPC_ERRORS.invalidRequest);
        assert.match(reply.error.message, /at most 100/);
        assert.equal(lines.length, 1);
        assert.match(lines[0]!, new RegExp(`batch of ${n} messages refused`));
      }
    });
  });

  describe('JSON-RPC method names', () => {
    it('refuses a request whose method is longer than 256 characters, without quoting it', () => {
      const { p, replies, lines } = peer();
      p.receive(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'A'.repeat(1 << 20) }));
      const [reply] = replies();
      assert.deepEqual([reply.id, reply.error.code, reply.error.message], [4, RPC_ERRORS.invalidRequest, 'Invalid Request']);
      assert.ok(replies()[0] && JSON.stringify(reply).length < 200, 'the answer does not echo the name');
      assert.ok(lines.every((l) => l.length < 2100));
    });

    it('still handles a 256-character method name', () => {
      const { p, methods } = peer();
      p.receive(JSON.stringify({ jsonrpc: '2.0', method: 'm'.repeat(256) }));
      assert.deepEqual(methods, ['m'.repeat(256)]);
    });
  });

  describe('nesting', () => {
    const deep = (n: number, filler = 0) => '['.repeat(n) + pad(filler) + ']'.repeat(n);

    it(`refuses a frame of ${NESTING_CHECK_FROM_CHARS} characters or more nested over ${MAX_NESTING} levels`, () => {
      assert.equal(nestedTooDeep(deep(MAX_NESTING + 1, NESTING_CHECK_FROM_CHARS)), true);
      assert.equal(nestedTooDeep(deep(MAX_NESTING, NESTING_CHECK_FROM_CHARS)), false);
      assert.equal(nestedTooDeep(deep(500_000)), true);
      // Small frames are not scanned: they cannot nest deep enough to be slow to parse.
      assert.equal(nestedTooDeep(deep(1000)), false);
    });

    it('does not count brackets inside strings, escaped quotes included', () => {
      const inString = JSON.stringify({ a: '['.repeat(NESTING_CHECK_FROM_CHARS), b: '\\"[[[[' + '{'.repeat(500) });
      assert.equal(nestedTooDeep(inString), false);
      fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a') }), { maxLength: 6 }), (parts) => {
        // Any strings, however bracketed, inside a frame nested 3 deep and padded over the threshold.
        const text = JSON.stringify([[parts]]) + pad(NESTING_CHECK_FROM_CHARS);
        assert.equal(nestedTooDeep(text, 3), false);
        assert.equal(nestedTooDeep(text, 2), true);
      }), { numRuns: 300 });
    });

    it('a scan that stopped part-way leaves nothing behind for the next frame', () => {
      // The first stops at its far end; the next nests at its start, where a scan carrying on
      // from the first one's position would never look.
      const deepAtEnd = pad(NESTING_CHECK_FROM_CHARS) + '['.repeat(MAX_NESTING + 1);
      const deepAtStart = '['.repeat(MAX_NESTING + 1) + pad(NESTING_CHECK_FROM_CHARS);
      for (let i = 0; i < 3; i++) {
        assert.equal(nestedTooDeep(deepAtEnd), true);
        assert.equal(nestedTooDeep(deepAtStart), true);
        assert.equal(nestedTooDeep(deepAtEnd, MAX_NESTING, true), true);
        assert.equal(nestedTooDeep(deepAtStart, MAX_NESTING, true), true);
      }
    });

    it('the JSON-RPC peer answers a deep frame with one error, unparsed', () => {
      const { p, replies, lines } = peer();
      p.receive(`{"jsonrpc":"2.0","method":"tick","params":${deep(300_000)}}`);
      const [reply] = replies();
      assert.deepEqual([reply.id, reply.error.code], [null, RPC_ERRORS.invalidRequest]);
      assert.match(lines[0]!, /nested more than 128 levels deep dropped/);
    });
  });

  describe('log lines redact only the head they show', () => {
    const SECRET = 'tok_SECRET_abcdef';
    const redact = makeRedactor([SECRET]);

    it('masks a secret that the cut at the limit splits', () => {
      for (const at of [190, 195, 199, 200]) {
        const text = 'x'.repeat(at) + SECRET + 'y'.repeat(1 << 20);
        const line = describeFrame(text, redact);
        assert.ok(!line.includes(SECRET.slice(0, 8)), `${at}: ${line.slice(180, 230)}`);
        assert.match(line, /… \(1048\d{3} chars\)$/);
      }
    });

    it('masks a token=value query parameter cut by the limit', () => {
      const text = 'x'.repeat(195) + '?token=' + 'v'.repeat(100) + '&a=1' + 'y'.repeat(1 << 20);
      const { head } = redactHead(text, redact, 200);
      assert.ok(!head.includes('vvv'), head.slice(190));
    });

    it('never shows what lies beyond the window, even when masks shorten the head', () => {
      // Many secrets in the head shrink it; what would slide into view from past the window is dropped.
      const text = SECRET.repeat(300) + 'z'.repeat(REDACT_MARGIN * 2);
      const { head, cut } = redactHead(text, redact, 200);
      assert.equal(cut, true);
      assert.ok(!head.includes('z') && !head.includes(SECRET));
    });

    it('shows a short frame exactly as before', () => {
      assert.equal(describeFrame(`a  b\n${SECRET}`, redact), 'a b ***');
      const long = 'a'.repeat(300);
      assert.equal(describeFrame(long, redact), `${'a'.repeat(200)}… (300 chars)`);
    });
  });
});
