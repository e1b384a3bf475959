// QuickPay through the nodes: notification nodes choose streams and channels, the connection
// subscribes to their union and each node gets its own channels' events; a wrong app key, a
// refused authorisation, a dropped socket and malformed frames, as a person would meet them.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { QuickPaySimulator, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';
import { collect, helper, statuses, until, type Msg } from './harness';

const API_KEY = 'qp_SECRET_nodes_key_9a4c';
const PAYMENTS = `private-payments.${SIMULATOR_MERCHANT_ID}`;

const quickpayNodes = [
  require('../../nodes/pos-quickpay.js'),
  require('../../nodes/pos-notification-in.js'),
];

describe('QuickPay stream (nodes)', function () {
  this.timeout(30000);
  let sim: QuickPaySimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new QuickPaySimulator({ apiKeys: [API_KEY], rateIntervalMs: 0, paymentIntervalMs: 0 });
    ({ apiUrl: url } = await sim.start());
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  const at = (y: number) => ({ z: 'tab', x: 100, y });
  const flow = (config: Record<string, unknown> = {}, withPayments = true) => [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'pos-quickpay', name: 'qp', environment: 'custom', url, appKey: 'pagCMLx6TXrb', merchantId: SIMULATOR_MERCHANT_ID, verifyTls: true, paymentEvent: 'payment.status.updated', notificationEvent: 'system.notification', ...config },
    { id: 'rates', type: 'pos-notification-in', ...at(100), provider: 'quickpay', quickpay: 'cfg', streams: 'rates', channel: '', events: '', wires: [['rate']] },
    ...(withPayments ? [{ id: 'pays', type: 'pos-notification-in', ...at(140), provider: 'quickpay', quickpay: 'cfg', streams: 'payments', channel: 'test-channel', events: '', wires: [['pay']] }] : []),
    { id: 'rate', type: 'helper', ...at(180) }, { id: 'pay', type: 'helper', ...at(220) },
  ];
  const state = () => helper.getNode('cfg')?.connection?.provider.state as { name: string; reason?: string; channels?: { subscribed: number; subscribing: number } } | undefined;
  const subscribed = (channel: string) => sim.subscriptions.some((s) => s.channel === channel);

  async function load(config: Record<string, unknown> = {}, privateKey = simulatorKeys().privateKeyPem) {
    await helper.load(quickpayNodes, flow(config), { cfg: { apiKey: API_KEY, privateKey } });
  }

  it('each node gets the events of its own streams and channel; the status counts the channels', async () => {
    await load();
    const status = statuses('rates');
    await until(() => state()?.channels?.subscribed === 3 && state()?.channels?.subscribing === 0, 'three channels subscribed', 10000);
    const rates = collect('rate');
    const pays = collect('pay');
    sim.publish('private-exchange-rate', 'exchange.rate.updated', { fiatCurrency: 'USD', cryptoCurrency: 'USDT', rate: 1.0002, timestamp: 1640995200 });
    sim.publishPayment('completed', { payment_id: 'pay_42' });
    sim.publish('test-channel', 'test-event', { message: 'hello' });
    await until(() => rates.length === 1 && pays.length === 2, 'the events', 5000);
    const rate = rates[0]!;
    assert.equal(rate.topic, 'exchange.rate.updated');
    assert.equal(rate.payload.provider, 'quickpay');
    assert.equal(rate.payload.channel, 'private-exchange-rate');
    assert.deepEqual(rate.payload.data, { fiatCurrency: 'USD', cryptoCurrency: 'USDT', rate: 1.0002, timestamp: 1640995200 });
    const payment = pays.find((m: Msg) => m.topic === 'payment.status.updated')!;
    assert.equal(payment.payload.channel, PAYMENTS);
    assert.equal(payment.payload.reference, 'pay_42');
    assert.equal(payment.payload.data.status, 'completed');
    assert.ok(pays.some((m: Msg) => m.topic === 'test-event' && m.payload.channel === 'test-channel'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(rates.length, 1, 'the rates node got nothing of the payments channels');
    assert.ok(status.some((s) => /subscribed/.test(String(s.text))), JSON.stringify(status));
  });

  it('the built-in simulator publishes under the connection\'s event names; the payment event carries the reference', async () => {
    await helper.load(quickpayNodes, [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'cfg', type: 'pos-quickpay', name: 'qp', environment: 'simulator', url: '', appKey: 'pagCMLx6TXrb', merchantId: '', verifyTls: true, paymentEvent: 'payment.changed', notificationEvent: 'notice' },
      { id: 'pays', type: 'pos-notification-in', ...at(140), provider: 'quickpay', quickpay: 'cfg', streams: 'payments', channel: '', events: '', wires: [['pay']] },
      { id: 'pay', type: 'helper', ...at(220) },
    ], {});
    const pays = collect('pay');
    await until(() => pays.length > 0, 'a payment event from the built-in simulator', 15000);
    assert.equal(pays[0]!.topic, 'payment.changed');
    assert.match(String(pays[0]!.payload.reference), /^pay_/);
  });

  it('a redeploy without the payments node unsubscribes its channels', async () => {
    await load();
    await until(() => subscribed(PAYMENTS), 'the payments channel', 10000);
    await helper.unload();
    await helper.load(quickpayNodes, flow({}, false), { cfg: { apiKey: API_KEY, privateKey: simulatorKeys().privateKeyPem } });
    await until(() => subscribed('private-exchange-rate'), 'the rates channel', 10000);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!subscribed(PAYMENTS), 'no payments subscription');
    assert.ok(!subscribed('test-channel'));
  });

  it('a wrong app key: the documented close code, the status says why, no reconnect loop', async () => {
    await load({ appKey: 'notTheAppKey' });
    const status = statuses('rates');
    await until(() => state()?.name === 'error' || state()?.name === 'unauthorized', 'the refusal', 10000);
    assert.match(String(state()!.reason), /4001/);
    const seen = sim.connectionsAccepted;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(sim.connectionsAccepted, seen, 'no new connections');
    assert.equal(status[status.length - 1]?.fill, 'red', JSON.stringify(status));
  });

  it('a JWT signed with the wrong key: unauthorized under the node, not a crash, no storm of auth calls', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await load({}, other);
    await until(() => state()?.name === 'unauthorized', 'unauthorized', 10000);
    assert.match(String(state()!.reason), /authori[sz]ation/i);
    const calls = sim.authCalls.length;
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(sim.authCalls.length <= Math.max(calls, 3), `auth calls ${sim.authCalls.length}`);
    assert.ok(sim.authCalls.every((c) => !c.ok));
    const logged = JSON.stringify(helper.log().args);
    assert.ok(!logged.includes(API_KEY) && !logged.includes('PRIVATE KEY'), 'no secret in the log');
  });

  it('a dropped socket: reconnect, re-authorise with the new socket id, re-subscribe, events again, none twice', async () => {
    await load();
    await until(() => subscribed(PAYMENTS) && state()?.channels?.subscribing === 0, 'subscribed', 10000);
    const firstSocket = sim.authCalls.find((c) => c.channel === PAYMENTS)!.socketId;
    const pays = collect('pay');
    sim.dropAll();
    await until(() => sim.authCalls.some((c) => c.channel === PAYMENTS && c.ok && c.socketId !== firstSocket), 'a new authorisation', 15000);
    await until(() => subscribed(PAYMENTS) && state()?.name === 'connected' && state()?.channels?.subscribing === 0, 're-subscribed', 10000);
    sim.publishPayment('completed', { payment_id: 'pay_after_drop' });
    await until(() => pays.some((m: Msg) => m.payload.reference === 'pay_after_drop'), 'the event after the reconnect', 5000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pays.filter((m: Msg) => m.payload.reference === 'pay_after_drop').length, 1, 'delivered once');
  });

  it('malformed frames and data that is not JSON are dropped with a log line; the stream goes on', async () => {
    await load();
    await until(() => subscribed(PAYMENTS), 'subscribed', 10000);
    const pays = collect('pay');
    sim.setFault('malformedFrames', true);
    sim.publishPayment('completed', { payment_id: 'pay_after_junk' });
    await until(() => pays.some((m: Msg) => m.payload.reference === 'pay_after_junk'), 'the real event', 5000);
    assert.ok(pays.every((m: Msg) => typeof m.payload.data === 'object'), 'only parsed data reached the flow');
    assert.equal(state()?.name, 'connected');
    assert.match(JSON.stringify(helper.log().args), /not JSON|malformed|dropped/i);
  });
});
