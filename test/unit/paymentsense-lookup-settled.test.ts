// Once Connect has answered that it has no transactionDetails (or the connection's
// "Look up lost results" is off), the adapter stops relying on it: a look-up answers at once,
// sends nothing, and the reason it gives (which ends up in the `unknown` result) says why.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PaymentsenseProvider } from '../../lib/providers/paymentsense/client';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';

const request = { kind: 'sale' as const, amount: 100, currency: 'GBP', reference: 'R1', terminalId: 'VCM00001SIP0' };

async function connectedProvider(url: string, extra: { transactionLookup?: boolean } = {}) {
  const sent: string[] = [];
  const provider = new PaymentsenseProvider({
    environment: 'custom', url, token: 'tok-lookup-1', softwareHouseId: 'S', installerId: 'I', ...extra,
    wire: (direction, text) => { if (direction === 'out') sent.push(text); },
  });
  provider.start();
  const end = Date.now() + 5000;
  while (provider.state.name !== 'connected') {
    if (Date.now() > end) throw new Error(`not connected: ${provider.state.name}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { provider, sent };
}

describe('paymentsense: a settled look-up', function () {
  this.timeout(10000);
  let sim: PaymentsenseSimulator;
  let url = '';
  beforeEach(async () => {
    sim = new PaymentsenseSimulator({ token: 'tok-lookup-1' });
    ({ url } = await sim.start());
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('after "method not found" it never asks again, and says the server lacks the look-up', async () => {
    sim.setFault('noTransactionDetails', true);
    const { provider, sent } = await connectedProvider(url);
    try {
      assert.equal(provider.transactionLookupKnown, undefined);
      const first = await provider.lookup({ request, attemptId: randomUUID() });
      assert.equal(first.found, 'cannot_ask');
      assert.equal(provider.transactionLookupKnown, false);
      const asked = sent.filter((t) => t.includes('transactionDetails')).length;
      assert.equal(asked, 1);
      const second = await provider.lookup({ request, attemptId: randomUUID() });
      assert.equal(sent.filter((t) => t.includes('transactionDetails')).length, asked, 'no second question');
      assert.ok(second.found === 'cannot_ask' && /does not offer the transactionDetails look-up.*check the terminal/.test(second.reason), JSON.stringify(second));
    } finally {
      await provider.stop();
    }
  });

  it('with transactionLookup false it never asks at all; with the default it asks and learns the server knows it', async () => {
    const off = await connectedProvider(url, { transactionLookup: false });
    try {
      const r = await off.provider.lookup({ request, attemptId: randomUUID() });
      assert.equal(r.found, 'cannot_ask');
      assert.equal(off.sent.filter((t) => t.includes('transactionDetails')).length, 0);
    } finally {
      await off.provider.stop();
    }
    const on = await connectedProvider(url);
    try {
      const r = await on.provider.lookup({ request, attemptId: randomUUID() });
      assert.equal(r.found, 'nothing');
      assert.equal(on.provider.transactionLookupKnown, true);
    } finally {
      await on.provider.stop();
    }
  });
});
