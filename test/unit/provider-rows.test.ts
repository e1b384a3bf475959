// The flow nodes' connection fields are written by the build from the provider table
// (scripts/provider-parts.js). Node-RED binds a config-node selector only when the template has
// the input node-input-<provider> and `defaults` has the property with its config `type`: this
// checks every built flow node has both for exactly the providers that can do its job.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FLOW_NODE_CAPABILITY, PROVIDER_NAMES, PROVIDER_TABLE } from '../../lib/providers/registry';

const root = path.join(__dirname, '../../..');

function built(type: string): { script: string; template: string } {
  const html = fs.readFileSync(path.join(root, 'dist/nodes', `${type}.html`), 'utf8');
  const template = new RegExp(`<script type="text/html" data-template-name="${type}">([\\s\\S]*?)</script>`).exec(html);
  assert.ok(template, `${type}.html has its template`);
  return { script: html.slice(0, template.index), template: template[1]! };
}

describe('flow nodes: connection fields from the provider table', () => {
  it('every flow node of package.json has a capability in the table', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const flowTypes = Object.keys(pkg['node-red'].nodes).filter((t) => fs.readFileSync(path.join(root, 'nodes', `${t}.html`), 'utf8').includes('<!-- provider rows -->'));
    assert.deepEqual(flowTypes.sort(), Object.keys(FLOW_NODE_CAPABILITY).sort());
  });

  for (const [type, capability] of Object.entries(FLOW_NODE_CAPABILITY)) {
    it(`${type}: a select option, a row and a typed default for each provider that can do "${capability}", none for the others`, () => {
      const { script, template } = built(type);
      const offered = PROVIDER_TABLE.filter((p) => p.capabilities[capability]).map((p) => p.name);
      assert.ok(offered.length > 0, `someone offers ${capability}`);
      for (const name of PROVIDER_NAMES) {
        const has = offered.includes(name);
        assert.equal(template.includes(`<option value="${name}">`), has, `${type}: option ${name}`);
        assert.equal(template.includes(`<input type="text" id="node-input-${name}">`), has, `${type}: row ${name}`);
        assert.equal(script.includes(`${name}: { value: D.${name}, type: 'pos-${name}', validate: window.PosPayments.configFor('${name}') }`), has, `${type}: default ${name}`);
      }
      assert.ok(!/<!-- provider rows -->|\/\* provider fields \*\//.test(script + template), 'every marker replaced');
    });
  }

  it('every node file carries the provider table for the editor scripts', () => {
    for (const file of fs.readdirSync(path.join(root, 'dist/nodes')).filter((f) => f.endsWith('.html'))) {
      const html = fs.readFileSync(path.join(root, 'dist/nodes', file), 'utf8');
      if (!html.includes('<script src="resources/node-red-contrib-pos-payments/')) continue;
      const table = /window\.PosPaymentsProviders = window\.PosPaymentsProviders \|\| (\[.*\]);/.exec(html);
      assert.ok(table, `${file} has the table`);
      assert.deepEqual(JSON.parse(table[1]!).map((p: { name: string }) => p.name), [...PROVIDER_NAMES], file);
    }
  });
});
