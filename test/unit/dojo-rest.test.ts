import assert from 'node:assert/strict';
import { eventName } from '../../lib/core/names';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PosError } from '../../lib/core/errors';
import type { PaymentRequest } from '../../lib/core/types';
import { dojoEndpoints, keyWarning } from '../../lib/providers/dojo/endpoint';
import { requestJson } from '../../lib/core/http';
import {
  isFinalStatus, mapCard, mapSessionResult, mapTerminal, notificationProgress, receiptText, statusProgress,
} from '../../lib/providers/dojo/mapping';
import { DojoRest, dojoStatus, type DojoTerminalSession } from '../../lib/providers/dojo/rest';

const KEY = 'sk_sandbox_s3cr3t-key-value';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
type Reply = (req: Seen, res: http.ServerResponse) => void;

/** A tiny Dojo stand-in on a free loopback port: records every request, answers with `reply`. */
async function fakeDojo(reply: Reply): Promise<{ base: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      reply(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
  res.writeHead(status, { 'Content-Type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

const session = (status: string, extra: Partial<DojoTerminalSession> = {}): DojoTerminalSession => ({
  id: 'ts_1', terminalId: 'tm_1', status, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', expireAt: '2026-01-01T00:05:00Z',
  notificationEvents: [], statusEvents: [], details: { sessionType: 'Sale', sale: { paymentIntentId: 'pi_1' } }, ...extra,
});

describe('dojo rest client', () => {
  let fake: Awaited<ReturnType<typeof fakeDojo>> | undefined;
  let rest: DojoRest | undefined;
  let reply: Reply = (_req, res) => json(res, 200, {});
  const client = (extra: Partial<ConstructorParameters<typeof DojoRest>[0]> = {}) => {
    rest = new DojoRest({ restBase: () => fake!.base, apiKey: KEY, softwareHouseId: 'softwareHouse1', ...extra });
    return rest;
  };
  beforeEach(async () => {
    reply = (_req, res) => json(res, 200, {});
    fake = await fakeDojo((req, res) => reply(req, res));
  });
  afterEach(async () => {
    rest?.destroy();
    rest = undefined;
    await fake?.close();
  });

  it('sends the key literally after "Basic", the version and the vendor headers on every call', async () => {
    reply = (_req, res) => json(res, 200, { id: 'pi_1', status: 'Created' });
    await client({ resellerId: 'reseller1' }).createPaymentIntent({ amount: { value: 1000, currencyCode: 'GBP' }, reference: 'R1', captureMode: 'Auto' });
    const [req] = fake!.seen;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/payment-intents');
    assert.equal(req.headers.authorization, `Basic ${KEY}`, 'not base64');
    assert.equal(req.headers.version, '2026-02-27');
    assert.equal(req.headers['software-house-id'], 'softwareHouse1');
    assert.equal(req.headers['reseller-id'], 'reseller1');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(req.body), { amount: { value: 1000, currencyCode: 'GBP' }, reference: 'R1', captureMode: 'Auto' });
  });

  it('leaves reseller-id out when none is set, and honours another API version', async () => {
    reply = (_req, res) => json(res, 200, []);
    await client({ apiVersion: '2024-02-05' }).listTerminals(['Available', 'InUse']);
    const [req] = fake!.seen;
    assert.equal(req.headers['reseller-id'], undefined);
    assert.equal(req.headers.version, '2024-02-05');
    assert.equal(req.url, '/terminals?statuses=Available&statuses=InUse');
  });

  it('puts the refund idempotency key in its header and ids in the path, escaped', async () => {
    reply = (_req, res) => json(res, 200, { refundId: 'rf_1', paymentIntentId: 'pi/1' });
    const refund = await client().createRefund('pi/1', { amount: 500, refundReason: 'faulty' }, 'REF-9');
    assert.equal(refund.refundId, 'rf_1');
    const [req] = fake!.seen;
    assert.equal(req.url, '/payment-intents/pi%2F1/refunds');
    assert.equal(req.headers.idempotencykey, 'REF-9');
    assert.deepEqual(JSON.parse(req.body), { amount: 500, refundReason: 'faulty' });
  });

  it('uses the documented paths for sessions, signature, cancel, capability registration and search', async () => {
    reply = (req, res) => {
      if (req.url.startsWith('/terminal-sessions')) return json(res, 200, session('Initiated'));
      if (req.url === '/payment-intents/search') return json(res, 200, { data: [] });
      if (req.url.startsWith('/payment-intents/pi_1')) return json(res, 200, { id: 'pi_1', status: 'Canceled' });
      return json(res, 200, []);
    };
    const r = client();
    await r.createTerminalSession({ terminalId: 'tm_1', details: { sessionType: 'Sale', sale: { paymentIntentId: 'pi_1' } } });
    await r.getTerminalSession('ts_1');
    await r.answerSignature('ts_1', false);
    await r.cancelTerminalSession('ts_1');
    await r.registerWs([{ name: 'SearchOrders', version: 'v1' }]);
    await r.searchPaymentIntents({ startDate: '2026-01-01T00:00:00.000Z' });
    assert.equal((await r.getPaymentIntent('pi_1')).status, 'Canceled');
    await r.cancelPaymentIntent('pi_1');
    await r.postEposEvent({ eventType: 'OrderUpdated', event: { orderId: 'o1' } });
    assert.deepEqual(fake!.seen.map((s) => `${s.method} ${s.url}`), [
      'POST /terminal-sessions', 'GET /terminal-sessions/ts_1', 'PUT /terminal-sessions/ts_1/signature',
      'PUT /terminal-sessions/ts_1/cancel', 'PUT /epos/integrations/ws', 'POST /payment-intents/search',
      'GET /payment-intents/pi_1?returnCanceled=true', 'DELETE /payment-intents/pi_1', 'POST /epos/events',
    ]);
    assert.deepEqual(JSON.parse(fake!.seen[2].body), { accepted: false });
    assert.deepEqual(JSON.parse(fake!.seen[4].body), { capabilities: [{ name: 'SearchOrders', version: 'v1' }] });
  });

  it('turns RFC 7807 problem details into a sentence a person understands', async () => {
    reply = (_req, res) => json(res, 400, {
      type: 'https://tools.ietf.org/html/rfc7231#section-6.5.1', title: 'Amount must be positive', status: 400,
      errors: { 'amount.value': ['must be greater than 0'] }, traceId: 'abc123',
    }, 'application/problem+json');
    const err = await client().createPaymentIntent({ amount: { value: 0, currencyCode: 'GBP' }, reference: 'R' }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof PosError);
    assert.equal(err.code, 'provider_error');
    assert.equal(err.message, 'Dojo refused to create the payment intent (400 Bad Request): Amount must be positive; amount.value: must be greater than 0 (trace abc123)');
    assert.equal(dojoStatus(err), 400);
  });

  it('401 and 403 are unauthorized, and the key never appears even when the server echoes it', async () => {
    reply = (_req, res) => json(res, 401, { title: 'Unauthorized', detail: `key ${KEY} is not valid`, status: 401 });
    const e401 = await client().getPaymentIntent('pi_1').then(() => undefined, (e: unknown) => e);
    assert.ok(e401 instanceof PosError);
    assert.equal(e401.code, 'unauthorized');
    assert.match(e401.message, /did not accept the API key/);
    assert.ok(!e401.message.includes(KEY), e401.message);
    assert.ok(!e401.message.includes('s3cr3t'));
    assert.ok(!JSON.stringify(e401.details).includes(KEY), 'nor in the details');
    assert.match(JSON.stringify(e401.details), /\*\*\*/);

    reply = (_req, res) => json(res, 403, { title: 'Forbidden' });
    const e403 = await client().listTerminals().then(() => undefined, (e: unknown) => e);
    assert.ok(e403 instanceof PosError && e403.code === 'unauthorized');
    assert.match(e403.message, /403 Forbidden/);
  });

  it('404 is not_found and names what was missing; 422 on cancel is a provider error with its status', async () => {
    reply = (_req, res) => json(res, 404, { title: 'Not Found' });
    await assert.rejects(client().getTerminalSession('ts_9'), (e: unknown) =>
      e instanceof PosError && e.code === 'not_found' && /terminal session ts_9/.test(e.message));
    reply = (_req, res) => json(res, 422, { title: 'Session cannot be cancelled', status: 422 });
    const e = await client().cancelTerminalSession('ts_1').then(() => undefined, (x: unknown) => x);
    assert.ok(e instanceof PosError && e.code === 'provider_error');
    assert.equal(dojoStatus(e), 422);
  });

  it('5xx is a protocol error: the request may have been applied', async () => {
    reply = (_req, res) => json(res, 502, '<html>bad gateway</html>', 'text/html');
    await assert.rejects(client().createPaymentIntent({ amount: { value: 100, currencyCode: 'GBP' }, reference: 'R' }), (e: unknown) =>
      e instanceof PosError && e.code === 'protocol_error' && /502 Bad Gateway/.test(e.message) && /may or may not/.test(e.message) && !/html/.test(e.message));
  });

  it('a server that never answers is a protocol error after the timeout, and the request is abandoned', async () => {
    reply = () => {};
    const started = Date.now();
    await assert.rejects(client({ timeoutMs: 150 }).getTerminalSession('ts_1'), (e: unknown) =>
      e instanceof PosError && e.code === 'protocol_error' && /no answer within 0.2 s/.test(e.message));
    assert.ok(Date.now() - started < 2000);
  });

  it('an oversized answer is cut off', async () => {
    const big = JSON.stringify({ id: 'pi_1', pad: 'x'.repeat(64 * 1024) });
    reply = (_req, res) => json(res, 200, big);
    await assert.rejects(requestJson({ method: 'GET', url: `${fake!.base}/x`, timeoutMs: 2000, maxBytes: 1024 }), (e: unknown) =>
      e instanceof PosError && e.code === 'protocol_error' && /larger than/.test(e.message));
    const ok = await requestJson({ method: 'GET', url: `${fake!.base}/x`, timeoutMs: 2000 });
    assert.equal((ok.body as { id: string }).id, 'pi_1');
  });

  it('an answer cut off half-way is a protocol error (Dojo may have acted)', async () => {
    reply = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"id":"pi_1",');
      setTimeout(() => res.destroy(), 20);
    };
    await assert.rejects(client().createPaymentIntent({ amount: { value: 100, currencyCode: 'GBP' }, reference: 'R' }), (e: unknown) =>
      e instanceof PosError && e.code === 'protocol_error' && /may or may not/.test(e.message));
  });

  it('a refused connection means nothing was sent (not_connected)', async () => {
    const base = fake!.base;
    await fake!.close();
    fake = undefined;
    const r = new DojoRest({ restBase: () => base, apiKey: KEY, softwareHouseId: 'sh' });
    rest = r;
    await assert.rejects(r.createPaymentIntent({ amount: { value: 100, currencyCode: 'GBP' }, reference: 'R' }), (e: unknown) =>
      e instanceof PosError && e.code === 'not_connected' && /nothing was sent/.test(e.message) && !e.message.includes(KEY));
  });

  it('an answer that is not a session is a protocol error, not a crash', async () => {
    reply = (_req, res) => json(res, 200, { hello: 'world' });
    await assert.rejects(client().getTerminalSession('ts_1'), (e: unknown) => e instanceof PosError && e.code === 'protocol_error');
  });

  it('tolerates extra fields in an answer (warns, does not fail)', async () => {
    const warnings: string[] = [];
    reply = (_req, res) => json(res, 200, { ...session('Captured'), somethingNew: { a: 1 }, status: 'Captured' });
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const s = await client({ logger }).getTerminalSession('ts_1');
    assert.equal(s.status, 'Captured');
    for (const w of warnings) assert.ok(!w.includes(KEY));
  });
});

describe('dojo endpoints', () => {
  it('test and production use the one documented host pair', () => {
    for (const environment of ['test', 'production'] as const) {
      assert.deepEqual(dojoEndpoints({ environment }), { restBase: 'https://api.dojo.tech', wsUrl: 'wss://eu.ws.dojo.tech/epos' });
    }
  });

  it('a custom base keeps host, port and prefix for REST and adds /epos for the socket', () => {
    assert.deepEqual(dojoEndpoints({ environment: 'custom', url: 'http://127.0.0.1:8080' }), { restBase: 'http://127.0.0.1:8080', wsUrl: 'ws://127.0.0.1:8080/epos' });
    assert.deepEqual(dojoEndpoints({ environment: 'custom', url: 'https://proxy.example/dojo/' }), { restBase: 'https://proxy.example/dojo', wsUrl: 'wss://proxy.example/dojo/epos' });
    assert.deepEqual(dojoEndpoints({ environment: 'custom', url: 'ws://127.0.0.1:9000/x' }), { restBase: 'http://127.0.0.1:9000/x', wsUrl: 'ws://127.0.0.1:9000/x/epos' });
    assert.deepEqual(dojoEndpoints({ environment: 'custom', url: 'wss://gw.example:8443' }), { restBase: 'https://gw.example:8443', wsUrl: 'wss://gw.example:8443/epos' });
  });

  it('rejects what cannot be a Dojo base URL with bad_input', () => {
    const bad = ['', 'not a url', 'ftp://host', 'http://user:pw@host', 'http://host/?a=1'];
    for (const url of bad) {
      assert.throws(() => dojoEndpoints({ environment: 'custom', url }), (e: unknown) => e instanceof PosError && e.code === 'bad_input', url);
    }
    assert.throws(() => dojoEndpoints({ environment: 'custom' }), /base URL/);
    assert.throws(() => dojoEndpoints({ environment: 'staging' as 'test' }), (e: unknown) => e instanceof PosError && e.code === 'bad_input');
  });

  it('warns when the key prefix and the environment disagree', () => {
    assert.match(keyWarning('test', 'sk_prod_abc') ?? '', /production API key/);
    assert.match(keyWarning('production', 'sk_sandbox_abc') ?? '', /sandbox API key/);
    assert.equal(keyWarning('test', 'sk_sandbox_abc'), undefined);
    assert.equal(keyWarning('production', 'sk_prod_abc'), undefined);
    assert.equal(keyWarning('custom', 'sk_prod_abc'), undefined);
  });
});

describe('dojo mapping', () => {
  const request: PaymentRequest = { kind: 'sale', amount: 1000, currency: 'GBP', reference: 'R1' };

  it('session statuses map to outcomes; unknown ones are not final', () => {
    const cases: Array<[string, string]> = [
      ['Captured', 'approved'], ['SignatureVerificationAccepted', 'approved'], ['Authorized', 'approved'], ['Declined', 'declined'],
      ['SignatureVerificationRejected', 'voided'], ['Canceled', 'cancelled'], ['Expired', 'timed_out'],
    ];
    for (const [status, outcome] of cases) {
      const r = mapSessionResult(session(status), undefined, request);
      assert.equal(r.outcome, outcome, status);
      assert.equal(r.approved, outcome === 'approved');
      assert.equal(r.transactionId, 'pi_1', 'the payment intent id, which refunds need');
    }
    for (const status of ['InitiateRequested', 'Initiated', 'CancelRequested', 'SignatureVerificationRequired', 'SomethingNew']) {
      assert.equal(isFinalStatus(status), false, status);
    }
    assert.match(mapSessionResult(session('Authorized'), undefined, request).message, /not yet captured/);
    assert.match(mapSessionResult(session('SignatureVerificationRejected'), undefined, request).message, /signature rejected/i);
  });

  it('notification types use the Paymentsense progress names; unknown ones are snake_cased', () => {
    const names: Array<[string, string]> = [
      ['PresentCard', 'present_card'], ['InsertCard', 'insert_card'], ['EnterPin', 'pin_entry'], ['PleaseWait', 'please_wait'],
      ['RemoveCard', 'remove_card'], ['PresentOnlyOneCard', 'present_only_one_card'], ['CardError', 'card_error'],
      ['CardUnsupported', 'card_not_supported'], ['Approved', 'approved'], ['Declined', 'declined'], ['TapAgainPlease', 'tap_again_please'],
    ];
    for (const [type, event] of names) {
      const p = notificationProgress(type, request, 'tm_1', { notificationType: type });
      assert.equal(p.event, event);
      assert.equal(p.provider, 'dojo');
      assert.equal(p.terminalId, 'tm_1');
      assert.ok(p.message.length > 0);
    }
    assert.equal(eventName('ABCThing'), 'abc_thing');
    assert.equal(statusProgress('SignatureVerificationRequired', request, 'tm_1', null)?.event, 'signature_required');
    assert.match(statusProgress('SignatureVerificationRequired', request, 'tm_1', null)?.message ?? '', /automatically/);
    assert.equal(statusProgress('Captured', request, 'tm_1', null), undefined);
  });

  it('maps card, auth code, both receipt shapes and a decline message', () => {
    const line = (value: string) => ({ lineType: 'Text', text: { value, size: 'SizeBody', align: 'AlignLeft', emphasisBold: false } });
    const r = mapSessionResult(session('Captured', {
      customerReceipt: { lines: [line('SHOP'), { lineType: 'SingleLineSeperator' }, { lineType: 'NewLine' }, { lineType: 'LogoImage', imageLogo: { value: 'x' } }, line('THANKS')] },
      merchantReceipt: { lines: [line('MERCHANT COPY')] },
      paymentDetails: { authCode: 'A12', card: { cardType: 'VISA', cardName: 'VISA CREDIT', last4PAN: '0226', entryMode: 'ContactChip', verificationMethod: 'Pin' } },
    }), undefined, request);
    assert.deepEqual(r.card, { scheme: 'VISA', last4: '0226', entryMode: 'contactchip', verification: 'pin' });
    assert.equal(r.authCode, 'A12');
    assert.deepEqual(r.receipt, { merchant: ['MERCHANT COPY'], customer: ['SHOP', '-'.repeat(24), '', 'THANKS'] });
    assert.deepEqual(receiptText({ lines: [line('ONE')] }), ['ONE']);
    const single = mapSessionResult(session('Captured', { receipt: { lines: [line('ONLY')] } }), undefined, request);
    assert.deepEqual(single.receipt, { customer: ['ONLY'] });
    const declined = mapSessionResult(session('Declined', { paymentDetails: { message: 'Insufficient funds' } }), undefined, request);
    assert.equal(declined.message, 'Declined: Insufficient funds');
    assert.deepEqual(mapCard({ cardName: 'MASTERCARD', cardNumber: '5555********4444' }), { scheme: 'MASTERCARD', last4: '4444' });
    assert.deepEqual((r.raw as { session: { id: string } }).session.id, 'ts_1');
  });

  it('terminals: tid as name, open status set', () => {
    assert.deepEqual(mapTerminal({ id: 'tm_1', properties: { tid: '12345678' }, status: 'Available' }),
      { id: 'tm_1', name: '12345678', status: 'available', provider: 'dojo', raw: { id: 'tm_1', properties: { tid: '12345678' }, status: 'Available' } });
    assert.equal(mapTerminal({ id: 'tm_2', status: 'InUse' }).status, 'busy');
    assert.equal(mapTerminal({ id: 'tm_2', status: 'Offline' }).status, 'offline');
    assert.equal(mapTerminal({ id: 'tm_3', status: 'Sleeping' }).status, 'unknown');
    assert.equal(mapTerminal({ id: 'tm_3' }).name, 'tm_3');
  });
});
