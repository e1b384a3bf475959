import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import Pusher, { type Channel } from 'pusher-js';
import WebSocket from 'ws';
import {
  channelAuth, QuickPaySimulator, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys, type QuickPaySimulatorOptions,
} from '../../lib/simulators/quickpay';
import { until } from '../support/until';

type Frame = Record<string, any>;

const API_KEY = 'qp_SECRET_test_key_3a9c';
const OTHER_API_KEY = 'qp_SECRET_other_key_71fe';
const APP_SECRET = 'app_SECRET_hmac_5b20d4';
const AUTH_PATH = '/v1/websocket/auth';
const RATES = 'private-exchange-rate';
const PAYMENTS = `private-payments.${SIMULATOR_MERCHANT_ID}`;
const NOTIFICATIONS = `private-notifications.${SIMULATOR_MERCHANT_ID}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);


// ---- the JWT QuickPay documents under "Signing a Request", signed here with node:crypto ----

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function signJwt(claims: Record<string, unknown>, privateKeyPem = simulatorKeys().privateKeyPem, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKeyPem).toString('base64url')}`;
}

function claimsFor(body: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = nowS();
  return { uri: AUTH_PATH, nonce: randomUUID(), iat, exp: iat + 50, sub: API_KEY, bodyHash: createHash('sha256').update(body).digest('hex'), ...over };
}

interface Answer { status: number; body: any; text: string }

/** POSTs exactly `body` (no keep-alive: nothing stays open after the answer). */
function post(apiUrl: string, body: string, headers: Record<string, string>, method = 'POST', path = AUTH_PATH): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${apiUrl}${path}`, { method, agent: false, headers: { 'Content-Length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { parsed = undefined; }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('no answer')));
    req.end(body);
  });
}

function authRequest(apiUrl: string, socketId: string, channel: string, opts: { claims?: Record<string, unknown>; key?: string; apiKey?: string; body?: string; contentType?: string } = {}): Promise<Answer> {
  const body = opts.body ?? JSON.stringify({ socket_id: socketId, channel_name: channel });
  const jwt = signJwt(claimsFor(body, opts.claims), opts.key);
  return post(apiUrl, body, { 'Content-Type': opts.contentType ?? 'application/json', 'X-API-KEY': opts.apiKey ?? API_KEY, Authorization: `Bearer ${jwt}` });
}

// ---- a stock pusher-js client ----

function stockPusher(port: number, apiUrl: string, opts: { appKey?: string; activityTimeout?: number; pongTimeout?: number; endpoint?: boolean } = {}): Pusher {
  const channelAuthorization = opts.endpoint
    ? { endpoint: `${apiUrl}${AUTH_PATH}`, transport: 'ajax' as const }
    : {
        customHandler: (params: { socketId: string; channelName: string }, cb: (err: Error | null, data: { auth: string } | null) => void) => {
          authRequest(apiUrl, params.socketId, params.channelName).then(
            (a) => (a.status === 200 ? cb(null, { auth: a.body.auth }) : cb(new Error(`auth endpoint answered ${a.status} ${a.body?.error}`), null)),
            (err: Error) => cb(err, null),
          );
        },
      };
  return new Pusher(opts.appKey ?? SIMULATOR_APP_KEY, {
    cluster: 'sim', wsHost: '127.0.0.1', wsPort: port, forceTLS: false, enabledTransports: ['ws'], disableStats: true,
    channelAuthorization,
    ...(opts.activityTimeout ? { activityTimeout: opts.activityTimeout } : {}),
    ...(opts.pongTimeout ? { pongTimeout: opts.pongTimeout } : {}),
  });
}

function connected(p: Pusher): Promise<string> {
  return new Promise((resolve, reject) => {
    if (p.connection.state === 'connected') return resolve(p.connection.socket_id);
    const timer = setTimeout(() => reject(new Error(`pusher-js stayed ${p.connection.state}`)), 5000);
    p.connection.bind('connected', () => { clearTimeout(timer); resolve(p.connection.socket_id); });
  });
}

function subscribed(channel: Channel): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${channel.name} was never subscribed`)), 5000);
    channel.bind('pusher:subscription_succeeded', () => { clearTimeout(timer); resolve(); });
    channel.bind('pusher:subscription_error', (e: unknown) => { clearTimeout(timer); reject(new Error(`subscription_error ${JSON.stringify(e)}`)); });
  });
}

function nextEvent(channel: Channel, event: string, timeoutMs = 5000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} on ${channel.name}`)), timeoutMs);
    const handler = (data: unknown) => { clearTimeout(timer); channel.unbind(event, handler); resolve(data); };
    channel.bind(event, handler);
  });
}

// ---- a raw WebSocket client, to see exact frames ----

class Raw {
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
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

  static open(url: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const raw = new Raw(new WebSocket(url));
      raw.ws.once('open', () => resolve(raw));
      raw.ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => { clearTimeout(timer); resolve(f); } });
    });
  }

  async socketId(): Promise<string> {
    const f = await this.waitFor((x) => x.event === 'pusher:connection_established');
    return JSON.parse(f.data).socket_id;
  }
}

const ev = (name: string, channel?: string) => (f: Frame) => f.event === name && (channel === undefined || f.channel === channel);

describe('QuickPay simulator', () => {
  let sim: QuickPaySimulator;
  let port: number;
  let wsUrl: string;
  let apiUrl: string;
  let logs: string[];
  const clients: Pusher[] = [];
  const raws: Raw[] = [];

  async function setup(opts: QuickPaySimulatorOptions = {}): Promise<void> {
    logs = [];
    sim = new QuickPaySimulator({ apiKeys: [API_KEY, OTHER_API_KEY], appSecret: APP_SECRET, rateIntervalMs: 0, paymentIntervalMs: 0, logger: (l) => logs.push(l), ...opts });
    ({ wsUrl, apiUrl } = await sim.start());
    port = Number(new URL(apiUrl).port);
  }

  const pusher = (opts: Parameters<typeof stockPusher>[2] = {}) => {
    const p = stockPusher(port, apiUrl, opts);
    clients.push(p);
    return p;
  };
  const raw = async (query = '?protocol=7&client=js&version=8.6.0', key = SIMULATOR_APP_KEY) => {
    const r = await Raw.open(`${wsUrl}/app/${key}${query}`);
    raws.push(r);
    return r;
  };

  afterEach(async () => {
    for (const p of clients.splice(0)) p.disconnect();
    for (const r of raws.splice(0)) r.ws.terminate();
    await sim?.stop();
    // Nothing secret ever reaches a log line.
    for (const secret of [API_KEY, OTHER_API_KEY, APP_SECRET]) assert.ok(!logs.join('\n').includes(secret), `a log line shows ${secret}`);
  });

  describe('with a stock pusher-js client', () => {
    it('connects, subscribes test-channel and private-exchange-rate, and receives parsed rate events', async () => {
      await setup({ rateIntervalMs: 60 });
      const p = pusher();
      const socketId = await connected(p);
      assert.match(socketId, /^\d+\.\d+$/);
      const established = sim.sent.find((f: any) => f.event === 'pusher:connection_established') as Frame;
      assert.equal(typeof established.data, 'string', 'data is double-encoded');
      assert.deepEqual(JSON.parse(established.data), { socket_id: socketId, activity_timeout: 30 });

      const test = p.subscribe('test-channel');
      const rates = p.subscribe(RATES);
      await Promise.all([subscribed(test), subscribed(rates)]);
      const [rate, hello] = await Promise.all([nextEvent(rates, 'exchange.rate.updated'), nextEvent(test, 'test-event')]);
      assert.equal(rate.fiatCurrency, 'USD');
      assert.equal(rate.cryptoCurrency, 'USDT');
      assert.ok(typeof rate.rate === 'number' && rate.rate >= 1 && rate.rate <= 1.001, `rate ${rate.rate}`);
      assert.ok(Number.isInteger(rate.timestamp) && Math.abs(rate.timestamp - nowS()) <= 2);
      assert.equal(hello.message, 'hello');

      assert.deepEqual(sim.authCalls.map((c) => [c.socketId, c.channel, c.ok]), [[socketId, RATES, true]], 'the public channel needs no auth call');
      assert.deepEqual(sim.subscriptions.map((s) => s.channel).sort(), [RATES, 'test-channel']);
      const sentRate = sim.sent.find((f: any) => f.event === 'exchange.rate.updated') as Frame;
      assert.equal(sentRate.channel, RATES);
      assert.equal(typeof sentRate.data, 'string');
      // The subscribe frame carried exactly the signature the endpoint issued.
      const sub = sim.received.find((f: any) => f.event === 'pusher:subscribe' && f.data.channel === RATES) as Frame;
      assert.equal(sub.data.auth, channelAuth(SIMULATOR_APP_KEY, APP_SECRET, socketId, RATES));

      p.unsubscribe(RATES);
      await until(() => !sim.subscriptions.some((s) => s.channel === RATES), 'the unsubscribe');
      assert.equal(sim.publish(RATES, 'exchange.rate.updated', { rate: 1 }), 0);
      assert.equal(sim.publish('test-channel', 'test-event', { message: 'x' }), 1);
    });

    it('wrong app key: 4001, pusher-js stops and does not come back', async () => {
      await setup();
      const p = pusher({ appKey: 'not_the_key' });
      const errors: any[] = [];
      p.connection.bind('error', (e: unknown) => errors.push(e));
      await until(() => p.connection.state === 'disconnected' || p.connection.state === 'failed', 'pusher-js to give up');
      await sleep(3000);
      assert.equal(sim.connectionsAccepted, 1, 'no reconnect');
      assert.equal(sim.connectionsRefused, 1);
      assert.ok(['disconnected', 'failed'].includes(p.connection.state));
      assert.ok(errors.some((e) => e?.error?.data?.code === 4001), JSON.stringify(errors));
      const frame = sim.sent.find((f: any) => f.event === 'pusher:error') as Frame;
      assert.equal(frame.data.code, 4001);
      assert.match(frame.data.message, /App key not_the_key not in this cluster/);
    });

    it('badSignature: the server\'s subscription_error reaches channel.bind; public channels still work', async () => {
      await setup();
      sim.setFault('badSignature', true);
      const p = pusher();
      await connected(p);
      const rates = p.subscribe(RATES);
      const error = await nextEvent(rates, 'pusher:subscription_error');
      assert.deepEqual(error, { type: 'AuthError', error: 'Invalid signature', status: 401 });
      assert.ok(sim.authCalls.some((c) => c.ok && c.channel === RATES), 'the endpoint still signed');
      assert.equal(sim.subscriptions.length, 0);
      const test = p.subscribe('test-channel');
      await subscribed(test);
      assert.deepEqual(sim.subscriptions.map((s) => s.channel), ['test-channel']);
    });

    it('rejectAuth: pusher-js raises its own subscription_error (status 401 with its ajax transport)', async () => {
      await setup();
      sim.setFault('rejectAuth', true);
      const custom = pusher();
      await connected(custom);
      const e1 = await nextEvent(custom.subscribe(RATES), 'pusher:subscription_error');
      assert.equal(e1.type, 'AuthError');
      assert.match(e1.error, /401 authentication_failed/);

      const stock = pusher({ endpoint: true });
      await connected(stock);
      const e2 = await nextEvent(stock.subscribe(PAYMENTS), 'pusher:subscription_error');
      assert.equal(e2.type, 'AuthError');
      assert.equal(e2.status, 401);
      assert.ok(sim.authCalls.length >= 2 && sim.authCalls.every((c) => !c.ok && c.reason === 'authentication_failed'));
      assert.ok(!sim.sent.some((f: any) => f.event === 'pusher_internal:subscription_succeeded'));

      // Without the fault, pusher-js's own form-encoded request is refused: QuickPay wants JSON.
      sim.setFault('rejectAuth', false);
      const e3 = await nextEvent(stock.subscribe(NOTIFICATIONS), 'pusher:subscription_error');
      assert.equal(e3.status, 415);
    });

    it('dropAll: pusher-js reconnects with a new socket id, re-authorises and receives events again', async () => {
      await setup({ rateIntervalMs: 50 });
      const p = pusher();
      const first = await connected(p);
      const rates = p.subscribe(RATES);
      await subscribed(rates);
      await nextEvent(rates, 'exchange.rate.updated');
      sim.dropAll();
      await until(() => p.connection.state === 'connected' && p.connection.socket_id !== first, 'a new connection', 8000);
      const second = p.connection.socket_id;
      await until(() => sim.authCalls.some((c) => c.socketId === second && c.channel === RATES && c.ok), 're-authorisation');
      const again = await nextEvent(rates, 'exchange.rate.updated');
      assert.equal(again.fiatCurrency, 'USD');
      assert.equal(sim.connectionsAccepted, 2);
      assert.deepEqual(sim.subscriptions, [{ socketId: second, channel: RATES }]);
    });

    it('answers pusher-js pings; stopPonging makes pusher-js reconnect', async () => {
      await setup({ activityTimeoutS: 1 });
      const p = pusher({ pongTimeout: 400 });
      const first = await connected(p);
      await until(() => sim.sent.some((f: any) => f.event === 'pusher:pong'), 'a pong', 4000);
      assert.ok(sim.received.some((f: any) => f.event === 'pusher:ping'));
      assert.equal(p.connection.socket_id, first, 'still the same connection');
      sim.setFault('stopPonging', true);
      await until(() => sim.connectionsAccepted === 2, 'pusher-js to give up on the silent server', 6000);
      sim.setFault('stopPonging', false);
      await connected(p);
      assert.notEqual(p.connection.socket_id, first);
    });

    it('server ping: pusher-js answers and stays; a client that does not is closed with 4201', async () => {
      await setup({ pingIdleMs: 150, pongWaitMs: 200 });
      const p = pusher();
      const socketId = await connected(p);
      const r = await raw();
      await r.waitFor(ev('pusher:ping'), 2000);
      const closed = await r.closed;
      assert.equal(closed.code, 4201);
      assert.ok(r.frames.some((f) => f.event === 'pusher:error' && f.data.code === 4201));
      assert.ok(sim.received.some((f: any) => f.event === 'pusher:pong'), 'pusher-js answered a server ping');
      assert.equal(p.connection.socket_id, socketId);
      assert.equal(p.connection.state, 'connected');
    });

    it('a client event gets a 4301 pusher:error and the connection stays', async () => {
      await setup();
      const p = pusher();
      const socketId = await connected(p);
      const channel = p.subscribe(PAYMENTS);
      await subscribed(channel);
      const errors: any[] = [];
      p.connection.bind('error', (e: unknown) => errors.push(e));
      assert.equal(channel.trigger('client-hello', { a: 1 }), true);
      await until(() => errors.length > 0, 'the 4301 error');
      assert.equal(errors[0].type, 'PusherError');
      assert.equal(errors[0].data.code, 4301);
      sim.publishPayment('completed', { payment_id: 'pay_after_client_event' });
      const data = await nextEvent(channel, 'payment.status.updated');
      assert.equal(data.payment_id, 'pay_after_client_event');
      assert.equal(p.connection.socket_id, socketId);
      assert.equal(sim.connectionsAccepted, 1);
    });

    it('malformedFrames (non-JSON frame, non-JSON data): stock pusher-js keeps the connection and gets the event', async () => {
      await setup({ malformedKinds: ['notJson', 'dataNotJson'] });
      const p = pusher();
      const socketId = await connected(p);
      const channel = p.subscribe(PAYMENTS);
      await subscribed(channel);
      const seen: unknown[] = [];
      const errors: any[] = [];
      channel.bind('payment.status.updated', (d: unknown) => seen.push(d));
      p.connection.bind('error', (e: unknown) => errors.push(e));
      sim.setFault('malformedFrames', true);
      assert.equal(sim.publish(PAYMENTS, 'payment.status.updated', { payment_id: 'pay_x', status: 'completed' }), 1);
      await until(() => seen.some((d: any) => d?.payment_id === 'pay_x'), 'the real event');
      // The event whose data is not JSON reaches the binding as a string: the adapter must drop it.
      assert.deepEqual(seen.map((d) => typeof d), ['string', 'object']);
      assert.equal(errors[0]?.type, 'MessageParseError');
      assert.equal(p.connection.socket_id, socketId);
      assert.equal(p.connection.state, 'connected');
    });

    it('malformedFrames with a frame without event: pusher-js survives only behind a guard on its message path', async () => {
      // Stock pusher-js 8.6 throws (event.event.indexOf) on an event-less JSON frame, from a socket
      // callback: an uncaught exception. A client must drop such frames before pusher-js sees them.
      await setup();
      const p = pusher();
      const dropped: unknown[] = [];
      const emit = p.connection.emit.bind(p.connection);
      p.connection.emit = (name: string, data?: any) => {
        if (name === 'message' && typeof data?.event !== 'string') {
          dropped.push(data);
          return p.connection;
        }
        return emit(name, data);
      };
      const socketId = await connected(p);
      const channel = p.subscribe(PAYMENTS);
      await subscribed(channel);
      const seen: unknown[] = [];
      channel.bind('payment.status.updated', (d: unknown) => seen.push(d));
      sim.setFault('malformedFrames', true);
      sim.publishPayment('completed', { payment_id: 'pay_y' });
      await until(() => seen.some((d: any) => d?.payment_id === 'pay_y'), 'the real event');
      assert.equal(dropped.length, 1, 'the event-less frame was caught by the guard');
      assert.equal(p.connection.socket_id, socketId);
    });

    for (const [fault, code, minDelay] of [['closeWith4200', 4200, 0], ['closeWith4100', 4100, 900]] as const) {
      it(`${fault}: every socket is closed with ${code} once, pusher-js comes back`, async () => {
        await setup();
        const p = pusher();
        const first = await connected(p);
        const r = await raw();
        sim.setFault(fault, true);
        const t0 = Date.now();
        assert.equal((await r.closed).code, code);
        await until(() => p.connection.state === 'connected' && p.connection.socket_id !== first, 'the reconnect', 6000);
        assert.ok(Date.now() - t0 >= minDelay, `came back after ${Date.now() - t0} ms`);
        await sleep(300);
        assert.equal(sim.connectionsAccepted, 3, 'the fault fired once and turned itself off');
        assert.equal(sim.connectionsOpen, 1);
      });
    }
  });

  describe('wire details with a raw WebSocket', () => {
    it('handshake refusals: missing protocol 4008, unsupported 4007, wrong path 4005; wsPath prefix', async () => {
      await setup({ wsPath: '/ws/' });
      assert.match(wsUrl, /\/ws$/);
      const cases: Array<[string, number]> = [
        [`${wsUrl}/app/${SIMULATOR_APP_KEY}`, 4008],
        [`${wsUrl}/app/${SIMULATOR_APP_KEY}?protocol=6`, 4007],
        [`${wsUrl}/app/${SIMULATOR_APP_KEY}?protocol=abc`, 4007],
        [`${wsUrl.replace(/\/ws$/, '')}/app/${SIMULATOR_APP_KEY}?protocol=7`, 4005],
        [`${wsUrl}/app/${SIMULATOR_APP_KEY}/extra?protocol=7`, 4005],
      ];
      for (const [url, code] of cases) {
        const r = await Raw.open(url);
        raws.push(r);
        assert.equal((await r.closed).code, code, url);
        assert.deepEqual(r.frames.map((f) => [f.event, f.data.code]), [['pusher:error', code]], url);
      }
      const ok = await raw();
      assert.match(await ok.socketId(), /^\d+\.\d+$/);
      assert.equal(sim.connectionsAccepted, cases.length + 1);
      assert.equal(sim.connectionsRefused, cases.length);
    });

    it('subscribe: HMAC checked, presence refused, bad requests answered, junk ignored, connection kept', async () => {
      await setup();
      const r = await raw();
      const socketId = await r.socketId();
      r.send({ event: 'pusher:subscribe', data: { channel: PAYMENTS, auth: channelAuth(SIMULATOR_APP_KEY, 'wrong secret', socketId, PAYMENTS) } });
      const err = await r.waitFor(ev('pusher:subscription_error', PAYMENTS));
      assert.deepEqual(err.data, { type: 'AuthError', error: 'Invalid signature', status: 401 });
      r.send({ event: 'pusher:subscribe', data: { channel: PAYMENTS } });
      await r.waitFor((f) => f.event === 'pusher:subscription_error' && f !== err);
      // Signed for another socket: refused too.
      r.send({ event: 'pusher:subscribe', data: { channel: PAYMENTS, auth: channelAuth(SIMULATOR_APP_KEY, APP_SECRET, '1.2', PAYMENTS) } });
      await until(() => r.frames.filter(ev('pusher:subscription_error', PAYMENTS)).length === 3, 'the third refusal');
      r.send({ event: 'pusher:subscribe', data: { channel: PAYMENTS, auth: channelAuth(SIMULATOR_APP_KEY, APP_SECRET, socketId, PAYMENTS) } });
      const ok = await r.waitFor(ev('pusher_internal:subscription_succeeded', PAYMENTS));
      assert.equal(ok.data, '{}');
      r.send({ event: 'pusher:subscribe', data: { channel: 'presence-room', auth: 'x', channel_data: '{"user_id":"1"}' } });
      assert.equal((await r.waitFor(ev('pusher:subscription_error', 'presence-room'))).data.status, 403);
      r.send({ event: 'pusher:subscribe', data: { channel: 'bad channel name!' } });
      assert.equal((await r.waitFor(ev('pusher:error'))).data.code, null);

      // Junk in every shape: dropped, nothing answered, connection alive.
      const before = r.texts.length;
      r.send('not json {');
      r.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      r.send({ no: 'event' });
      r.send([1, 2]);
      r.send({ event: 'pusher:something_new', data: {} });
      r.send({ event: 'pusher:unsubscribe', data: 'not json' });
      r.send({ event: 'pusher:ping', data: {} });
      const pong = await r.waitFor(ev('pusher:pong'));
      assert.deepEqual(pong.data, {});
      assert.equal(r.texts.length, before + 1, 'only the pong was answered');
      assert.ok(sim.received.includes('not json {'));

      assert.equal(sim.publish(PAYMENTS, 'payment.status.updated', { payment_id: 'p1' }), 1);
      const event = await r.waitFor(ev('payment.status.updated', PAYMENTS));
      assert.deepEqual(JSON.parse(event.data), { payment_id: 'p1' });
      r.send({ event: 'pusher:unsubscribe', data: { channel: PAYMENTS } });
      await until(() => sim.subscriptions.length === 0, 'the unsubscribe');
      assert.equal(sim.publish(PAYMENTS, 'payment.status.updated', {}), 0);
    });

    it('stopPonging leaves pusher:ping unanswered', async () => {
      await setup();
      const r = await raw();
      await r.socketId();
      sim.setFault('stopPonging', true);
      r.send({ event: 'pusher:ping', data: {} });
      await sleep(200);
      assert.ok(!r.frames.some(ev('pusher:pong')));
      sim.setFault('stopPonging', false);
      r.send({ event: 'pusher:ping', data: {} });
      await r.waitFor(ev('pusher:pong'));
    });

    it('malformedFrames sends a non-JSON frame, a frame without event and non-JSON data before each real event', async () => {
      await setup();
      const r = await raw();
      await r.socketId();
      r.send({ event: 'pusher:subscribe', data: { auth: '', channel: 'test-channel' } });
      await r.waitFor(ev('pusher_internal:subscription_succeeded', 'test-channel'));
      sim.setFault('malformedFrames', true);
      const start = r.texts.length;
      sim.publish('test-channel', 'test-event', { message: 'real' });
      await r.waitFor(ev('test-event', 'test-channel'));
      await until(() => r.texts.length === start + 4, 'four frames');
      const got = r.texts.slice(start);
      assert.throws(() => JSON.parse(got[0]!));
      assert.equal(JSON.parse(got[1]!).event, undefined);
      const badData = JSON.parse(got[2]!);
      assert.equal(badData.event, 'test-event');
      assert.throws(() => JSON.parse(badData.data));
      assert.deepEqual(JSON.parse(JSON.parse(got[3]!).data), { message: 'real' });
      sim.setFault('malformedFrames', false);
      sim.publish('test-channel', 'test-event', { message: 'clean' });
      await until(() => r.texts.length === start + 5, 'one clean frame');
    });

    it('a scripted payment walk (pending, processing, final) with every third walk failing or expiring', async () => {
      await setup({ paymentIntervalMs: 20 });
      await sleep(100);
      const r = await raw();
      const socketId = await r.socketId();
      for (const channel of [PAYMENTS, NOTIFICATIONS]) {
        r.send({ event: 'pusher:subscribe', data: { channel, auth: channelAuth(SIMULATOR_APP_KEY, APP_SECRET, socketId, channel) } });
        await r.waitFor(ev('pusher_internal:subscription_succeeded', channel));
      }
      await until(() => r.frames.filter(ev('payment.status.updated')).length >= 9, 'three walks');
      const data = r.frames.filter(ev('payment.status.updated')).slice(0, 9).map((f) => JSON.parse(f.data));
      assert.deepEqual(data.map((d) => `${d.payment_id}:${d.status}`), [
        'pay_1:pending', 'pay_1:processing', 'pay_1:completed',
        'pay_2:pending', 'pay_2:processing', 'pay_2:completed',
        'pay_3:pending', 'pay_3:processing', 'pay_3:failed',
      ], 'walks wait for a subscriber and start from pending');
      const d = data[0];
      assert.deepEqual(
        [d.amount, d.currency, d.payment_method, d.crypto_currency, d.exchange_rate, d.fiat_amount, d.crypto_amount],
        ['12.50', 'USD', 'crypto', 'USDT', '1.0002', '12.50', '12.497'],
      );
      assert.ok(Date.parse(d.expires_at) > Date.now());
      assert.equal(data[2].expires_at, d.expires_at, 'one payment, one expiry');
      await until(() => r.frames.filter(ev('system.notification', NOTIFICATIONS)).length >= 3, 'three notifications');
      const notes = r.frames.filter(ev('system.notification')).map((f) => JSON.parse(f.data));
      assert.deepEqual(notes.slice(0, 3).map((n) => n.level), ['info', 'info', 'warning']);
    });

    it('publishPayment / publishNotification use the configured event names', async () => {
      await setup({ paymentEvent: 'payment.updated', notificationEvent: 'notice' });
      const r = await raw();
      const socketId = await r.socketId();
      for (const channel of [PAYMENTS, NOTIFICATIONS]) {
        r.send({ event: 'pusher:subscribe', data: { channel, auth: channelAuth(SIMULATOR_APP_KEY, APP_SECRET, socketId, channel) } });
        await r.waitFor(ev('pusher_internal:subscription_succeeded', channel));
      }
      sim.publishPayment('processing', { payment_id: 'pay_fixed', amount: '3.00' });
      sim.publishNotification('warning', 'Maintenance', 'Tonight 02:00 UTC');
      const pay = JSON.parse((await r.waitFor(ev('payment.updated', PAYMENTS))).data);
      assert.deepEqual([pay.payment_id, pay.status, pay.amount, pay.currency], ['pay_fixed', 'processing', '3.00', 'USD']);
      const note = JSON.parse((await r.waitFor(ev('notice', NOTIFICATIONS))).data);
      assert.deepEqual([note.level, note.title, note.message], ['warning', 'Maintenance', 'Tonight 02:00 UTC']);
      assert.ok(Number.isInteger(note.timestamp));
    });
  });

  describe('the auth endpoint', () => {
    let socketId: string;

    beforeEach(async () => {
      await setup();
      socketId = await (await raw()).socketId();
    });

    it('signs a merchant channel with the app secret', async () => {
      const a = await authRequest(apiUrl, socketId, PAYMENTS);
      assert.equal(a.status, 200);
      assert.deepEqual(a.body, { auth: channelAuth(SIMULATOR_APP_KEY, APP_SECRET, socketId, PAYMENTS) });
      assert.match(a.body.auth, /^pagCMLx6TXrb:[0-9a-f]{64}$/);
      // The uri without /v1 is accepted too, and so are the other API key and the public test channel.
      assert.equal((await authRequest(apiUrl, socketId, RATES, { claims: { uri: '/websocket/auth' } })).status, 200);
      assert.equal((await authRequest(apiUrl, socketId, 'test-channel', { apiKey: OTHER_API_KEY, claims: { sub: OTHER_API_KEY } })).status, 200);
      assert.equal((await authRequest(apiUrl, socketId, NOTIFICATIONS, { contentType: 'application/json; charset=utf-8' })).status, 200);
    });

    it('JWT checks: each broken claim is a 401 naming the check', async () => {
      const { privateKeyPem: strangerKey } = (() => {
        const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
        return { privateKeyPem: pair.privateKey };
      })();
      const t = nowS();
      const cases: Array<[string, Parameters<typeof authRequest>[3], string]> = [
        ['expired', { claims: { iat: t - 58, exp: t - 5 } }, 'token_expired'],
        ['exp - iat = 55', { claims: { iat: t, exp: t + 55 } }, 'token_lifetime_too_long'],
        ['wrong bodyHash', { claims: { bodyHash: createHash('sha256').update('{}').digest('hex') } }, 'body_hash_mismatch'],
        ['sub is not the X-API-KEY', { claims: { sub: OTHER_API_KEY } }, 'subject_mismatch'],
        ['signed with another key pair', { key: strangerKey }, 'invalid_signature'],
        ['iat in the future', { claims: { iat: t + 120, exp: t + 150 } }, 'iat_out_of_range'],
        ['another uri', { claims: { uri: '/merchants/profile' } }, 'uri_mismatch'],
        ['no nonce', { claims: { nonce: undefined } }, 'invalid_claims'],
      ];
      for (const [label, opts, reason] of cases) {
        const a = await authRequest(apiUrl, socketId, PAYMENTS, opts);
        assert.deepEqual([a.status, a.body.error], [401, reason], label);
        assert.equal(typeof a.body.message, 'string');
      }
      // Replay: the very same request twice.
      const body = JSON.stringify({ socket_id: socketId, channel_name: PAYMENTS });
      const headers = { 'Content-Type': 'application/json', 'X-API-KEY': API_KEY, Authorization: `Bearer ${signJwt(claimsFor(body))}` };
      assert.equal((await post(apiUrl, body, headers)).status, 200);
      const replay = await post(apiUrl, body, headers);
      assert.deepEqual([replay.status, replay.body.error], [401, 'nonce_reused']);
      // alg other than RS256, and a token that is not a JWT.
      const hs = `${b64url({ alg: 'HS256' })}.${b64url(claimsFor(body))}.c2ln`;
      assert.equal((await post(apiUrl, body, { ...headers, Authorization: `Bearer ${hs}` })).body.error, 'unsupported_alg');
      assert.equal((await post(apiUrl, body, { ...headers, Authorization: 'Bearer nope' })).body.error, 'malformed_token');
      assert.equal((await post(apiUrl, body, { ...headers, Authorization: 'Basic abc' })).body.error, 'missing_token');
      assert.ok(sim.authCalls.filter((c) => !c.ok).length >= cases.length + 4);
      assert.ok(!JSON.stringify(sim.authCalls).includes(API_KEY));
    });

    it('headers, body and channel permissions', async () => {
      const body = JSON.stringify({ socket_id: socketId, channel_name: PAYMENTS });
      const jwt = () => `Bearer ${signJwt(claimsFor(body))}`;
      const noKey = await post(apiUrl, body, { 'Content-Type': 'application/json', Authorization: jwt() });
      assert.deepEqual([noKey.status, noKey.body.error], [401, 'invalid_api_key']);
      const unknownKey = await post(apiUrl, body, { 'Content-Type': 'application/json', 'X-API-KEY': 'qp_SECRET_unknown', Authorization: jwt() });
      assert.deepEqual([unknownKey.status, unknownKey.body.error], [401, 'invalid_api_key']);
      assert.ok(!unknownKey.text.includes('qp_SECRET_unknown'), 'the key is not echoed');
      const form = `socket_id=${socketId}&channel_name=${PAYMENTS}`;
      assert.equal((await post(apiUrl, form, { 'Content-Type': 'application/x-www-form-urlencoded', 'X-API-KEY': API_KEY, Authorization: jwt() })).status, 415);
      assert.equal((await authRequest(apiUrl, socketId, PAYMENTS, { body: '{"socket_id":' })).body.error, 'invalid_json');
      assert.equal((await authRequest(apiUrl, socketId, PAYMENTS, { body: '{"socket_id":"abc","channel_name":"test-channel"}' })).body.error, 'invalid_request');
      const denied = await authRequest(apiUrl, socketId, 'private-merchant.someone_else');
      assert.deepEqual([denied.status, denied.body], [403, { error: 'channel_access_denied', message: 'Channel access denied' }]);
      assert.equal((await authRequest(apiUrl, socketId, 'presence-merchant_001')).status, 403);
      const unknownSocket = await authRequest(apiUrl, '123.456', PAYMENTS);
      assert.deepEqual([unknownSocket.status, unknownSocket.body.error], [400, 'unknown_socket']);
      assert.equal((await post(apiUrl, '', {}, 'GET')).status, 405);
      assert.equal((await post(apiUrl, '', {}, 'POST', '/v1/other')).status, 404);
      assert.equal((await post(apiUrl, 'x'.repeat(20_000), { 'Content-Type': 'application/json' })).status, 413);
      const last = sim.authCalls.at(-1)!;
      assert.equal(last.ok, false);
    });

    it('verifyJwt false accepts any bearer token but still wants a known API key', async () => {
      await sim.stop();
      await setup({ verifyJwt: false });
      const id = await (await raw()).socketId();
      const body = JSON.stringify({ socket_id: id, channel_name: PAYMENTS });
      const a = await post(apiUrl, body, { 'Content-Type': 'application/json', 'X-API-KEY': API_KEY, Authorization: 'Bearer anything' });
      assert.deepEqual([a.status, a.body.auth], [200, channelAuth(SIMULATOR_APP_KEY, APP_SECRET, id, PAYMENTS)]);
      assert.equal((await post(apiUrl, body, { 'Content-Type': 'application/json', 'X-API-KEY': 'nope', Authorization: 'Bearer anything' })).status, 401);
    });
  });

  it('options are checked; setFault refuses unknown faults; start after stop rejects', async () => {
    assert.throws(() => new QuickPaySimulator({ apiKeys: [] }), /apiKeys/);
    assert.throws(() => new QuickPaySimulator({ rateIntervalMs: -1 }), /rateIntervalMs/);
    assert.throws(() => new QuickPaySimulator({ merchantId: 'a b' }), /merchantId/);
    assert.throws(() => new QuickPaySimulator({ publicKeyPem: 'not a pem' }));
    await setup();
    assert.throws(() => sim.setFault('nope' as never, true), /unknown fault/);
    await sim.stop();
    await assert.rejects(sim.start(), /already stopped/);
  });

  it('stop() resolves within 2 s with pusher-js connected and timers running, and leaves no handles', async () => {
    const kinds = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
    const count = () => {
      const all = process.getActiveResourcesInfo();
      return Object.fromEntries(kinds.map((k) => [k, all.filter((r) => r === k).length]));
    };
    await sleep(50);
    const before = count();
    await setup({ rateIntervalMs: 30, paymentIntervalMs: 30, pingIdleMs: 1000 });
    const p = pusher();
    await connected(p);
    await subscribed(p.subscribe(RATES));
    await subscribed(p.subscribe(PAYMENTS));
    const r = await raw();
    await r.socketId();
    await sleep(100);
    const t0 = Date.now();
    await sim.stop();
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    assert.equal((await r.closed).code, 1001);
    p.disconnect();
    await sleep(200);
    assert.deepEqual(count(), before);
  });
});
