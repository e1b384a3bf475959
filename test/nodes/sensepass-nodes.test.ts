// SensePass through the nodes: only status 5 approves (a status-3 decline by one customer is
// not the end), events of other transactions never end our payment but still reach the
// notification node, the payment commit follows the connection's setting, and the v2
// Socket.IO client works against the v4 simulator.

import assert from 'node:assert/strict';
import { SensePassSimulator } from '../../lib/simulators/sensepass';
import { collect, errors, helper, until } from './harness';

const DEVICE = 'sp_SECRET_device_8c2e';

const sensepassNodes = [
  require('../../nodes/pos-sensepass.js'),
  require('../../nodes/pos-pay.js'),
  require('../../nodes/pos-refund.js'),
  require('../../nodes/pos-notification-in.js'),
];

describe('SensePass connection (nodes)', function () {
  this.timeout(30000);
  let sim: SensePassSimulator;
  let url: string;

  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    sim = new SensePassSimulator({ deviceIds: [DEVICE], stepDelayMs: 20 });
    ({ url } = await sim.start());
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  const at = (y: number) => ({ z: 'tab', x: 100, y });
  const flow = (config: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'pos-sensepass', name: 'sp', environment: 'custom', url, clientVersion: '4', transports: 'default', autoCommit: true, verifyTls: true, ...config },
    { id: 'pay', type: 'pos-pay', ...at(100), provider: 'sensepass', sensepass: 'cfg', currency: 'USD', timeout: 20, wires: [['result'], ['progress']] },
    { id: 'events', type: 'pos-notification-in', ...at(140), provider: 'sensepass', sensepass: 'cfg', wires: [['event']] },
    { id: 'result', type: 'helper', ...at(180) }, { id: 'progress', type: 'helper', ...at(220) }, { id: 'event', type: 'helper', ...at(260) },
  ];
  const connected = () => helper.getNode('cfg')?.connection?.provider.state.name === 'connected';

  async function load(config: Record<string, unknown> = {}) {
    await helper.load(sensepassNodes, flow(config), { cfg: { deviceId: DEVICE } });
    await until(connected, 'the connection');
    return { results: collect('result'), progress: collect('progress'), events: collect('event'), errs: errors('pay') };
  }

  it('a customer declining (status 3) and another paying (5) ends approved, not declined', async () => {
    const { results, progress } = await load();
    helper.getNode('pay').receive({ payload: { amount: 1253, currency: 'USD', reference: 'THREE-1' } });
    await until(() => results.length === 1, 'the result', 15000);
    assert.equal(results[0]!.payload.outcome, 'approved');
    const events = progress.map((m) => m.payload.event);
    assert.ok(events.includes('user_declined'), events.join(','));
    assert.ok(events.indexOf('user_declined') < events.lastIndexOf('processing_payment'), 'the decline came before the approval');
    assert.equal(sim.ledger.length, 1);
  });

  it('an approved event of an unknown transaction does not end our payment, but reaches the notification node', async () => {
    const { results, progress, events } = await load();
    // …52 times out: our payment must end timed_out however many foreign approvals arrive.
    helper.getNode('pay').receive({ payload: { amount: 1252, currency: 'USD', reference: 'MINE-1' } });
    await until(() => progress.length > 0, 'our payment under way');
    const foreign = { ...(sim.ledger[0] as unknown as Record<string, unknown>) };
    sim.sendToDevice(DEVICE, {
      TransactionNumber: 'f'.repeat(56), date: new Date().toISOString(), amount: '12.52', currency: 'USD',
      status: 5, statusName: 'Transaction Approved', pos: 'another POS', posData: { reference: 'not-ours' },
    });
    await until(() => events.some((m) => m.payload.data?.TransactionNumber === 'f'.repeat(56)), 'the foreign event on the notification node');
    const seen = events.find((m) => m.payload.data?.TransactionNumber === 'f'.repeat(56))!;
    assert.equal(seen.topic, 'transaction_approved');
    assert.notEqual(seen.payload.reference, 'MINE-1');
    await until(() => results.length === 1, 'our result', 20000);
    assert.equal(results[0]!.payload.outcome, 'timed_out');
    assert.equal(results[0]!.payload.reference, 'MINE-1');
    assert.equal(results[0]!.payload.transactionId, foreign.transactionNumber);
    assert.ok(!progress.some((m) => m.payload.event === 'transaction_approved'), 'no approval in our progress');
  });

  it('approved payments are committed by default, and left alone when the connection says so', async () => {
    const first = await load();
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'USD', reference: 'COMMIT-1' } });
    await until(() => first.results.length === 1, 'the result', 15000);
    assert.equal(first.results[0]!.payload.outcome, 'approved');
    assert.equal(sim.ledger[0]!.committed, true);
    await helper.unload();
    const second = await load({ autoCommit: false });
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'USD', reference: 'COMMIT-2' } });
    await until(() => second.results.length === 1, 'the result', 15000);
    assert.equal(second.results[0]!.payload.outcome, 'approved');
    assert.equal(sim.ledger[1]!.committed, false);
  });

  it('the Socket.IO v2 client takes a payment against the v4 simulator', async () => {
    const { results, events } = await load({ clientVersion: '2', transports: 'websocket' });
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'USD', reference: 'V2-1' } });
    await until(() => results.length === 1, 'the result', 15000);
    assert.equal(results[0]!.payload.outcome, 'approved');
    assert.ok(events.some((m) => m.topic === 'transaction_approved' && m.payload.reference === 'V2-1'));
  });

  it('a device refused after a reconnect ends unauthorized, with no reconnect loop', async () => {
    const { results, progress } = await load();
    // …55 drops the socket mid-payment; once it is under way the device is refused, so the
    // reconnection is hung up on and REST refuses the device too.
    helper.getNode('pay').receive({ payload: { amount: 1255, currency: 'USD', reference: 'REFUSED-1' }, timeout: 3 });
    await until(() => progress.length > 0, 'the payment under way');
    sim.setFault('refuseDevice', true);
    const state = () => helper.getNode('cfg').connection.provider.state as { name: string; reason?: string };
    await until(() => state().name === 'unauthorized', 'the unauthorized state', 10000);
    const seen = sim.socketConnections;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(sim.socketConnections, seen, 'no connection attempts after unauthorized');
    assert.equal(state().name, 'unauthorized');
    assert.ok(!String(state().reason).includes(DEVICE), 'the device id is not in the reason');
    // Created, then nobody may ask about it: a result a person must check, never a second payment.
    await until(() => results.length === 1, 'the payment\'s result', 10000);
    assert.equal(results[0]!.payload.outcome, 'unknown');
    assert.equal(sim.ledger.length, 1, 'created once, never again');
  });

  it('tip and cashback are refused before anything is created; the device id never leaks', async () => {
    const { results, errs } = await load();
    helper.getNode('pay').receive({ payload: { amount: 1250, currency: 'USD', tip: 100 } });
    await until(() => errs.length === 1, 'the error');
    assert.match(errs[0]!, /tip/);
    assert.equal(results.length, 0);
    assert.equal(sim.ledger.length, 0);
    assert.ok(!JSON.stringify(helper.log().args).includes(DEVICE), 'the device id is not logged');
  });
});
