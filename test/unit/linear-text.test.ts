// Provider-supplied text reaches eventName() and the log redactors; each was rewritten to scan
// linearly. These tests pin that the output did not change, against the old expressions.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eventName, NAME_SOURCE_LIMIT } from '../../lib/core/names';
import { defaultRedact } from '../../lib/core/socket';
import { scrubPusherText } from '../../lib/providers/quickpay/pusher-log';

/** eventName() as it was written before: quadratic on a long run of capitals. */
function oldEventName(value: string): string {
  return value
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function oldDefaultRedact(text: string): string {
  return text.replace(/([?&#;][^=&#\s"'<>]*=)[^&#\s"'<>]+/g, '$1***').replace(/(\/\/)[^/@\s"'<>]+@/g, '$1***@');
}

const oldBareSignature = /\b[A-Za-z0-9_-]+:[0-9a-fA-F]{64}\b/g;

// Letters that matter to the word breaks, separators, digits, and non-ASCII characters whose
// lower case is odd: the Kelvin sign becomes an ASCII k, dotted I becomes two code units.
const nameUnit = fc.constantFrom(
  'A', 'B', 'Z', 'a', 'b', 'z', '0', '9', '_', '-', ' ', '.', '/', '\u0000', '\n',
  '\u212A', '\u0130', 'ß', 'É', 'é', '\u{1F600}', 'ſ',
);
const spellings = fc.oneof(
  fc.string({ unit: nameUnit, maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('A', 'B', 'a', '1', '_'), maxLength: 320 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ maxLength: 30 }),
  // Words as providers join them: PRESENT_CARD, PresentCard, present-card, ABCThing.
  fc.array(fc.constantFrom('PRESENT', 'Card', 'card', 'PIN', 'Entry', 'ABC', 'x', '2', 'EMV'), { maxLength: 8 })
    .chain((words) => fc.constantFrom('', '_', '-', ' ').map((sep) => words.join(sep))),
);

describe('linear text handling of provider-supplied values', () => {
  describe('eventName', () => {
    it('names every spelling exactly as the old expressions did (its first 256 characters)', () => {
      fc.assert(
        fc.property(spellings, (value) => {
          assert.equal(eventName(value), oldEventName(value.slice(0, NAME_SOURCE_LIMIT)));
        }),
        { numRuns: 3000 },
      );
    });

    it('keeps the names the providers use', () => {
      const cases: Array<[string, string]> = [
        ['PRESENT_CARD', 'present_card'],
        ['PresentCard', 'present_card'],
        ['present-card', 'present_card'],
        ['ABCThing', 'abc_thing'],
        ['pinEntry2Done', 'pin_entry2_done'],
        ['EMVCardInserted', 'emv_card_inserted'],
        ['__Signature  Verification__', 'signature_verification'],
        ['', ''],
        ['---', ''],
      ];
      for (const [value, name] of cases) assert.equal(eventName(value), name, value);
    });

    it('names a 1 MB run of capitals from its head, the same name the old expressions gave that head', () => {
      const value = 'Present' + 'A'.repeat(1 << 20) + 'b';
      const name = eventName(value);
      assert.equal(name, oldEventName(value.slice(0, NAME_SOURCE_LIMIT)));
      assert.equal(name, 'present_' + 'a'.repeat(NAME_SOURCE_LIMIT - 'Present'.length));
    });
  });

  describe('defaultRedact', () => {
    const unit = fc.constantFrom('?', ';', '&', '#', '=', 'a', 'k', '/', '@', ' ', '"', '<', ':', 'x');
    it('masks exactly what the old expression masked', () => {
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 60 }), (text) => {
          assert.equal(defaultRedact(text), oldDefaultRedact(text));
        }),
        { numRuns: 5000 },
      );
    });

    it('still masks query values and user-info', () => {
      assert.equal(defaultRedact('wss://u:p@h/x?a;b=secret&c=1'), 'wss://***@h/x?a;b=***&c=***');
      // A long run of separators (quadratic before) still has its one value masked.
      const out = defaultRedact(';'.repeat(200_000) + 'token=abc');
      assert.equal(out.length, 200_000 + 'token=***'.length);
      assert.equal(out.slice(-12), ';;;token=***');
    });
  });

  describe('scrubPusherText (bare key:signature)', () => {
    const hex = 'a'.repeat(32) + '0123456789abcdef0123456789ABCDEF';
    // Keys as they occur: starting with a word character; '-' only inside.
    const token = fc.constantFrom('app', 'a-b', '_k', '9', ' ', '"', ',', ':', hex, 'f', '{', '}', 'x');
    it('masks what the old \\b expression masked on keys that start with a word character', () => {
      fc.assert(
        fc.property(fc.array(token, { maxLength: 12 }), (parts) => {
          const text = parts.join('');
          assert.equal(scrubPusherText(text), text.replace(oldBareSignature, '***'));
        }),
        { numRuns: 3000 },
      );
    });

    it('masks a signature after a key that starts with a dash too', () => {
      assert.equal(scrubPusherText(`sig --app-key:${hex} end`), 'sig *** end');
      const dashes = 'a-'.repeat(100_000);
      assert.ok(scrubPusherText(dashes) === dashes, 'a long dashed run with no signature is left alone');
    });
  });
});
