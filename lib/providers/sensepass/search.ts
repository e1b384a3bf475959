// Finding a payment whose TransactionNumber the pack never received (a lost init answer, a
// restart before the note was stored): SensePass lists the device's transactions by date, and
// each carries back the posData the pack sent, { reference, attemptId }.

import type { SensePassRest } from './rest';
import type { SensePassTransaction } from './schemas';

const PAGE_SIZE = 100;
const MAX_PAGES = 10;
/** Clock skew between us and SensePass, and the time a request spends on the way. */
const SLACK_MS = 5 * 60 * 1000;

export interface SearchFor {
  reference: string;
  attemptId?: string;
  /** ISO 8601; the search covers from a little before this until now. */
  startedAt?: string;
}

/** The transaction of this attempt (same attemptId) if listed, else the newest with this reference. */
export async function findByReference(rest: SensePassRest, want: SearchFor): Promise<SensePassTransaction | undefined> {
  const started = want.startedAt ? Date.parse(want.startedAt) : NaN;
  const from = (Number.isFinite(started) ? started : Date.now()) - SLACK_MS;
  const body = { startDate: new Date(from).toISOString(), endDate: new Date(Date.now() + SLACK_MS).toISOString() };
  const matches: SensePassTransaction[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const items = await rest.list({ ...body, pagination: { limit: PAGE_SIZE, offset: page * PAGE_SIZE } });
    for (const t of items) {
      const pd = t.posData && typeof t.posData === 'object' ? (t.posData as { reference?: unknown; attemptId?: unknown }) : undefined;
      if (!pd || pd.reference !== want.reference) continue;
      if (want.attemptId && pd.attemptId === want.attemptId) return t;
      matches.push(t);
    }
    if (items.length < PAGE_SIZE) break;
  }
  matches.sort((a, b) => String(a.date ?? '').localeCompare(String(b.date ?? '')));
  return matches[matches.length - 1];
}
