import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { PosError } from '../../lib/core/errors';
import type { ConnectionState, Logger, NotificationEvent } from '../../lib/core/types';
import { QuickPayProvider, type QuickPayOptions } from '../../lib/providers/quickpay/client';
import {
  QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys, type QuickPaySimulatorOptions,
} from '../../lib/simulators/quickpay';

const RATES = 'private-exchange-rate';
const PAYMENTS = `private-payments.${SIMULATOR_MERCHANT_ID}`;
const NOTIFICATIONS = `private-notifications.${SIMULATOR_MERCHANT_ID}`;

function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sockets and timers now; checked after an await, never inside a timer callback (which would count itself). */
const handles = () => process.getActiveResourcesInfo().filter((x) => x === 'TCPSocketWrap' || x === 'Timeout').length;

async function handlesBackTo(baseline: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  for (;;) {
    await sleep(20);
    if (handles() <= baseline) return;
    if (Date.now() > until) assert.fail(`still open after ${withinMs} ms: ${process.getActiveResourcesInfo().join(',')} (baseline ${baseline})`);
  }
}

interface Rig {
  sim: QuickPaySimulator;
  provider: QuickPayProvider;
  states: Array<ConnectionState & { at: number }>;
  events: NotificationEvent[];
  lines: string[];
  stop(): Promise<void>;
}

const rigs: Rig[] = [];

async function rig(simOpts: QuickPaySimulatorOptions = {}, opts: Partial<QuickPayOptions> = {}, topics?: string[]): Promise<Rig> {
  const sim = new QuickPaySimulator({ rateIntervalMs: 100, paymentIntervalMs: 120, ...simOpts });
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
  const states: Rig['states'] = [];
  const events: NotificationEvent[] = [];
  provider.onState((s) => states.push({ ...s, at: Date.now() }));
  provider.onNotification((e) => events.push(e));
  if (topics) provider.setTopics(topics);
  let stopped = false;
  const r: Rig = {
    sim, provider, states, events, lines,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await provider.stop();
      await sim.stop();
    },
  };
  rigs.push(r);
  return r;
}

const last = (r: Rig) => r.provider.state;
const isConnectedWith = (r: Rig, subscribed: number, subscribing = 0) => {
  const s = last(r);
  return s.name === 'connected' && s.channels?.subscribed === subscribed && s.channels.subscribing === subscribing;
};

describe('QuickPay adapter against the simulator', function () {
  this.timeout(20000);

  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.stop();
  });

  it('subscribes rates, payments and a channel by name, and delivers their events', async () => {
    const r = await rig({}, {}, ['rates', 'payments', 'channel:test-channel']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 3), 5000, 'connected with 3 channels');
    assert.deepEqual(last(r), { name: 'connected', channels: { subscribed: 3, subscribing: 0 } });
    assert.ok(r.states.some((s) => s.name === 'connecting'));
    assert.ok(r.states.some((s) => s.name === 'connected' && s.channels && s.channels.subscribing > 0), 'subscribing was shown on the way');
    await waitFor(() => [RATES, PAYMENTS, 'test-channel'].every((c) => r.events.some((e) => e.channel === c)), 5000, 'events on all three channels');

    const rate = r.events.find((e) => e.channel === RATES)!;
    assert.equal(rate.event, 'exchange.rate.updated');
    assert.equal(rate.provider, 'quickpay');
    assert.equal(typeof (rate.data as { rate: unknown }).rate, 'number');
    assert.equal(rate.reference, undefined);
    assert.ok(!Number.isNaN(Date.parse(rate.receivedAt)));
    const pay = r.events.find((e) => e.channel === PAYMENTS)!;
    assert.equal(pay.event, 'payment.status.updated');
    assert.match(pay.reference ?? '', /^pay_\d+$/);
    assert.equal(pay.reference, (pay.data as { payment_id: string }).payment_id);
    const test = r.events.find((e) => e.channel === 'test-channel')!;
    assert.equal(test.event, 'test-event');
    assert.equal((test.data as { message: string }).message, 'hello');
    assert.ok(!r.events.some((e) => e.event.startsWith('pusher')), 'no protocol events reach the flow');

    // Private channels only: one auth call each, all accepted; the public one needs none.
    assert.deepEqual(r.sim.authCalls.map((c) => [c.channel, c.ok]).sort(), [[RATES, true], [PAYMENTS, true]]);
    assert.equal(r.provider.channelsOf(['payments']).join(), PAYMENTS);
  });

  it('follows setTopics while connected: unsubscribes what is no longer wanted, subscribes what is new', async () => {
    const r = await rig({ rateIntervalMs: 0, paymentIntervalMs: 0 }, {}, ['rates', 'payments']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 2), 5000, 'connected with 2');
    r.provider.setTopics(['rates', 'notifications', 'bogus-topic']);
    await waitFor(() => isConnectedWith(r, 2) && r.sim.subscriptions.some((s) => s.channel === NOTIFICATIONS), 5000, 'notifications subscribed');
    await waitFor(() => !r.sim.subscriptions.some((s) => s.channel === PAYMENTS), 2000, 'payments unsubscribed');
    r.sim.publishNotification('info', 'Hello', 'World');
    await waitFor(() => r.events.some((e) => e.channel === NOTIFICATIONS), 3000, 'a notification');
    assert.equal(r.events[0]!.event, 'system.notification');
    assert.equal(r.lines.filter((l) => l.includes('"bogus-topic" ignored')).length, 1);
    r.provider.setTopics(['rates', 'notifications', 'bogus-topic']);
    assert.equal(r.lines.filter((l) => l.includes('"bogus-topic" ignored')).length, 1, 'logged once');
  });

  it('wrong app key: an error state naming 4001, and no reconnect loop', async () => {
    const r = await rig({}, { appKey: 'wrongAppKey1' }, ['rates']);
    r.provider.start();
    await waitFor(() => last(r).name === 'error', 5000, 'error state');
    const s = last(r) as { name: 'error'; reason: string };
    assert.match(s.reason, /4001/);
    assert.match(s.reason, /app key/);
    const accepted = r.sim.connectionsAccepted;
    assert.ok(accepted >= 1);
    await sleep(3000);
    assert.equal(r.sim.connectionsAccepted, accepted, 'no new connection after the refusal');
    assert.equal(last(r).name, 'error');
    // start() again is the way out: exactly one new attempt.
    r.provider.start();
    await waitFor(() => r.sim.connectionsAccepted === accepted + 1 && last(r).name === 'error', 3000, 'one more attempt');
    await sleep(1200);
    assert.equal(r.sim.connectionsAccepted, accepted + 1);
  });

  it('rejected auth: unauthorized, one auth call per channel, the public channel goes on, no retry within a minute after a reconnect', async () => {
    const r = await rig({ paymentIntervalMs: 0 }, {}, ['rates', 'payments', 'channel:test-channel']);
    r.sim.setFault('rejectAuth', true);
    r.provider.start();
    await waitFor(() => last(r).name === 'unauthorized' && r.sim.authCalls.length === 2, 5000, 'unauthorized');
    await waitFor(() => r.events.some((e) => e.channel === 'test-channel'), 3000, 'test-channel events');
    const s = last(r) as { name: 'unauthorized'; reason: string };
    assert.match(s.reason, /^QuickPay refused the channel authorisation for private-/);
    assert.match(s.reason, /401/);
    assert.match(s.reason, /check the API key, the private key and the merchant id/);
    await sleep(1000);
    assert.equal(r.sim.authCalls.length, 2, 'no further auth calls');
    const before = r.sim.authCalls.length;
    const socket = r.sim.subscriptions.find((x) => x.channel === 'test-channel')!.socketId;
    r.sim.dropAll();
    await waitFor(() => r.sim.subscriptions.some((x) => x.channel === 'test-channel' && x.socketId !== socket), 5000, 'test-channel again on a new socket');
    await sleep(500);
    assert.equal(r.sim.authCalls.length, before, 'refused channels are not asked for again within a minute, reconnect or not');
    assert.equal(last(r).name, 'unauthorized');
    // Fixed on QuickPay's side; start() again asks once more, on the same connection.
    r.sim.setFault('rejectAuth', false);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 3), 5000, 'all three subscribed');
    assert.equal(r.sim.authCalls.filter((c) => c.ok).length, 2);
  });

  it('a JWT signed with the wrong key: unauthorized, the simulator saw an invalid signature, no crash', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const r = await rig({ paymentIntervalMs: 0 }, { privateKeyPem: other.privateKey }, ['payments']);
    r.provider.start();
    await waitFor(() => last(r).name === 'unauthorized', 5000, 'unauthorized');
    assert.deepEqual(r.sim.authCalls.map((c) => [c.channel, c.ok, c.reason]), [[PAYMENTS, false, 'invalid_signature']]);
    await sleep(800);
    assert.equal(r.sim.authCalls.length, 1);
  });

  it('a server-side signature refusal (subscription_error 401) is unauthorized too, without a loop', async () => {
    const r = await rig({ paymentIntervalMs: 0 }, {}, ['rates']);
    r.sim.setFault('badSignature', true);
    r.provider.start();
    await waitFor(() => last(r).name === 'unauthorized', 5000, 'unauthorized');
    assert.match((last(r) as { reason: string }).reason, /status 401/);
    await sleep(800);
    assert.equal(r.sim.authCalls.length, 1);
  });

  it('an auth endpoint that fails (not a refusal) is retried with backoff while the connection stays up', async () => {
    const r = await rig({ paymentIntervalMs: 0 }, { authPath: '/v1/nowhere' }, ['rates']);
    r.provider.start();
    await waitFor(() => r.lines.filter((l) => l.includes('subscribing to private-exchange-rate failed')).length >= 3, 5000, 'three failures');
    const s = last(r);
    assert.deepEqual(s, { name: 'connected', channels: { subscribed: 0, subscribing: 1 } });
    assert.equal(r.sim.connectionsAccepted, 1, 'the connection was kept');
    assert.equal(r.lines.filter((l) => l.startsWith('warn') && l.includes('subscribing to')).length, 1, 'one warning, then debug lines');
  });

  it('dropAll: reconnects, authorises again with the new socket id, events flow again, none twice', async () => {
    const r = await rig({}, {}, ['rates', 'payments']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 2), 5000, 'connected');
    await waitFor(() => r.events.filter((e) => e.channel === RATES).length >= 3, 3000, 'rates');
    const firstSocket = r.sim.authCalls[0]!.socketId;
    const before = r.events.length;
    r.sim.dropAll();
    await waitFor(() => r.states.some((s) => s.name === 'reconnecting'), 3000, 'reconnecting');
    await waitFor(() => r.sim.authCalls.filter((c) => c.socketId !== firstSocket && c.ok).length === 2, 6000, 'auth with the new socket id');
    await waitFor(() => isConnectedWith(r, 2), 5000, 'connected again');
    const afterReconnect = r.events.length;
    await waitFor(() => r.events.length >= afterReconnect + 3, 3000, 'events after the reconnect');
    assert.ok(afterReconnect >= before);
    const newSocket = r.sim.authCalls.at(-1)!.socketId;
    assert.notEqual(newSocket, firstSocket);
    assert.deepEqual(r.sim.authCalls.filter((c) => c.socketId === newSocket).map((c) => c.channel).sort(), [RATES, PAYMENTS]);
    const reconnecting = r.states.find((s) => s.name === 'reconnecting') as { attempt: number; delayMs: number; reason: string };
    assert.equal(reconnecting.attempt, 1);
    const keys = r.events.map((e) => `${e.channel}|${e.event}|${JSON.stringify(e.data)}`);
    assert.equal(new Set(keys).size, keys.length, 'no event delivered twice');
  });

  it('malformed frames and non-JSON data are dropped with a log line; the connection stays', async () => {
    const r = await rig({ paymentIntervalMs: 0 }, {}, ['rates']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected');
    await waitFor(() => r.events.length >= 1, 3000, 'a rate');
    r.sim.setFault('malformedFrames', true);
    const before = r.events.length;
    await waitFor(() => r.events.length >= before + 3, 3000, 'good events between the bad frames');
    r.sim.setFault('malformedFrames', false);
    assert.ok(r.lines.some((l) => /^warn QuickPay: dropped a frame that is not JSON: this is not JSON \{/.test(l)), 'non-JSON frame logged');
    assert.ok(r.lines.some((l) => /^warn QuickPay: dropped a frame \(.*event/.test(l)), 'frame without event logged');
    assert.ok(r.lines.some((l) => /^warn QuickPay: dropped exchange\.rate\.updated on private-exchange-rate: its data is not JSON: this data is not JSON/.test(l)), 'non-JSON data logged');
    assert.ok(r.events.every((e) => typeof e.data === 'object' && e.data !== null), 'only parsed data reaches the flow');
    assert.equal(r.sim.connectionsAccepted, 1, 'same connection');
    assert.ok(isConnectedWith(r, 1));
  });

  it('close 4100: our backoff reconnects after at least 1 s; close 4200: pusher-js reconnects at once', async () => {
    const r = await rig({ rateIntervalMs: 0, paymentIntervalMs: 0 }, {}, ['rates']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected');
    const t0 = Date.now();
    r.sim.setFault('closeWith4100', true);
    await waitFor(() => r.sim.connectionsAccepted === 2, 5000, 'second connection');
    const waited = Date.now() - t0;
    assert.ok(waited >= 1000, `reconnected after ${waited} ms`);
    const rec = r.states.find((s) => s.name === 'reconnecting') as { delayMs: number; reason: string };
    assert.ok(rec.delayMs >= 1000);
    assert.match(rec.reason, /4100/);
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected again');
    await sleep(1500);
    assert.equal(r.sim.connectionsAccepted, 2, 'no storm');

    const t1 = Date.now();
    r.sim.setFault('closeWith4200', true);
    await waitFor(() => r.sim.connectionsAccepted === 3, 5000, 'third connection');
    const quick = Date.now() - t1;
    assert.ok(quick < 900, `4200 reconnected after ${quick} ms`);
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected after 4200');
  });

  it('consecutive 4100 closes back off further each time (1 s doubling), not every second', async () => {
    const r = await rig({ rateIntervalMs: 0, paymentIntervalMs: 0 }, { backoff: { initialMs: 1000, maxMs: 30000 } }, ['rates']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected');
    r.sim.setFault('closeWith4100', true);
    await waitFor(() => r.sim.connectionsAccepted === 2, 5000, 'second connection');
    const t = Date.now();
    r.sim.setFault('closeWith4100', true);
    await waitFor(() => r.sim.connectionsAccepted === 3, 6000, 'third connection');
    const gap = Date.now() - t;
    const delays = r.states.filter((s) => s.name === 'reconnecting').map((s) => (s as { delayMs: number }).delayMs);
    assert.equal(delays.length, 2);
    assert.ok(delays[0]! >= 1000 && delays[0]! <= 1250, `first delay ${delays[0]}`);
    assert.ok(delays[1]! >= 1500 && delays[1]! <= 2500, `second delay ${delays[1]}`);
    assert.ok(gap >= 1500, `second reconnect after ${gap} ms`);
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected in the end');
  });

  it('a server that stops answering pings is left and connected again', async () => {
    const r = await rig({ rateIntervalMs: 0, paymentIntervalMs: 0 }, { activityTimeoutMs: 200, pongTimeoutMs: 200 }, ['rates']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected');
    r.sim.setFault('stopPonging', true);
    await waitFor(() => r.sim.connectionsAccepted >= 2, 5000, 'a new connection after the missed pong');
    r.sim.setFault('stopPonging', false);
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected again');
  });

  it('stop() resolves within 2 s and leaves no socket or timer behind; it can start again', async () => {
    const r = await rig({}, {}, ['rates', 'payments', 'channel:test-channel']);
    const baseline = handles();
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 3), 5000, 'connected');
    await waitFor(() => r.events.length > 2, 3000, 'events');
    assert.ok(handles() > baseline);
    const t = Date.now();
    await r.provider.stop();
    assert.ok(Date.now() - t < 2000, `stop took ${Date.now() - t} ms`);
    assert.equal(last(r).name, 'closed');
    await handlesBackTo(baseline, 1000);
    const n = r.events.length;
    await sleep(300);
    assert.equal(r.events.length, n, 'nothing after stop');

    r.provider.start();
    await waitFor(() => isConnectedWith(r, 3), 5000, 'connected after a restart');
    await r.provider.stop();
    await handlesBackTo(baseline, 1000);
  });

  it('stop() while the connection is retrying leaves nothing behind either', async () => {
    await sleep(1); // mocha's own test timer is listed from here on
    const baseline = handles();
    const r = await rig({ rateIntervalMs: 0, paymentIntervalMs: 0 }, {}, ['rates']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 1), 5000, 'connected');
    r.sim.setFault('closeWith4100', true);
    await waitFor(() => last(r).name === 'reconnecting', 3000, 'reconnecting');
    await r.stop();
    await handlesBackTo(baseline, 1000);
  });

  it('never writes the API key, the private key, JWTs or auth signatures to logs, states or events', async () => {
    const r = await rig({}, {}, ['rates', 'payments', 'channel:test-channel']);
    r.provider.start();
    await waitFor(() => isConnectedWith(r, 3), 5000, 'connected');
    await waitFor(() => r.events.length > 5, 3000, 'events');
    r.sim.dropAll();
    await waitFor(() => r.sim.authCalls.length >= 4, 5000, 'a second round of auth calls');
    await r.stop();
    assert.ok(r.lines.some((l) => l.includes('pusher:subscribe')), 'pusher-js debug lines are there (they carry the subscribe frames)');
    const pemLines = simulatorKeys().privateKeyPem.split('\n').filter((l) => l.length > 30);
    const texts = [...r.lines, ...r.states.map((s) => JSON.stringify(s)), ...r.events.map((e) => JSON.stringify(e))];
    for (const t of texts) {
      assert.ok(!t.includes(SIMULATOR_API_KEY), `API key in: ${t.slice(0, 200)}`);
      assert.ok(!/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.test(t), `JWT in: ${t.slice(0, 200)}`);
      assert.ok(!/[0-9a-f]{64}/.test(t), `signature in: ${t.slice(0, 200)}`);
      for (const l of pemLines) assert.ok(!t.includes(l), 'private key in a log line');
    }
  });

  it('is a notification source only: every other capability is a clear error', async () => {
    const r = await rig();
    assert.deepEqual(r.provider.capabilities, { pay: false, refund: false, cancel: false, signature: false, terminals: false, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false });
    assert.equal(r.provider.name, 'quickpay');
    await assert.rejects(r.provider.pay(), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    await assert.rejects(r.provider.cancel('x'), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    await assert.rejects(r.provider.answerSignature('x', true), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    await assert.rejects(r.provider.listTerminals(), (e: unknown) => e instanceof PosError && e.code === 'capability_missing');
    assert.equal((await r.provider.lookup()).found, 'cannot_ask');
    assert.equal(r.provider.state.name, 'idle');
  });

  it('refuses a bad configuration in the constructor, without quoting secrets', () => {
    const base: QuickPayOptions = {
      environment: 'custom', url: 'http://127.0.0.1:1', appKey: SIMULATOR_APP_KEY, merchantId: 'm', apiKey: 'k_SECRET_1234', privateKeyPem: simulatorKeys().privateKeyPem,
    };
    const bad: Array<Partial<QuickPayOptions>> = [
      { privateKeyPem: '-----BEGIN PRIVATE KEY-----\nk_SECRET_1234garbage\n-----END PRIVATE KEY-----' }, { apiKey: '' }, { apiKey: 'a b' },
      { appKey: '' }, { merchantId: 'bad id' }, { url: 'ftp://x' }, { environment: 'nope' as 'test' }, { authTimeoutMs: -1 },
    ];
    for (const b of bad) {
      assert.throws(() => new QuickPayProvider({ ...base, ...b }), (e: unknown) => {
        assert.ok(e instanceof PosError && e.code === 'bad_input', `${JSON.stringify(b).slice(0, 60)}: ${String(e)}`);
        assert.ok(!e.message.includes('k_SECRET_1234'));
        return true;
      });
    }
    // The in-process simulator's URL comes later, through prepare().
    assert.doesNotThrow(() => new QuickPayProvider({ ...base, url: undefined }, async () => ({ url: 'http://127.0.0.1:2' })));
  });

  it('takes the custom base from prepare() before connecting', async () => {
    const sim = new QuickPaySimulator({ rateIntervalMs: 50, paymentIntervalMs: 0 });
    const provider = new QuickPayProvider({
      environment: 'custom', url: 'http://127.0.0.1:1', appKey: SIMULATOR_APP_KEY, merchantId: SIMULATOR_MERCHANT_ID,
      apiKey: SIMULATOR_API_KEY, privateKeyPem: simulatorKeys().privateKeyPem,
    }, async () => ({ url: (await sim.start()).apiUrl }));
    const events: NotificationEvent[] = [];
    provider.onNotification((e) => events.push(e));
    provider.setTopics(['rates']);
    provider.start();
    try {
      await waitFor(() => events.length > 0, 5000, 'a rate through the prepared URL');
    } finally {
      await provider.stop();
      await sim.stop();
    }
  });
});
