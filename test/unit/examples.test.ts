// The example flows are what a new user imports first (and what `npm start` deploys, merging
// every file into one flows.json): they must import cleanly into one workspace.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

interface FlowNode { id: string; type: string; z?: string; wires?: string[][]; provider?: string; credentials?: unknown; environment?: string; [k: string]: unknown }

const root = path.join(__dirname, '../../..');
const dir = path.join(root, 'examples');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const flows = new Map(files.map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as FlowNode[]]));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const configTypes = new Set(Object.keys(pkg['node-red'].nodes).filter((t) => !fs.readFileSync(path.join(root, 'nodes', `${t}.html`), 'utf8').includes('category: \'payments\'')));

describe('example flows', () => {
  it('every id is unique within a file, and across files only shared config nodes repeat, identically', () => {
    const seen = new Map<string, { file: string; node: FlowNode }>();
    for (const [file, nodes] of flows) {
      const own = new Set<string>();
      for (const node of nodes) {
        assert.ok(!own.has(node.id), `${file}: id ${node.id} used twice`);
        own.add(node.id);
        const before = seen.get(node.id);
        if (before) {
          assert.ok(configTypes.has(node.type), `${file}: id ${node.id} (${node.type}) also in ${before.file}`);
          assert.deepEqual(node, before.node, `${file}: shared config node ${node.id} differs from ${before.file}`);
        }
        seen.set(node.id, { file, node });
      }
    }
  });

  it('wires, tabs and config references point at nodes of the same file', () => {
    for (const [file, nodes] of flows) {
      const ids = new Map(nodes.map((n) => [n.id, n]));
      for (const node of nodes) {
        if (node.z !== undefined) assert.equal(ids.get(node.z)?.type, 'tab', `${file}: ${node.id} is on tab ${node.z}`);
        for (const target of (node.wires ?? []).flat()) assert.ok(ids.has(target), `${file}: ${node.id} wired to missing ${target}`);
        if (typeof node.provider === 'string' && node.type.startsWith('pos-')) {
          const ref = node[node.provider];
          assert.equal(typeof ref, 'string', `${file}: ${node.id} names a ${node.provider} connection`);
          assert.equal(ids.get(ref as string)?.type, `pos-${node.provider}`, `${file}: ${node.id} -> ${String(ref)}`);
        }
      }
    }
  });

  it('connections use the built-in simulator and carry no credentials', () => {
    for (const [file, nodes] of flows) {
      for (const node of nodes.filter((n) => configTypes.has(n.type))) {
        assert.equal(node.credentials, undefined, `${file}: ${node.id}`);
        // A journal node works where the example is imported: the file store, which needs no database.
        if (node.type === 'pos-journal') assert.equal(node.store, 'file', `${file}: ${node.id}`);
        else assert.equal(node.environment, 'simulator', `${file}: ${node.id}`);
      }
    }
  });

  // What `npm start` shows, one tab per example (issue 13): tabs a person can tell apart in
  // the tab bar, comments that say what to click on a demo that is already running, a Debug
  // sidebar that keeps the results of the tab in front, and errors as sentences.
  const all = [...flows.values()].flat();
  const tabs = all.filter((n) => n.type === 'tab');

  it('tab labels are short and distinct, without a common prefix', () => {
    assert.equal(tabs.length, files.length, 'one tab per example');
    const labels = tabs.map((t) => String(t.label));
    assert.equal(new Set(labels.map((l) => l.toLowerCase())).size, labels.length, `labels repeat: ${labels.join(', ')}`);
    for (const l of labels) {
      // A tab of the editor shows about 12 characters once there are more tabs than fit (the browser test measures it).
      assert.ok(l.length <= 12, `"${l}" is longer than a tab shows`);
      assert.doesNotMatch(l, /^POS:/, `"${l}" starts with the prefix every tab had`);
    }
    // Each tab's label starts with its example's number, as in Import > Examples.
    for (const [file, nodes] of flows) assert.match(String(nodes.find((n) => n.type === 'tab')!.label), new RegExp(`^${Number(file.slice(0, 2))} `), file);
  });

  it('comment titles say what to click, not to deploy what npm start has deployed', () => {
    for (const n of all.filter((c) => c.type === 'comment')) {
      assert.doesNotMatch(String(n.name), /\bdeploy\b/i, `comment "${n.name}"`);
      assert.doesNotMatch(String(n.info ?? ''), /^\s*1\. Deploy\./m, `comment "${n.name}" starts its steps with Deploy`);
    }
  });

  it('debug nodes on streams and progress prompts show the latest value under them, not in the sidebar', () => {
    const quiet: string[] = [];
    for (const n of all.filter((d) => d.type === 'debug')) {
      const feeders = all.filter((f) => (f.wires ?? []).some((out) => out.includes(n.id)));
      const fromProgress = feeders.some((f) => (f.type === 'pos-pay' || f.type === 'pos-refund') && (f.wires?.[1] ?? []).includes(n.id));
      // A notification node without an event filter passes every event of a connection other tabs share.
      const fromStream = feeders.some((f) => f.type === 'pos-notification-in' && !f.events);
      if (!fromProgress && !fromStream) continue;
      quiet.push(String(n.name));
      assert.equal(n.active, false, `debug "${n.name}" on tab ${n.z}: sidebar output off`);
      assert.equal(n.tostatus, true, `debug "${n.name}": shows its value under the node`);
      assert.ok(n.statusType === 'auto' || String(n.statusVal ?? '') !== '', `debug "${n.name}" names what it shows`);
    }
    assert.ok(quiet.length >= 12, `quiet debug nodes: ${quiet.join(', ')}`);
    // And the results stay in the sidebar.
    for (const pay of all.filter((p) => p.type === 'pos-pay' || p.type === 'pos-refund')) {
      for (const id of pay.wires?.[0] ?? []) {
        const d = all.find((n) => n.id === id);
        if (d?.type === 'debug') assert.notEqual(d.active, false, `result debug "${d.name}" stays in the sidebar`);
      }
    }
  });

  it('a Catch node next to pay, refund, terminals or report nodes shows the error as a sentence, its code as the topic', () => {
    let checked = 0;
    for (const [file, nodes] of flows) {
      if (!nodes.some((n) => ['pos-pay', 'pos-refund', 'pos-terminals', 'pos-report'].includes(n.type))) continue;
      assert.ok(nodes.some((n) => n.type === 'catch'), `${file}: a Catch node shows what went wrong`);
      for (const c of nodes.filter((n) => n.type === 'catch')) {
        const change = nodes.find((n) => (c.wires ?? []).flat().includes(n.id));
        assert.equal(change?.type, 'change', `${file}: catch "${c.name}" goes to a change node`);
        const rules = (change!.rules as Array<{ t: string; p: string; pt: string; to: string; tot: string }>).map((r) => `${r.t} ${r.pt}.${r.p} = ${r.tot}.${r.to}`);
        assert.deepEqual(rules, ['set msg.topic = msg.error.code', 'set msg.payload = msg.error.message'], `${file}: ${change!.name}`);
        const debug = nodes.find((n) => (change!.wires ?? []).flat().includes(n.id));
        assert.equal(debug?.type, 'debug', `${file}: then a debug node`);
        assert.deepEqual([debug!.active, debug!.complete, debug!.targetType], [true, 'payload', 'msg'], `${file}: debug "${debug!.name}" shows the sentence`);
        checked += 1;
      }
    }
    assert.ok(checked >= 9, `${checked} catch paths`);
  });

  it('every node type of the pack and every provider appears in an example', () => {
    const used = new Set([...flows.values()].flat().map((n) => n.type));
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `${type} in an example`);
  });
});
