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

  it('every node type of the pack and every provider appears in an example', () => {
    const used = new Set([...flows.values()].flat().map((n) => n.type));
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(used.has(type), `${type} in an example`);
  });
});
