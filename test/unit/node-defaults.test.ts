// Issue 13: a flow built outside the editor (admin API, an older export) that lacks a property
// gets at runtime what the editor would have given it. One table per node
// (nodes/defaults/<type>.json) is read by both: this checks the built editor file really takes
// every default value from it, and the runtime fills exactly what is missing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { DEFAULT_TABLE } from '../../lib/journal/postgres-journal';
import { NODE_DEFAULTS, withDefaults, type NodeType } from '../../nodes/shared/defaults';
import { PROVIDER_TABLE, defaultProvider } from '../../lib/providers/registry';
import registry from '../../lib/providers/registry.json';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const types = Object.keys(pkg['node-red'].nodes as Record<string, string>);

/** Runs the built .html's editor scripts against a stand-in RED and returns the `defaults` each registerType got. */
function editorDefaults(file: string): Record<string, Record<string, { value: unknown }>> {
  const html = fs.readFileSync(file, 'utf8');
  const registered: Record<string, Record<string, { value: unknown }>> = {};
  const stub = (): unknown => new Proxy(function () {}, { get: () => stub(), apply: () => stub() });
  const context = vm.createContext({
    RED: { nodes: { registerType: (type: string, def: { defaults: Record<string, { value: unknown }> }) => { registered[type] = def.defaults; } } },
    window: { PosPayments: stub() },
    $: stub(),
  });
  for (const [, code] of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) vm.runInContext(code!, context);
  return registered;
}

describe('node defaults: one table read by the editor and the runtime', () => {
  it('every node type has a table, and nothing else does', () => {
    assert.deepEqual(Object.keys(NODE_DEFAULTS).sort(), [...types].sort());
  });

  for (const type of types) {
    it(`${type}: the editor's defaults are exactly the table's properties and values`, () => {
      const file = path.join(root, (pkg['node-red'].nodes as Record<string, string>)[type]!.replace(/\.js$/, '.html'));
      const defaults = editorDefaults(file)[type];
      assert.ok(defaults, `${type} registered in its .html`);
      const table = NODE_DEFAULTS[type as NodeType] as Record<string, unknown>;
      assert.deepEqual(Object.keys(defaults).sort(), Object.keys(table).sort(), 'the same properties');
      for (const [key, def] of Object.entries(defaults)) assert.deepEqual(def.value, table[key], `${type}.${key}`);
    });
  }

  it('the runtime fills only what the saved config lacks', () => {
    const saved = { id: 'n1', provider: 'dojo', streams: '', timeout: 0 };
    const filled = withDefaults('pos-notification-in', saved) as Record<string, unknown>;
    assert.equal(filled.streams, '', 'an empty text is the flow\'s choice');
    assert.equal(filled.provider, 'dojo');
    assert.equal(filled.timeout, 0, 'a property the table does not know is kept');
    assert.equal(filled.channel, '');
    assert.equal(withDefaults('pos-notification-in', {} as Record<string, unknown>).streams, 'rates,payments,notifications');
    assert.equal(withDefaults('pos-pay', {} as Record<string, unknown>).currency, 'GBP');
    assert.equal(withDefaults('pos-pay', {} as Record<string, unknown>).busy, 'queue');
    assert.deepEqual(saved, { id: 'n1', provider: 'dojo', streams: '', timeout: 0 }, 'the saved config itself is untouched');
  });

  it('a flow node\'s default provider comes from the provider table: the first that offers it, or the table\'s choice', () => {
    const provider = (type: string) => withDefaults(type, {} as Record<string, unknown>).provider;
    for (const type of ['pos-pay', 'pos-refund', 'pos-terminals', 'pos-notification-in', 'pos-report']) {
      assert.equal(provider(type), PROVIDER_TABLE[0]!.name, type);
    }
    assert.equal(provider('pos-request-in'), registry.defaultProviders['pos-request-in']);
    for (const type of Object.keys(registry.flowNodes)) assert.equal(provider(type), defaultProvider(type), type);
  });

  it('the journal table name the editor offers is the one the library creates', () => {
    assert.equal(NODE_DEFAULTS['pos-journal'].table, DEFAULT_TABLE);
  });
});
