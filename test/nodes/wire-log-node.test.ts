// The Wire log checkbox on a deployed connection: frames in and out land, redacted, in
// <pack dir>/wire/<provider>-<node id>.log; unticked, nothing is written.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TOKEN, configNode, connected, credentials, helper, nodes, startSimulator, until } from './harness';

const file = (id: string) => path.join(process.env.POS_PAYMENTS_DIR!, 'wire', `paymentsense-${id}.log`);

describe('wire log on a config node', function () {
  this.timeout(20000);
  afterEach(async () => {
    await helper.unload();
  });

  it('ticked: the connection\'s frames are written, without the token', async () => {
    const { sim, url } = await startSimulator();
    try {
      fs.rmSync(file('wl1'), { force: true });
      await helper.load([nodes.config, nodes.terminals], [
        { ...configNode(url), id: 'wl1', wireLog: true },
        { id: 't', type: 'pos-terminals', provider: 'paymentsense', paymentsense: 'wl1', wires: [[]] },
      ], { wl1: { token: TOKEN } });
      await until(connected('wl1'), 'connected');
      helper.getNode('t').receive({ payload: {} });
      await until(() => fs.existsSync(file('wl1')) && /connectedTerminals[\s\S]*<-/.test(fs.readFileSync(file('wl1'), 'utf8')), 'the terminal list in the wire log');
      const text = fs.readFileSync(file('wl1'), 'utf8');
      assert.match(text, /-> \{"jsonrpc":"2\.0".*"method":"connectedTerminals"/);
      assert.ok(!text.includes(TOKEN));
    } finally {
      await sim.stop();
    }
  });

  it('unticked (the default): no file', async () => {
    const { sim, url } = await startSimulator();
    try {
      fs.rmSync(file('cfg'), { force: true });
      await helper.load([nodes.config, nodes.terminals], [configNode(url), { id: 't', type: 'pos-terminals', provider: 'paymentsense', paymentsense: 'cfg', wires: [[]] }], credentials);
      await until(connected(), 'connected');
      assert.equal(fs.existsSync(file('cfg')), false);
    } finally {
      await sim.stop();
    }
  });
});
