// Secrets travel in URLs (a provider may put the API key in the query string) and in frames.
// Everything that leaves the library for a person — log lines, status, error messages —
// passes through a redactor built from the secrets the connection actually holds.

const SECRET_QUERY = /([?&](?:token|api[-_]?key|key|secret|password|auth|access_token)=)[^&#\s"']*/gi;
const MASK = '***';

export type Redactor = (text: string) => string;

export function makeRedactor(secrets: Array<string | undefined>): Redactor {
  // Longest first so a secret containing another is masked whole.
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = String(text).replace(SECRET_QUERY, `$1${MASK}`);
    for (const secret of values) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(MASK);
    }
    return out;
  };
}

/**
 * Characters past the shown head that are redacted with it: a secret (or a token=... value) that
 * starts in the head and is cut by the window's end is found whole if it is shorter than this.
 */
export const REDACT_MARGIN = 4096;

/**
 * The first `max` characters of `text` as a person may see them. Only the head is redacted (a
 * frame can be megabytes; redacting all of it to show 200 characters held the event loop):
 * `max + REDACT_MARGIN` characters are redacted, then whatever came from the margin is dropped,
 * so nothing from beyond the window is shown and a secret straddling the cut is masked whole.
 */
export function redactHead(text: string, redact: Redactor, max: number): { head: string; cut: boolean } {
  const s = String(text);
  if (s.length <= max + REDACT_MARGIN) {
    const all = redact(s);
    return all.length > max ? { head: all.slice(0, max), cut: true } : { head: all, cut: false };
  }
  const window = redact(s.slice(0, max + REDACT_MARGIN));
  // The margin's own characters that survived redaction are the last ones of `window`.
  const safe = window.slice(0, Math.max(0, window.length - REDACT_MARGIN));
  return { head: safe.slice(0, max), cut: true };
}

/** Short, single-line, redacted rendering of an inbound frame for a log line. */
export function describeFrame(text: string, redact: Redactor, max = 200): string {
  const s = String(text);
  if (s.length <= max + REDACT_MARGIN) {
    const flat = redact(s).replace(/\s+/g, ' ');
    return flat.length > max ? `${flat.slice(0, max)}… (${s.length} chars)` : flat;
  }
  const { head } = redactHead(s, redact, max);
  return `${head.replace(/\s+/g, ' ')}… (${s.length} chars)`;
}

/**
 * The start of a value's JSON text, at most `max` characters, for a log line: built by walking
 * the value and stopping once enough is written, so a message of megabytes is not serialised
 * whole (nor overflows the stack when nested deep) only for its first line.
 */
export function jsonHead(value: unknown, max = 400): string {
  let out = '';
  const put = (s: string): boolean => {
    out += s;
    return out.length < max;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'string') return put(JSON.stringify(v.length > max ? v.slice(0, max) : v));
      return put(typeof v === 'number' || typeof v === 'boolean' ? String(v) : 'null');
    }
    if (depth >= 16) return put(Array.isArray(v) ? '[…]' : '{…}');
    if (Array.isArray(v)) {
      if (!put('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !put(',')) || !walk(v[i], depth + 1)) return false;
      }
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const key of Object.keys(v)) {
      if (!first && !put(',')) return false;
      first = false;
      if (!put(`${JSON.stringify(key.length > max ? key.slice(0, max) : key)}:`) || !walk((v as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return put('}');
  };
  walk(value, 0);
  return out.length > max ? out.slice(0, max) : out;
}
