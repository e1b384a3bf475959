// The README's quick start, for real: `npm start` (scripts/start.js) brings up Node-RED with
// the pack and the example flows; clicking the approved-payment inject gives an approved
// result in the Debug sidebar; a second start keeps the user's flows.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { QuickStart, waitFor } from '../support/quick-start';

interface FlowNode { id: string; type: string; z?: string; wires?: string[][]; payload?: string; name?: string; [k: string]: unknown }

describe('quick start: npm start', function () {
  this.timeout(120000);
  const app = new QuickStart();
  const api = (p: string, init?: RequestInit) => app.api(p, init);

  after(() => app.dispose());

  it('starts Node-RED with the pack and the example flows, and takes an approved payment', async () => {
    await app.start();
    const flows = (await (await api('/flows')).json()) as FlowNode[];
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['pos-paymentsense', 'pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in']) assert.ok(types.has(t), `${t} deployed`);
    const nodesApi = await (await api('/nodes', { headers: { Accept: 'application/json' } })).json() as Array<{ module: string; types: string[] }>;
    assert.ok(nodesApi.some((s) => s.module === 'node-red-contrib-pos-payments'), 'the pack is installed');
    assert.ok(!/Error|error loading/i.test(app.output.split('\n').filter((l) => /pos-payments/.test(l)).join('\n')), app.output);

    const payIds = new Set(flows.filter((n) => n.type === 'pos-pay').map((n) => n.id));
    const inject = flows.find((n) => n.type === 'inject' && (n.wires ?? []).flat().some((w) => payIds.has(w)) && /1250/.test(String(n.payload)));
    assert.ok(inject, 'an inject node for the approved payment');

    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/comms`);
    const debug: string[] = [];
    ws.on('message', (data) => {
      for (const m of [].concat(JSON.parse(String(data)))) {
        const { topic, data: d } = m as { topic: string; data: { msg?: string } };
        if (topic === 'debug' && d?.msg) debug.push(d.msg);
      }
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    // The config node connects to its simulator when the flows start; give it a moment.
    await waitFor('the approved result in the Debug sidebar', 20000, async () => {
      if (debug.some((m) => /"outcome":"approved"/.test(m))) return true;
      await api(`/inject/${inject!.id}`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 1500));
      return debug.some((m) => /"outcome":"approved"/.test(m)) ? true : undefined;
    });
    ws.close();
    assert.ok(!debug.join('\n').includes('simulator-token'), 'no token in debug output');
  });

  it('a second start keeps the user\'s own flows', async () => {
    const flows = (await (await api('/flows')).json()) as FlowNode[];
    const tab = flows.find((n) => n.type === 'tab')!;
    flows.push({ id: 'users-own-node', type: 'comment', z: tab.id, name: 'my own note', x: 100, y: 500, wires: [] });
    const deployed = await api('/flows', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(deployed.status, 204);
    await app.stop();
    await app.start();
    const again = (await (await api('/flows')).json()) as FlowNode[];
    assert.ok(again.some((n) => n.id === 'users-own-node'), 'the user\'s node survived');
    assert.equal(again.length, flows.length);
  });
});
