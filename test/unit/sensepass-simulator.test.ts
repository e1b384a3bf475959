import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import { requestJson } from '../../lib/core/http';
import { SensePassSimulator, SIMULATOR_DEVICE_ID } from '../../lib/simulators/sensepass';

const DEVICE = 'sp_SECRET_sim_device_5d1e';

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

type Entity = Record<string, any>;

describe('sensepass simulator', function () {
  this.timeout(10000);
  let sim: SensePassSimulator;
  let base: string;
  let lines: string[];
  const sockets: Socket[] = [];

  const post = (path: string, body: Record<string, unknown>, deviceId: string | undefined = DEVICE) =>
    requestJson({ method: 'POST', url: `${base}${path}`, body: deviceId === undefined ? body : { deviceId, ...body }, timeoutMs: 3000 });
  const get = (path: string) => requestJson({ method: 'GET', url: `${base}${path}`, timeoutMs: 3000 });
  const init = (amount: number, extra: Record<string, unknown> = {}) =>
    post('/api/transactions/init', { amount, isCent: true, currency: 'USD', methodType: 'payment', timeOut: 60, posData: { reference: 'R1' }, ...extra });

  /** A device socket collecting every message it hears. */
  async function listen(id = `id_${DEVICE}`): Promise<{ socket: Socket; messages: unknown[]; disconnects: string[] }> {
    const socket = io(base, { query: { id }, reconnection: false, forceNew: true, transports: ['websocket'] });
    sockets.push(socket);
    const messages: unknown[] = [];
    const disconnects: string[] = [];
    socket.on('message', (m: unknown) => messages.push(m));
    socket.on('disconnect', (reason) => disconnects.push(reason));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, messages, disconnects };
  }

  beforeEach(async () => {
    lines = [];
    sim = new SensePassSimulator({ deviceIds: [DEVICE], stepDelayMs: 15, settleAfterMs: 60, secondsToCommit: 45, logger: (l) => lines.push(l) });
    ({ url: base } = await sim.start());
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await sim.stop();
    assert.ok(lines.length > 0);
    for (const l of lines) assert.ok(!l.includes(DEVICE), `device id in a simulator log line: ${l}`);
  });

  it('creates a documented Transaction entity and walks it 0 -> 10 -> 1 -> 2 -> 4 -> 5 in the device room, then settles', async () => {
    const device = await listen();
    const res = await init(1250);
    assert.equal(res.status, 200);
    const t = res.body as Entity;
    assert.match(t.TransactionNumber, /^[0-9a-f]{56}$/);
    assert.equal(t.amount, '12.50');
    assert.equal(t.currency, 'USD');
    assert.equal(t.status, 0);
    assert.equal(t.statusName, 'Initialize');
    assert.equal(t.pos, 'POS 1, Simulator');
    assert.deepEqual(t.posData, { reference: 'R1' });
    assert.ok(Date.parse(t.timeoutDate) - Date.parse(t.date) === 60000);
    assert.equal(typeof t.transactionPage.consumerPage.regular, 'string');
    await waitFor(() => device.messages.filter((m) => (m as Entity).confirmations?.[0]?.settlement?.status === 2).length === 1, 3000, 'settlement');
    const statuses = device.messages.map((m) => (m as Entity).status);
    assert.deepEqual(statuses, [0, 10, 1, 2, 4, 5, 5]);
    const approved = device.messages[5] as Entity;
    assert.equal(approved.statusName, 'Transaction Approved');
    assert.equal(approved.paymentCommit.messsage, 'Payment commit is enabled for this transaction', 'the seed\'s spelling');
    assert.equal(approved.paymentCommit.isPaymentCommitted, false);
    assert.equal(approved.paymentCommit.secondsToCommit, 45);
    assert.match(approved.paymentCommit.commitLink, new RegExp(`^${base}/api/transactions/commitPayment/[0-9a-f]+$`));
    assert.equal(approved.confirmations[0].lastFourDigits, '4242');
    assert.equal(approved.confirmations[0].settlement.status, 1);
    const settled = device.messages[6] as Entity;
    assert.equal(typeof settled.confirmations[0].settlement.created, 'string');
    assert.equal(typeof settled.confirmations[0].settlement.confirmation, 'string');
    assert.deepEqual(sim.ledger, [{ transactionNumber: t.TransactionNumber, deviceId: DEVICE, amount: 1250, currency: 'USD', status: 5, committed: false, refunds: [], posData: { reference: 'R1' } }]);

    const commit = await get(new URL(approved.paymentCommit.commitLink).pathname);
    assert.equal(commit.status, 200);
    assert.equal(sim.ledger[0]!.committed, true);
    assert.equal((await get('/api/transactions/commitPayment/unknown')).status, 404);
    const read = await get(`/api/transactions/${t.TransactionNumber}?deviceId=${DEVICE}`);
    assert.equal((read.body as Entity).paymentCommit.isPaymentCommitted, true);
  });

  it('amounts: cents with isCent, major units without it; bad input is a 400 with a message', async () => {
    const major = await post('/api/transactions/init', { amount: '12.5', currency: 'USD', methodType: 'payment' });
    assert.equal(major.status, 200);
    assert.equal(sim.ledger[0]!.amount, 1250);
    for (const body of [
      { amount: 12.5, isCent: true, currency: 'USD', methodType: 'payment' },
      { amount: '12.505', currency: 'USD', methodType: 'payment' },
      { amount: 1250, isCent: true, methodType: 'payment' },
      { amount: 1250, isCent: true, currency: 'USD', methodType: 'tokenize' },
      { amount: 0, isCent: true, currency: 'USD' },
    ]) {
      const res = await post('/api/transactions/init', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((res.body as Entity).status, 400);
      assert.ok((res.body as Entity).status_message.length > 0);
    }
    assert.equal(sim.ledger.length, 1);
  });

  it('refuses an unknown device (401 Device not found) on REST and hangs up its socket; refuseDevice refuses all', async () => {
    const res = await init(1250, { deviceId: 'someone-else' });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { status: 401, status_message: 'Device not found' });
    assert.equal((await get('/api/transactions/abc')).status, 401, 'no device id at all');
    const stranger = await listen('id_someone-else');
    await waitFor(() => stranger.disconnects.length === 1, 2000, 'the stranger hung up');
    assert.equal(stranger.disconnects[0], 'io server disconnect');
    const noPrefix = await listen(DEVICE);
    await waitFor(() => noPrefix.disconnects.length === 1, 2000, 'no id_ prefix hung up');
    sim.setFault('refuseDevice', true);
    assert.equal((await init(1250)).status, 401);
    sim.setFault('refuseDevice', false);
    assert.equal((await init(1250)).status, 200);
    assert.equal(sim.socketConnections, 2);
    assert.equal(sim.connectedSockets, 0);
  });

  it('cancel: 200 while waiting, 501 once the consumer tapped, 400 when final; cancelByDeviceId takes the last pending one', async () => {
    sim.tapDelayMs = 300;
    const first = (await init(1250)).body as Entity;
    const cancelled = await post(`/api/transactions/cancel/${first.TransactionNumber}`, {});
    assert.deepEqual([cancelled.status, cancelled.body], [200, { status: 200, status_message: 'Transaction Was Canceled' }]);
    assert.equal(sim.ledger[0]!.status, 9);
    assert.equal((await post(`/api/transactions/cancel/${first.TransactionNumber}`, {})).status, 400);

    const second = (await init(1250)).body as Entity;
    await waitFor(() => sim.ledger[1]!.status === 1, 2000, 'the tap');
    const late = await post(`/api/transactions/cancel/${second.TransactionNumber}`, {});
    assert.equal(late.status, 501);
    await waitFor(() => sim.ledger[1]!.status === 5, 2000, 'the approval');

    await init(1250);
    const byDevice = await post(`/api/transactions/cancelByDeviceId/${DEVICE}`, {});
    assert.equal(byDevice.status, 200);
    assert.equal(sim.ledger[2]!.status, 9);
    assert.equal((await post(`/api/transactions/cancelByDeviceId/${DEVICE}`, {})).status, 400, 'nothing pending');
    assert.equal((await post('/api/transactions/cancelByDeviceId/someone-else', {})).status, 401);
    assert.equal((await post(`/api/transactions/cancel/${'0'.repeat(56)}`, {})).status, 404);
  });

  it('refunds: 12 then 13 / 11 pushed; beyond the remaining amount errorCode 22; declineRefunds', async () => {
    const device = await listen();
    const t = (await init(2000)).body as Entity;
    await waitFor(() => sim.ledger[0]!.status === 5, 2000, 'approval');
    const partial = await post('/api/transactions/refund', { transactionNumber: t.TransactionNumber, isPartial: true, refundAmount: 500, isCent: true });
    assert.equal((partial.body as Entity).errorCode, 0);
    assert.equal((partial.body as Entity).result, 'Approved');
    assert.match((partial.body as Entity).refundConfirmation, /^RF-/);
    await waitFor(() => sim.ledger[0]!.status === 13, 2000, 'partially refunded');
    const tooMuch = await post('/api/transactions/refund', { transactionNumber: t.TransactionNumber, isPartial: true, refundAmount: '15.01' });
    assert.deepEqual([(tooMuch.body as Entity).errorCode, (tooMuch.body as Entity).result, (tooMuch.body as Entity).errorMessage], [22, 'Declined', 'refund operation declined by Processor']);
    sim.setFault('declineRefunds', true);
    assert.equal(((await post('/api/transactions/refund', { transactionNumber: t.TransactionNumber, isPartial: false })).body as Entity).result, 'Declined');
    sim.setFault('declineRefunds', false);
    const rest = await post('/api/transactions/refund', { transactionNumber: t.TransactionNumber, isPartial: false });
    assert.equal((rest.body as Entity).result, 'Approved');
    await waitFor(() => device.messages.some((m) => (m as Entity).status === 11), 2000, 'refunded');
    assert.equal(sim.ledger[0]!.status, 11);
    assert.deepEqual(sim.ledger[0]!.refunds, [
      { amount: 500, result: 'Approved' }, { amount: 1501, result: 'Declined' }, { amount: 1500, result: 'Declined' }, { amount: 1500, result: 'Approved' },
    ]);
    const statuses = device.messages.map((m) => (m as Entity).status);
    assert.deepEqual(statuses.slice(statuses.indexOf(5) + 1), [12, 13, 12, 11]);
    assert.equal((await post('/api/transactions/refund', {})).status, 400);
  });

  it('lists the device\'s transactions by date with pagination', async () => {
    for (let i = 0; i < 3; i++) await init(1000 + i);
    const now = Date.now();
    const range = { startDate: new Date(now - 60000).toISOString(), endDate: new Date(now + 60000).toISOString() };
    const page = await post('/api/transactions', { ...range, pagination: { limit: 2, offset: 0 } });
    assert.equal(page.status, 200);
    const body = page.body as { transactions: Entity[]; pagination: { total: number } };
    assert.equal(body.transactions.length, 2);
    assert.equal(body.pagination.total, 3);
    assert.equal(body.transactions[0]!.amount, '10.02', 'newest first');
    const past = await post('/api/transactions', { startDate: '2000-01-01T00:00:00Z', endDate: '2000-01-02T00:00:00Z' });
    assert.equal((past.body as { transactions: unknown[] }).transactions.length, 0);
    assert.equal((await post('/api/transactions', { pagination: { limit: 1 } })).status, 400);
    assert.equal((await post('/api/transactions', { ...range, pagination: { limit: 5000 } })).status, 400);
  });

  it('faults: malformed frames, foreign events and the seed\'s status-0 name arrive before the real messages', async () => {
    const device = await listen();
    sim.setFault('malformedFrames', true);
    sim.setFault('foreignEvents', true);
    sim.setFault('approvedNameOnZero', true);
    const t = (await init(1054)).body as Entity;
    assert.equal(t.statusName, 'Transaction Approved');
    assert.equal(t.status, 0);
    await waitFor(() => sim.ledger[0]!.status === 9, 2000, 'cancelled on the terminal (…54)');
    await waitFor(() => device.messages.length >= 6, 2000, 'the messages');
    assert.equal(typeof device.messages[0], 'string');
    assert.equal((device.messages[1] as Entity).TransactionNumber, undefined);
    const foreign = device.messages[2] as Entity;
    assert.notEqual(foreign.TransactionNumber, t.TransactionNumber);
    assert.equal(foreign.status, 5);
    assert.deepEqual(device.messages.slice(3).map((m) => (m as Entity).status), [0, 10, 9]);
    sim.sendToDevice(DEVICE, { anything: true });
    await waitFor(() => device.messages.length === 7, 2000, 'a pushed message');
    assert.deepEqual(device.messages[6], { anything: true });
  });

  it('…55 drops the device\'s transport mid-payment and completes while it is away', async () => {
    const device = await listen();
    await init(1255);
    await waitFor(() => sim.ledger[0]!.status === 5, 3000, 'approval');
    assert.deepEqual(device.disconnects, ['transport close']);
    assert.deepEqual(device.messages.map((m) => (m as Entity).status), [0, 10, 1]);
  });

  it('pairs a device with /devices/match', async () => {
    const res = await post('/api/devices/match', { pinCode: '53K-HMD-786', apiKey: 'location-key', posName: 'Till 1' }, undefined);
    assert.equal(res.status, 200);
    assert.equal((res.body as Entity).deviceAliasKey, DEVICE);
    assert.equal((res.body as Entity).name, 'Till 1');
    assert.equal((await post('/api/devices/match', { pinCode: 'nope', apiKey: 'k' }, undefined)).status, 400);
    assert.equal((await post('/api/devices/match', { pinCode: '53K-HMD-786' }, undefined)).status, 401);
    assert.equal(new SensePassSimulator().url, '', 'not listening yet');
    assert.equal(SIMULATOR_DEVICE_ID, 'sp_sim_device_1');
  });

  it('keeps a bounded log of REST calls with their bodies', async () => {
    await init(1250);
    await get('/api/transactions/x?deviceId=abc');
    assert.equal(sim.restCalls[0]!.method, 'POST');
    assert.equal(sim.restCalls[0]!.path, '/api/transactions/init');
    assert.equal((sim.restCalls[0]!.body as Entity).deviceId, DEVICE);
    assert.deepEqual(sim.restCalls[1], { method: 'GET', path: '/api/transactions/x', body: { deviceId: 'abc' } });
    for (let i = 0; i < 520; i++) await get('/api/nothing');
    assert.equal(sim.restCalls.length, 500);
  });
});
