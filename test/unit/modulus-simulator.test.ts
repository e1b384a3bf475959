import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';
import { signRequest } from '../../lib/providers/modulus/signature';
import { ModulusSimulator, SIMULATOR_API_KEY, type ModulusSimulatorOptions } from '../../lib/simulators/modulus';

type Frame = Record<string, any>;

const KEY = 'mk_test_SECRET_sim_4f1c';
const OTHER_KEY = 'mk_test_SECRET_other_9e2b';
const SECRET = 'ms_test_SECRET_sim_8d3a';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a raw client sees when it tries to open the URL. */
function attempt(url: string, headers: Record<string, string> = {}): Promise<{ status?: number; close?: number; opened: boolean }> {
  return new Promise((resolve) => {
    let opened = false;
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      opened = true;
      // An accepted connection may stay open; what counts is that it opened (or was closed right after).
      setTimeout(() => ws.terminate(), 30);
    });
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      resolve({ status: res.statusCode, opened });
      req.destroy();
    });
    ws.on('close', (code) => resolve({ close: code, opened }));
    ws.on('error', () => undefined);
  });
}

/** A minimal POS: records every frame, JSON or not. */
class Pos {
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const text = data.toString();
      this.texts.push(text);
      let f: unknown;
      try { f = JSON.parse(text); } catch { return; }
      if (!f || typeof f !== 'object') return;
      this.frames.push(f as Frame);
      this.waiters = this.waiters.filter((w) => (w.pred(f as Frame) ? (w.resolve(f as Frame), false) : true));
    });
  }

  static open(url: string, headers: Record<string, string> = { 'x-api-key': KEY }): Promise<Pos> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const pos = new Pos(ws);
      ws.once('open', () => resolve(pos));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => { clearTimeout(timer); resolve(f); } });
    });
  }

  pay(terminalId: string | undefined, paymentRequest: Frame | undefined): void {
    this.send({ action: 'payment', ...(terminalId !== undefined ? { terminalId } : {}), ...(paymentRequest ? { paymentRequest } : {}) });
  }

  result(transactionId: string, timeoutMs = 3000): Promise<Frame> {
    return this.waitFor((f) => f.action === 'paymentComplete' && f.paymentResponse?.transactionId === transactionId, timeoutMs);
  }

  close(): void {
    this.ws.terminate();
  }
}

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

function signed(path: string, opts: { key?: string; secret?: string; timestamp?: string } = {}): Record<string, string> {
  const timestamp = opts.timestamp ?? new Date().toISOString();
  return { 'x-api-key': opts.key ?? KEY, 'x-timestamp': timestamp, 'x-signature': signRequest(opts.secret ?? SECRET, 'GET', path, timestamp) };
}

describe('modulus simulator', function () {
  this.timeout(10000);
  const cleanups: Array<() => unknown> = [];
  const logs: string[] = [];

  async function setup(opts: ModulusSimulatorOptions = {}) {
    const sim = new ModulusSimulator({ apiKeys: [KEY, OTHER_KEY], apiSecret: SECRET, stepDelayMs: 20, graceMs: 150, logger: (l) => logs.push(l), ...opts });
    const { url, port } = await sim.start();
    cleanups.push(() => sim.stop());
    const open = async (headers?: Record<string, string>) => {
      const pos = await Pos.open(`${url}/v1`, headers);
      cleanups.push(() => pos.close());
      return pos;
    };
    return { sim, url, port, open };
  }

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    assert.ok(!logs.join('\n').includes(KEY) && !logs.join('\n').includes(SECRET), 'the simulator never logs a key or the secret');
    logs.length = 0;
  });

  describe('connection', () => {
    it('accepts the key as header or query on /v1 only, refuses the rest with 401/404, and counts', async () => {
      const { sim, url } = await setup();
      assert.deepEqual(await attempt(`${url}/v1`, { 'x-api-key': KEY }), { close: 1006, opened: true });
      assert.deepEqual(await attempt(`${url}/v1?x-api-key=${KEY}`), { close: 1006, opened: true });
      assert.equal((await attempt(`${url}/v1`, { 'x-api-key': 'wrong' })).status, 401);
      assert.equal((await attempt(`${url}/v1`)).status, 401);
      assert.equal((await attempt(`${url}/v2`, { 'x-api-key': KEY })).status, 404);
      sim.setFault('refuseKey', true);
      assert.equal((await attempt(`${url}/v1`, { 'x-api-key': KEY })).status, 401);
      assert.equal(sim.connectionsAccepted, 2);
      assert.equal(sim.connectionsRefused, 4);
    });

    it('rejectMode close4001 accepts the upgrade, then closes 4001', async () => {
      const { sim, url } = await setup({ rejectMode: 'close4001' });
      const r = await attempt(`${url}/v1`, { 'x-api-key': 'nope' });
      assert.deepEqual(r, { close: 4001, opened: true });
      assert.equal(sim.connectionsRefused, 1);
      assert.equal(sim.connectionsAccepted, 0);
    });

    it('one connection per key: the holder gets forceDisconnect and is closed; other keys are untouched', async () => {
      const { sim, open } = await setup();
      const first = await open();
      const other = await open({ 'x-api-key': OTHER_KEY });
      const second = await open();
      const kicked = await first.waitFor((f) => f.action === 'forceDisconnect');
      assert.equal(kicked.reason, 'NEW_CONNECTION');
      assert.equal(typeof kicked.timestamp, 'string');
      assert.equal((await first.closed).code, 4000);
      await sleep(30);
      assert.equal(second.ws.readyState, WebSocket.OPEN);
      assert.equal(other.ws.readyState, WebSocket.OPEN);
      assert.equal(sim.connectionCount, 2);
      assert.equal(sim.connectionsAccepted, 3);
    });

    it('answers ping with pong, unless stopPonging', async () => {
      const { sim, open } = await setup();
      const pos = await open();
      pos.send({ action: 'ping' });
      const pong = await pos.waitFor((f) => f.action === 'pong');
      assert.ok(!Number.isNaN(Date.parse(pong.timestamp)));
      sim.setFault('stopPonging', true);
      pos.send({ action: 'ping' });
      await sleep(80);
      assert.equal(pos.frames.filter((f) => f.action === 'pong').length, 1);
      assert.deepEqual(sim.received.filter((f: any) => f.action === 'ping').length, 2);
    });

    it('lists two available terminals with the documented fields', async () => {
      const { open } = await setup();
      const pos = await open();
      pos.send({ action: 'getTerminals' });
      const r = await pos.waitFor((f) => f.action === 'terminalsResponse');
      assert.ok(!Number.isNaN(Date.parse(r.timestamp)));
      assert.deepEqual(r.terminals.map((t: Frame) => [t.deviceId, t.status, t.metadata.name]), [['TERM-001', 'online', 'Counter 1'], ['TERM-002', 'online', 'Counter 2']]);
      for (const t of r.terminals) for (const k of ['connectionId', 'connectedAt', 'lastActivity']) assert.equal(typeof t[k], 'string', k);
    });

    it('setTerminalStatus pushes terminalStatusUpdate (with groupId and terminalInfo on connect) and changes the list', async () => {
      const { sim, open } = await setup();
      const pos = await open({ 'x-api-key': KEY, 'x-group-id': 'shop-7' });
      sim.setTerminalStatus('TERM-002', 'reconnecting');
      const r = await pos.waitFor((f) => f.action === 'terminalStatusUpdate');
      assert.deepEqual([r.terminalId, r.deviceId, r.status, r.groupId, r.version], ['TERM-002', 'TERM-002', 'reconnecting', 'shop-7', 'v1']);
      const before = (await (pos.send({ action: 'getTerminals' }), pos.waitFor((f) => f.action === 'terminalsResponse'))).terminals[1];
      assert.equal(before.status, 'reconnecting');
      sim.setTerminalStatus('TERM-002', 'connected');
      const back = await pos.waitFor((f) => f.action === 'terminalStatusUpdate' && f.status === 'connected');
      assert.equal(back.terminalInfo.deviceId, 'TERM-002');
      assert.notEqual(back.connectionId, before.connectionId, 'a new connection id after a reconnect');
      assert.throws(() => sim.setTerminalStatus('TERM-404', 'connected'), /no terminal/);
    });

    it('malformedFrames interleaves a non-JSON frame and a frame without action before real ones', async () => {
      const { sim, open } = await setup();
      const pos = await open();
      sim.setFault('malformedFrames', true);
      pos.send({ action: 'ping' });
      await pos.waitFor((f) => f.action === 'pong');
      assert.equal(pos.texts[0], 'this is not JSON {');
      assert.equal(JSON.parse(pos.texts[1]!).action, undefined);
      assert.equal(JSON.parse(pos.texts[2]!).action, 'pong');
    });
  });

  describe('payments', () => {
    it('approves with the documented paymentComplete, echoing metadata, amount exactly, ledger in minor units', async () => {
      const { sim, open } = await setup();
      const pos = await open({ 'x-api-key': KEY, 'x-group-id': 'g1' });
      pos.pay('TERM-001', { transactionId: 'tx-ok', amount: '12.50', currency: 'PHP', paymentMethod: 'CARD', metadata: { reference: 'R1' } });
      const done = await pos.result('tx-ok');
      const r = done.paymentResponse;
      assert.equal(done.terminalId, 'TERM-001');
      assert.equal(done.version, 'v1');
      assert.equal(done.groupId, 'g1');
      assert.equal(r.status, 'SUCCESS');
      assert.match(r.authorizationCode, /^AUTH\d{6}$/);
      assert.equal(r.amount, '12.50');
      assert.equal(r.currency, 'PHP');
      assert.equal(r.paymentMethod, 'CARD');
      assert.deepEqual(r.metadata, { reference: 'R1' });
      assert.equal(typeof r.receiptData, 'object');
      assert.deepEqual(sim.ledger, [{ transactionId: 'tx-ok', terminalId: 'TERM-001', amount: 1250, currency: 'PHP', status: 'COMPLETED' }]);
    });

    it('a number amount, a KWD amount and a generated transactionId', async () => {
      const { sim, open } = await setup();
      const pos = await open();
      pos.pay('TERM-001', { amount: 0.29, currency: 'USD', paymentMethod: 'CARD' });
      await pos.waitFor((f) => f.action === 'paymentComplete');
      assert.equal(sim.ledger[0]!.amount, 29);
      assert.match(sim.ledger[0]!.transactionId, /^[0-9a-f-]{36}$/);
      pos.pay('TERM-002', { transactionId: 'kwd', amount: '1.234', currency: 'KWD', paymentMethod: 'CARD' });
      await pos.result('kwd');
      assert.equal(sim.ledger[1]!.amount, 1234);
    });

    const outcomes: Array<[string, string, string | undefined, string]> = [
      ['12.51', 'FAILED', 'INSUFFICIENT_FUNDS', 'FAILED'],
      ['12.52', 'FAILED', 'TIMEOUT', 'FAILED'],
      ['12.53', 'SUCCESS', undefined, 'COMPLETED'],
      ['12.54', 'CANCELLED', undefined, 'CANCELLED'],
    ];
    for (const [amount, status, errorCode, ledger] of outcomes) {
      it(`amount ${amount} -> ${status}${errorCode ? ` ${errorCode}` : ''}`, async () => {
        const { sim, open } = await setup();
        const pos = await open();
        pos.pay('TERM-001', { transactionId: 'tx', amount, currency: 'GBP', paymentMethod: 'CARD' });
        const r = (await pos.result('tx')).paymentResponse;
        assert.equal(r.status, status);
        assert.equal(r.errorCode, errorCode);
        if (errorCode === 'INSUFFICIENT_FUNDS') assert.equal(r.errorMessage, 'Insufficient funds');
        assert.equal(sim.ledger[0]!.status, ledger);
        assert.equal(sim.ledger[0]!.errorCode, errorCode);
      });
    }

    it('answers the four documented errors, and a bad amount, as error frames; nothing is charged', async () => {
      const { sim, open } = await setup({ terminals: [{ deviceId: 'TERM-001', name: 'A' }, { deviceId: 'TERM-G', name: 'G', group: 'other' }] });
      const pos = await open();
      const next = async () => {
        const n = pos.frames.filter((f) => f.action === 'error').length;
        await pos.waitFor(() => pos.frames.filter((f) => f.action === 'error').length > n);
        return pos.frames.filter((f) => f.action === 'error')[n]!;
      };
      const req = { transactionId: 'e', amount: '1.00', currency: 'PHP', paymentMethod: 'CARD' };
      let e: Frame;
      pos.pay(undefined, req);
      e = await next();
      assert.deepEqual([e.error, e.message], ['Bad Request', 'terminalId is required']);
      pos.pay('TERM-001', undefined);
      e = await next();
      assert.deepEqual([e.error, e.message, e.terminalId], ['Bad Request', 'paymentRequest is required', 'TERM-001']);
      pos.pay('TERM-999', req);
      e = await next();
      assert.deepEqual([e.error, e.message, e.transactionId], ['Not Found', 'Terminal connection not found', 'e']);
      pos.pay('TERM-G', req);
      e = await next();
      assert.deepEqual([e.error, e.message], ['Forbidden', 'Cannot send message to connection in different group']);
      pos.pay('TERM-001', { ...req, amount: '1.001' });
      e = await next();
      assert.equal(e.error, 'Bad Request');
      assert.match(e.message, /amount/);
      sim.setFault('errorFrameOnPayment', true);
      pos.pay('TERM-001', req);
      e = await next();
      assert.equal(e.error, 'Forbidden');
      assert.equal(sim.ledger.length, 0);
    });

    it('drop_then_approved: the POS socket drops mid-payment; the result comes on the key\'s next connection', async () => {
      const { sim, open } = await setup({ stepDelayMs: 60 });
      const first = await open();
      first.pay('TERM-001', { transactionId: 'tx55', amount: '12.55', currency: 'GBP', paymentMethod: 'CARD' });
      assert.equal((await first.closed).code, 1006, 'dropped without a close frame');
      await sleep(100);
      assert.equal(sim.ledger[0]!.status, 'COMPLETED');
      const second = await open();
      const r = await second.result('tx55');
      assert.equal(r.paymentResponse.status, 'SUCCESS');
      assert.equal(first.frames.filter((f) => f.action === 'paymentComplete').length, 0);
      assert.equal(sim.ledger.length, 1);
    });

    it('terminalWithinGrace: reconnecting, AWAITING_RECONNECT, back in time, then approved', async () => {
      const { sim, open } = await setup({ stepDelayMs: 40, graceMs: 400 });
      const pos = await open();
      sim.setFault('terminalWithinGrace', true);
      pos.pay('TERM-001', { transactionId: 'g', amount: '5.00', currency: 'PHP', paymentMethod: 'CARD' });
      await pos.waitFor((f) => f.action === 'terminalStatusUpdate' && f.status === 'reconnecting');
      assert.equal(sim.ledger[0]!.status, 'AWAITING_RECONNECT');
      const r = await pos.result('g');
      assert.equal(r.paymentResponse.status, 'SUCCESS');
      const statuses = pos.frames.filter((f) => f.action === 'terminalStatusUpdate').map((f) => f.status);
      assert.deepEqual(statuses, ['reconnecting', 'connected']);
      assert.equal(sim.ledger[0]!.status, 'COMPLETED');
    });

    it('terminalLate: FAILED TERMINAL_DISCONNECTED at the end of the grace period, then paymentVoided when the terminal returns', async () => {
      const { sim, open, port } = await setup({ stepDelayMs: 20, graceMs: 150 });
      const pos = await open();
      sim.setFault('terminalLate', true);
      const t0 = Date.now();
      pos.pay('TERM-001', { transactionId: 'late', amount: '5.00', currency: 'PHP', paymentMethod: 'CARD' });
      const failed = await pos.result('late');
      assert.ok(Date.now() - t0 >= 150, 'not before the grace period ends');
      assert.equal(failed.paymentResponse.status, 'FAILED');
      assert.equal(failed.paymentResponse.errorCode, 'TERMINAL_DISCONNECTED');
      const voided = await pos.waitFor((f) => f.action === 'paymentVoided');
      assert.deepEqual([voided.transactionId, voided.terminalId, voided.voidReason], ['late', 'TERM-001', 'LATE_TERMINAL_RECONNECTION']);
      assert.ok(!Number.isNaN(Date.parse(voided.voidedAt)));
      assert.equal(sim.ledger[0]!.status, 'VOIDED');
      assert.equal(sim.ledger[0]!.voidReason, 'LATE_TERMINAL_RECONNECTION');
      const statuses = pos.frames.filter((f) => f.action === 'terminalStatusUpdate').map((f) => f.status);
      assert.deepEqual(statuses, ['reconnecting', 'disconnected', 'connected']);
      const path = '/v1/transactions/late';
      const t = await get(port, path, signed(path));
      assert.equal(t.status, 200);
      assert.equal(t.body.status, 'VOIDED');
      assert.equal(t.body.voidReason, 'LATE_TERMINAL_RECONNECTION');
    });
  });

  describe('HTTP transaction look-up', () => {
    it('answers a signed GET with the transaction; refuses bad keys, stale timestamps and bad signatures', async () => {
      const { open, port } = await setup();
      const pos = await open();
      pos.pay('TERM-001', { transactionId: 'tx/1', amount: '3.00', currency: 'PHP', paymentMethod: 'CARD', metadata: { reference: 'R' } });
      await pos.result('tx/1');
      const path = `/v1/transactions/${encodeURIComponent('tx/1')}`;
      const ok = await get(port, path, signed(path));
      assert.equal(ok.status, 200);
      assert.equal(ok.body.transactionId, 'tx/1');
      assert.equal(ok.body.status, 'COMPLETED');
      assert.equal(ok.body.request.amount, '3.00');
      assert.equal(ok.body.response.status, 'SUCCESS');
      for (const k of ['createdAt', 'updatedAt', 'completedAt', 'timestamp']) assert.equal(typeof ok.body[k], 'string', k);
      assert.deepEqual(await get(port, path, signed(path, { secret: 'wrong' })).then((r) => [r.status, r.body.error]), [401, 'INVALID_SIGNATURE']);
      assert.deepEqual(await get(port, path, signed(path, { key: 'nope' })).then((r) => [r.status, r.body.error]), [401, 'UNAUTHORIZED']);
      const stale = new Date(Date.now() - 6 * 60 * 1000).toISOString();
      assert.deepEqual(await get(port, path, signed(path, { timestamp: stale })).then((r) => [r.status, r.body.error]), [401, 'TIMESTAMP_EXPIRED']);
      assert.equal((await get(port, path, signed(path, { key: OTHER_KEY }))).status, 404, 'another key cannot see it');
      const unknown = '/v1/transactions/nope';
      assert.equal((await get(port, unknown, signed(unknown))).status, 404);
      const list = await get(port, '/v1/terminals', signed('/v1/terminals'));
      assert.deepEqual([list.status, list.body.count, list.body.terminals[0].terminalId], [200, 2, 'TERM-001']);
    });

    it('PENDING while the terminal works', async () => {
      const { open, port } = await setup({ stepDelayMs: 300 });
      const pos = await open();
      pos.pay('TERM-001', { transactionId: 'slow', amount: '3.00', currency: 'PHP', paymentMethod: 'CARD' });
      await sleep(50);
      const path = '/v1/transactions/slow';
      assert.equal((await get(port, path, signed(path))).body.status, 'PENDING');
    });
  });

  it('stop() resolves within 2 s with clients connected and a payment running, and leaves no timers', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // After one turn of the event loop, so mocha's own test timer is in the baseline.
    await sleep(1);
    const baseline = timers();
    const sim = new ModulusSimulator({ stepDelayMs: 5000 });
    const { url } = await sim.start();
    const pos = await Pos.open(`${url}/v1`, { 'x-api-key': SIMULATOR_API_KEY });
    pos.pay('TERM-001', { amount: '1.00', currency: 'PHP', paymentMethod: 'CARD' });
    await sleep(30);
    assert.equal(sim.ledger.length, 1);
    const t0 = Date.now();
    await sim.stop();
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    await pos.closed;
    await sleep(20);
    assert.ok(timers() <= baseline, `timers left behind: ${timers()} > ${baseline}`);
    await assert.rejects(sim.start(), /already stopped/);
  });
});
