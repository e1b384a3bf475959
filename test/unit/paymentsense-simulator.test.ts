import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { APP_ERROR } from '../../lib/providers/paymentsense/wire';
import { AMOUNT_OUTCOMES, outcomeForAmount } from '../../lib/simulators/outcome';
import {
  DEFAULT_TERMINALS, PaymentsenseSimulator, SIMULATOR_TOKEN, type PaymentsenseSimulatorOptions,
} from '../../lib/simulators/paymentsense';

type Frame = Record<string, any>;

const SIP = 'VCM00001SIP0';
const SCD = 'VCM00002SCD0';
const DIP = 'VCM00003DIP0';
const SIS = 'VCM00004SIS0';
const UIP = 'VCM00005UIP0';
const TIP = 'VCM00006TIP0';

function pacUrl(base: string, overrides: Record<string, string | undefined> = {}, path = '/pac'): string {
  const query: Record<string, string | undefined> = {
    token: SIMULATOR_TOKEN, 'api-version': 'v1', 'software-house-id': 'SH000001', 'installer-id': 'IN000001', ...overrides,
  };
  const url = new URL(base + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** What a raw `ws` client sees when it tries to open the URL. */
function attempt(url: string): Promise<{ status?: number; close?: number; opened: boolean }> {
  return new Promise((resolve) => {
    let opened = false;
    const ws = new WebSocket(url);
    ws.on('open', () => { opened = true; });
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      resolve({ status: res.statusCode, opened });
      req.destroy();
    });
    ws.on('close', (code) => resolve({ close: code, opened }));
    ws.on('error', () => undefined);
  });
}

/** A minimal till: records every frame and answers server requests through `answer`. */
class Till {
  readonly frames: Frame[] = [];
  readonly texts: string[] = [];
  binaryFrames = 0;
  invalidFrames = 0;
  serverPings = 0;
  answer: (req: Frame) => unknown = () => ({ accepted: true });
  readonly closed: Promise<number>;
  private nextId = 1;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('ping', () => { this.serverPings += 1; });
    ws.on('message', (data, isBinary) => {
      if (isBinary) { this.binaryFrames += 1; return; }
      const text = data.toString();
      this.texts.push(text);
      let frame: unknown;
      try { frame = JSON.parse(text); } catch { this.invalidFrames += 1; return; }
      if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) { this.invalidFrames += 1; return; }
      const f = frame as Frame;
      this.frames.push(f);
      if (typeof f.method === 'string' && 'id' in f && f.method === 'signatureVerification') {
        const result = this.answer(f);
        if (result !== undefined) ws.send(JSON.stringify({ jsonrpc: '2.0', id: f.id, result }));
      }
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
  }

  static open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Till> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      const till = new Till(ws);
      ws.once('open', () => resolve(till));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Resolves with the first frame, past or future, that matches. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => { clearTimeout(timer); resolve(f); } });
    });
  }

  call(method: string, params?: unknown, id: string | number = `c${this.nextId++}`): Promise<Frame> {
    const msg: Frame = { jsonrpc: '2.0', id, method };
    if (params !== undefined) msg.params = params;
    this.ws.send(JSON.stringify(msg));
    return this.waitFor((f) => f.id === id && ('result' in f || 'error' in f) && !('method' in f), 10_000);
  }

  notifications(requestId: string): string[] {
    return this.frames
      .filter((f) => f.method === 'transactionNotification' && f.params?.requestId === requestId)
      .map((f) => f.params.notification as string);
  }

  close(): void {
    this.ws.terminate();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulator amount rule (outcome.ts)', () => {
  it('maps the last two digits of the minor units', () => {
    assert.equal(outcomeForAmount(1000), 'approved');
    assert.equal(outcomeForAmount(1), 'approved');
    assert.equal(outcomeForAmount(51), 'declined');
    assert.equal(outcomeForAmount(1251), 'declined');
    assert.equal(outcomeForAmount(99_999_952), 'timed_out');
    assert.equal(outcomeForAmount(153), 'signature_required');
    assert.equal(outcomeForAmount(254), 'cancelled');
    assert.equal(outcomeForAmount(355), 'drop_then_approved');
    assert.equal(outcomeForAmount(356), 'approved');
    assert.equal(outcomeForAmount(5), 'approved');
    assert.equal(outcomeForAmount(550), 'approved');
  });

  it('never throws on values a caller failed to validate', () => {
    assert.equal(outcomeForAmount(Number.NaN), 'approved');
    assert.equal(outcomeForAmount(Infinity), 'approved');
    assert.equal(outcomeForAmount(-151), 'declined');
    assert.equal(outcomeForAmount('51' as unknown as number), 'approved');
    assert.deepEqual(Object.keys(AMOUNT_OUTCOMES).sort(), ['51', '52', '53', '54', '55']);
  });
});

describe('Paymentsense PAC simulator', function () {
  let sims: PaymentsenseSimulator[] = [];
  let tills: Till[] = [];

  async function start(opts: PaymentsenseSimulatorOptions = {}): Promise<{ sim: PaymentsenseSimulator; base: string; url: string }> {
    const sim = new PaymentsenseSimulator({ stepDelayMs: 5, ...opts });
    sims.push(sim);
    const { url } = await sim.start();
    return { sim, base: url, url: pacUrl(url) };
  }

  async function till(url: string, opts?: WebSocket.ClientOptions): Promise<Till> {
    const t = await Till.open(url, opts);
    tills.push(t);
    return t;
  }

  afterEach(async () => {
    for (const t of tills) t.close();
    tills = [];
    await Promise.all(sims.map((s) => s.stop()));
    sims = [];
  });

  describe('connection', () => {
    it('serves ws://127.0.0.1:<port> and accepts a correct PAC connection', async () => {
      const { sim, base, url } = await start();
      assert.match(base, /^ws:\/\/127\.0\.0\.1:\d+$/);
      await till(url);
      assert.equal(sim.connectionCount, 1);
      assert.equal(sim.connectionAttempts, 1);
    });

    it('refuses a wrong or missing token with HTTP 401 and counts the attempts', async () => {
      const { sim, base } = await start();
      assert.deepEqual(await attempt(pacUrl(base, { token: 'wrong' })), { status: 401, opened: false });
      assert.deepEqual(await attempt(pacUrl(base, { token: undefined })), { status: 401, opened: false });
      assert.equal(sim.connectionAttempts, 2);
      assert.equal(sim.connectionCount, 0);
    });

    it('in close-1008 mode opens and then closes with 1008', async () => {
      const { sim, base } = await start({ authFailure: 'close-1008' });
      const r = await attempt(pacUrl(base, { token: 'wrong' }));
      assert.equal(r.close, 1008);
      assert.equal(sim.connectionCount, 0);
    });

    it('refuses even the right token under the refuseToken fault, and recovers', async () => {
      const { sim, url } = await start();
      sim.setFault('refuseToken', true);
      assert.equal((await attempt(url)).status, 401);
      sim.setFault('refuseToken', false);
      await till(url);
      assert.equal(sim.connectionCount, 1);
    });

    it('answers 404 for any path but /pac and /pat (paths are case-sensitive)', async () => {
      const { base } = await start();
      assert.equal((await attempt(pacUrl(base, {}, '/'))).status, 404);
      assert.equal((await attempt(pacUrl(base, {}, '/PAC'))).status, 404);
      assert.equal((await attempt(pacUrl(base, {}, '/PAT'))).status, 404);
      // /pat is the pay-at-table terminal's (test/unit/paymentsense-pat.test.ts): it upgrades.
      const pat = new WebSocket(pacUrl(base, {}, '/pat'));
      await new Promise((resolve, reject) => { pat.once('open', resolve); pat.once('error', reject); });
      pat.close();
    });

    it('answers 400 for a missing installer id, software house id or a bad api-version', async () => {
      const { base } = await start();
      assert.equal((await attempt(pacUrl(base, { 'installer-id': undefined }))).status, 400);
      assert.equal((await attempt(pacUrl(base, { 'installer-id': '' }))).status, 400);
      assert.equal((await attempt(pacUrl(base, { 'software-house-id': undefined }))).status, 400);
      assert.equal((await attempt(pacUrl(base, { 'api-version': 'v2' }))).status, 400);
      assert.equal((await attempt(pacUrl(base, { 'api-version': undefined }))).status, 400);
      await till(pacUrl(base, { 'api-version': 'v0' }));
    });

    it('checks configured partner ids as credentials', async () => {
      const { base } = await start({ softwareHouseId: 'SH000001', installerId: 'IN000009' });
      assert.equal((await attempt(pacUrl(base))).status, 401);
      await till(pacUrl(base, { 'installer-id': 'IN000009' }));
    });

    it('accepts the valueless final-pos-receipt-request flag', async () => {
      const { url } = await start();
      await till(`${url}&final-pos-receipt-request`);
    });

    it('never writes the token to its log', async () => {
      const lines: string[] = [];
      const { base } = await start({ token: 'sekret-0123456789', logger: (l) => lines.push(l) });
      await attempt(pacUrl(base, { token: 'wrong-sekret-987' }));
      const t = await till(pacUrl(base, { token: 'sekret-0123456789' }));
      await t.call('sale', { tid: SIP, amount: 100, currency: 'GBP' });
      assert.ok(lines.length > 0);
      for (const l of lines) assert.ok(!l.includes('sekret'), l);
    });
  });

  describe('terminals and JSON-RPC errors', () => {
    it('lists the terminal pool with connectedTerminals', async () => {
      const { url } = await start();
      const t = await till(url);
      const r = await t.call('connectedTerminals');
      assert.deepEqual(r.result, { terminals: DEFAULT_TERMINALS.map((d) => ({ tid: d.tid, status: 'AVAILABLE', currency: d.currency })) });
      assert.ok(r.result.terminals.length >= 2);
    });

    it('answers terminalDetails, and -32602 for an unknown tid', async () => {
      const { url } = await start({ terminals: [{ tid: 'T1SIP0' }, { tid: 'T2SCD0', currency: 'EUR' }] });
      const t = await till(url);
      assert.deepEqual((await t.call('terminalDetails', { tid: 'T2SCD0' })).result, { tid: 'T2SCD0', status: 'AVAILABLE', currency: 'EUR' });
      const bad = await t.call('terminalDetails', { tid: 'nope' });
      assert.equal(bad.error.code, -32602);
      assert.equal(bad.error.message, 'Unknown terminal');
    });

    it('answers parse errors, unknown methods and bad params, keeping string and numeric ids', async () => {
      const { url } = await start();
      const t = await till(url);
      t.ws.send('{"jsonrpc":"2.0",');
      const parse = await t.waitFor((f) => f.error?.code === -32700);
      assert.equal(parse.id, null);
      assert.equal((await t.call('noSuchMethod', {}, 42)).error.code, -32601);
      assert.equal((await t.call('connectedTerminals', undefined, 7)).id, 7);
      const cases: Array<[unknown, RegExp]> = [
        [{ tid: SIP, amount: 1.5, currency: 'GBP' }, /amount/],
        [{ tid: SIP, amount: 0, currency: 'GBP' }, /amount/],
        [{ tid: SIP, amount: '100', currency: 'GBP' }, /amount/],
        [{ tid: SIP, amount: 100, currency: 'USD' }, /currency/],
        [{ tid: SIP, amount: 100, currency: 'EUR' }, /currency/],
        [{ tid: 'unknown', amount: 100, currency: 'GBP' }, /Unknown terminal/],
        [{ amount: 100, currency: 'GBP' }, /tid/],
        [[SIP, 100], /params/],
      ];
      for (const [params, message] of cases) {
        const r = await t.call('sale', params);
        assert.equal(r.error?.code, -32602, JSON.stringify(params));
        assert.match(r.error.message, message);
      }
      const refundCashback = await t.call('refund', { tid: SIP, amount: 100, currency: 'GBP', amountCashback: 500 });
      assert.equal(refundCashback.error.code, -32602);
    });
  });

  describe('transactions', () => {
    it('approves a chip & PIN sale: notifications in order, result as the response to the same id', async () => {
      const { url } = await start();
      const t = await till(url);
      const r = await t.call('sale', { tid: SIP, amount: 1234, currency: 'GBP', requestId: 'req-approved' }, 'sale-1');
      assert.equal(r.id, 'sale-1');
      const tx = r.result;
      const expected = ['TRANSACTION_STARTED', 'PRESENT_CARD', 'PIN_ENTRY', 'PLEASE_WAIT', 'CONNECTING', 'CONNECTION_MADE', 'APPROVED', 'REMOVE_CARD', 'TRANSACTION_FINISHED'];
      assert.deepEqual(t.notifications('req-approved'), expected);
      assert.deepEqual(tx.notifications, expected);
      const responseIndex = t.frames.indexOf(r);
      assert.ok(t.frames.findIndex((f) => f.params?.notification === 'TRANSACTION_FINISHED') < responseIndex);
      const note = t.frames.find((f) => f.method === 'transactionNotification')!;
      assert.equal(note.id, undefined);
      assert.deepEqual(Object.keys(note.params).sort(), ['notification', 'requestId', 'tid', 'userMessage']);
      assert.equal(note.params.tid, SIP);
      assert.equal(tx.transactionResult, 'SUCCESSFUL');
      assert.equal(tx.transactionType, 'SALE');
      assert.equal(tx.requestId, 'req-approved');
      assert.equal(tx.tid, SIP);
      assert.equal(tx.amountBase, 1234);
      assert.equal(tx.amountTotal, 1234);
      assert.equal(tx.currency, 'GBP');
      assert.equal(tx.cardHolderVerificationMethod, 'PIN');
      assert.equal(tx.paymentMethod, 'ICC_CHIP');
      assert.match(tx.authCode, /^[A-Z0-9]{6}$/);
      assert.match(tx.primaryAccountNumber, /\d{4}$/);
      assert.match(tx.transactionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      assert.match(tx.transactionNumber, /^\d{4}$/);
      assert.ok(tx.receiptLines.MERCHANT.length > 0 && tx.receiptLines.CUSTOMER.length > 0);
      assert.ok(tx.receiptLines.CUSTOMER.some((l: Frame) => l.type === 'TEXT' && /12\.34/.test(l.value)));
      assert.equal(typeof tx.userMessage, 'string');
    });

    it('approves contactless with DEVICE verification and no PIN, and refunds', async () => {
      const { url } = await start();
      const t = await till(url);
      const sale = (await t.call('sale', { tid: SCD, amount: 800, currency: 'GBP', amountCashback: 200, requestId: 'cl-1' })).result;
      assert.equal(sale.paymentMethod, 'CONTACTLESS');
      assert.equal(sale.cardHolderVerificationMethod, 'DEVICE');
      assert.equal(sale.amountCashback, 200);
      assert.equal(sale.amountTotal, 1000);
      assert.ok(!t.notifications('cl-1').includes('PIN_ENTRY'));
      const refund = (await t.call('refund', { tid: SIP, amount: 500, currency: 'GBP' })).result;
      assert.equal(refund.transactionType, 'REFUND');
      assert.equal(refund.transactionResult, 'SUCCESSFUL');
      assert.match(refund.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('declines on a DIP0 terminal and on an amount ending 51', async () => {
      const { url } = await start();
      const t = await till(url);
      for (const [tid, amount] of [[DIP, 1000], [SIP, 1051], [SCD, 51]] as const) {
        const tx = (await t.call('sale', { tid, amount, currency: 'GBP' })).result;
        assert.equal(tx.transactionResult, 'DECLINED', `${tid} ${amount}`);
        assert.equal(tx.authCode, undefined);
        assert.ok(tx.notifications.includes('DECLINED'));
        assert.ok(tx.receiptLines.MERCHANT.some((l: Frame) => l.type === 'BOX_DECLINE'));
      }
    });

    it('times out on a TIP0 terminal and on an amount ending 52', async () => {
      const { url } = await start();
      const t = await till(url);
      for (const [tid, amount] of [[TIP, 100], [SIP, 152]] as const) {
        const tx = (await t.call('sale', { tid, amount, currency: 'GBP' })).result;
        assert.equal(tx.transactionResult, 'TIMED_OUT');
      }
    });

    it('ends UNSUCCESSFUL on a UIP0 terminal', async () => {
      const { url } = await start();
      const t = await till(url);
      const tx = (await t.call('sale', { tid: UIP, amount: 100, currency: 'GBP' })).result;
      assert.equal(tx.transactionResult, 'UNSUCCESSFUL');
      assert.ok(tx.notifications.includes('PROCESSING_ERROR'));
    });

    it('ends CANCELLED when the amount ends 54 (cancelled on the terminal)', async () => {
      const { url } = await start();
      const t = await till(url);
      const tx = (await t.call('sale', { tid: SIP, amount: 154, currency: 'GBP' })).result;
      assert.equal(tx.transactionResult, 'CANCELLED');
      assert.ok(tx.notifications.includes('CANCELLING'));
    });

    it('reports BUSY while a transaction runs and refuses a second one on that terminal', async () => {
      const { url } = await start({ stepDelayMs: 20 });
      const a = await till(url);
      const b = await till(url);
      const pending = a.call('sale', { tid: SIP, amount: 100, currency: 'GBP', requestId: 'busy-1' });
      await a.waitFor((f) => f.params?.notification === 'TRANSACTION_STARTED');
      const list = (await b.call('connectedTerminals')).result.terminals;
      assert.equal(list.find((x: Frame) => x.tid === SIP).status, 'BUSY');
      assert.equal(list.find((x: Frame) => x.tid === SCD).status, 'AVAILABLE');
      const busy = await b.call('sale', { tid: SIP, amount: 100, currency: 'GBP' });
      assert.equal(busy.error.code, APP_ERROR.terminalBusy);
      const inProgress = await b.call('transactionDetails', { tid: SIP, requestId: 'busy-1' });
      assert.equal(inProgress.error.code, APP_ERROR.transactionInProgress);
      assert.equal((await pending).result.transactionResult, 'SUCCESSFUL');
      assert.equal((await b.call('terminalDetails', { tid: SIP })).result.status, 'AVAILABLE');
      assert.equal(b.notifications('busy-1').length, 0, 'progress goes only to the till that started it');
    });

    it('runs transactions from several tills at once', async () => {
      const { url } = await start();
      const [a, b] = await Promise.all([till(url), till(url)]);
      const [ra, rb] = await Promise.all([
        a.call('sale', { tid: SIP, amount: 100, currency: 'GBP', requestId: 'a' }),
        b.call('sale', { tid: SCD, amount: 200, currency: 'GBP', requestId: 'b' }),
      ]);
      assert.equal(ra.result.requestId, 'a');
      assert.equal(rb.result.requestId, 'b');
      assert.equal(a.notifications('b').length + b.notifications('a').length, 0);
    });
  });

  describe('signature', () => {
    it('asks the till and ends SUCCESSFUL when it accepts', async () => {
      const { url } = await start();
      const t = await till(url);
      let asked: Frame | undefined;
      t.answer = (req) => { asked = req; return { accepted: true }; };
      const tx = (await t.call('sale', { tid: SIS, amount: 100, currency: 'GBP', requestId: 'sig-1' })).result;
      assert.deepEqual(asked?.params, { tid: SIS, requestId: 'sig-1' });
      assert.equal(tx.transactionResult, 'SUCCESSFUL');
      assert.equal(tx.cardHolderVerificationMethod, 'SIGNATURE');
      const notes = t.notifications('sig-1');
      const at = notes.indexOf('SIGNATURE_VERIFICATION');
      assert.ok(at >= 0);
      assert.ok(t.frames.findIndex((f) => f.params?.notification === 'SIGNATURE_VERIFICATION') < t.frames.indexOf(asked!));
      assert.deepEqual(notes.slice(at + 1, at + 3), ['SIGNATURE_VERIFICATION_IN_PROGRESS', 'SIGNATURE_VERIFICATION_PROCESS_COMPLETED']);
    });

    it('ends VOID when the till rejects (a bare boolean answer is tolerated)', async () => {
      const { url } = await start();
      const t = await till(url);
      t.answer = () => false;
      const tx = (await t.call('sale', { tid: SIP, amount: 153, currency: 'GBP' })).result;
      assert.equal(tx.transactionResult, 'VOID');
      assert.equal(tx.authCode, undefined);
    });

    it('ends VOID with SIGNATURE_VERIFICATION_TIMEOUT when the till does not answer', async () => {
      const { url } = await start({ signatureTimeoutMs: 60 });
      const t = await till(url);
      t.answer = () => undefined;
      const tx = (await t.call('sale', { tid: SIS, amount: 100, currency: 'GBP' })).result;
      assert.equal(tx.transactionResult, 'VOID');
      assert.ok(tx.notifications.includes('SIGNATURE_VERIFICATION_TIMEOUT'));
    });
  });

  describe('cancel', () => {
    it('answers cancelling, then the running sale ends CANCELLED', async () => {
      const { url } = await start({ stepDelayMs: 30 });
      const t = await till(url);
      const pending = t.call('sale', { tid: SIP, amount: 100, currency: 'GBP', requestId: 'cx-1' });
      await t.waitFor((f) => f.params?.notification === 'TRANSACTION_STARTED');
      const c = await t.call('cancelTransaction', { tid: SIP });
      assert.equal(c.result, 'cancelling');
      const tx = (await pending).result;
      assert.equal(tx.transactionResult, 'CANCELLED');
      assert.deepEqual(t.notifications('cx-1').slice(-2), ['CANCELLING', 'TRANSACTION_FINISHED']);
    });

    it('cannot cancel once authorisation started: UNABLE_TO_CANCEL, the sale completes', async () => {
      const { url } = await start({ stepDelayMs: 20 });
      const t = await till(url);
      const pending = t.call('sale', { tid: SIP, amount: 100, currency: 'GBP', requestId: 'cx-2' });
      await t.waitFor((f) => f.params?.notification === 'CONNECTING');
      assert.equal((await t.call('cancelTransaction', { tid: SIP, requestId: 'cx-2' })).result, 'cancelling');
      const tx = (await pending).result;
      assert.equal(tx.transactionResult, 'SUCCESSFUL');
      assert.ok(t.notifications('cx-2').includes('UNABLE_TO_CANCEL'));
    });

    it('answers noTransactionToCancel when nothing runs', async () => {
      const { url } = await start();
      const t = await till(url);
      assert.equal((await t.call('cancelTransaction', { tid: SIP })).error.code, APP_ERROR.noTransactionToCancel);
      assert.equal((await t.call('cancelTransaction', {})).error.code, -32602);
    });
  });

  describe('faults and recovery', () => {
    async function detailsWhenDone(t: Till, requestId: string): Promise<Frame> {
      for (let i = 0; i < 200; i++) {
        const r = await t.call('transactionDetails', { requestId });
        if (r.error?.code !== APP_ERROR.transactionInProgress) return r;
        await sleep(10);
      }
      throw new Error('transaction never finished');
    }

    it('dropMidPayment: the socket drops, the payment completes and transactionDetails answers it', async () => {
      const { sim, url } = await start();
      sim.setFault('dropMidPayment', true);
      const a = await till(url);
      a.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sale', params: { tid: SIP, amount: 100, currency: 'GBP', requestId: 'drop-1' } }));
      assert.equal(await a.closed, 1006);
      assert.deepEqual(a.notifications('drop-1'), ['TRANSACTION_STARTED']);
      sim.setFault('dropMidPayment', false);
      const b = await till(url);
      const r = await detailsWhenDone(b, 'drop-1');
      assert.equal(r.result.transactionResult, 'SUCCESSFUL');
      assert.equal(r.result.requestId, 'drop-1');
      assert.equal((await b.call('transactionDetails', { tid: SCD, requestId: 'drop-1' })).error.code, APP_ERROR.transactionNotFound);
      assert.equal((await b.call('transactionDetails', { requestId: 'never-sent' })).error.code, APP_ERROR.transactionNotFound);
      assert.equal(sim.ledger.length, 1);
      assert.equal(sim.ledger[0].result, 'SUCCESSFUL');
    });

    it('amount ending 55 drops once per requestId, then completes approved', async () => {
      const { sim, url } = await start();
      const a = await till(url);
      a.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sale', params: { tid: SIP, amount: 155, currency: 'GBP', requestId: 'drop-55' } }));
      assert.equal(await a.closed, 1006);
      const b = await till(url);
      assert.equal((await detailsWhenDone(b, 'drop-55')).result.transactionResult, 'SUCCESSFUL');
      // A client that re-sends is charged again (the ledger shows it) but not dropped again.
      const again = await b.call('sale', { tid: SIP, amount: 155, currency: 'GBP', requestId: 'drop-55' });
      assert.equal(again.result.transactionResult, 'SUCCESSFUL');
      assert.equal(sim.ledger.length, 2);
    });

    it('malformedFrames: garbage precedes every response and the real response still follows', async () => {
      const { sim, url } = await start();
      sim.setFault('malformedFrames', true);
      const t = await till(url);
      const list = await t.call('connectedTerminals', undefined, 'list-1');
      assert.ok(Array.isArray(list.result.terminals));
      assert.ok(t.invalidFrames >= 2, 'invalid JSON and a JSON array');
      assert.ok(t.binaryFrames >= 1);
      assert.ok(t.frames.some((f) => 'result' in f && typeof f.id === 'string' && f.id.startsWith('sim-unknown')));
      assert.ok(t.frames.some((f) => f.method === 'simulatorUnknownNotification'));
      const tx = await t.call('sale', { tid: SIP, amount: 100, currency: 'GBP' }, 99);
      assert.equal(tx.result.transactionResult, 'SUCCESSFUL');
      assert.ok(t.binaryFrames >= 2);
    });

    it('keeps a ledger of every accepted sale/refund frame, and resets it', async () => {
      const { sim, url } = await start();
      const t = await till(url);
      await t.call('sale', { tid: SIP, amount: 100, currency: 'GBP', requestId: 'l-1' }, 'x1');
      await t.call('sale', { tid: DIP, amount: 200, currency: 'GBP', amountGratuity: 50 });
      await t.call('refund', { tid: SCD, amount: 300, currency: 'GBP' });
      await t.call('sale', { tid: SIP, amount: 0, currency: 'GBP' });
      await t.call('connectedTerminals');
      assert.equal(sim.ledger.length, 3);
      assert.deepEqual(sim.ledger.map((e) => [e.method, e.tid, e.amount, e.result]), [
        ['sale', SIP, 100, 'SUCCESSFUL'], ['sale', DIP, 200, 'DECLINED'], ['refund', SCD, 300, 'SUCCESSFUL'],
      ]);
      assert.equal(sim.ledger[0].requestId, 'l-1');
      assert.equal(sim.ledger[0].rpcId, 'x1');
      assert.equal(sim.ledger[0].currency, 'GBP');
      assert.equal(sim.ledger[1].amountGratuity, 50);
      assert.equal(typeof sim.ledger[0].at, 'number');
      const ledger = sim.ledger;
      sim.resetLedger();
      assert.equal(sim.ledger.length, 0);
      assert.equal(ledger, sim.ledger);
    });

    it('stepDelayMs 0 answers at once with no notifications, outcomes unchanged', async () => {
      const { sim, url } = await start({ stepDelayMs: 0 });
      const t = await till(url);
      const t0 = Date.now();
      for (let i = 0; i < 50; i++) {
        const r = await t.call('sale', { tid: SIP, amount: 100 + i, currency: 'GBP' });
        assert.equal(r.result.transactionResult, 'SUCCESSFUL');
      }
      assert.ok(Date.now() - t0 < 1000);
      assert.equal((await t.call('sale', { tid: SIP, amount: 151, currency: 'GBP' })).result.transactionResult, 'DECLINED');
      assert.equal(t.frames.filter((f) => f.method === 'transactionNotification').length, 0);
      assert.equal(sim.ledger.length, 51);
    });

    it('terminates a client that does not answer pings', async () => {
      const { sim, url } = await start({ pingIntervalMs: 100 });
      const deaf = await till(url, { autoPong: false });
      const healthy = await till(url);
      const t0 = Date.now();
      assert.equal(await deaf.closed, 1006);
      assert.ok(Date.now() - t0 < 1000);
      assert.ok(deaf.serverPings >= 2);
      await sleep(150);
      assert.equal(healthy.ws.readyState, WebSocket.OPEN);
      assert.equal(sim.connectionCount, 1);
    });

    it('stopPinging sends no pings and so ends nobody', async () => {
      const { sim, url } = await start({ pingIntervalMs: 40 });
      sim.setFault('stopPinging', true);
      const deaf = await till(url, { autoPong: false });
      await sleep(250);
      assert.equal(deaf.serverPings, 0);
      assert.equal(deaf.ws.readyState, WebSocket.OPEN);
    });

    it('ignorePings leaves the client ping unanswered and the socket silent', async () => {
      const { sim, url } = await start({ pingIntervalMs: 40 });
      const t = await till(url);
      sim.setFault('ignorePings', true);
      let pongs = 0;
      t.ws.on('pong', () => { pongs += 1; });
      const pingsBefore = t.serverPings;
      t.ws.ping();
      await sleep(200);
      assert.equal(pongs, 0);
      assert.equal(t.serverPings, pingsBefore);
      sim.setFault('ignorePings', false);
      t.ws.ping();
      await sleep(100);
      assert.equal(pongs, 1);
      assert.ok(t.serverPings > pingsBefore);
    });

    it('stop() closes every client and the server within 2 s, mid-transaction', async () => {
      const { sim, url } = await start({ stepDelayMs: 500, signatureTimeoutMs: 60_000 });
      const clients = await Promise.all([till(url), till(url), till(url)]);
      clients[0].ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sale', params: { tid: SIS, amount: 100, currency: 'GBP' } }));
      clients[1].ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sale', params: { tid: SIP, amount: 100, currency: 'GBP' } }));
      await clients[0].waitFor((f) => f.method === 'transactionNotification');
      const t0 = Date.now();
      await sim.stop();
      assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
      const codes = await Promise.all(clients.map((c) => c.closed));
      assert.deepEqual(codes, [1001, 1001, 1001]);
      assert.equal(sim.connectionCount, 0);
      const after = await attempt(url);
      assert.equal(after.opened, false);
    });
  });
});
