// The flow nodes' .html files share their rows (nodes/partials, placed by scripts/build.js with
// `{type}` standing for the node's type) and their labels and provider field
// (PosPayments.flowNode in resources/pos-editor.js, the prototype of each definition). This checks
// the build left nothing unplaced and every flow node's definition uses the shared helper, while
// keeping the literal `RED.nodes.registerType('<type>', {` the Flow Library's check reads.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const types = Object.keys(pkg['node-red'].nodes as Record<string, string>);

describe('editor files: shared rows and definitions', () => {
  for (const type of types) {
    it(`${type}: every include placed with its own type, the definition a literal object`, () => {
      const html = fs.readFileSync(path.join(root, 'dist/nodes', `${type}.html`), 'utf8');
      assert.ok(!/<!-- include:|\{type\}/.test(html), 'no include or {type} left');
      for (const [, key] of html.matchAll(/data-i18n="(?:\[[a-z]+\])?(pos-[a-z-]+)\./g)) assert.equal(key, type, `catalog keys of ${type} only`);
      assert.ok(html.includes(`RED.nodes.registerType('${type}', {`), 'the literal definition');
      const flowNode = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8').includes("category: 'payments'");
      assert.equal(html.includes(`__proto__: window.PosPayments.flowNode('${type}'`), flowNode, 'a flow node\'s definition has the shared parts');
    });
  }
});
