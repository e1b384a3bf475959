// POST /pos-payments/check/:type — the config dialogs' **Test connection** button. Runs the
// same check as the CLI (lib/check) with the dialog's values, unsaved credentials included:
// the editor sends '__PWRD__' for a password it did not change, and that one is taken from the
// deployed node's credentials by id. Guarded by the editor's permission (with adminAuth on, no
// session means no check) and never answers with a secret.

import type { CheckInput, CheckReport } from '../../lib/check';
import { makeRedactor } from '../../lib/core/redact';
import { providerEntry, providerOfConfigType } from '../../lib/providers/registry';
import { WireLog } from '../../lib/core/wire-log';
import type { ConfigNode } from './config-node';
import { environmentOf, onlyIfTrue, unlessFalse } from './config-fields';
import type { Node, RedApi } from './red';
import { resolveSecret } from './secrets';
import { wireDir } from './wire-log-node';

/** The parts of Node-RED's runtime the endpoint needs beyond the nodes' own API. */
interface AdminRed extends RedApi {
  httpAdmin?: { post(path: string, ...handlers: Array<(req: Req, res: Res, next: () => void) => void>): void };
  auth?: { needsPermission(permission: string): (req: Req, res: Res, next: () => void) => void };
  nodes: RedApi['nodes'] & { getCredentials?(id: string): Record<string, string | undefined> | undefined };
}

interface Req { params: Record<string, string>; body?: unknown }
interface Res { status(code: number): Res; json(body: unknown): void }

/** What the editor shows for a password it has and did not change. */
const UNCHANGED = '__PWRD__';

/** A few checks at once at most: each opens a connection to a provider. */
const MAX_RUNNING = 4;

const registered = new WeakSet<object>();
let running = 0;

export function registerCheckEndpoint(RED: RedApi): void {
  const red = RED as AdminRed;
  if (!red.httpAdmin || !red.auth || registered.has(red.httpAdmin)) return;
  registered.add(red.httpAdmin);
  red.httpAdmin.post('/pos-payments/check/:type', red.auth.needsPermission('pos-payments.write'), (req, res) => {
    void handle(red, req, res);
  });
}

async function handle(RED: AdminRed, req: Req, res: Res): Promise<void> {
  const provider = providerOfConfigType(req.params.type ?? '');
  if (!provider) {
    res.status(404).json({ error: `no connection check for "${String(req.params.type).slice(0, 40)}"` });
    return;
  }
  if (running >= MAX_RUNNING) {
    res.status(429).json({ error: 'too many connection checks are running; try again in a few seconds' });
    return;
  }
  running += 1;
  let secrets: string[] = [];
  try {
    const { checkFor, runCheck } = require('../../lib/check') as typeof import('../../lib/check');
    const check = checkFor(provider)!;
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as { id?: unknown; fields?: unknown; credentials?: unknown };
    const id = typeof body.id === 'string' ? body.id : '';
    const raw = (body.fields && typeof body.fields === 'object' ? body.fields : {}) as Record<string, unknown>;
    const sent = (body.credentials && typeof body.credentials === 'object' ? body.credentials : {}) as Record<string, unknown>;
    const deployed = id ? (RED.nodes.getNode(id) as ConfigNode | null) : null;
    const saved = id && RED.nodes.getCredentials ? RED.nodes.getCredentials(id) ?? {} : {};
    const input: CheckInput = {
      environment: environmentOf(raw.environment),
      ...(typeof raw.url === 'string' && raw.url.trim() ? { url: raw.url.trim() } : {}),
      verifyTls: unlessFalse(raw.verifyTls),
      fields: Object.fromEntries(check.fields.map((f) => [f, raw[f] === undefined || raw[f] === null ? undefined : String(raw[f])])),
      secrets: {},
    };
    for (const name of check.secrets) {
      const value = sent[name];
      // Unchanged (or not sent): the credential the deployed node has.
      const chosen = typeof value === 'string' && value !== UNCHANGED && value !== '' ? value : saved[name];
      input.secrets[name] = resolveSecret(RED, (deployed ?? { id }) as Node, chosen);
    }
    secrets = Object.values(input.secrets).filter((s): s is string => !!s);
    const live = deployed?.connection?.provider;
    let report: CheckReport;
    // One connection per account: checking the account a deployed connection holds reads that
    // connection's state rather than opening a second one that would displace it.
    const accountKey = providerEntry(provider)?.singleConnection;
    const sameAccount = accountKey !== undefined && deployed !== null && input.secrets[accountKey] === resolveSecret(RED, deployed, saved[accountKey]);
    if (sameAccount && live && (live.state.name === 'connected' || live.state.name === 'standby')) {
      report = await reportFromLive(provider, live);
    } else {
      const wire = onlyIfTrue(raw.wireLog)
        ? new WireLog({ dir: wireDir(RED), name: `${provider}-check-${id || 'new'}`, secrets, onError: () => undefined }).tap
        : undefined;
      report = await runCheck(check, { ...input, ...(wire ? { wire } : {}) });
    }
    // The runner redacts already; this is the last door before the browser.
    const redact = makeRedactor(secrets);
    res.json(JSON.parse(redact(JSON.stringify(report))));
  } catch (err) {
    res.status(500).json({ error: makeRedactor(secrets)(`the check could not run: ${(err as Error).message}`) });
  } finally {
    running -= 1;
  }
}

/**
 * The deployed connection is open and its provider keeps one connection per account: opening a
 * second one would displace it, so the check reports what the live connection shows.
 */
async function reportFromLive(provider: string, live: import('../../lib/core/provider').PaymentProvider): Promise<CheckReport> {
  const steps: CheckReport['steps'] = [
    { name: 'settings', ok: true, detail: 'the deployed settings (a second connection would displace the running one, so none was opened)' },
    { name: 'handshake', ok: true, detail: live.state.name === 'standby' ? `another Node-RED instance holds the connection (${live.state.reason})` : 'the deployed connection is open' },
    { name: 'authenticated', ok: true, detail: 'the deployed connection was accepted' },
  ];
  try {
    const terminals = await live.listTerminals();
    steps.push({ name: 'terminals', ok: true, detail: `${terminals.length} listed: ${terminals.slice(0, 10).map((t) => `${t.id} (${t.status})`).join(', ')}` });
  } catch (err) {
    steps.push({ name: 'terminals', ok: false, detail: `the terminal list failed: ${(err as Error).message}` });
  }
  return { provider, ok: steps.every((s) => s.ok), steps, facts: {} };
}
