import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { PosError } from '../../lib/core/errors';
import type { PaymentAttempt } from '../../lib/core/provider';
import type { Logger, NotificationEvent, PaymentRequest, ProgressEvent } from '../../lib/core/types';
import { ModulusProvider, type ModulusOptions } from '../../lib/providers/modulus/client';
import { ModulusSimulator, type ModulusSimulatorOptions } from '../../lib/simulators/modulus';
import { until } from '../support/until';

const KEY = 'mk_test_SECRET_adapter_3b7f';
const SECRET = 'ms_test_SECRET_adapter_c41e';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Logs implements Logger {
  readonly lines: string[] = [];
  debug(m: string) { this.lines.push(`debug: ${m}`); }
  info(m: string) { this.lines.push(`info: ${m}`); }
  warn(m: string) { this.lines.push(`warn: ${m}`); }
  error(m: string) { this.lines.push(`error: ${m}`); }
  text(): string { return this.lines.join('\n'); }
}

interface Attempt extends PaymentAttempt {
  progress: ProgressEvent[];
  notes: Record<string, unknown>;
}

function attempt(request: Partial<PaymentRequest> = {}, timeoutMs = 3000): Attempt {
  const progress: ProgressEvent[] = [];
  const notes: Record<string, unknown> = {};
  return {
    request: { kind: 'sale', amount: 1250, currency: 'PHP', reference: `R-${randomUUID().slice(0, 8)}`, terminalId: 'TERM-001', ...request },
    attemptId: randomUUID(),
    deadline: Date.now() + timeoutMs,
    onProgress: (e) => progress.push(e),
    note: async (n) => { Object.assign(notes, n); },
    progress,
    notes,
  };
}

const code = (c: string) => (e: unknown) => e instanceof PosError && e.code === c;

describe('modulus adapter against the simulator', function () {
  this.timeout(15000);
  const cleanups: Array<() => unknown> = [];

  async function setup(simOpts: ModulusSimulatorOptions = {}, opts: Partial<ModulusOptions> = {}, connect = true) {
    const sim = new ModulusSimulator({ apiKeys: [KEY], apiSecret: SECRET, stepDelayMs: 20, graceMs: 200, ...simOpts });
    const { url } = await sim.start();
    cleanups.push(() => sim.stop());
    const logs = new Logs();
    const provider = new ModulusProvider({
      environment: 'custom', url, apiKey: KEY, logger: logs, pingIntervalMs: 5000, pongTimeoutMs: 1000, graceMs: 200,
      backoff: { initialMs: 20, maxMs: 100 }, ...opts,
    });
    cleanups.push(() => provider.stop());
    const events: NotificationEvent[] = [];
    provider.onNotification((e) => events.push(e));
    const states: string[] = [];
    provider.onState((s) => states.push(s.name));
    if (connect) {
      provider.start();
      await until(() => provider.state.name === 'connected', 'connected', 3000);
    }
    return { sim, url, provider, logs, events, states };
  }

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  describe('payments', () => {
    it('approved: the documented frame goes out once, with the amount as an exact decimal string, and the result is complete', async () => {
      const { sim, provider } = await setup();
      const a = attempt({ amount: 1250, options: { metadata: { table: 4 }, products: [{ id: 'p1', name: 'Tea', price: '12.50', quantity: 1 }] } });
      const r = await provider.pay(a);
      assert.equal(r.outcome, 'approved');
      assert.equal(r.approved, true);
      assert.equal(r.amount, 1250);
      assert.equal(r.currency, 'PHP');
      assert.equal(r.reference, a.request.reference);
      assert.equal(r.terminalId, 'TERM-001');
      assert.equal(r.provider, 'modulus');
      assert.equal(r.transactionId, a.attemptId);
      assert.match(r.authCode!, /^AUTH\d{6}$/);
      assert.deepEqual(r.receipt, {}, 'the simulator\'s receiptData is not text');
      assert.deepEqual(a.notes, { transactionId: a.attemptId }, 'noted before sending');
      assert.equal(a.progress[0]!.event, 'request_sent');
      const frames = sim.received.filter((f: any) => f.action === 'payment') as any[];
      assert.equal(frames.length, 1);
      assert.equal(frames[0].terminalId, 'TERM-001');
      assert.deepEqual(frames[0].paymentRequest, {
        products: [{ id: 'p1', name: 'Tea', price: '12.50', quantity: 1 }],
        transactionId: a.attemptId, amount: '12.50', currency: 'PHP', paymentMethod: 'CARD',
        metadata: { reference: a.request.reference, table: 4 },
      });
      assert.equal(sim.ledger.length, 1);
      assert.equal(sim.ledger[0]!.amount, 1250);
    });

    it('amounts reach the terminal exactly for exponents 0 and 3', async () => {
      const { sim, provider } = await setup();
      await provider.pay(attempt({ amount: 1, currency: 'JPY' }));
      await provider.pay(attempt({ amount: 1234, currency: 'KWD', terminalId: 'TERM-002' }));
      const amounts = (sim.received.filter((f: any) => f.action === 'payment') as any[]).map((f) => f.paymentRequest.amount);
      assert.deepEqual(amounts, ['1', '1.234']);
      assert.deepEqual(sim.ledger.map((l) => [l.amount, l.currency]), [[1, 'JPY'], [1234, 'KWD']]);
    });

    const cases: Array<[number, string, RegExp]> = [
      [1251, 'declined', /Insufficient funds/],
      [1252, 'timed_out', /timed out/i],
      [1253, 'approved', /Approved/],
      [1254, 'cancelled', /Cancelled/],
    ];
    for (const [amount, outcome, message] of cases) {
      it(`amount ${amount} -> ${outcome}`, async () => {
        const { provider } = await setup();
        const r = await provider.pay(attempt({ amount }));
        assert.equal(r.outcome, outcome);
        assert.equal(r.approved, outcome === 'approved');
        assert.match(r.message, message);
        assert.equal((r.raw as any).action, 'paymentComplete', 'raw is the gateway frame');
      });
    }

    it('refuses what Modulus cannot do, before anything is sent', async () => {
      const { sim, provider } = await setup();
      await assert.rejects(provider.pay(attempt({ terminalId: undefined })), (e: unknown) => code('bad_input')(e) && /terminalId is required/.test((e as Error).message));
      await assert.rejects(provider.pay(attempt({ tip: 100 })), (e: unknown) => code('bad_input')(e) && /tip/.test((e as Error).message));
      await assert.rejects(provider.pay(attempt({ cashback: 100 })), code('bad_input'));
      await assert.rejects(provider.pay(attempt({ kind: 'refund' })), (e: unknown) => code('capability_missing')(e) && /documents no refund/.test((e as Error).message));
      await assert.rejects(provider.pay(attempt({ options: { paymentMethod: 7 } })), code('bad_input'));
      await assert.rejects(provider.cancel('x'), code('capability_missing'));
      await assert.rejects(provider.answerSignature('x', true), code('capability_missing'));
      assert.deepEqual(provider.capabilities, { pay: true, refund: false, cancel: false, signature: false, terminals: true, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false });
      await sleep(30);
      assert.equal(sim.received.filter((f: any) => f.action === 'payment').length, 0);
    });

    it('one payment per terminal: a second one is refused naming the running reference, another terminal is fine', async () => {
      const { sim, provider } = await setup({ stepDelayMs: 200 });
      const first = attempt({ reference: 'FIRST' });
      const running = provider.pay(first);
      await assert.rejects(provider.pay(attempt()), (e: unknown) => code('bad_input')(e) && /FIRST/.test((e as Error).message));
      const terminals = await provider.listTerminals();
      assert.equal(terminals.find((t) => t.id === 'TERM-001')!.status, 'busy');
      assert.equal(terminals.find((t) => t.id === 'TERM-002')!.status, 'available');
      const other = await provider.pay(attempt({ terminalId: 'TERM-002' }));
      assert.equal(other.outcome, 'approved');
      assert.equal((await running).outcome, 'approved');
      assert.equal(sim.ledger.length, 2);
    });

    it('not connected: pay and listTerminals refuse with not_connected', async () => {
      const { provider } = await setup({}, {}, false);
      await assert.rejects(provider.pay(attempt()), code('not_connected'));
      await assert.rejects(provider.listTerminals(), code('not_connected'));
    });

    it('PENDING keeps waiting; an unknown status ends as unknown with raw', async () => {
      const { sim, provider } = await setup({ stepDelayMs: 400 });
      const a = attempt();
      const p = provider.pay(a);
      await sleep(20);
      sim.pushRaw({ action: 'paymentComplete', terminalId: 'TERM-001', paymentResponse: { transactionId: a.attemptId, status: 'PENDING' } });
      await until(() => a.progress.some((e) => e.event === 'pending'), 'pending progress', 3000);
      sim.pushRaw({ action: 'paymentComplete', terminalId: 'TERM-001', paymentResponse: { transactionId: a.attemptId, status: 'ON_HOLD' } });
      const r = await p;
      assert.equal(r.outcome, 'unknown');
      assert.match(r.message, /ON_HOLD/);
      assert.equal((r.raw as any).paymentResponse.status, 'ON_HOLD');
    });
  });

  describe('terminals and notifications', () => {
    it('lists both simulated terminals as available', async () => {
      const { provider } = await setup();
      const list = await provider.listTerminals();
      assert.deepEqual(list.map((t) => [t.id, t.name, t.status, t.provider]), [['TERM-001', 'Counter 1', 'available', 'modulus'], ['TERM-002', 'Counter 2', 'available', 'modulus']]);
      assert.equal((list[0]!.raw as any).status, 'online', 'raw keeps the gateway word');
    });

    it('normalises the list and push vocabularies; unknown statuses pass through', async () => {
      const { sim, provider, events } = await setup();
      sim.setTerminalStatus('TERM-002', 'reconnecting');
      await until(() => events.some((e) => e.event === 'terminal_reconnecting'), 'terminal_reconnecting', 3000);
      assert.equal((await provider.listTerminals()).find((t) => t.id === 'TERM-002')!.status, 'offline', 'list says reconnecting');
      sim.setTerminalStatus('TERM-002', 'disconnected');
      await until(() => events.some((e) => e.event === 'terminal_offline'), 'terminal_offline', 3000);
      assert.equal((await provider.listTerminals()).find((t) => t.id === 'TERM-002')!.status, 'offline', 'list says offline');
      sim.setTerminalStatus('TERM-002', 'connected');
      await until(() => events.some((e) => e.event === 'terminal_online'), 'terminal_online', 3000);
      const online = events.find((e) => e.event === 'terminal_online')!;
      assert.deepEqual([online.provider, online.terminalId, (online.data as any).status], ['modulus', 'TERM-002', 'connected']);
      sim.pushRaw({ action: 'terminalStatusUpdate', deviceId: 'TERM-001', status: 'hibernating' });
      await until(() => events.some((e) => e.event === 'terminal_status'), 'terminal_status', 3000);
      assert.equal(events.find((e) => e.event === 'terminal_status')!.terminalId, 'TERM-001');
    });

    it('a payment result is a notification with our reference; unknown actions pass through by name', async () => {
      const { sim, provider, events } = await setup();
      const a = attempt({ reference: 'NOTE-1' });
      await provider.pay(a);
      await until(() => events.some((e) => e.event === 'payment_complete'), 'payment_complete', 3000);
      const e = events.find((x) => x.event === 'payment_complete')!;
      assert.deepEqual([e.reference, e.terminalId], ['NOTE-1', 'TERM-001']);
      sim.pushRaw({ action: 'firmwareUpdateAvailable', version: '2.0' });
      await until(() => events.some((x) => x.event === 'firmware_update_available'), 'firmware_update_available', 3000);
      assert.equal((events.find((x) => x.event === 'firmware_update_available')!.data as any).version, '2.0');
    });
  });

  describe('connection', () => {
    it('displacement: a second client with our key -> displaced with the reason, running payment rejected at once, no reconnect loop', async () => {
      const { sim, url, provider, logs } = await setup({ stepDelayMs: 2000 });
      const running = provider.pay(attempt({ reference: 'DISP' })).then(() => undefined, (e: unknown) => e);
      await sleep(20);
      const other = new WebSocket(`${url}/v1`, { headers: { 'x-api-key': KEY } });
      cleanups.push(() => other.terminate());
      await new Promise((resolve, reject) => { other.once('open', resolve); other.once('error', reject); });
      await until(() => provider.state.name === 'displaced', 'displaced', 3000);
      const state = provider.state as { reason: string };
      assert.match(state.reason, /another client using the same API key took over: NEW_CONNECTION/);
      const err = await running;
      assert.ok(code('timeout')(err) && /displaced/.test((err as Error).message), String(err));
      // Backoff starts at 20 ms: 400 ms is many retry periods.
      await sleep(400);
      assert.equal(sim.connectionsAccepted, 2, 'ours and the other client, nothing more');
      assert.equal(provider.state.name, 'displaced');
      assert.equal(other.readyState, WebSocket.OPEN);
      await assert.rejects(provider.pay(attempt({ terminalId: 'TERM-002' })), code('not_connected'));
      assert.ok(!logs.text().includes(KEY));
    });

    it('stopPonging: the socket is dropped and reopened within pingInterval + pongTimeout (+ margin)', async () => {
      const { sim, provider, logs } = await setup({}, { pingIntervalMs: 150, pongTimeoutMs: 100 });
      await sleep(400);
      assert.equal(sim.connectionsAccepted, 1, 'pongs keep the connection');
      assert.ok(sim.received.filter((f: any) => f.action === 'ping').length >= 2);
      sim.setFault('stopPonging', true);
      const t0 = Date.now();
      await until(() => sim.connectionsAccepted === 2, 'a second connection', 2000);
      const took = Date.now() - t0;
      assert.ok(took <= 150 + 100 + 200, `reconnected after ${took} ms`);
      assert.match(logs.text(), /no pong within 100 ms/);
      sim.setFault('stopPonging', false);
      await until(() => provider.state.name === 'connected', 'connected again', 3000);
      await sleep(400);
      assert.equal(sim.connectionsAccepted, 2, 'no further reconnects once pongs are back');
    });

    for (const keyInQuery of [false, true]) {
      it(`refuseKey -> unauthorized after exactly one attempt; the key is never shown (keyInQuery ${keyInQuery})`, async () => {
        const { sim, provider, logs, states } = await setup({}, { keyInQuery }, false);
        sim.setFault('refuseKey', true);
        provider.start();
        await until(() => provider.state.name === 'unauthorized', 'unauthorized', 3000);
        await sleep(300);
        assert.equal(sim.connectionsRefused, 1);
        assert.equal(sim.connectionsAccepted, 0);
        assert.equal(provider.state.name, 'unauthorized');
        assert.match((provider.state as { reason: string }).reason, /401/);
        assert.ok(!(provider.state as { reason: string }).reason.includes(KEY));
        assert.ok(!logs.text().includes(KEY), logs.text());
        assert.ok(!states.join().includes(KEY));
        assert.equal(/may appear in server/.test(logs.text()), keyInQuery, 'a warning only when the key is in the URL');
        await assert.rejects(provider.listTerminals(), code('unauthorized'));
      });
    }

    it('keyInQuery connects with the key in the query, close4001 refusals are unauthorized too', async () => {
      const { sim, provider } = await setup({}, { keyInQuery: true });
      assert.equal((await provider.listTerminals()).length, 2);
      assert.equal(sim.connectionsAccepted, 1);
      const second = await setup({ rejectMode: 'close4001' }, { apiKey: 'mk_wrong_key_0000' }, false);
      second.provider.start();
      await until(() => second.provider.state.name === 'unauthorized', 'unauthorized', 3000);
      await sleep(200);
      assert.equal(second.sim.connectionsRefused, 1);
    });

    it('malformed frames are dropped and logged, the connection stays', async () => {
      const { sim, provider, logs } = await setup();
      sim.setFault('malformedFrames', true);
      sim.pushRaw({ action: 'paymentComplete', paymentResponse: { status: 'SUCCESS' } });
      sim.pushRaw([1, 2]);
      const r = await provider.pay(attempt());
      assert.equal(r.outcome, 'approved');
      assert.equal(sim.connectionsAccepted, 1);
      assert.match(logs.text(), /dropped a frame that is not JSON/);
      assert.match(logs.text(), /dropped a frame without an action/);
      assert.match(logs.text(), /dropped a malformed paymentComplete/);
      assert.match(logs.text(), /dropped a frame that is not a JSON object/);
      assert.equal(provider.state.name, 'connected');
    });

    it('drop_then_approved (…55): approved after the reconnect, one charge, the payment frame sent once', async () => {
      const { sim, provider } = await setup({ stepDelayMs: 60 });
      const a = attempt({ amount: 1255 });
      const r = await provider.pay(a);
      assert.equal(r.outcome, 'approved');
      assert.equal(r.transactionId, a.attemptId);
      assert.equal(sim.ledger.length, 1);
      assert.equal(sim.received.filter((f: any) => f.action === 'payment').length, 1);
      assert.equal(sim.connectionsAccepted, 2);
    });

    it('a missed result is recovered over HTTP after the reconnect when the gateway does not redeliver (apiSecret set)', async () => {
      // The reconnect (backoff >= 112 ms) comes after the result (60 ms), which the gateway then drops.
      const { sim, provider, logs } = await setup({ stepDelayMs: 60, deliverMissedOnReconnect: false }, { apiSecret: SECRET, backoff: { initialMs: 150, maxMs: 150 } });
      const r = await provider.pay(attempt({ amount: 1255 }));
      assert.equal(r.outcome, 'approved');
      assert.match(logs.text(), /recovered from the Terminal Gateway HTTP API/);
      assert.equal(sim.ledger.length, 1);
      assert.equal(sim.received.filter((f: any) => f.action === 'payment').length, 1);
    });
  });

  describe('grace period and voids', () => {
    it('terminalWithinGrace -> approved, with reconnecting and connected progress', async () => {
      const { sim, provider } = await setup({ stepDelayMs: 40, graceMs: 300 });
      sim.setFault('terminalWithinGrace', true);
      const a = attempt();
      const r = await provider.pay(a);
      assert.equal(r.outcome, 'approved');
      const events = a.progress.map((e) => e.event);
      assert.deepEqual(events, ['request_sent', 'terminal_reconnecting', 'terminal_connected']);
      assert.match(a.progress[1]!.message, /waiting up to 0\.2 s/);
    });

    it('terminalLate -> the running payment ends failed; the later paymentVoided is a notification with our reference', async () => {
      const { sim, provider, events } = await setup({ stepDelayMs: 20, graceMs: 150 });
      sim.setFault('terminalLate', true);
      const a = attempt({ reference: 'LATE-1' });
      const r = await provider.pay(a);
      assert.equal(r.outcome, 'failed');
      assert.match(r.message, /grace period/);
      assert.equal((r.raw as any).paymentResponse.errorCode, 'TERMINAL_DISCONNECTED');
      await until(() => events.some((e) => e.event === 'payment_voided'), 'payment_voided', 3000);
      const v = events.find((e) => e.event === 'payment_voided')!;
      assert.deepEqual([v.reference, v.terminalId, (v.data as any).transactionId], ['LATE-1', 'TERM-001', a.attemptId]);
      assert.equal(sim.ledger[0]!.status, 'VOIDED');
    });

    it('a void while the payment still runs -> voided, and not before the gateway\'s grace ends even with a shorter deadline', async () => {
      // Our grace (600 ms) outlasts the simulated gateway's (300 ms), whose void comes about 75 ms after it ends.
      const { sim, provider } = await setup({ stepDelayMs: 20, graceMs: 300, graceExpiry: 'none' }, { graceMs: 600 });
      sim.setFault('terminalLate', true);
      const a = attempt({}, 100);
      const t0 = Date.now();
      const r = await provider.pay(a);
      assert.ok(Date.now() - t0 >= 300, `ended after ${Date.now() - t0} ms`);
      assert.equal(r.outcome, 'voided');
      assert.equal(r.approved, false);
      assert.match(r.message, /voided .* not charged/);
      assert.equal(r.transactionId, a.attemptId);
    });
  });

  describe('gateway errors', () => {
    it('an error frame for our payment rejects it with provider_error, and frees the terminal', async () => {
      const { sim, provider } = await setup();
      sim.setFault('errorFrameOnPayment', true);
      await assert.rejects(provider.pay(attempt()), (e: unknown) => code('provider_error')(e) && /Forbidden: Cannot send message to connection in different group/.test((e as Error).message));
      sim.setFault('errorFrameOnPayment', false);
      await assert.rejects(provider.pay(attempt({ terminalId: 'TERM-999' })), (e: unknown) => code('provider_error')(e) && /Terminal connection not found/.test((e as Error).message));
      assert.equal((await provider.pay(attempt())).outcome, 'approved', 'TERM-001 is free again');
      assert.equal(sim.ledger.length, 1);
    });

    it('an error frame without ids is pinned on the only recent payment; any frame with a documented text counts', async () => {
      const { sim, provider } = await setup({ stepDelayMs: 1000 });
      const p = provider.pay(attempt());
      await sleep(20);
      sim.pushRaw({ statusCode: 404, message: 'Terminal connection not found' });
      await assert.rejects(p, code('provider_error'));
    });

    it('an error nobody is waiting for is logged and becomes a gateway_error notification', async () => {
      const { sim, events, logs } = await setup();
      sim.pushRaw({ action: 'error', error: 'Not Found', message: 'Terminal connection not found', terminalId: 'TERM-XYZ' });
      await until(() => events.some((e) => e.event === 'gateway_error'), 'gateway_error', 3000);
      assert.equal(events.find((e) => e.event === 'gateway_error')!.terminalId, 'TERM-XYZ');
      assert.match(logs.text(), /no running payment/);
    });
  });

  describe('deadline and lookup', () => {
    it('no result by the deadline: timeout without a secret; with one, the gateway is asked once', async () => {
      const plain = await setup({ stepDelayMs: 2000 });
      await assert.rejects(plain.provider.pay(attempt({}, 100)), (e: unknown) => code('timeout')(e) && /without an API secret/.test((e as Error).message));
      const signed = await setup({ stepDelayMs: 2000 }, { apiSecret: SECRET });
      await assert.rejects(signed.provider.pay(attempt({}, 100)), (e: unknown) => code('timeout')(e) && /still reports it as in progress/.test((e as Error).message));
    });

    it('lookup without a secret cannot ask; without a noted transactionId there is nothing', async () => {
      const { provider } = await setup();
      const a = attempt();
      assert.deepEqual(await provider.lookup({ request: a.request, attemptId: a.attemptId, startedAt: new Date().toISOString() }), { found: 'nothing' });
      assert.deepEqual(await provider.lookup({ request: a.request, attemptId: a.attemptId, startedAt: '', notes: { transactionId: 'x' } }),
        { found: 'cannot_ask', reason: 'no API secret is set, so the Terminal Gateway HTTP API cannot be asked' });
    });

    it('lookup with the secret: COMPLETED -> result, PENDING -> in_progress, unknown -> nothing, wrong secret -> cannot_ask', async () => {
      const { sim, url, provider } = await setup({ stepDelayMs: 300 }, { apiSecret: SECRET });
      const done = attempt({ terminalId: 'TERM-002' });
      await provider.pay(done);
      const record = (a: Attempt) => ({ request: a.request, attemptId: a.attemptId, startedAt: new Date().toISOString(), notes: { transactionId: a.attemptId } });
      const found = await provider.lookup(record(done));
      assert.equal(found.found, 'result');
      const result = (found as { result: any }).result;
      assert.deepEqual([result.outcome, result.transactionId, result.reference], ['approved', done.attemptId, done.request.reference]);
      const slow = attempt();
      const running = provider.pay(slow);
      await sleep(30);
      assert.deepEqual(await provider.lookup(record(slow)), { found: 'in_progress' });
      await running;
      assert.deepEqual(await provider.lookup({ ...record(slow), notes: { transactionId: 'never-sent' } }), { found: 'nothing' });
      const wrong = new ModulusProvider({ environment: 'custom', url, apiKey: KEY, apiSecret: 'ms_wrong_secret_1' });
      const refused = await wrong.lookup(record(done));
      assert.equal(refused.found, 'cannot_ask');
      assert.match((refused as { reason: string }).reason, /401 INVALID_SIGNATURE/);
      assert.ok(!(refused as { reason: string }).reason.includes('ms_wrong_secret_1'));
      assert.equal(sim.ledger.length, 2);
    });
  });

  describe('lifecycle', () => {
    it('refuses configs that cannot work', () => {
      assert.throws(() => new ModulusProvider({ environment: 'custom', url: 'ws://127.0.0.1:1', apiKey: ' ' }), code('bad_input'));
      assert.throws(() => new ModulusProvider({ environment: 'custom', url: 'ws://127.0.0.1:1', apiKey: 'a\nb' }), code('bad_input'));
      assert.throws(() => new ModulusProvider({ environment: 'test', apiKey: 'k' }), /endpoint/);
      // With prepare, the custom URL may come later (the in-process simulator).
      assert.doesNotThrow(() => new ModulusProvider({ environment: 'custom', apiKey: 'k' }, async () => ({ url: 'ws://127.0.0.1:1' })));
    });

    it('prepare supplies the URL before the first connection', async () => {
      const sim = new ModulusSimulator({ apiKeys: [KEY], stepDelayMs: 20 });
      cleanups.push(() => sim.stop());
      const provider = new ModulusProvider({ environment: 'custom', apiKey: KEY }, () => sim.start());
      cleanups.push(() => provider.stop());
      provider.start();
      await until(() => provider.state.name === 'connected', 'connected', 3000);
      assert.equal((await provider.listTerminals()).length, 2);
    });

    it('stop() resolves within 2 s with a payment running, which ends as a timeout; no timers are left', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const sim = new ModulusSimulator({ apiKeys: [KEY], stepDelayMs: 5000 });
      const { url } = await sim.start();
      await sleep(1);
      const baseline = timers();
      const provider = new ModulusProvider({ environment: 'custom', url, apiKey: KEY, pingIntervalMs: 50, pongTimeoutMs: 40 });
      provider.start();
      await until(() => provider.state.name === 'connected', 'connected', 3000);
      const running = provider.pay(attempt({}, 10_000)).then(() => undefined, (e: unknown) => e);
      const list = provider.listTerminals().catch(() => undefined);
      await sleep(120);
      const t0 = Date.now();
      await provider.stop();
      assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
      assert.equal(provider.state.name, 'closed');
      assert.ok(code('timeout')(await running));
      await list;
      await sim.stop();
      await sleep(20);
      assert.ok(timers() <= baseline, `timers left behind: ${timers()} > ${baseline}`);
    });
  });
});
