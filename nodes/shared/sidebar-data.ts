// What the editor's Payments sidebar shows, gathered from the deployed provider config nodes:
// each connection's state and terminals, and the most recent payments of their journals.
// Only fields a person needs are copied out (never a request's options, provider notes, raw
// answers or receipts), and the whole answer then passes a redactor built from every
// configured credential, so no secret can reach the editor even through a message text.

import type { JournalEntry } from '../../lib/core/journal';
import { formatMinor } from '../../lib/core/money';
import { makeRedactor, type Redactor } from '../../lib/core/redact';
import type { Terminal } from '../../lib/core/types';
import { providerOfConfigType } from '../../lib/providers/registry';
import type { ConfigNode } from './config-node';
import type { ProviderConnection } from './connection';
import type { RedApi } from './red';
import { resolveSecret } from './secrets';

/** How many payments the sidebar lists. */
export const SIDEBAR_PAYMENTS = 50;
/** Terminal lists are asked of the provider at most this often per connection (the sidebar polls every few seconds). */
const TERMINALS_TTL_MS = 15_000;
/** The sidebar's answer does not wait longer than this for a provider's terminal list. */
const TERMINALS_WAIT_MS = 3000;

export interface SidebarConnection {
  id: string;
  type: string;
  provider: string;
  name: string;
  environment: string;
  state: string;
  reason?: string;
  terminals?: Array<{ id: string; name: string; status: string }>;
  problem?: string;
}

export interface SidebarPayment {
  connection: string;
  provider: string;
  reference: string;
  kind: string;
  state: string;
  outcome?: string;
  amount: number;
  currency: string;
  amountText: string;
  terminalId?: string;
  startedAt: string;
  finishedAt?: string;
  message?: string;
  transactionId?: string;
  card?: { scheme?: string; last4?: string };
  /** This process is running it now: its result comes on its own. */
  running: boolean;
  /** Pending or unknown, no wait here on it, not another instance's: the ask-again button is offered. */
  askable: boolean;
}

export interface SidebarData {
  connections: SidebarConnection[];
  payments: SidebarPayment[];
}

/** A deployed provider config node with its flow properties (from eachNode). */
export interface DeployedConnection {
  id: string;
  type: string;
  provider: string;
  name: string;
  environment: string;
  node: ConfigNode | undefined;
}

interface FlowConfig { id: string; type: string; name?: unknown; environment?: unknown }

export function deployedConnections(RED: RedApi & { nodes: { eachNode(cb: (n: FlowConfig) => void): void } }): DeployedConnection[] {
  const out: DeployedConnection[] = [];
  RED.nodes.eachNode((n) => {
    const provider = providerOfConfigType(n.type);
    if (!provider) return;
    out.push({
      id: n.id, type: n.type, provider,
      name: typeof n.name === 'string' ? n.name : '',
      environment: typeof n.environment === 'string' ? n.environment : '',
      node: (RED.nodes.getNode(n.id) as ConfigNode | null) ?? undefined,
    });
  });
  return out;
}

/** Every credential the deployed provider config nodes hold, as typed and as resolved from ${ENV}. */
export function credentialRedactor(RED: RedApi, deployed: DeployedConnection[]): Redactor {
  const secrets: string[] = [];
  for (const { node } of deployed) {
    for (const value of Object.values(node?.credentials ?? {})) {
      if (typeof value !== 'string' || value === '') continue;
      secrets.push(value, resolveSecret(RED, node!, value));
    }
  }
  return makeRedactor(secrets);
}

interface TerminalCache { at: number; list?: Terminal[]; problem?: string; asking?: Promise<void> }
const terminalCache = new WeakMap<ProviderConnection, TerminalCache>();

async function terminalsOf(connection: ProviderConnection): Promise<Pick<SidebarConnection, 'terminals' | 'problem'>> {
  const provider = connection.provider;
  if (!provider.capabilities.terminals || provider.state.name !== 'connected') return {};
  let cached = terminalCache.get(connection);
  if (!cached || (Date.now() - cached.at > TERMINALS_TTL_MS && !cached.asking)) {
    const entry: TerminalCache = cached ?? { at: 0 };
    entry.asking = provider.listTerminals().then(
      (list) => { entry.list = list; entry.problem = undefined; },
      (err: Error) => { entry.problem = `terminals could not be listed: ${err.message}`; },
    ).finally(() => { entry.at = Date.now(); entry.asking = undefined; });
    terminalCache.set(connection, entry);
    cached = entry;
  }
  if (cached.asking) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([cached.asking, new Promise((r) => { timer = setTimeout(r, TERMINALS_WAIT_MS); })]);
    clearTimeout(timer);
  }
  return {
    ...(cached.list ? { terminals: cached.list.map((t) => ({ id: t.id, name: t.name, status: t.status })) } : {}),
    ...(cached.problem ? { problem: cached.problem } : {}),
  };
}

function paymentRow(connection: DeployedConnection, service: ProviderConnection['payments'], e: JournalEntry): SidebarPayment {
  const r = e.result;
  const amount = r?.amount ?? e.request.amount;
  const currency = r?.currency ?? e.request.currency;
  const running = e.state !== 'done' && service.isRunningHere(e.reference);
  return {
    connection: connection.id,
    provider: connection.provider,
    reference: e.reference,
    kind: e.request.kind ?? 'sale',
    state: e.state,
    ...(r ? { outcome: r.outcome, message: r.message } : {}),
    amount, currency, amountText: formatMinor(amount, currency),
    ...(r?.terminalId ?? e.request.terminalId ? { terminalId: r?.terminalId ?? e.request.terminalId } : {}),
    startedAt: e.startedAt,
    ...(e.finishedAt ? { finishedAt: e.finishedAt } : {}),
    ...(r?.transactionId ? { transactionId: r.transactionId } : {}),
    ...(r?.card && (r.card.scheme || r.card.last4) ? { card: { ...(r.card.scheme ? { scheme: r.card.scheme } : {}), ...(r.card.last4 ? { last4: r.card.last4 } : {}) } } : {}),
    running,
    askable: service.mayAskAgain(e),
  };
}

/** The whole sidebar answer, redacted. */
export async function sidebarData(RED: RedApi, deployed: DeployedConnection[], limit = SIDEBAR_PAYMENTS): Promise<SidebarData> {
  const redact = credentialRedactor(RED, deployed);
  const connections: SidebarConnection[] = [];
  const payments: SidebarPayment[] = [];
  /** Config nodes of one account share one journal: each entry is listed once (an attempt id is unique to its claim). */
  const seen = new Set<string>();
  // Every connection at once: one provider slow to list its terminals holds the answer back by at most TERMINALS_WAIT_MS.
  const gathered = await Promise.all(deployed.map(async (d) => {
    const row: SidebarConnection = { id: d.id, type: d.type, provider: d.provider, name: d.name, environment: d.environment, state: 'not deployed' };
    const connection = d.node?.connection;
    if (!connection) {
      if (d.node?.configError) row.problem = d.node.configError;
      return { d, row, recent: [] as JournalEntry[] };
    }
    const state = connection.provider.state;
    row.state = state.name;
    if ('reason' in state) row.reason = state.reason;
    const [terminals, recent] = await Promise.all([
      terminalsOf(connection),
      connection.payments.recent(limit).catch((err: Error) => { row.problem = `the journal cannot be read: ${err.message}`; return [] as JournalEntry[]; }),
    ]);
    if (terminals.terminals) row.terminals = terminals.terminals;
    if (terminals.problem && !row.problem) row.problem = terminals.problem;
    return { d, row, recent, connection };
  }));
  for (const { d, row, recent, connection } of gathered) {
    connections.push(row);
    for (const e of recent) {
      const key = `${d.provider}\0${e.reference}\0${e.attemptId}`;
      if (seen.has(key) || !connection) continue;
      seen.add(key);
      payments.push(paymentRow(d, connection.payments, e));
    }
  }
  payments.sort((a, b) => {
    const x = a.finishedAt ?? a.startedAt;
    const y = b.finishedAt ?? b.startedAt;
    return x < y ? 1 : x > y ? -1 : 0;
  });
  return redactDeep({ connections, payments: payments.slice(0, limit) }, redact);
}

/**
 * Every string in the value, masked. Strings only: a short numeric secret must not turn an
 * amount into "***", and keys are this file's own field names.
 */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  }
  return value;
}
