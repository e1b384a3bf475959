// The provider table (lib/providers/registry.json) reaches the editor as plain data the build
// writes into every node file; the runtime adapters claim their capabilities in code. This keeps
// the two from drifting apart, and checks the editor (resources/pos-editor.js) reads the table.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DOJO_METHODS } from '../../lib/providers/dojo/schemas';
import { DojoProvider } from '../../lib/providers/dojo/client';
import { ModulusProvider } from '../../lib/providers/modulus/client';
import { PaymentsenseProvider } from '../../lib/providers/paymentsense/client';
import { PAT_METHODS } from '../../lib/providers/paymentsense/pat-wire';
import { QuickPayProvider } from '../../lib/providers/quickpay/client';
import { simulatorKeys } from '../../lib/simulators/quickpay';
import { SensePassProvider } from '../../lib/providers/sensepass/client';
import registry from '../../lib/providers/registry.json';
import { editorWindow } from '../support/editor-window';

interface EditorProvider { name: string; configType: string; capabilities: Record<string, boolean>; requestMethods?: string[]; lacks?: Record<string, string> }

function editorProviders(): EditorProvider[] {
  const window = editorWindow<{ providers: EditorProvider[] }>();
  assert.ok(window.PosPayments, 'pos-editor.js defines window.PosPayments');
  // Objects from another realm: compare them as plain data.
  return JSON.parse(JSON.stringify(window.PosPayments.providers));
}

describe('provider table (lib/providers/registry.json) in the editor (resources/pos-editor.js)', () => {
  const providers = editorProviders();
  const byName = new Map(providers.map((p) => [p.name, p]));

  it('offers Dojo request-in methods exactly as derived from Dojo\'s AsyncAPI (HandleEventV1 goes to notification nodes)', () => {
    const derived = DOJO_METHODS.map((m) => m.method).filter((m) => m !== 'HandleEventV1').sort();
    assert.deepEqual([...(byName.get('dojo')?.requestMethods ?? [])].sort(), derived);
  });

  it('offers the Paymentsense pay-at-table methods the runtime serves, in the same order', () => {
    assert.deepEqual(byName.get('paymentsense')?.requestMethods, [...PAT_METHODS]);
  });

  it('claims the same capabilities as the runtime adapters', () => {
    const dojo = new DojoProvider({ environment: 'custom', url: 'http://127.0.0.1:1', apiKey: 'sk_sandbox_x', softwareHouseId: 'SH' });
    const paymentsense = new PaymentsenseProvider({ environment: 'custom', url: 'ws://127.0.0.1:1', token: 'token-x', softwareHouseId: 'SH', installerId: 'IN' });
    assert.deepEqual(byName.get('dojo')?.capabilities, { ...dojo.capabilities });
    assert.deepEqual(byName.get('paymentsense')?.capabilities, { ...paymentsense.capabilities });
    const modulus = new ModulusProvider({ environment: 'custom', url: 'ws://127.0.0.1:1', apiKey: 'mk_x' });
    const sensepass = new SensePassProvider({ environment: 'custom', url: 'http://127.0.0.1:1', deviceId: 'dev_x' });
    assert.deepEqual(byName.get('modulus')?.capabilities, { ...modulus.capabilities });
    assert.deepEqual(byName.get('sensepass')?.capabilities, { ...sensepass.capabilities });
    const quickpay = new QuickPayProvider({ environment: 'custom', url: 'http://127.0.0.1:1', appKey: 'app', merchantId: 'm1', apiKey: 'qp_x', privateKeyPem: simulatorKeys().privateKeyPem });
    assert.deepEqual(byName.get('quickpay')?.capabilities, { ...quickpay.capabilities });
    assert.deepEqual([...byName.keys()].sort(), ['dojo', 'modulus', 'paymentsense', 'quickpay', 'sensepass']);
  });

  it('says why a provider is not offered, for every capability a payment node needs and it lacks', () => {
    for (const p of providers) {
      for (const capability of ['pay', 'refund', 'terminals', 'reports']) {
        if (p.capabilities[capability]) continue;
        assert.ok(p.lacks?.[capability] && p.lacks[capability].length > 10, `${p.name} explains the missing ${capability}`);
      }
    }
  });

  it('the editor offers exactly the table\'s providers, in its order, each with its config node type', () => {
    assert.deepEqual(providers.map((p) => p.name), registry.providers.map((p) => p.name));
    for (const p of providers) assert.equal(p.configType, `pos-${p.name}`);
  });

  it('names a config node type that package.json registers, for every provider', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
    for (const p of providers) assert.ok(pkg['node-red'].nodes[p.configType], `${p.configType} in package.json`);
  });
});
