// A refused QuickPay channel authorisation is asked for again (issue 14): on the next
// connection, then on a back-off, never more than once per channel per refusedRetry.minMs,
// and the channels subscribe by themselves once QuickPay accepts again. Intervals are scaled
// down through the injectable refusedRetry; every loop is bounded in count and time.
import assert from 'node:assert/strict';
import type { ConnectionState, Logger, NotificationEvent } from '../../lib/core/types';
import { QuickPayProvider, type QuickPayOptions } from '../../lib/providers/quickpay/client';
import {
  QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys,
} from '../../lib/simulators/quickpay';

const RATES = 'private-exchange-rate';
const PAYMENTS = `private-payments.${SIMULATOR_MERCHANT_ID}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Rig {
  sim: QuickPaySimulator;
  provider: QuickPayProvider;
  events: NotificationEvent[];
  lines: string[];
  /** Every auth call the simulator answered, with the time it was first seen (polled every 5 ms). */
  calls: Array<{ channel: string; socketId: string; ok: boolean; at: number }>;
  stop(): Promise<void>;
}

const rigs: Rig[] = [];

async function rig(opts: Partial<QuickPayOptions>, topics: string[]): Promise<Rig> {
  const sim = new QuickPaySimulator({ rateIntervalMs: 100, paymentIntervalMs: 120 });
  const { apiUrl } = await sim.start();
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`), info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`),
  };
  const provider = new QuickPayProvider({
    environment: 'custom', url: apiUrl, appKey: SIMULATOR_APP_KEY, merchantId: SIMULATOR_MERCHANT_ID,
    apiKey: SIMULATOR_API_KEY, privateKeyPem: simulatorKeys().privateKeyPem, logger, authTimeoutMs: 3000,
    backoff: { initialMs: 50, maxMs: 400 }, ...opts,
  });
  const events: NotificationEvent[] = [];
  provider.onNotification((e) => events.push(e));
  provider.setTopics(topics);
  const calls: Rig['calls'] = [];
  const poll = setInterval(() => {
    for (const c of sim.authCalls.slice(calls.length)) calls.push({ channel: c.channel, socketId: c.socketId, ok: c.ok, at: Date.now() });
  }, 5);
  let stopped = false;
  const r: Rig = {
    sim, provider, events, lines, calls,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(poll);
      await provider.stop();
      await sim.stop();
    },
  };
  rigs.push(r);
  return r;
}

const state = (r: Rig): ConnectionState => r.provider.state;
const reason = (r: Rig): string => (state(r) as { reason?: string }).reason ?? '';
const callsFor = (r: Rig, channel: string) => r.calls.filter((c) => c.channel === channel);
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

describe('QuickPay: a refused channel is asked for again', function () {
  this.timeout(30000);

  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.stop();
  });

  it('names every refused channel in the state, and says it asks again', async () => {
    const r = await rig({ refusedRetry: { minMs: 60_000, maxMs: 900_000 } }, ['rates', 'payments', 'channel:test-channel']);
    r.sim.setFault('rejectAuth', true);
    r.provider.start();
    await waitFor(() => state(r).name === 'unauthorized' && callsFor(r, RATES).length === 1 && callsFor(r, PAYMENTS).length === 1, 5000, 'both refused');
    await waitFor(() => reason(r).includes(RATES) && reason(r).includes(PAYMENTS), 2000, 'both channels named');
    assert.match(reason(r), /^QuickPay refused the channel authorisation for /);
    assert.match(reason(r), /HTTP 401/);
    assert.match(reason(r), /asked again on the next connection and at least every 15 min/);
    assert.doesNotMatch(reason(r), /test-channel/, 'the public channel is not refused');
  });

  it('a reconnect storm: a new connection asks again, but never more than once per channel per minMs', async () => {
    const minMs = 1000;
    const r = await rig({ refusedRetry: { minMs, maxMs: 4 * minMs } }, ['rates', 'payments']);
    r.sim.setFault('rejectAuth', true);
    r.provider.start();
    await waitFor(() => callsFor(r, RATES).length === 1 && callsFor(r, PAYMENTS).length === 1 && state(r).name === 'unauthorized', 5000, 'refused once');
    const firstSocket = callsFor(r, RATES)[0]!.socketId;
    // 20 drops, one every 150 ms (3 s): pusher-js reconnects after each.
    const stormStart = Date.now();
    for (let i = 0; i < 20; i++) {
      r.sim.dropAll();
      await sleep(150);
    }
    const stormMs = Date.now() - stormStart;
    await sleep(300);
    for (const channel of [RATES, PAYMENTS]) {
      const calls = callsFor(r, channel);
      // Asked again (on a later connection), yet bounded: at most one call per minMs.
      assert.ok(calls.length >= 2, `${channel} was asked for again: ${calls.length} call(s)`);
      assert.ok(calls.length <= 2 + Math.ceil(stormMs / minMs), `${channel}: ${calls.length} auth calls in ${stormMs} ms`);
      assert.ok(calls.slice(1).every((c) => c.socketId !== firstSocket), `asked again on a new socket: ${JSON.stringify(calls.map((c) => [c.socketId, c.at - stormStart]))}`);
      for (const gap of gaps(calls.map((c) => c.at))) assert.ok(gap >= minMs - 60, `${channel}: two auth calls ${gap} ms apart`);
    }
    assert.equal(state(r).name === 'unauthorized' || state(r).name === 'connecting' || state(r).name === 'reconnecting', true);
  });

  it('while connected, asks again on a back-off from minMs doubling to maxMs', async () => {
    const minMs = 250;
    const maxMs = 1000;
    const r = await rig({ refusedRetry: { minMs, maxMs } }, ['rates']);
    r.sim.setFault('rejectAuth', true);
    r.provider.start();
    await waitFor(() => callsFor(r, RATES).length >= 6, 12_000, 'six auth calls');
    const g = gaps(callsFor(r, RATES).map((c) => c.at));
    // Expected 250, 500, 1000, 1000, 1000 ms; timers run late on a loaded machine, never early.
    assert.ok(g.every((x) => x >= minMs - 30), `gaps ${g.join(', ')}`);
    assert.ok(g[1]! >= 2 * minMs - 30 && g[2]! >= maxMs - 30, `the back-off doubles: ${g.join(', ')}`);
    assert.ok(g.slice(2).every((x) => x < maxMs + 900), `capped at maxMs: ${g.join(', ')}`);
    assert.equal(r.sim.connectionsAccepted, 1, 'one connection throughout');
    assert.equal(r.lines.filter((l) => l.startsWith('warn') && l.includes('refused the channel authorisation')).length, 1, 'one warning, then debug lines');
  });

  it('the channels subscribe by themselves when QuickPay accepts again (HTTP 401 from the auth endpoint)', async () => {
    const r = await rig({ refusedRetry: { minMs: 300, maxMs: 1200 } }, ['rates', 'payments']);
    r.sim.setFault('rejectAuth', true);
    r.provider.start();
    await waitFor(() => state(r).name === 'unauthorized' && reason(r).includes(PAYMENTS), 5000, 'refused');
    r.sim.setFault('rejectAuth', false);
    const fixedAt = Date.now();
    await waitFor(() => {
      const s = state(r);
      return s.name === 'connected' && s.channels?.subscribed === 2 && s.channels.subscribing === 0;
    }, 5000, 'both subscribed without start()');
    assert.ok(Date.now() - fixedAt < 1200 + 1500, 'within the back-off cap');
    const since = r.events.length;
    await waitFor(() => r.events.slice(since).some((e) => e.channel === PAYMENTS) && r.events.slice(since).some((e) => e.channel === RATES), 5000, 'events on both');
    assert.ok(r.lines.some((l) => l.startsWith('info') && l.includes(`accepted the channel authorisation for ${PAYMENTS} again`)));
    assert.equal(r.sim.connectionsAccepted, 1);
  });

  it('a signature the server rejects (subscription_error 401) is asked for again too, and recovers', async () => {
    const r = await rig({ refusedRetry: { minMs: 300, maxMs: 600 } }, ['payments']);
    r.sim.setFault('badSignature', true);
    r.provider.start();
    await waitFor(() => state(r).name === 'unauthorized', 5000, 'refused');
    assert.match(reason(r), /status 401/);
    assert.ok(reason(r).includes(PAYMENTS));
    await waitFor(() => callsFor(r, PAYMENTS).length >= 3, 5000, 'asked again twice');
    const g = gaps(callsFor(r, PAYMENTS).map((c) => c.at));
    assert.ok(g.every((x) => x >= 300 - 30), `gaps ${g.join(', ')}`);
    r.sim.setFault('badSignature', false);
    await waitFor(() => {
      const s = state(r);
      return s.name === 'connected' && s.channels?.subscribed === 1;
    }, 5000, 'subscribed again');
    await waitFor(() => r.events.some((e) => e.channel === PAYMENTS), 5000, 'a payment event');
  });

  it('stop() while a refused channel waits leaves no timer behind', async () => {
    const r = await rig({ refusedRetry: { minMs: 60_000, maxMs: 900_000 } }, ['rates']);
    r.sim.setFault('rejectAuth', true);
    const before = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    r.provider.start();
    await waitFor(() => state(r).name === 'unauthorized', 5000, 'refused');
    await r.provider.stop();
    await sleep(50);
    // The rig's own 5 ms poll is one Timeout of its own; the refused channel's 60 s timer must be gone.
    const after = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    assert.ok(after <= before, `timers before ${before}, after stop ${after}`);
  });
});
