// The pay node's dialog tells which transaction kinds each provider offers (resources/pos-editor.js):
// its list of kinds is the runtime's, and every kind a paying provider lacks has a reason.

import assert from 'node:assert/strict';
import { PAYMENT_KINDS } from '../../lib/core/types';
import { editorWindow } from '../support/editor-window';

interface EditorProvider { name: string; capabilities: Record<string, boolean>; lacks?: Record<string, string> }
interface Editor { providers: EditorProvider[]; kinds: string[]; explainKinds: unknown }

function editor(): Editor {
  const window = editorWindow<Editor>();
  assert.ok(window.PosPayments);
  assert.ok(window.PosPayments.providers.length >= 5, 'the editor knows the providers');
  return { ...JSON.parse(JSON.stringify({ providers: window.PosPayments.providers, kinds: window.PosPayments.kinds })), explainKinds: window.PosPayments.explainKinds };
}

describe('editor: transaction kinds per provider', () => {
  const e = editor();

  it('lists the pay node\'s kinds beyond sale exactly as the runtime has them, each a capability of every provider', () => {
    assert.deepEqual(e.kinds, PAYMENT_KINDS.filter((k) => k !== 'sale' && k !== 'refund'));
    for (const p of e.providers) for (const k of e.kinds) assert.equal(typeof p.capabilities[k], 'boolean', `${p.name}.${k}`);
    assert.equal(typeof e.explainKinds, 'function');
  });

  it('says why, for every kind a paying provider lacks (its own reason, or why it has no pre-auth at all)', () => {
    for (const p of e.providers.filter((x) => x.capabilities.pay)) {
      for (const k of e.kinds.filter((x) => !p.capabilities[x])) {
        const why = p.lacks?.[k] ?? (!p.capabilities.preauth ? p.lacks?.preauth : undefined);
        assert.ok(why && why.length > 10, `${p.name} explains the missing ${k}`);
      }
    }
  });
});
