// Providers spell their event values PRESENT_CARD, PresentCard or present-card; the pack's
// progress and notification events use one stable lower_snake_case name for all of them.
//
// The value comes from the provider's frame, so it can be any length: this is one pass over at
// most NAME_SOURCE_LIMIT characters (a regex with a backtracking capital run was quadratic:
// 65,536 capitals blocked the event loop for 2 s). No real event name comes near the limit;
// a longer value is named from its head.

/** Characters of a value an event name is made from. */
export const NAME_SOURCE_LIMIT = 256;

const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

export function eventName(value: string): string {
  const s = value.length > NAME_SOURCE_LIMIT ? value.slice(0, NAME_SOURCE_LIMIT) : value;
  // Word breaks: before a capital that follows a lower-case letter or digit (presentCard), and
  // before the last capital of a run of two or more that is followed by a lower-case letter
  // (ABCThing -> ABC_Thing). Only ASCII letters count, as in the names providers use.
  let broken = '';
  let from = 0;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isUpper(c)) continue;
    const prev = s.charCodeAt(i - 1);
    const breakHere = isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(s.charCodeAt(i + 1)));
    if (breakHere) {
      broken += s.slice(from, i) + '_';
      from = i;
    }
  }
  broken += s.slice(from);
  // Lower-case first (toLowerCase can turn a non-ASCII letter into an ASCII one, e.g. the Kelvin
  // sign), then every run of anything but a-z0-9 becomes one underscore, none at either end.
  const lower = broken.toLowerCase();
  let out = '';
  let gap = false;
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const c = i < lower.length ? lower.charCodeAt(i) : -1;
    const keep = isLower(c) || isDigit(c);
    if (keep) {
      if (start < 0) {
        if (gap && out) out += '_';
        gap = false;
        start = i;
      }
      continue;
    }
    if (start >= 0) {
      out += lower.slice(start, i);
      start = -1;
    }
    gap = true;
  }
  return out;
}
