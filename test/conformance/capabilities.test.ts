// What the suite expects of a provider, what its adapter claims and what the editor offers are
// one and the same list.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { forEachProvider, helper, type Conformance } from './fixture';

interface EditorProvider { name: string; configType: string; capabilities: Record<string, boolean> }

function editorProviders(): EditorProvider[] {
  const code = fs.readFileSync(path.join(__dirname, '../../../resources/pos-editor.js'), 'utf8');
  const window: { PosPayments?: { providers: EditorProvider[] } } = {};
  vm.runInNewContext(code, { window });
  assert.ok(window.PosPayments, 'pos-editor.js defines window.PosPayments');
  // Objects from another realm: compare them as plain data.
  return JSON.parse(JSON.stringify(window.PosPayments.providers));
}

forEachProvider('capabilities', (c: Conformance) => {
  it('the entry, the runtime adapter and the editor table claim the same capabilities', async () => {
    await c.load();
    const adapter = helper.getNode('cfg').connection.provider;
    assert.equal(adapter.name, c.entry.provider);
    assert.deepEqual({ ...adapter.capabilities }, c.entry.capabilities);
    const editor = editorProviders().find((p) => p.name === c.entry.provider);
    assert.ok(editor, `resources/pos-editor.js lists ${c.entry.provider}`);
    assert.equal(editor.configType, c.entry.configType);
    assert.deepEqual(editor.capabilities, c.entry.capabilities);
    assert.equal(helper.getNode('cfg').type, c.entry.configType);
  });
});
