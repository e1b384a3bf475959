// The README's quick start, for real: `npm start` (scripts/start.js) brings up Node-RED with
// the pack and the example flows; clicking the approved-payment inject gives an approved
// result in the Debug sidebar; a second start keeps the user's flows.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const root = path.resolve(__dirname, '../../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface FlowNode { id: string; type: string; z?: string; wires?: string[][]; payload?: string; name?: string; [k: string]: unknown }

describe('quick start: npm start', function () {
  this.timeout(120000);
  let userDir: string;
  let port: number;
  let child: ChildProcess | undefined;
  let output = '';

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-start-'));
    port = await freePort();
  });

  after(async () => {
    await stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    const simPort = await freePort();
    output = '';
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root,
      env: { ...process.env, POS_USER_DIR: userDir, POS_PORT: String(port), POS_SIMULATOR_PORT: String(simPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    await waitFor('Node-RED to start flows', 60000, async () => (/Started flows/.test(output) ? true : undefined));
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  const api = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${p}`, init);

  it('starts Node-RED with the pack and the example flows, and takes an approved payment', async () => {
    await start();
    const flows = (await (await api('/flows')).json()) as FlowNode[];
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['pos-paymentsense', 'pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in']) assert.ok(types.has(t), `${t} deployed`);
    const nodesApi = await (await api('/nodes', { headers: { Accept: 'application/json' } })).json() as Array<{ module: string; types: string[] }>;
    assert.ok(nodesApi.some((s) => s.module === 'node-red-contrib-pos-payments'), 'the pack is installed');
    assert.ok(!/Error|error loading/i.test(output.split('\n').filter((l) => /pos-payments/.test(l)).join('\n')), output);

    const payIds = new Set(flows.filter((n) => n.type === 'pos-pay').map((n) => n.id));
    const inject = flows.find((n) => n.type === 'inject' && (n.wires ?? []).flat().some((w) => payIds.has(w)) && /1250/.test(String(n.payload)));
    assert.ok(inject, 'an inject node for the approved payment');

    const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
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
    await stop();
    await start();
    const again = (await (await api('/flows')).json()) as FlowNode[];
    assert.ok(again.some((n) => n.id === 'users-own-node'), 'the user\'s node survived');
    assert.equal(again.length, flows.length);
  });
});
