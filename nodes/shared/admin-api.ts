// The admin endpoints behind the editor's Payments sidebar (resources/pos-sidebar.js). They sit
// on Node-RED's own admin app, behind its own authentication, as core nodes' endpoints do:
// with adminAuth set, no session means no data. Reading needs `pos-payments.read` (a read-only
// editor user has it); asking a provider again needs `pos-payments.write`.
//
//   GET  /pos-payments/sidebar            connections, terminals and the most recent payments
//   POST /pos-payments/sidebar/ask-again  { connection, reference }: the look-up a repeat does

import { isPosError } from '../../lib/core/errors';
import type { RedApi } from './red';
import { deployedConnections, redactDeep, credentialRedactor, sidebarData } from './sidebar-data';

interface Request { body?: unknown }
interface Response {
  status(code: number): Response;
  json(body: unknown): void;
}
type Handler = (req: Request, res: Response, next: () => void) => void;

/** The parts of RED the endpoints need beyond what the nodes use. */
export interface AdminRed extends RedApi {
  httpAdmin?: { get(path: string, ...handlers: Handler[]): void; post(path: string, ...handlers: Handler[]): void };
  auth?: { needsPermission(permission: string): Handler };
  nodes: RedApi['nodes'] & { eachNode(cb: (n: { id: string; type: string }) => void): void };
  log?: { warn(msg: string): void };
}

export const SIDEBAR_PATH = '/pos-payments/sidebar';
/** References longer than this are not ours: none of the providers takes one so long. */
const MAX_REFERENCE = 200;

/** One registration per admin app: every node module of the pack may call this; Node-RED has one admin app per runtime. */
const registered = new WeakSet<object>();

export function registerAdminApi(RED: AdminRed): void {
  const app = RED.httpAdmin;
  if (!app || registered.has(app)) return;
  // Without Node-RED's permission check the data would be open to anyone who can reach the port: not served at all.
  if (typeof RED.auth?.needsPermission !== 'function') {
    RED.log?.warn('pos-payments: the Payments sidebar is off (this runtime has no admin permission check)');
    return;
  }
  registered.add(app);
  const read = RED.auth.needsPermission('pos-payments.read');
  const write = RED.auth.needsPermission('pos-payments.write');

  app.get(SIDEBAR_PATH, read, (_req, res) => {
    const deployed = deployedConnections(RED);
    sidebarData(RED, deployed).then(
      (data) => res.json(data),
      (err: Error) => res.status(500).json({ error: redactDeep(err.message, credentialRedactor(RED, deployed)) }),
    );
  });

  app.post(`${SIDEBAR_PATH}/ask-again`, write, (req, res) => {
    const body = (req.body ?? {}) as { connection?: unknown; reference?: unknown };
    const { connection: id, reference } = body;
    if (typeof id !== 'string' || typeof reference !== 'string' || reference === '' || reference.length > MAX_REFERENCE) {
      res.status(400).json({ error: 'send { connection, reference }: the id of a provider connection and a payment reference' });
      return;
    }
    const deployed = deployedConnections(RED);
    const redact = credentialRedactor(RED, deployed);
    const connection = deployed.find((d) => d.id === id)?.node?.connection;
    if (!connection) {
      res.status(404).json({ error: 'no deployed provider connection has that id' });
      return;
    }
    connection.payments.askAgain(reference).then(
      (answer) => res.json(redactDeep({ status: answer.status, message: answer.message, ...(answer.result ? { outcome: answer.result.outcome } : {}) }, redact)),
      (err: Error) => res.status(isPosError(err) && err.code === 'bad_input' ? 400 : 503).json({ error: redactDeep(err.message, redact) }),
    );
  });
}
