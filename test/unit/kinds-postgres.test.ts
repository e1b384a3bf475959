// A pre-auth in a shared PostgreSQL journal is settled once across Node-RED instances: two
// instances completing (or releasing) the same pre-auth at the same moment send exactly one.

import assert from 'node:assert/strict';
import type { PosError } from '../../lib/core/errors';
import { PaymentService } from '../../lib/core/payments';
import { settlementReference } from '../../lib/core/settlements';
import { silentLogger } from '../../lib/core/types';
import { PostgresJournal } from '../../lib/journal/postgres-journal';
import { usePostgres, type PostgresServer } from '../support/postgres';
import { KindsProvider, req, result } from '../support/kinds';

describe('transaction kinds on a shared PostgreSQL journal', function () {
  this.timeout(30000);
  let server: PostgresServer;
  let tables = 0;
  const closers: Array<() => Promise<void>> = [];

  usePostgres((s) => { server = s; });
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
  });

  /** Two Node-RED instances on one table and account, each with its own provider connection. */
  async function twoInstances() {
    const table = `kinds_test_${++tables}`;
    const make = async (instanceId: string) => {
      const journal = await PostgresJournal.open({ connectionString: server.url, table, account: 'acct-k', instanceId, leaseSeconds: 2 });
      closers.push(() => journal.close());
      const provider = new KindsProvider();
      // Each completion takes a moment on the provider, so the two really overlap.
      provider.behaviour = async (a) => { await new Promise((r) => setTimeout(r, 30)); return result(a.request, 'approved'); };
      return { journal, provider, service: new PaymentService(provider, journal, silentLogger) };
    };
    return [await make('node-a'), await make('node-b')] as const;
  }

  it('two instances complete one pre-auth at once, ten times over: exactly one completion is sent each time', async () => {
    const [a, b] = await twoInstances();
    for (let round = 0; round < 10; round++) {
      const pre = `pre-${round}`;
      await a.service.pay(req('preauth', pre, 5000), { timeoutMs: 2000 });
      const kinds: ReadonlyArray<'completion' | 'release'> = round % 2 === 0 ? ['completion', 'completion'] : ['completion', 'release'];
      const runs = await Promise.allSettled([
        a.service.pay(req(kinds[0]!, `${pre}-a`, kinds[0] === 'release' ? 0 : 4000, { originalReference: pre }), { timeoutMs: 2000 }),
        b.service.pay(req(kinds[1]!, `${pre}-b`, kinds[1] === 'release' ? 0 : 3000, { originalReference: pre }), { timeoutMs: 2000 }),
      ]);
      const won = runs.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: one of the two went through`);
      const lost = runs.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((lost.reason as PosError).code, 'bad_input', (lost.reason as Error).message);
      const sent = [...a.provider.attempts, ...b.provider.attempts].filter((x) => x.request.originalReference === pre);
      assert.equal(sent.length, 1, `round ${round}: sent once`);
      const settled = await b.journal.get(settlementReference(pre));
      assert.equal(settled?.state, 'done');
      assert.equal(settled?.request.options?.settledBy, sent[0]!.request.reference);
    }
  });

  it('a pre-auth taken by an instance that died mid-completion stays held until its completion is resolved', async () => {
    const [a, b] = await twoInstances();
    await a.service.pay(req('preauth', 'pre-dead', 5000), { timeoutMs: 2000 });
    a.provider.behaviour = () => new Promise(() => {}); // the terminal never answers: the instance "dies" with it running
    void a.service.pay(req('completion', 'pre-dead-a', 4000, { originalReference: 'pre-dead' }), { timeoutMs: 60000 }).catch(() => {});
    for (let i = 0; i < 100 && !(await b.journal.get(settlementReference('pre-dead'))); i++) await new Promise((r) => setTimeout(r, 20));
    const refused = await b.service.pay(req('completion', 'pre-dead-b', 1000, { originalReference: 'pre-dead' }), { timeoutMs: 2000 }).catch((e: PosError) => e);
    assert.match((refused as PosError).message, /being completed right now \(reference "pre-dead-a"\)/);
    assert.equal(b.provider.attempts.length, 0);
  });
});
