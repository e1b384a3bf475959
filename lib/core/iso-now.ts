// The time as an ISO 8601 string, made at most once per millisecond: under load the journal
// stamps many records, and an inbound server many requests, within one millisecond, and
// formatting a Date for each was a measurable share of their cost.

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
