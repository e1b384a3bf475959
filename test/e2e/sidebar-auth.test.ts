// The Payments sidebar's endpoints behind a real Node-RED with adminAuth on: no session, no
// data (401, and no connection or payment in the answer); a read-only user may look but not
// ask a provider again (refused: Node-RED answers a missing permission with 401 too); an admin
// gets the data, and no credential is in it.

import assert from 'node:assert/strict';
import path from 'node:path';
import { NodeRedProcess } from '../support/node-red-process';
import { waitFor } from '../support/quick-start';

// Node-RED's own bcrypt (its adminAuth checks passwords with it), found from node-red rather than hoisted.
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red/package.json'))] })) as { hashSync(pw: string, rounds: number): string };

const ADMIN_PW = 'admin-pw-for-test';
const VIEWER_PW = 'viewer-pw-for-test';
const TOKEN_CREDENTIAL = 'SECRET-sidebar-e2e-token-5d1e';
const SIDEBAR = '/pos-payments/sidebar';

describe('Payments sidebar endpoints with adminAuth (real Node-RED)', function () {
  this.timeout(90000);
  let red: NodeRedProcess;

  async function token(username: string, password: string, scope = '*'): Promise<string> {
    const res = await red.api('/auth/token', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope, username, password }),
    });
    assert.equal(res.status, 200, `log in as ${username}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const askAgain = (headers: Record<string, string> = {}) => red.api(`${SIDEBAR}/ask-again`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ connection: 'sim-cfg', reference: 'X' }),
  });

  before(async function () {
    this.timeout(120000);
    const users = [
      { username: 'admin', password: bcrypt.hashSync(ADMIN_PW, 8), permissions: '*' },
      { username: 'viewer', password: bcrypt.hashSync(VIEWER_PW, 8), permissions: 'read' },
    ];
    red = new NodeRedProcess([], `, adminAuth: { type: 'credentials', users: ${JSON.stringify(users)} }`);
    await red.start();
    // Deployed through the admin API so the config node has a credential for the test to look for.
    const admin = await token('admin', ADMIN_PW);
    const flows = [
      { id: 'tab1', type: 'tab', label: 'sidebar' },
      { id: 'sim-cfg', type: 'pos-paymentsense', name: 'sim', environment: 'simulator', credentials: { token: TOKEN_CREDENTIAL } },
      { id: 'pay1', type: 'pos-pay', z: 'tab1', provider: 'paymentsense', paymentsense: 'sim-cfg', terminalId: 'VCM00001SIP0', timeout: 20, wires: [[], []] },
    ];
    const deploy = await red.api('/flows', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, 'node-red-deployment-type': 'full' }, body: JSON.stringify(flows),
    });
    assert.ok(deploy.status === 204 || deploy.status === 200, `deploy: ${deploy.status} ${await deploy.text()}`);
  });

  after(async function () {
    this.timeout(30000);
    await red?.dispose();
  });

  it('no session: 401 and no data, for reading and for asking again', async () => {
    const res = await red.api(SIDEBAR);
    assert.equal(res.status, 401);
    const text = await res.text();
    assert.ok(!/connections|payments|paymentsense/.test(text), text);
    const ask = await askAgain();
    assert.equal(ask.status, 401);
    const forged = await red.api(SIDEBAR, { headers: { authorization: 'Bearer not-a-session' } });
    assert.equal(forged.status, 401);
  });

  it('an admin session gets the connections, without the credential', async () => {
    const admin = await token('admin', ADMIN_PW);
    const body = await waitFor('the connection to be connected', 30000, async () => {
      const res = await red.api(SIDEBAR, { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(!text.includes(TOKEN_CREDENTIAL), 'the token credential is in the answer');
      const parsed = JSON.parse(text) as { connections: Array<{ id: string; state: string; terminals?: unknown[] }>; payments: unknown[] };
      return parsed.connections[0]?.state === 'connected' && parsed.connections[0].terminals ? parsed : undefined;
    });
    assert.deepEqual(body.connections.map((c) => c.id), ['sim-cfg']);
    assert.ok((body.connections[0]!.terminals ?? []).length >= 2);
    assert.deepEqual(body.payments, []);
    const ask = await askAgain({ authorization: `Bearer ${admin}` });
    assert.equal(ask.status, 200);
    assert.equal(((await ask.json()) as { status: string }).status, 'not_found');
  });

  it('a read-only user may look, but may not ask a provider again', async () => {
    const viewer = await token('viewer', VIEWER_PW, 'read');
    const res = await red.api(SIDEBAR, { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(res.status, 200);
    const ask = await askAgain({ authorization: `Bearer ${viewer}` });
    // Node-RED's needsPermission answers a session without the permission with 401, as it does no session.
    assert.equal(ask.status, 401);
    assert.ok(!/status|message/.test(await ask.text()), 'no answer of ours');
  });
});
