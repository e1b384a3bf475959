// Secrets travel in URLs (Paymentsense puts the API key in the query string) and in frames.
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

/** Short, single-line, redacted rendering of an inbound frame for a log line. */
export function describeFrame(text: string, redact: Redactor, max = 200): string {
  const flat = redact(text).replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}… (${text.length} chars)` : flat;
}
