// The lease and the hand-off in one process, on a real PostgreSQL and the real Modulus and Dojo
// simulators: instances are the pack's own pieces (journal, lease, leased provider, provider
// connection) without Node-RED, so each edge can be set up exactly. Crashes of whole processes
// are in test/e2e/shared-lease.test.ts.

import assert from 'node:assert/strict';
import { isPosError } from '../../lib/core/errors';
import { LeasedProvider, type ConnectionLease } from '../../lib/core/leased-provider';
import type { PaymentProvider } from '../../lib/core/provider';
import type { Logger, PaymentRequest, PaymentResult, ProgressEvent } from '../../lib/core/types';
import { PostgresJournal } from '../../lib/journal/postgres-journal';
import { PostgresLease } from '../../lib/journal/postgres-lease';
import { DojoProvider } from '../../lib/providers/dojo/client';
import { ModulusProvider } from '../../lib/providers/modulus/client';
import { DojoSimulator } from '../../lib/simulators/dojo';
import { ModulusSimulator } from '../../lib/simulators/modulus';
import { ProviderConnection } from '../../nodes/shared/connection';
import { needsTool } from '../support/needs-tool';
import { postgresTool, startPostgres, type PostgresServer } from '../support/postgres';

const MODULUS_KEY = 'mk_test_handoff_key';
const MODULUS_SECRET = 'ms_test_handoff_secret';
const DOJO_KEY = 'sk_sandbox_handoff_7c1d';
const LEASE_SECONDS = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

interface Instance {
  id: string;
  connection: ProviderConnection;
  /** The provider as the connection has it: leased whole, or leasing a part of itself. */
  leased: PaymentProvider & { holding?: boolean };
  recovered: PaymentResult[];
  pay(request: PaymentRequest, timeoutMs?: number): Promise<{ result: PaymentResult; duplicate: boolean; progress: ProgressEvent[] }>;
  stop(): Promise<void>;
}

describe('lease and hand-off on PostgreSQL (in one process)', function () {
  this.timeout(60000);
  let db: PostgresServer;
  let tables = 0;
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async function () {
    needsTool(this, postgresTool());
    this.timeout(120000);
    db = await startPostgres();
  });

  after(async function () {
    this.timeout(30000);
    await db?.stop();
  });

  afterEach(async function () {
    this.timeout(30000);
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  /**
   * `inner` gets the lease when the provider leases a part of itself (Dojo's EPOS socket);
   * otherwise (`whole`) the whole provider is leased, as config nodes do for Modulus.
   */
  async function instance(id: string, table: string, account: string, inner: (lease?: () => Promise<ConnectionLease>) => PaymentProvider, whole = true): Promise<Instance> {
    const journal = await PostgresJournal.open({ connectionString: db.url, table, account, instanceId: id, leaseSeconds: LEASE_SECONDS, logger: quiet });
    const openLease = () => PostgresLease.open({ connectionString: db.url, table, name: account, instanceId: id, leaseSeconds: LEASE_SECONDS, logger: quiet });
    const leased = whole ? new LeasedProvider(inner(), openLease, quiet) : inner(openLease);
    const connection = new ProviderConnection(leased, journal, quiet);
    const recovered: PaymentResult[] = [];
    connection.payments.onRecovered((r) => recovered.push(r));
    connection.register({ id: `${id}-user`, onState: () => {} });
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await connection.close();
      await journal.close();
    };
    cleanups.push(stop);
    return {
      id, connection, leased, recovered, stop,
      async pay(request, timeoutMs = 10000) {
        const progress: ProgressEvent[] = [];
        const out = await connection.payments.pay(request, { timeoutMs, onProgress: (e) => progress.push(e) });
        return { ...out, progress };
      },
    };
  }

  async function modulus(stepDelayMs = 40) {
    const sim = new ModulusSimulator({ apiKeys: [MODULUS_KEY], apiSecret: MODULUS_SECRET, stepDelayMs, graceMs: 1000 });
    const { url } = await sim.start();
    cleanups.push(() => sim.stop());
    const table = `handoff_${++tables}`;
    const make = () => new ModulusProvider({
      environment: 'custom', url, apiKey: MODULUS_KEY, apiSecret: MODULUS_SECRET, logger: quiet, pingIntervalMs: 5000, pongTimeoutMs: 2000,
      graceMs: 1000, backoff: { initialMs: 50, maxMs: 200 },
    });
    const displaced = () => sim.sent.filter((f) => (f as { action?: string }).action === 'forceDisconnect').length;
    return { sim, table, make, displaced, charges: (amount: number) => sim.ledger.filter((e) => e.amount === amount).length };
  }

  async function holderAndStandby(m: Awaited<ReturnType<typeof modulus>>) {
    const a = await instance('node-a', m.table, 'modulus:acct', m.make);
    await until('node-a holds the connection', 10000, () => a.leased.state.name === 'connected');
    const b = await instance('node-b', m.table, 'modulus:acct', m.make);
    await until('node-b on standby', 10000, () => b.leased.state.name === 'standby');
    return { a, b };
  }

  const sale = (reference: string, amount: number, terminalId = 'TERM-001'): PaymentRequest => ({ kind: 'sale', amount, currency: 'PHP', reference, terminalId });

  it('one instance holds the Modulus connection; a payment sent to the standby is run by the holder and its result returns to the standby', async () => {
    const m = await modulus();
    const { a, b } = await holderAndStandby(m);
    assert.equal(m.sim.connectionCount, 1, 'only the holder connected');
    const out = await b.pay(sale('H-1', 4200));
    assert.equal(out.result.outcome, 'approved');
    assert.equal(out.duplicate, false);
    assert.ok(out.progress.some((e) => e.event === 'handed_off'), 'the standby\'s flow is told the payment went to the holder');
    assert.equal(m.charges(4200), 1);
    // Asked again on either instance: the journal answers, nothing is charged again.
    for (const inst of [a, b]) {
      const again = await inst.pay(sale('H-1', 4200));
      assert.equal(again.duplicate, true);
      assert.equal(again.result.transactionId, out.result.transactionId);
    }
    assert.equal(m.charges(4200), 1);
    assert.equal(m.displaced(), 0);
    assert.deepEqual([...a.recovered, ...b.recovered], [], 'a result its flow heard is not reported as recovered');
  });

  it('the same reference sent to both at once is charged once, and both flows get the one result', async () => {
    const m = await modulus(80);
    const { a, b } = await holderAndStandby(m);
    const [x, y] = await Promise.all([a.pay(sale('H-2', 4300)), b.pay(sale('H-2', 4300))]);
    assert.equal(m.charges(4300), 1);
    assert.equal(x.result.outcome, 'approved');
    assert.equal(y.result.outcome, 'approved');
    assert.equal(x.result.transactionId, y.result.transactionId);
    assert.equal([x, y].filter((o) => o.duplicate).length, 1, 'one of the two is the duplicate');
  });

  it('a payment the holder refuses before sending comes back as the holder\'s error, and the reference is free again', async () => {
    const m = await modulus();
    const { b } = await holderAndStandby(m);
    // The simulator has no terminal NOPE: the gateway refuses the request outright (nothing charged).
    const err = await b.pay(sale('H-3', 4400, 'NOPE')).then(() => assert.fail('expected a refusal'), (e: unknown) => e);
    assert.ok(isPosError(err), String(err));
    assert.notEqual((err as { code: string }).code, 'standby', (err as Error).message);
    assert.equal(m.charges(4400), 0);
    const retry = await b.pay(sale('H-3', 4400));
    assert.equal(retry.result.outcome, 'approved', 'the same reference may be sent again after a refusal');
    assert.equal(m.charges(4400), 1);
  });

  it('with no holder able to send, a standby\'s payment is withdrawn after the pickup window: error standby, nothing sent, reference free', async () => {
    const m = await modulus();
    // The gateway refuses the key: whoever holds the lease cannot connect, so nobody serves the queue.
    m.sim.setFault('refuseKey', true);
    const a = await instance('node-a', m.table, 'modulus:acct', m.make);
    await until('node-a holds the lease but is refused', 10000, () => a.leased.holding === true && a.leased.state.name === 'unauthorized');
    const b = await instance('node-b', m.table, 'modulus:acct', m.make);
    await until('node-b on standby', 10000, () => b.leased.state.name === 'standby');
    const started = Date.now();
    const err = await b.pay(sale('H-4', 4500), 3000).then(() => assert.fail('expected standby'), (e: unknown) => e);
    assert.ok(isPosError(err) && err.code === 'standby', String(err));
    assert.match((err as Error).message, /nothing was sent/);
    assert.ok(Date.now() - started < 8000, 'within the pickup window (the payment\'s timeout here)');
    assert.equal(m.charges(4500), 0);
    // The reference is free: once the key is accepted again, the same reference pays.
    m.sim.setFault('refuseKey', false);
    await a.stop();
    await until('node-b holds and connects', 10000, () => b.leased.state.name === 'connected');
    const out = await b.pay(sale('H-4', 4500));
    assert.equal(out.result.outcome, 'approved');
    assert.equal(m.charges(4500), 1);
  });

  it('a graceful stop of the holder hands the lease over at once, and the new holder serves the queue', async () => {
    const m = await modulus();
    const { a, b } = await holderAndStandby(m);
    const c = await instance('node-c', m.table, 'modulus:acct', m.make);
    await until('node-c on standby', 10000, () => c.leased.state.name === 'standby');
    const stoppedAt = Date.now();
    await a.stop();
    await until('another instance holds it', 5000, () => b.leased.state.name === 'connected' || c.leased.state.name === 'connected');
    const took = Date.now() - stoppedAt;
    assert.ok(took < 3000, `taken over in ${took} ms`);
    const sender = b.leased.holding ? c : b;
    const out = await sender.pay(sale('H-5', 4600));
    assert.equal(out.result.outcome, 'approved');
    assert.equal(m.charges(4600), 1);
    assert.equal(m.displaced(), 0);
  });

  it('an instance that comes back on standby leaves its own unfinished payment to the holder, which resolves and reports it once', async () => {
    // Slow steps: the payment is still running after the stop's 2 s drain.
    const m = await modulus(3000);
    const a = await instance('node-a', m.table, 'modulus:acct', m.make);
    await until('node-a holds the connection', 10000, () => a.leased.state.name === 'connected');
    // node-b holds first, starts a payment, and stops (gracefully) while it runs: the payment stays pending, owned by node-b.
    await a.stop();
    const b = await instance('node-b', m.table, 'modulus:acct', m.make);
    await until('node-b holds', 10000, () => b.leased.state.name === 'connected');
    const running = b.pay(sale('H-6', 4700)).catch((e: unknown) => e);
    await until('the gateway has the request', 5000, () => JSON.stringify(m.sim.received).includes('47.00'));
    await b.stop();
    const cut = await running;
    assert.ok(isPosError(cut), `cut off by the stop: ${JSON.stringify(cut)}`);
    // node-c holds now; node-b comes back (same id) and finds itself on standby.
    const c = await instance('node-c', m.table, 'modulus:acct', m.make);
    await until('node-c holds', 10000, () => c.leased.state.name === 'connected');
    const b2 = await instance('node-b', m.table, 'modulus:acct', m.make);
    await until('node-b on standby', 10000, () => b2.leased.state.name === 'standby');
    await until('node-c reports the payment node-b left', 25000, () => c.recovered.some((r) => r.reference === 'H-6' && r.outcome === 'approved'));
    await sleep(4000); // more recovery rounds: its outcome reported once (a first 'still running' report may come before it)
    const reports = [...c.recovered, ...b2.recovered].filter((r) => r.reference === 'H-6');
    assert.equal(reports.filter((r) => r.outcome !== 'unknown').length, 1, JSON.stringify(reports.map((r) => r.outcome)));
    assert.deepEqual(b2.recovered, [], 'the standby itself reports nothing: it cannot ask');
    assert.equal(m.charges(4700), 1);
  });

  it('Dojo: only the EPOS socket is leased; the standby takes its own payments at the counter through REST', async () => {
    const sim = new DojoSimulator({ apiKeys: [DOJO_KEY], stepDelayMs: 20, pingIntervalMs: 60_000 });
    const { url } = await sim.start();
    cleanups.push(() => sim.stop());
    const table = `handoff_${++tables}`;
    const make = (lease?: () => Promise<ConnectionLease>) => new DojoProvider({
      environment: 'custom', url, apiKey: DOJO_KEY, softwareHouseId: 'SH-test', logger: quiet, pollIntervalMs: 50, backoff: { initialMs: 50, maxMs: 200 }, ...(lease ? { lease } : {}),
    });
    const a = await instance('node-a', table, 'dojo:acct', make, false);
    await until('node-a holds the EPOS socket', 10000, () => a.leased.state.name === 'connected');
    const b = await instance('node-b', table, 'dojo:acct', make, false);
    await until('node-b on standby, paying itself', 10000, () => b.leased.state.name === 'standby');
    const state = b.leased.state;
    assert.ok(state.name === 'standby' && state.paysHere === true, JSON.stringify(state));
    const out = await b.pay({ kind: 'sale', amount: 1300, currency: 'GBP', reference: 'D-2', terminalId: (await b.leased.listTerminals())[0]!.id });
    assert.equal(out.result.outcome, 'approved', out.result.message);
    assert.ok(!out.progress.some((e) => e.event === 'handed_off'), 'sent from the standby itself');
    assert.equal(sim.openConnections, 1, 'one EPOS socket across the two instances');
    // The holder goes: the standby opens the socket within the lease time.
    await a.stop();
    await until('node-b holds the EPOS socket', 8000, () => b.leased.state.name === 'connected');
    assert.equal(sim.openConnections, 1);
  });
});
