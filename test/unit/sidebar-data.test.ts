// The sidebar's answer is masked with every configured credential (as typed and as resolved
// from ${ENV}), in strings only: a short numeric secret must not turn an amount into "***".

import assert from 'node:assert/strict';
import { MemoryJournal } from '../../lib/core/journal';
import type { RedApi } from '../../nodes/shared/red';
import { sidebarData, type DeployedConnection } from '../../nodes/shared/sidebar-data';

const RED = { util: { cloneMessage: (m: unknown) => m, getSetting: () => undefined } } as unknown as RedApi;

describe('sidebar data masking', () => {
  it('masks a credential in any text, resolved ${ENV} ones too, and leaves numbers alone', async () => {
    process.env.POS_TEST_SIDEBAR_KEY = 'env-resolved-secret-42';
    try {
      const journal = new MemoryJournal();
      const claim = await journal.claim({ kind: 'sale', amount: 1250, currency: 'GBP', reference: 'R-1250' }, 'a1');
      await journal.finish(claim.entry, {
        outcome: 'unknown', approved: false, amount: 1250, currency: 'GBP', reference: 'R-1250', provider: 'dojo', card: {}, receipt: {},
        message: 'lost: the server said key=plain-secret-abc and env-resolved-secret-42', raw: null,
      });
      const connection = {
        provider: { state: { name: 'error', reason: 'refused plain-secret-abc' }, capabilities: { terminals: false } },
        payments: { recent: (n: number) => journal.recent(n), isRunningHere: () => false, mayAskAgain: () => true },
      };
      const deployed: DeployedConnection[] = [
        { id: 'c1', type: 'pos-dojo', provider: 'dojo', name: 'till', environment: 'test',
          node: { credentials: { apiKey: 'plain-secret-abc', other: '${POS_TEST_SIDEBAR_KEY}', pin: '1250' }, connection } as never },
        { id: 'c2', type: 'pos-dojo', provider: 'dojo', name: 'broken', environment: 'test',
          node: { credentials: {}, configError: 'cannot use plain-secret-abc here' } as never },
      ];
      const data = await sidebarData(RED, deployed);
      const text = JSON.stringify(data);
      for (const secret of ['plain-secret-abc', 'env-resolved-secret-42']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
      assert.equal(data.connections[0]!.reason, 'refused ***');
      assert.equal(data.connections[1]!.problem, 'cannot use *** here');
      const row = data.payments[0]!;
      assert.equal(row.amount, 1250, 'a number equal to a secret stays a number');
      assert.equal(row.reference, 'R-***', 'a string containing it is masked');
      assert.equal(row.askable, true, 'as the payment service says');
    } finally {
      delete process.env.POS_TEST_SIDEBAR_KEY;
    }
  });
});
