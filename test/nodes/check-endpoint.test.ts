// The Test connection button's admin endpoint: the dialog's values (unsaved credentials too),
// '__PWRD__' falling back to the deployed node's credentials, missing fields named, no secret
// in the answer, and a deployed node's live connection left as it was.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModulusSimulator } from '../../lib/simulators/modulus';
import { TOKEN, configNode, connected, credentials, helper, nodes, startSimulator, until } from './harness';

const modulusNode = require('../../nodes/pos-modulus.js');

describe('POST /pos-payments/check/:type (Test connection)', function () {
  this.timeout(20000);
  afterEach(async () => {
    await helper.unload();
  });

  it('checks the values in the dialog, unsaved token included, and answers without the token', async () => {
    const { sim, url } = await startSimulator();
    try {
      await helper.load([nodes.config], [{ id: 'other', type: 'pos-paymentsense', environment: 'simulator' }]);
      const res = await helper.request().post('/pos-payments/check/pos-paymentsense')
        .send({ id: 'new-node', fields: { environment: 'custom', url, softwareHouseId: 'SH', installerId: 'IN', verifyTls: true }, credentials: { token: TOKEN } })
        .expect(200);
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.equal(res.body.provider, 'paymentsense');
      assert.ok(res.body.steps.some((s: { name: string; detail: string }) => s.name === 'terminals' && /listed/.test(s.detail)));
      assert.ok(!JSON.stringify(res.body).includes(TOKEN));
      await until(() => sim.connectionCount === 0, 'the check closed its connection', 2000);
    } finally {
      await sim.stop();
    }
  });

  it("a password the dialog did not change ('__PWRD__') is the deployed node's, and the live connection is not disturbed", async () => {
    const { sim, url } = await startSimulator();
    try {
      await helper.load([nodes.config, nodes.terminals], [configNode(url), { id: 't', type: 'pos-terminals', provider: 'paymentsense', paymentsense: 'cfg' }], credentials);
      await until(connected(), 'the deployed connection');
      const states: string[] = [];
      const off = helper.getNode('cfg').connection.provider.onState((s: { name: string }) => states.push(s.name));
      const res = await helper.request().post('/pos-payments/check/pos-paymentsense')
        .send({ id: 'cfg', fields: { environment: 'custom', url, softwareHouseId: 'SH01', installerId: 'IN01' }, credentials: { token: '__PWRD__' } })
        .expect(200);
      off();
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.deepEqual(states, [], 'the deployed connection saw no state change');
      assert.ok(connected()());
      await until(() => sim.connectionCount === 1, 'only the deployed connection stays', 2000);
      const wrong = await helper.request().post('/pos-payments/check/pos-paymentsense')
        .send({ id: 'cfg', fields: { environment: 'custom', url, softwareHouseId: 'SH01', installerId: 'IN01' }, credentials: { token: 'typed-but-wrong' } })
        .expect(200);
      const failed = wrong.body.steps.find((s: { ok: boolean }) => !s.ok);
      assert.equal(failed.name, 'authenticated');
      assert.match(failed.detail, /^no, the token was refused/);
    } finally {
      await sim.stop();
    }
  });

  it('with Wire log ticked in the dialog, the check\'s frames are logged, redacted', async () => {
    const { sim, url } = await startSimulator();
    const file = path.join(process.env.POS_PAYMENTS_DIR!, 'wire', 'paymentsense-check-wl-node.log');
    fs.rmSync(file, { force: true });
    try {
      await helper.load([nodes.config], [{ id: 'other', type: 'pos-paymentsense', environment: 'simulator' }]);
      await helper.request().post('/pos-payments/check/pos-paymentsense')
        .send({ id: 'wl-node', fields: { environment: 'custom', url, softwareHouseId: 'SH', installerId: 'IN', wireLog: true }, credentials: { token: TOKEN } })
        .expect(200);
      const text = fs.readFileSync(file, 'utf8');
      assert.match(text, /connectedTerminals/);
      assert.ok(!text.includes(TOKEN));
    } finally {
      await sim.stop();
    }
  });

  it('a dialog with missing fields is told which; an unknown type is 404', async () => {
    await helper.load([nodes.config], [{ id: 'x', type: 'pos-paymentsense', environment: 'simulator' }]);
    const res = await helper.request().post('/pos-payments/check/pos-paymentsense')
      .send({ fields: { environment: 'test', account: '', softwareHouseId: 'SH' }, credentials: { token: '' } })
      .expect(200);
    assert.equal(res.body.ok, false);
    assert.deepEqual(res.body.steps, [{ name: 'settings', ok: false, detail: 'missing: account, installerId, token' }]);
    await helper.request().post('/pos-payments/check/pos-pay').send({}).expect(404);
  });

  it('modulus (one connection per key): a deployed, connected node is checked through its own connection, never displaced', async () => {
    const sim = new ModulusSimulator({ apiKeys: ['mk_SECRET_1'], stepDelayMs: 5 });
    const { url } = await sim.start();
    try {
      const cfg = { id: 'mcfg', type: 'pos-modulus', environment: 'custom', url, verifyTls: true };
      await helper.load([modulusNode, nodes.terminals], [cfg, { id: 't', type: 'pos-terminals', provider: 'modulus', modulus: 'mcfg' }], { mcfg: { apiKey: 'mk_SECRET_1' } });
      await until(() => helper.getNode('mcfg')?.connection?.provider.state.name === 'connected', 'the deployed modulus connection');
      const attempts = sim.connectionsAccepted;
      const states: string[] = [];
      const off = helper.getNode('mcfg').connection.provider.onState((st: { name: string }) => states.push(st.name));
      const res = await helper.request().post('/pos-payments/check/pos-modulus')
        .send({ id: 'mcfg', fields: { environment: 'custom', url }, credentials: { apiKey: '__PWRD__', apiSecret: '' } })
        .expect(200);
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.match(res.body.steps[0].detail, /a second connection would displace the running one/);
      assert.match(res.body.steps.find((s: { name: string }) => s.name === 'terminals').detail, /^2 listed/);
      assert.equal(sim.connectionsAccepted, attempts, 'no second connection was made');
      assert.equal(helper.getNode('mcfg').connection.provider.state.name, 'connected');
      assert.ok(!JSON.stringify(res.body).includes('mk_SECRET_1'));
      // The same key typed again is the same account: still no second connection.
      const retyped = await helper.request().post('/pos-payments/check/pos-modulus')
        .send({ id: 'mcfg', fields: { environment: 'custom', url }, credentials: { apiKey: 'mk_SECRET_1', apiSecret: '' } })
        .expect(200);
      assert.match(retyped.body.steps[0].detail, /a second connection would displace the running one/);
      assert.equal(sim.connectionsAccepted, attempts);
      off();
      assert.deepEqual(states, [], 'the deployed connection never changed state');
    } finally {
      await sim.stop();
    }
  });
});
