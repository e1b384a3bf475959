// Displaced by another client mid-payment (forceDisconnect), a Modulus payment is looked up
// over the signed HTTP API until its deadline and ends with its real outcome, with no
// reconnect (issue 14). Against the Modulus simulator; every wait is bounded.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { PosError } from '../../lib/core/errors';
import type { PaymentAttempt } from '../../lib/core/provider';
import type { PaymentRequest, ProgressEvent } from '../../lib/core/types';
import { ModulusProvider, type ModulusOptions } from '../../lib/providers/modulus/client';
import { ModulusSimulator, type ModulusSimulatorOptions } from '../../lib/simulators/modulus';
import { until } from '../support/until';

const KEY = 'mk_test_SECRET_displaced_91aa';
const SECRET = 'ms_test_SECRET_displaced_27bc';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function attempt(request: Partial<PaymentRequest>, timeoutMs: number): PaymentAttempt & { progress: ProgressEvent[] } {
  const progress: ProgressEvent[] = [];
  return {
    request: { kind: 'sale', amount: 1250, currency: 'PHP', reference: `D-${randomUUID().slice(0, 8)}`, terminalId: 'TERM-001', ...request },
    attemptId: randomUUID(),
    deadline: Date.now() + timeoutMs,
    onProgress: (e) => progress.push(e),
    note: async () => undefined,
    progress,
  };
}

describe('modulus: displaced mid-payment', function () {
  this.timeout(15000);
  const cleanups: Array<() => unknown> = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(simOpts: ModulusSimulatorOptions, opts: Partial<ModulusOptions>) {
    const simLines: string[] = [];
    const sim = new ModulusSimulator({ apiKeys: [KEY], apiSecret: SECRET, graceMs: 200, logger: (l: string) => simLines.push(l), ...simOpts });
    const { url } = await sim.start();
    cleanups.push(() => sim.stop());
    const lines: string[] = [];
    const provider = new ModulusProvider({
      environment: 'custom', url, apiKey: KEY, pingIntervalMs: 5000, pongTimeoutMs: 1000, graceMs: 200,
      backoff: { initialMs: 20, maxMs: 100 },
      logger: { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) },
      ...opts,
    });
    cleanups.push(() => provider.stop());
    provider.start();
    await until(() => provider.state.name === 'connected', 'connected', 3000);
    const lookups = () => simLines.filter((l) => l.includes('HTTP GET transaction')).length;
    /** Another client with the same key: the simulator sends us forceDisconnect. */
    const displace = async () => {
      const other = new WebSocket(`${url}/v1`, { headers: { 'x-api-key': KEY } });
      cleanups.push(() => other.terminate());
      await new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); });
      await until(() => provider.state.name === 'displaced', 'displaced', 3000);
      return other;
    };
    return { sim, provider, lines, lookups, displace };
  }

  for (const [amount, outcome] of [[1250, 'approved'], [1251, 'declined'], [1254, 'cancelled']] as const) {
    it(`with the API secret: ends ${outcome} (amount ${amount}) from the HTTP look-up, no reconnect`, async () => {
      const { sim, provider, lines, lookups, displace } = await setup({ stepDelayMs: 600 }, { apiSecret: SECRET, displacedLookupIntervalMs: 100 });
      const a = attempt({ amount }, 5000);
      const started = Date.now();
      const result = provider.pay(a);
      await sleep(50);
      await displace();
      const r = await result;
      assert.equal(r.outcome, outcome);
      assert.equal(r.transactionId, a.attemptId);
      assert.ok(Date.now() - started < 4000, 'ended well before the 5 s deadline');
      assert.ok(a.progress.some((p) => p.event === 'displaced'), 'a displaced progress event');
      assert.ok(lines.some((l) => /result recovered from the Terminal Gateway HTTP API/.test(l)));
      // About one look-up per 100 ms while the 600 ms payment runs; bounded, not a tight loop.
      assert.ok(lookups() >= 1 && lookups() <= 20, `${lookups()} look-ups`);
      await sleep(300);
      assert.equal(sim.connectionsAccepted, 2, 'ours and the other client, nothing more');
      assert.equal(provider.state.name, 'displaced');
      assert.equal(sim.ledger.length, 1, 'charged once');
      assert.equal(sim.received.filter((f: any) => f.action === 'payment').length, 1, 'the payment frame went once');
      assert.ok(!lines.join('\n').includes(SECRET) && !lines.join('\n').includes(KEY));
    });
  }

  it('still running at its deadline: unknown (timeout) saying displaced and in progress; look-ups stop there', async () => {
    const { provider, lookups, displace } = await setup({ stepDelayMs: 6000 }, { apiSecret: SECRET, displacedLookupIntervalMs: 100 });
    const a = attempt({}, 700);
    const result = provider.pay(a).then(() => undefined, (e: unknown) => e);
    await sleep(50);
    await displace();
    const err = await result;
    assert.ok(err instanceof PosError && err.code === 'timeout', String(err));
    assert.match((err as Error).message, /another client using the same API key took over/);
    assert.match((err as Error).message, /still reports it as in progress/);
    const n = lookups();
    // 700 ms at one per 100 ms, plus the deadline's own look-up.
    assert.ok(n >= 2 && n <= 10, `${n} look-ups`);
    await sleep(400);
    assert.equal(lookups(), n, 'no look-up after the deadline');
  });

  it('without the API secret it ends at once, as before, and says the secret would look it up', async () => {
    const { provider, lookups, displace } = await setup({ stepDelayMs: 600 }, {});
    const result = provider.pay(attempt({}, 5000)).then(() => undefined, (e: unknown) => e);
    await sleep(50);
    const started = Date.now();
    await displace();
    const err = await result;
    assert.ok(Date.now() - started < 500);
    assert.ok(err instanceof PosError && err.code === 'timeout', String(err));
    assert.match((err as Error).message, /displaced.*NEW_CONNECTION.*set the API secret/);
    assert.equal(lookups(), 0);
  });

  it('stop() while looking up ends the payment and leaves no timer', async () => {
    const { provider, lookups, displace } = await setup({ stepDelayMs: 6000 }, { apiSecret: SECRET, displacedLookupIntervalMs: 100 });
    const result = provider.pay(attempt({}, 5000)).then(() => undefined, (e: unknown) => e);
    await sleep(50);
    await displace();
    await until(() => lookups() >= 1, 'a look-up', 3000);
    await provider.stop();
    const err = await result;
    assert.ok(err instanceof PosError && err.code === 'timeout', String(err));
    const n = lookups();
    await sleep(300);
    assert.ok(lookups() <= n + 1, 'at most the look-up already in flight');
  });
});
