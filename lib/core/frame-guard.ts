// Limits on one inbound frame, checked before the frame is parsed or handled, so that no single
// frame, whatever its shape, holds the event loop for long. JSON.parse of 1 MB of nested
// brackets takes over 100 ms; no provider nests its frames more than a few levels.

/** Frames below this size are parsed as they are: they cannot nest deep enough to be slow. */
export const NESTING_CHECK_FROM_CHARS = 64 * 1024;
/** Deeper than this, a frame is refused unparsed. */
export const MAX_NESTING = 128;
/** Longer than this, a method or action name is not a name (a JSON-RPC batch is capped separately). */
export const MAX_NAME_CHARS = 256;

const STRUCTURE = /["[\]{}]/g;
const BRACKETS = /[[\]{}]/g;

/**
 * True when `text` (JSON, or not) opens more than `max` arrays and objects inside one another
 * outside strings. One native regex scan from bracket to bracket, strings skipped with indexOf;
 * it stops as soon as the limit is passed. Small frames are not scanned at all.
 *
 * `insideStrings`: brackets inside strings count too, for a protocol that carries JSON inside a
 * JSON string (Pusher's `data`), which its library parses again. Then any text longer than
 * `max` is scanned, and one that merely holds more than `max` unclosed brackets is refused as
 * well; no notification holds one.
 */
export function nestedTooDeep(text: string, max = MAX_NESTING, insideStrings = false): boolean {
  if (text.length < (insideStrings ? max + 1 : NESTING_CHECK_FROM_CHARS)) return false;
  // Without quotes in the pattern no string is ever entered. The module's own regexes, not a
  // copy per call (every Pusher frame of any length comes here): the scan below is synchronous,
  // so no other call can move lastIndex while it runs.
  const re = insideStrings ? BRACKETS : STRUCTURE;
  re.lastIndex = 0;
  let depth = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (c === 34) {
      // A string: its end is the next quote not escaped by an odd run of backslashes.
      let end = m.index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92) slashes += 1;
        if (slashes % 2 === 0) break;
      }
      re.lastIndex = end + 1;
    } else if (c === 91 || c === 123) {
      depth += 1;
      if (depth > max) return true;
    } else if (depth > 0) {
      depth -= 1;
    }
  }
  return false;
}
