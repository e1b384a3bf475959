// The time as an ISO 8601 string, made at most once per millisecond: under load the journal
// stamps many records within one millisecond, and formatting a Date for each was a measurable
// share of a record's cost.

let lastMs = Number.NaN;
let lastIso = '';

export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
