// Dojo manual capture through the payment service, adapter against the simulator: a pre-auth
// is a captureMode Manual intent paid on a terminal (Authorized), completed by POST /captures
// for the final amount or released by POST /reversal, with the intent id from the journal; a
// capture whose answer is lost is read back from the intent, never sent twice.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PosError } from '../../lib/core/errors';
import { MemoryJournal } from '../../lib/core/journal';
import { PaymentService } from '../../lib/core/payments';
import { silentLogger, type PaymentRequest } from '../../lib/core/types';
import { DojoProvider } from '../../lib/providers/dojo/client';
import { DojoRest } from '../../lib/providers/dojo/rest';
import { checkRest } from '../../lib/providers/dojo/schemas';
import { DojoSimulator, SIMULATOR_API_KEY } from '../../lib/simulators/dojo';

const T1 = 'tm_sim_counter_1';
const req = (kind: PaymentRequest['kind'], reference: string, amount: number, extra: Partial<PaymentRequest> = {}): PaymentRequest =>
  ({ kind, amount, currency: 'GBP', reference, terminalId: T1, ...extra });

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A proxy in front of the simulator that can lose the answer to one capture after Dojo did it. */
async function lossyProxy(target: string): Promise<{ url: string; loseNextCapture(): void; close(): Promise<void> }> {
  let lose = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (answer) => {
        const body: Buffer[] = [];
        answer.on('data', (c: Buffer) => body.push(c));
        answer.on('end', () => {
          if (lose && /\/captures$/.test(req.url ?? '')) {
            lose = false;
            res.writeHead(502).end('bad gateway');
            return;
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(body));
        });
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseNextCapture: () => { lose = true; },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('Dojo manual capture (adapter and simulator)', function () {
  this.timeout(15000);
  let sim: DojoSimulator;
  let provider: DojoProvider;
  let service: PaymentService;
  let proxy: Awaited<ReturnType<typeof lossyProxy>>;
  const pay = (r: PaymentRequest) => service.pay(r, { timeoutMs: 5000 });

  beforeEach(async () => {
    sim = new DojoSimulator({ port: 0, stepDelayMs: 5, sessionExpiryMs: 400, signatureTimeoutMs: 5000 });
    const { url } = await sim.start();
    proxy = await lossyProxy(url);
    provider = new DojoProvider({
      environment: 'custom', url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'softwareHouse1', resellerId: 'reseller1',
      pollIntervalMs: 10, restTimeoutMs: 3000, backoff: { initialMs: 20, maxMs: 100 },
    });
    // REST through the proxy (which can lose an answer); the EPOS socket straight to the simulator.
    (provider as unknown as { rest: DojoRest }).rest = new DojoRest({ restBase: () => proxy.url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'softwareHouse1' });
    (provider as unknown as { counter: { rest: DojoRest } }).counter.rest = (provider as unknown as { rest: DojoRest }).rest;
    provider.start();
    await waitFor(() => provider.state.name === 'connected', 5000);
    service = new PaymentService(provider, new MemoryJournal(), silentLogger);
  });
  afterEach(async () => {
    await provider.stop();
    await proxy.close();
    await sim.stop();
  });

  const ledger = (kind: string) => sim.counter.ledger.filter((e) => e.kind === kind);

  it('a pre-auth is a Manual intent authorised on the terminal; the completion captures the final amount', async () => {
    const pre = await pay(req('preauth', 'room-12', 20000));
    assert.equal(pre.result.kind, 'preauth');
    assert.equal(pre.result.outcome, 'approved');
    assert.match(pre.result.message, /authorised, not yet captured/);
    const intentId = pre.result.transactionId!;
    const rest = new DojoRest({ restBase: () => proxy.url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'softwareHouse1' });
    const intent = await rest.getPaymentIntent(intentId);
    assert.equal(intent.captureMode, 'Manual');
    assert.equal(intent.status, 'Authorized');
    const done = await pay(req('completion', 'room-12-out', 17500, { originalReference: 'room-12', terminalId: undefined }));
    assert.equal(done.result.kind, 'completion');
    assert.equal(done.result.outcome, 'approved');
    assert.equal(done.result.amount, 17500);
    assert.equal(done.result.transactionId, intentId, 'the intent id, which a refund of the captured money names');
    assert.equal(done.result.authCode, pre.result.authCode);
    assert.equal((await rest.getPaymentIntent(intentId)).status, 'Captured');
    assert.deepEqual(ledger('capture').map((e) => [e.paymentIntentId, e.amount]), [[intentId, 17500]]);
    // The body sent is Dojo's CreateCaptureRequest (derived from the published spec).
    assert.equal(checkRest('CreateCaptureRequest', { amount: 17500 }), undefined);
    assert.match(checkRest('CreateCaptureRequest', { amount: { value: 1, currencyCode: 'GBP' } }) ?? '', /amount/);
  });

  it('a release reverses the intent and gives the whole reserve back', async () => {
    const pre = await pay(req('preauth', 'car-7', 30000));
    const { result } = await pay(req('release', 'car-7-back', 0, { originalReference: 'car-7' }));
    assert.equal(result.kind, 'release');
    assert.equal(result.outcome, 'approved');
    assert.equal(result.amount, 30000);
    assert.deepEqual(ledger('reversal').map((e) => e.paymentIntentId), [pre.result.transactionId]);
    const err = await pay(req('completion', 'car-7-late', 100, { originalReference: 'car-7' })).catch((e: PosError) => e);
    assert.ok(err instanceof PosError && err.code === 'bad_input');
    assert.equal(ledger('capture').length, 0);
  });

  it('the amount rule decides the pre-auth: …51 declined, so there is nothing to complete', async () => {
    const pre = await pay(req('preauth', 'tab-51', 1251));
    assert.equal(pre.result.outcome, 'declined');
    const err = await pay(req('completion', 'tab-51-c', 1000, { originalReference: 'tab-51' })).catch((e: PosError) => e);
    assert.ok(err instanceof PosError && err.code === 'bad_input' && /ended declined/.test(err.message));
  });

  it('verify is not offered on Dojo: capability_missing, nothing sent', async () => {
    const err = await pay(req('verify', 'v-1', 0)).catch((e: PosError) => e);
    assert.ok(err instanceof PosError && err.code === 'capability_missing');
    assert.equal(sim.counter.ledger.length, 0);
  });

  it('a capture whose answer is lost is read back from the intent: approved, captured once', async () => {
    await pay(req('preauth', 'bar-9', 6000));
    proxy.loseNextCapture();
    const { result } = await pay(req('completion', 'bar-9-c', 4500, { originalReference: 'bar-9' }));
    assert.equal(result.outcome, 'approved');
    assert.equal(result.kind, 'completion');
    assert.equal(ledger('capture').length, 1, 'sent once');
    // Asked again later: answered from the journal, no second capture.
    const again = await pay(req('completion', 'bar-9-c', 4500, { originalReference: 'bar-9' }));
    assert.equal(again.duplicate, true);
    assert.equal(ledger('capture').length, 1);
  });

  it('Dojo refusing a capture (the intent was reversed behind our back) frees the pre-auth and its reference', async () => {
    const pre = await pay(req('preauth', 'bar-10', 6000));
    const rest = new DojoRest({ restBase: () => proxy.url, apiKey: SIMULATOR_API_KEY, softwareHouseId: 'softwareHouse1' });
    await rest.createReversal(pre.result.transactionId!);
    const err = await pay(req('completion', 'bar-10-c', 4500, { originalReference: 'bar-10' })).catch((e: PosError) => e);
    assert.ok(err instanceof PosError && err.code === 'provider_error', String(err));
    assert.match(err.message, /Authorized/);
  });
});
