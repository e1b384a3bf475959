// Pay at table on a shared PostgreSQL journal: two instances each want /pat, which Connect
// serves once per account (the newest displaces the older). The lease decides: exactly one
// connects, the other waits on standby, and takes over when the holder stops, so the two never
// displace each other.

import assert from 'node:assert/strict';
import type { ConnectionStateName } from '../../lib/core/types';
import { PostgresLease } from '../../lib/journal/postgres-lease';
import { PatServer } from '../../lib/providers/paymentsense/pat';
import { PAT_METHODS } from '../../lib/providers/paymentsense/pat-wire';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../../lib/simulators/paymentsense';
import { usePostgres, type PostgresServer } from '../support/postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

describe('Paymentsense pay at table on a shared PostgreSQL journal', function () {
  this.timeout(30000);
  let server: PostgresServer;
  let sim: PaymentsenseSimulator;
  let base: string;

  usePostgres((s) => { server = s; });
  beforeEach(async () => {
    sim = new PaymentsenseSimulator({ stepDelayMs: 0, pingIntervalMs: 60_000, patWalk: { firstMs: 0, replyTimeoutMs: 2000 } });
    base = (await sim.start()).url;
  });
  afterEach(async () => { await sim.stop(); });

  it('one instance holds /pat, the other is on standby and takes over when the holder stops; they never displace each other', async () => {
    const seen: Record<string, ConnectionStateName[]> = { a: [], b: [] };
    const instance = (id: 'a' | 'b') => {
      const s = new PatServer({
        environment: 'custom', url: base, token: SIMULATOR_TOKEN, softwareHouseId: 'SH', installerId: 'IN',
        backoff: { initialMs: 50, maxMs: 200 },
        lease: () => PostgresLease.open({ connectionString: server.url, table: 'pat_lease_test', name: 'paymentsense-custom-acct', instanceId: `node-${id}`, leaseSeconds: 1 }),
      });
      s.onState((state) => seen[id]!.push(state.name));
      s.serve(new Set(PAT_METHODS), async (req) => {
        switch (req.method) {
          case 'tableListRequest': return { tables: [`table-of-${id}`], currency: 'GBP' };
          case 'tableLockRequest': return { confirmed: true, amount: 1000, currency: 'GBP' };
          case 'transactionResponse':
          case 'tableUnlock': return {};
          default: return { receiptLines: [] };
        }
      });
      return s;
    };
    const a = instance('a');
    const b = instance('b');
    try {
      a.start();
      b.start();
      await eventually('one of them connected', 10000, () => a.state.name === 'connected' || b.state.name === 'connected');
      const [holder, waiting, holderId] = a.state.name === 'connected' ? [a, b, 'a'] : [b, a, 'b'];
      assert.equal(waiting.state.name, 'standby');
      // Over two lease periods: still one /pat client, and the holder unchanged.
      for (let i = 0; i < 20; i++) {
        assert.equal(sim.patConnectionCount, 1, 'never two /pat clients');
        assert.equal(waiting.state.name, 'standby');
        await sleep(100);
      }
      const report = await sim.walkTables();
      assert.equal(report.ok, true, report.message);
      assert.equal(report.tableId, `table-of-${holderId}`, 'the holder served the walk');

      await holder.stop();
      await eventually('the other instance took over', 10000, () => waiting.state.name === 'connected');
      const after = await sim.walkTables();
      assert.equal(after.ok, true, after.message);
      assert.notEqual(after.tableId, report.tableId, 'served by the instance that took over');
      assert.ok(!seen.a!.includes('displaced') && !seen.b!.includes('displaced'), `no displacement: ${JSON.stringify(seen)}`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
