// The editor's provider table (resources/pos-editor.js) is plain browser JavaScript, so it
// cannot import the library; this keeps the two from drifting apart.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { DOJO_METHODS } from '../../lib/providers/dojo/schemas';
import { DojoProvider } from '../../lib/providers/dojo/client';
import { ModulusProvider } from '../../lib/providers/modulus/client';
import { PaymentsenseProvider } from '../../lib/providers/paymentsense/client';
import { PAT_METHODS } from '../../lib/providers/paymentsense/pat-wire';
import { QuickPayProvider } from '../../lib/providers/quickpay/client';
import { simulatorKeys } from '../../lib/simulators/quickpay';
import { SensePassProvider } from '../../lib/providers/sensepass/client';

interface EditorProvider { name: string; configType: string; capabilities: Record<string, boolean>; requestMethods?: string[]; lacks?: Record<string, string> }

function editorProviders(): EditorProvider[] {
  const code = fs.readFileSync(path.join(__dirname, '../../../resources/pos-editor.js'), 'utf8');
  const window: { PosPayments?: { providers: EditorProvider[] } } = {};
  vm.runInNewContext(code, { window });
  assert.ok(window.PosPayments, 'pos-editor.js defines window.PosPayments');
  // Objects from another realm: compare them as plain data.
  return JSON.parse(JSON.stringify(window.PosPayments.providers));
}

describe('editor provider table (resources/pos-editor.js)', () => {
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

  it('names a config node type that package.json registers, for every provider', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
    for (const p of providers) assert.ok(pkg['node-red'].nodes[p.configType], `${p.configType} in package.json`);
  });
});
