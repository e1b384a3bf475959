// With adminAuth on, the Test connection endpoint needs a signed-in editor user allowed to
// change flows: no session, no check; a read-only user, no check. A real Node-RED process,
// because the in-process test helper stubs the permission check out.

import assert from 'node:assert/strict';
import { NodeRedProcess } from '../support/node-red-process';

const bcrypt = require('bcryptjs') as { hashSync(s: string, rounds: number): string };

describe('Test connection with adminAuth on', function () {
  this.timeout(90000);
  let red: NodeRedProcess;

  before(async () => {
    const hash = bcrypt.hashSync('pw-for-test', 4);
    red = new NodeRedProcess([{ id: 'cfg', type: 'pos-paymentsense', name: 'sim', environment: 'simulator' }],
      `, adminAuth: { type: 'credentials', users: [
        { username: 'editor', password: '${hash}', permissions: '*' },
        { username: 'viewer', password: '${hash}', permissions: 'read' } ] }`);
    await red.start();
  });
  after(async () => {
    await red?.dispose();
  });

  async function tokenFor(username: string, scope: string): Promise<string> {
    const res = await red.api('/auth/token', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope, username, password: 'pw-for-test' }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  function check(token?: string): Promise<Response> {
    return red.api('/pos-payments/check/pos-paymentsense', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ id: 'cfg', fields: { environment: 'simulator' }, credentials: {} }),
    });
  }

  it('no session: 401 and no check', async () => {
    assert.equal((await check()).status, 401);
  });

  it('a read-only user: refused', async () => {
    const res = await check(await tokenFor('viewer', 'read'));
    assert.ok(res.status === 401 || res.status === 403, String(res.status));
  });

  it('an editor: the check runs', async () => {
    const res = await check(await tokenFor('editor', '*'));
    assert.equal(res.status, 200);
    const report = (await res.json()) as { ok: boolean; steps: Array<{ name: string }> };
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.ok(report.steps.some((s) => s.name === 'terminals'));
  });
});
