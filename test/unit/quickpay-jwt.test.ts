import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { PosError } from '../../lib/core/errors';
import { makeRedactor } from '../../lib/core/redact';
import { authBody, requestChannelAuth } from '../../lib/providers/quickpay/authorizer';
import { channelsForTopics } from '../../lib/providers/quickpay/channels';
import { closeClass, refusalReason } from '../../lib/providers/quickpay/close-codes';
import { JWT_LIFETIME_S, loadPrivateKey, requestClaims, sha256Hex, signJwt } from '../../lib/providers/quickpay/jwt';
import { paymentReference, toNotification } from '../../lib/providers/quickpay/mapping';
import { scrubPusherText } from '../../lib/providers/quickpay/pusher-log';
import { ReplayGuard } from '../../lib/providers/quickpay/replay-guard';
import { quickpayEndpoints } from '../../lib/providers/quickpay/urls';

const pair = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const API_KEY = 'qp_test_SECRET_api_key_91c2';

function decode(token: string): { header: any; claims: any; valid: boolean } {
  const [h, c, s] = token.split('.') as [string, string, string];
  const valid = verify('sha256', Buffer.from(`${h}.${c}`), createPublicKey(pair.publicKey), Buffer.from(s, 'base64url'));
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(c, 'base64url').toString()), valid };
}

describe('QuickPay JWT (RS256 on node:crypto)', () => {
  const key = loadPrivateKey(pair.privateKey);

  it('signs a token that verifies against the public key, with exactly the documented claims', () => {
    const body = JSON.stringify(authBody('123.456', 'private-exchange-rate'));
    const token = signJwt(requestClaims({ uri: '/v1/websocket/auth', apiKey: API_KEY, body, nowS: 1_700_000_000, nonce: 'ab'.repeat(16) }), key);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const { header, claims, valid } = decode(token);
    assert.equal(valid, true);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT' });
    assert.deepEqual(Object.keys(claims).sort(), ['bodyHash', 'exp', 'iat', 'nonce', 'sub', 'uri']);
    assert.equal(claims.uri, '/v1/websocket/auth');
    assert.equal(claims.sub, API_KEY);
    assert.equal(claims.iat, 1_700_000_000);
    assert.equal(claims.exp - claims.iat, JWT_LIFETIME_S);
    assert.ok(claims.exp - claims.iat < 55);
    assert.equal(claims.bodyHash, createHash('sha256').update(body).digest('hex'));
  });

  it('gives every token a fresh 16-byte hex nonce and the current time', () => {
    const before = Math.floor(Date.now() / 1000);
    const a = requestClaims({ uri: '/x', apiKey: API_KEY, body: '{}' });
    const b = requestClaims({ uri: '/x', apiKey: API_KEY, body: '{}' });
    assert.match(a.nonce, /^[0-9a-f]{32}$/);
    assert.notEqual(a.nonce, b.nonce);
    assert.ok(a.iat >= before && a.iat <= Math.floor(Date.now() / 1000));
  });

  it('bodyHash is the SHA-256 of the exact body bytes for any socket id and channel name', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (socketId, channel) => {
      const bytes = JSON.stringify(authBody(socketId, channel));
      const claims = requestClaims({ uri: '/v1/websocket/auth', apiKey: API_KEY, body: bytes });
      assert.equal(claims.bodyHash, createHash('sha256').update(Buffer.from(bytes, 'utf8')).digest('hex'));
      assert.equal(claims.bodyHash, sha256Hex(Buffer.from(bytes, 'utf8')));
      // Keys in this order and nothing else: the body QuickPay documents.
      assert.deepEqual(Object.keys(JSON.parse(bytes)), ['socket_id', 'channel_name']);
    }), { numRuns: 200 });
  });

  it('reads PKCS#1 keys, and PEMs whose line breaks were lost or escaped', () => {
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    assert.equal(loadPrivateKey(pkcs1).asymmetricKeyType, 'rsa');
    const flat = pair.privateKey.replace(/\n/g, '');
    assert.equal(loadPrivateKey(flat).asymmetricKeyType, 'rsa');
    const escaped = pair.privateKey.replace(/\n/g, '\\n');
    const token = signJwt(requestClaims({ uri: '/u', apiKey: API_KEY, body: '' }), loadPrivateKey(escaped));
    assert.equal(decode(token).valid, true);
  });

  it('refuses a bad key with a bad_input sentence that never quotes the key', () => {
    const broken = pair.privateKey.replace(/[A-Za-z]{20}/, 'AAAAAAAAAAAAAAAAAAAA');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
    const cases = ['', 'not a key', broken, ec, pair.publicKey, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----'];
    for (const pem of cases) {
      assert.throws(() => loadPrivateKey(pem), (err: unknown) => {
        assert.ok(err instanceof PosError, String(err));
        assert.equal(err.code, 'bad_input');
        const body = pem.split('\n').find((l) => l.length > 40);
        if (body) assert.ok(!err.message.includes(body), 'the message quotes the key');
        return true;
      });
    }
  });
});

describe('QuickPay auth call (exact bytes on the wire)', () => {
  let server: http.Server;
  let base: string;
  let seen: Array<{ headers: http.IncomingHttpHeaders; raw: Buffer; url: string }> = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"auth":"pagCMLx6TXrb:' + 'a'.repeat(64) + '"}' };

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, raw: Buffer.concat(chunks), url: req.url ?? '' });
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen = [];
  });

  const call = (socketId = '1234.5678', channel = 'private-payments.merchant_001') => requestChannelAuth({
    restBase: base, apiKey: API_KEY, key: loadPrivateKey(pair.privateKey), socketId, channelName: channel,
    timeoutMs: 2000, verifyTls: true, redact: makeRedactor([API_KEY]),
  });

  it('posts JSON with Bearer JWT and X-API-KEY, and the JWT hashes the bytes the server received', async () => {
    answer = { status: 200, body: '{"auth":"pagCMLx6TXrb:' + 'b'.repeat(64) + '"}' };
    const out = await call('99.\u00e9"x', 'private-exchange-rate');
    assert.deepEqual(out, { kind: 'ok', auth: 'pagCMLx6TXrb:' + 'b'.repeat(64) });
    const got = seen[0]!;
    assert.equal(got.url, '/v1/websocket/auth');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-api-key'], API_KEY);
    const token = /^Bearer (.+)$/.exec(String(got.headers.authorization))![1]!;
    const { claims, valid } = decode(token);
    assert.equal(valid, true);
    assert.equal(claims.bodyHash, createHash('sha256').update(got.raw).digest('hex'));
    assert.deepEqual(JSON.parse(got.raw.toString()), { socket_id: '99.\u00e9"x', channel_name: 'private-exchange-rate' });
  });

  it('tells a refusal (401/403) from a failure worth retrying, without the API key in the message', async () => {
    answer = { status: 401, body: `{"error":"invalid_signature","message":"bad ${API_KEY}"}` };
    const refused = await call();
    assert.equal(refused.kind, 'refused');
    assert.ok(!JSON.stringify(refused).includes(API_KEY));
    assert.match((refused as { message: string }).message, /401.*invalid_signature/);
    answer = { status: 403, body: '{"error":"channel_access_denied"}' };
    assert.equal((await call()).kind, 'refused');
    for (const a of [{ status: 500, body: 'oops' }, { status: 400, body: '{"error":"unknown_socket"}' }, { status: 200, body: '{"auth":42}' }, { status: 200, body: 'not json' }]) {
      answer = a;
      assert.equal((await call()).kind, 'failed', JSON.stringify(a));
    }
  });

  it('reports an unreachable endpoint as a failure, not a throw', async () => {
    const out = await requestChannelAuth({
      restBase: 'http://127.0.0.1:1', apiKey: API_KEY, key: loadPrivateKey(pair.privateKey), socketId: '1.1', channelName: 'x',
      timeoutMs: 1000, verifyTls: true, redact: (t) => t,
    });
    assert.equal(out.kind, 'failed');
  });
});

describe('QuickPay pure parts', () => {
  it('builds the URLs for each environment and keeps a custom path prefix', () => {
    assert.deepEqual(quickpayEndpoints({ environment: 'test' }, 'k').ws, { host: 'sandbox-ws.quickpay.best', port: 443, tls: true, path: '' });
    assert.equal(quickpayEndpoints({ environment: 'production' }, 'k').restBase, 'https://api.quickpay.best');
    const c = quickpayEndpoints({ environment: 'custom', url: 'ws://127.0.0.1:8705/qp/' }, 'key');
    assert.deepEqual(c.ws, { host: '127.0.0.1', port: 8705, tls: false, path: '/qp' });
    assert.equal(c.restBase, 'http://127.0.0.1:8705/qp');
    assert.equal(c.wsUrl, 'ws://127.0.0.1:8705/qp/app/key');
    assert.equal(quickpayEndpoints({ environment: 'custom', url: 'https://[::1]:9000' }, 'k').ws.host, '[::1]');
    for (const url of ['', 'ftp://x', 'http://u:p@h', 'http://h?x=1', 'wss://h/app/pagCMLx6TXrb', 'nope']) {
      assert.throws(() => quickpayEndpoints({ environment: 'custom', url }, 'k'), PosError, url);
    }
  });

  it('maps topics to channels and names what it ignores', () => {
    const r = channelsForTopics(['rates', 'payments', 'notifications', 'merchant', 'channel:test-channel', 'rates', 'bogus', 'channel:bad name', 'channel:presence-x'], 'm1');
    assert.deepEqual(r.channels, ['private-exchange-rate', 'private-payments.m1', 'private-notifications.m1', 'private-merchant.m1', 'test-channel']);
    assert.deepEqual(r.ignored.map((i) => i.topic), ['bogus', 'channel:bad name', 'channel:presence-x']);
    assert.deepEqual(channelsForTopics(['payments', 'rates'], '').channels, ['private-exchange-rate']);
  });

  it('classifies close codes as pusher-js does and explains refusals', () => {
    assert.deepEqual([4000, 4001, 4009, 4100, 4199, 4200, 4201, 4301, 1006].map(closeClass), ['tls_only', 'refused', 'refused', 'backoff', 'backoff', 'retry', 'retry', 'refused', 'other']);
    assert.match(refusalReason(4001, 'App key x not in this app'), /^QuickPay refused the connection \(4001 App key x not in this app\): .*app key/);
  });

  it('gives payment events their payment_id as reference, and no other event', () => {
    assert.equal(paymentReference({ payment_id: 'pay_1' }), 'pay_1');
    assert.equal(paymentReference({ data: { payment_id: 77 } }), '77');
    assert.equal(paymentReference({ payment_id: {} }), undefined);
    const n = toNotification({ channel: 'c', event: 'payment.status.updated', data: { payment_id: 'p' }, paymentEvent: 'payment.status.updated', receivedAt: 't' });
    assert.deepEqual(n, { provider: 'quickpay', event: 'payment.status.updated', channel: 'c', data: { payment_id: 'p' }, receivedAt: 't', reference: 'p' });
    assert.equal(toNotification({ channel: 'c', event: 'other', data: { payment_id: 'p' }, paymentEvent: 'payment.status.updated' }).reference, undefined);
  });

  it('scrubs Pusher signatures, bearer tokens and JWTs from pusher-js log text', () => {
    const text = `Event sent {"event":"pusher:subscribe","data":{"auth":"pagCMLx6TXrb:${'c'.repeat(64)}","channel":"x"}} Bearer abc.def eyJhbGc.eyJzdWIi.sig app:${'d'.repeat(64)}`;
    const out = scrubPusherText(text);
    assert.ok(!out.includes('c'.repeat(64)) && !out.includes('d'.repeat(64)) && !out.includes('abc.def') && !out.includes('eyJzdWIi'), out);
    assert.match(out, /"channel":"x"/);
  });

  it('drops a replay only in the window after a re-subscription, once per copy', () => {
    const g = new ReplayGuard();
    assert.equal(g.isReplay('c', 'e', { v: 1 }, 1000), false);
    assert.equal(g.isReplay('c', 'e', { v: 1 }, 1100), false, 'an identical event on a live connection passes');
    g.lost(2000);
    g.resubscribed('c', 3000);
    assert.equal(g.isReplay('c', 'e', { v: 2 }, 3100), false);
    assert.equal(g.isReplay('c', 'e', { v: 1 }, 3200), true);
    assert.equal(g.isReplay('c', 'e', { v: 1 }, 3300), true, 'two copies were seen before');
    assert.equal(g.isReplay('c', 'e', { v: 1 }, 3400), false, 'a third is new');
    g.lost(4000);
    g.resubscribed('c', 5000);
    assert.equal(g.isReplay('c', 'e', { v: 2 }, 7100), false, 'outside the 2 s window');
  });
});
