// What the suite expects of a provider, what its adapter claims and what the editor offers are
// one and the same list.

import assert from 'node:assert/strict';
import { editorWindow } from '../support/editor-window';
import { forEachProvider, helper, type Conformance } from './fixture';

interface EditorProvider { name: string; configType: string; capabilities: Record<string, boolean> }

/** The table the editor offers, as a browser gets it: the one the build writes into every node file. */
function editorProviders(): EditorProvider[] {
  const window = editorWindow<{ providers: EditorProvider[] }>();
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
    assert.ok(editor, `the editor's provider table lists ${c.entry.provider}`);
    assert.equal(editor.configType, c.entry.configType);
    assert.deepEqual(editor.capabilities, c.entry.capabilities);
    assert.equal(helper.getNode('cfg').type, c.entry.configType);
  });
});
