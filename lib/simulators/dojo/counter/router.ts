// Maps the pay-at-counter REST paths of Dojo's API (protocol notes 8) onto the stores. A path
// outside them is not ours (undefined: the server answers 404); a known path with the wrong
// method is a 405; anything a handler did not expect becomes a 500, never an exception.

import { header } from './input';
import { intentToWire, type IntentStore } from './intents';
import { capture, reverse } from './lifecycle';
import { ProblemError, badRequest, notFound, problemResponse, toResponse } from './problem';
import type { RefundDesk } from './refunds';
import { searchIntents } from './search';
import type { SessionEngine } from './sessions';
import type { TerminalRegistry } from './terminals';
import type { CounterLedgerEntry, CounterResponse, Headers } from './types';

export interface Services {
  intents: IntentStore;
  sessions: SessionEngine;
  refunds: RefundDesk;
  terminals: TerminalRegistry;
  log(line: string): void;
  /** Books captures and reversals in the ledger. */
  record?(entry: CounterLedgerEntry): void;
}

interface Request {
  params: string[];
  url: URL;
  headers: Headers;
  body: unknown;
}

type Handler = (svc: Services, req: Request) => unknown;

interface Route {
  pattern: readonly string[];
  /** Terminal and terminal-session endpoints need the software-house-id header. */
  terminalApi: boolean;
  handlers: Readonly<Record<string, Handler>>;
}

const SOFTWARE_HOUSE_HEADER = 'software-house-id';

function intentBody(svc: Services, id: string): unknown {
  const intent = svc.intents.require(id);
  return intentToWire(intent, svc.sessions.historyFor(intent));
}

// Literal segments before `:id` ones at the same depth: the first match wins.
const ROUTES: readonly Route[] = [
  {
    pattern: ['payment-intents'], terminalApi: false,
    handlers: { POST: (svc, r) => { const i = svc.intents.create(r.body); return intentToWire(i, []); } },
  },
  {
    pattern: ['payment-intents', 'search'], terminalApi: false,
    handlers: {
      POST: (svc, r) => {
        const page = searchIntents(svc.intents.values(), r.body);
        return { ...page, data: page.data.map((i) => intentToWire(i, svc.sessions.historyFor(i))) };
      },
    },
  },
  {
    pattern: ['payment-intents', 'refunds', ':id'], terminalApi: false,
    handlers: { GET: (svc, r) => svc.refunds.get(r.params[0]) },
  },
  {
    pattern: ['payment-intents', ':id'], terminalApi: false,
    handlers: {
      GET: (svc, r) => {
        const intent = svc.intents.require(r.params[0]);
        // Dojo hides a canceled intent unless asked (`returnCanceled`, REST spec).
        if (intent.status === 'Canceled' && r.url.searchParams.get('returnCanceled')?.toLowerCase() !== 'true') {
          throw notFound(`Payment intent ${intent.id} was canceled.`);
        }
        return intentBody(svc, intent.id);
      },
      DELETE: (svc, r) => {
        const intent = svc.intents.require(r.params[0]);
        svc.intents.cancel(intent);
        return intentBody(svc, intent.id);
      },
    },
  },
  {
    pattern: ['payment-intents', ':id', 'refunds'], terminalApi: false,
    handlers: { POST: (svc, r) => svc.refunds.create(r.params[0], r.headers, r.body) },
  },
  {
    pattern: ['payment-intents', ':id', 'captures'], terminalApi: false,
    handlers: { POST: (svc, r) => capture(svc.intents, svc.intents.require(r.params[0]), r.body, svc.record) },
  },
  {
    pattern: ['payment-intents', ':id', 'reversal'], terminalApi: false,
    handlers: { POST: (svc, r) => reverse(svc.intents, svc.intents.require(r.params[0]), svc.record) },
  },
  {
    pattern: ['terminals'], terminalApi: true,
    handlers: { GET: (svc, r) => svc.terminals.list(statusesOf(r.url)) },
  },
  {
    pattern: ['terminals', ':id'], terminalApi: true,
    handlers: {
      GET: (svc, r) => {
        const t = svc.terminals.get(r.params[0]);
        if (!t) throw notFound(`Terminal ${JSON.stringify(r.params[0].slice(0, 80))} was not found.`);
        return t;
      },
    },
  },
  {
    pattern: ['terminal-sessions'], terminalApi: true,
    handlers: { POST: (svc, r) => svc.sessions.create(r.body) },
  },
  {
    pattern: ['terminal-sessions', ':id'], terminalApi: true,
    handlers: { GET: (svc, r) => svc.sessions.get(r.params[0]) },
  },
  {
    pattern: ['terminal-sessions', ':id', 'cancel'], terminalApi: true,
    handlers: { PUT: (svc, r) => svc.sessions.cancel(r.params[0]) },
  },
  {
    pattern: ['terminal-sessions', ':id', 'signature'], terminalApi: true,
    handlers: { PUT: (svc, r) => svc.sessions.signature(r.params[0], r.body) },
  },
];

/** `?statuses=Available&statuses=InUse` or `?statuses=Available,InUse`. */
function statusesOf(url: URL): string[] {
  return url.searchParams.getAll('statuses').flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function segmentsOf(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '').map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
}

function match(segments: string[]): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const ok = route.pattern.every((p, i) => {
      if (p.startsWith(':')) { params.push(segments[i]); return true; }
      return p === segments[i];
    });
    if (ok) return { route, params };
  }
  return undefined;
}

export function route(svc: Services, method: string, url: URL, headers: Headers, body: unknown): CounterResponse | undefined {
  try {
    const found = match(segmentsOf(url.pathname));
    if (!found) return undefined;
    const verb = method.toUpperCase();
    const handler = found.route.handlers[verb];
    if (!handler) return problemResponse(405, `${verb} is not allowed here; use ${Object.keys(found.route.handlers).join(' or ')}.`);
    if (found.route.terminalApi && header(headers, SOFTWARE_HOUSE_HEADER) === undefined) {
      throw badRequest(`The ${SOFTWARE_HOUSE_HEADER} header is required.`, { [SOFTWARE_HOUSE_HEADER]: [`The ${SOFTWARE_HOUSE_HEADER} header is required.`] });
    }
    return { status: 200, body: handler(svc, { params: found.params, url, headers, body }) };
  } catch (err) {
    if (err instanceof ProblemError) return toResponse(err);
    svc.log(`counter: ${method} ${url.pathname} failed: ${(err as Error)?.message ?? String(err)}`);
    return problemResponse(500, 'The simulator failed to handle the request.');
  }
}
