import assert from 'node:assert/strict';
import { checkRest, type RestSchemaName } from '../../lib/providers/dojo/schemas';
import {
  CounterSim, DEFAULT_COUNTER_TERMINALS, type CounterEvent, type CounterSimOptions,
} from '../../lib/simulators/dojo/counter';

type Body = Record<string, any>;
interface Reply { status: number; body: Body }

const SH = { 'software-house-id': 'softwareHouse1', 'reseller-id': 'reseller1' };
const T1 = 'tm_sim_counter_1';
const T2 = 'tm_sim_counter_2';
const OFFLINE = 'tm_sim_offline';
const FINAL = new Set(['Captured', 'Authorized', 'Canceled', 'Declined', 'Expired', 'SignatureVerificationAccepted', 'SignatureVerificationRejected']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function conforms(name: RestSchemaName, value: unknown): void {
  const why = checkRest(name, value);
  assert.equal(why, undefined, `${name}: ${why}`);
}

function assertProblem(r: Reply, status: number, errorKeys?: string[]): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.status, status);
  for (const k of ['type', 'title', 'detail', 'traceId']) assert.equal(typeof r.body[k], 'string', `problem.${k}`);
  assert.equal(typeof r.body.errors, 'object');
  if (errorKeys) for (const k of errorKeys) assert.ok(Array.isArray(r.body.errors[k]) && r.body.errors[k].length > 0, `errors.${k} in ${JSON.stringify(r.body.errors)}`);
  conforms('ProblemDetails', r.body);
}

class Harness {
  readonly events: CounterEvent[] = [];
  readonly logs: string[] = [];
  drops = 0;
  readonly sim: CounterSim;

  constructor(opts: Partial<CounterSimOptions> = {}) {
    this.sim = new CounterSim({
      stepDelayMs: 5,
      signatureTimeoutMs: 5_000,
      sessionExpiryMs: 2_000,
      onIntentEvent: (e) => this.events.push(e),
      dropConnection: () => { this.drops += 1; },
      log: (line) => this.logs.push(line),
      ...opts,
    });
  }

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = SH): Reply {
    const r = this.sim.handle(method, new URL(path, 'http://127.0.0.1'), headers, body);
    assert.ok(r, `${method} ${path} is a counter route`);
    return r as Reply;
  }

  intent(value: number, extra: Body = {}): Body {
    const r = this.call('POST', '/payment-intents', { amount: { value, currencyCode: 'GBP' }, reference: `Order ${value}`, ...extra });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    conforms('PaymentIntent', r.body);
    return r.body;
  }

  session(terminalId: string, details: Body): Reply {
    return this.call('POST', '/terminal-sessions', { terminalId, details });
  }

  sale(value: number, terminalId = T1, extra: Body = {}): { intent: Body; session: Body } {
    const intent = this.intent(value, extra);
    const r = this.session(terminalId, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    conforms('TerminalSession', r.body);
    return { intent, session: r.body };
  }

  getSession(id: string): Body {
    const r = this.call('GET', `/terminal-sessions/${id}`);
    assert.equal(r.status, 200);
    conforms('TerminalSession', r.body);
    return r.body;
  }

  getIntent(id: string): Body {
    const r = this.call('GET', `/payment-intents/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    conforms('PaymentIntent', r.body);
    return r.body;
  }

  /** Polls the session until `pred` holds; bounded. */
  async waitSession(id: string, pred: (s: Body) => boolean, timeoutMs = 3_000): Promise<Body> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = this.getSession(id);
      if (pred(s)) return s;
      if (Date.now() > until) throw new Error(`session ${id} stuck in ${s.status}`);
      await sleep(3);
    }
  }

  waitFinal(id: string, timeoutMs?: number): Promise<Body> {
    return this.waitSession(id, (s) => FINAL.has(s.status), timeoutMs);
  }

  /** A captured payment, quickly (instant harness or not). */
  async captured(value: number): Promise<Body> {
    const { intent, session } = this.sale(value);
    await this.waitFinal(session.id);
    const i = this.getIntent(intent.id);
    assert.equal(i.status, 'Captured');
    return i;
  }
}

const statuses = (s: Body): string[] => s.statusEvents.map((e: Body) => e.status);
const notifications = (s: Body): string[] => s.notificationEvents.map((e: Body) => e.notificationType);

describe('Dojo counter simulator (REST pay at counter)', function () {
  let harnesses: Harness[] = [];
  const make = (opts: Partial<CounterSimOptions> = {}): Harness => {
    const h = new Harness(opts);
    harnesses.push(h);
    return h;
  };
  afterEach(() => {
    for (const h of harnesses) h.sim.stop();
    harnesses = [];
  });

  describe('routing and errors', () => {
    it('leaves other paths to the server and answers a wrong method with a 405 problem', () => {
      const h = make();
      assert.equal(h.sim.handle('GET', new URL('http://x/epos/integrations'), SH, undefined), undefined);
      assert.equal(h.sim.handle('GET', new URL('http://x/payment-intents/a/b/c/d'), SH, undefined), undefined);
      assertProblem(h.call('PUT', '/payment-intents'), 405);
      assertProblem(h.call('GET', '/terminal-sessions'), 405);
    });

    it('never throws: a body that blows up on read is a 500 problem, a throwing listener is logged', () => {
      const h = make({ onIntentEvent: () => { throw new Error('listener broke'); } });
      const evil = { get amount(): never { throw new Error('boom'); }, reference: 'x' };
      assertProblem(h.call('POST', '/payment-intents', evil), 500);
      const ok = h.call('POST', '/payment-intents', { amount: { value: 100, currencyCode: 'GBP' }, reference: 'r' });
      assert.equal(ok.status, 200);
      assert.ok(h.logs.some((l) => l.includes('listener broke')));
    });

    it('rejects bodies that are not JSON objects', () => {
      const h = make();
      assertProblem(h.call('POST', '/payment-intents', 'not json'), 400);
      assertProblem(h.call('POST', '/payment-intents', [1, 2]), 400);
      assertProblem(h.call('POST', '/payment-intents', undefined), 400);
      const parsed = h.call('POST', '/payment-intents', JSON.stringify({ amount: { value: 5, currencyCode: 'EUR' }, reference: 'raw' }));
      assert.equal(parsed.status, 200);
      assert.equal(parsed.body.amount.currencyCode, 'EUR');
    });
  });

  describe('payment intents', () => {
    it('validates the create request and names every bad field', () => {
      const h = make();
      const r = h.call('POST', '/payment-intents', {
        amount: { value: 10.5, currencyCode: 'USD' }, reference: 'x'.repeat(61), captureMode: 'Later',
      });
      assertProblem(r, 400, ['amount.value', 'amount.currencyCode', 'reference', 'captureMode']);
      assertProblem(h.call('POST', '/payment-intents', { reference: 'r' }), 400, ['amount']);
      assertProblem(h.call('POST', '/payment-intents', { amount: { value: 0, currencyCode: 'GBP' }, reference: 'r' }), 400, ['amount.value']);
      assertProblem(h.call('POST', '/payment-intents', { amount: { value: -5, currencyCode: 'GBP' }, reference: 'r' }), 400, ['amount.value']);
      assertProblem(h.call('POST', '/payment-intents', { amount: { value: '100', currencyCode: 'GBP' }, reference: 'r' }), 400, ['amount.value']);
      assertProblem(h.call('POST', '/payment-intents', { amount: { value: 100, currencyCode: 'GBP' }, reference: '' }), 400, ['reference']);
      assertProblem(h.call('POST', '/payment-intents', {
        amount: { value: 100, currencyCode: 'GBP' }, reference: 'r', tipsAmount: { value: 10, currencyCode: 'EUR' },
      }), 400, ['tipsAmount.currencyCode']);
      assert.equal(h.sim.intentCount(), 0);
      assert.equal(h.events.length, 0);
    });

    it('creates an intent (Auto by default), reports it and reads it back', () => {
      const h = make();
      const i = h.intent(1000, { tipsAmount: { value: 150, currencyCode: 'GBP' }, reference: 'Order 1', description: 'd', metadata: { till: '3' } });
      assert.match(i.id, /^pi_sim_/);
      assert.equal(i.status, 'Created');
      assert.equal(i.captureMode, 'Auto');
      assert.deepEqual(i.amount, { value: 1000, currencyCode: 'GBP' });
      assert.deepEqual(i.tipsAmount, { value: 150, currencyCode: 'GBP' });
      assert.deepEqual(i.totalAmount, { value: 1150, currencyCode: 'GBP' });
      assert.equal(i.refundedAmount, 0);
      assert.equal(i.reference, 'Order 1');
      assert.ok(!Number.isNaN(Date.parse(i.createdAt)));
      assert.deepEqual(h.events, [{ paymentIntentId: i.id, event: 'payment_intent.created', paymentStatus: 'Created', captureMode: 'Auto' }]);
      assert.deepEqual(h.getIntent(i.id), i);
      assert.equal(h.sim.intentCount(), 1);
      assertProblem(h.call('GET', '/payment-intents/pi_sim_nope'), 404);
    });

    it('cancels a Created intent (hidden unless returnCanceled), refuses a captured one', async () => {
      const h = make({ stepDelayMs: 0 });
      const i = h.intent(700);
      const d = h.call('DELETE', `/payment-intents/${i.id}`);
      assert.equal(d.status, 200);
      assert.equal(d.body.status, 'Canceled');
      conforms('PaymentIntent', d.body);
      assertProblem(h.call('GET', `/payment-intents/${i.id}`), 404);
      assert.equal(h.call('GET', `/payment-intents/${i.id}?returnCanceled=true`).body.status, 'Canceled');
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: i.id } }), 409);

      const paid = await h.captured(800);
      assertProblem(h.call('DELETE', `/payment-intents/${paid.id}`), 409);
      assert.equal(h.getIntent(paid.id).status, 'Captured');
    });

    it('searches with filters and real cursor paging, newest first', () => {
      const h = make();
      const ids = [1, 2, 3, 4, 5, 6, 7].map((n) => h.intent(100 + n).id);
      const search = (body: unknown) => h.call('POST', '/payment-intents/search', body);

      const p1 = search({ cursor: { limit: 3 } });
      assert.equal(p1.status, 200);
      assert.deepEqual(p1.body.data.map((i: Body) => i.id), [ids[6], ids[5], ids[4]]);
      assert.equal(p1.body.before, undefined);
      assert.equal(typeof p1.body.after, 'string');
      for (const i of p1.body.data) conforms('PaymentIntent', i);

      const p2 = search({ cursor: { limit: 3, after: p1.body.after } });
      assert.deepEqual(p2.body.data.map((i: Body) => i.id), [ids[3], ids[2], ids[1]]);
      const p3 = search({ cursor: { limit: 3, after: p2.body.after } });
      assert.deepEqual(p3.body.data.map((i: Body) => i.id), [ids[0]]);
      assert.equal(p3.body.after, undefined);
      assert.equal(typeof p3.body.before, 'string');

      const back = search({ cursor: { limit: 3, before: p2.body.before } });
      assert.deepEqual(back.body.data.map((i: Body) => i.id), [ids[6], ids[5], ids[4]]);
      assert.equal(search({}).body.data.length, 7);

      h.call('DELETE', `/payment-intents/${ids[2]}`);
      assert.deepEqual(search({ statuses: ['Canceled'] }).body.data.map((i: Body) => i.id), [ids[2]]);
      assert.equal(search({ statuses: ['Created'] }).body.data.length, 6);
      assert.equal(search({ statuses: ['SomethingNew'] }).body.data.length, 0);
      assert.equal(search({ endDate: '2000-01-01T00:00:00Z' }).body.data.length, 0);
      assert.equal(search({ startDate: '2000-01-01T00:00:00Z' }).body.data.length, 7);

      assertProblem(search({ cursor: { limit: 0 } }), 400, ['cursor.limit']);
      assertProblem(search({ cursor: { limit: 101 } }), 400, ['cursor.limit']);
      assertProblem(search({ cursor: { after: 'garbage!' } }), 400, ['cursor.after']);
      assertProblem(search({ cursor: { after: p1.body.after, before: p2.body.before } }), 400, ['cursor']);
      assertProblem(search({ startDate: 'yesterday' }), 400, ['startDate']);
    });
  });

  describe('terminals', () => {
    it('lists the default terminals with 8-digit tids and filters by status (comma list or repeated)', () => {
      const h = make();
      const all = h.call('GET', '/terminals');
      assert.equal(all.status, 200);
      assert.equal(all.body.length, DEFAULT_COUNTER_TERMINALS.length);
      for (const t of all.body as Body[]) {
        conforms('Terminal', t);
        assert.match(t.properties.tid, /^\d{8}$/);
      }
      const ids = (path: string) => (h.call('GET', path).body as Body[]).map((t) => t.id).sort();
      assert.deepEqual(ids('/terminals?statuses=Available'), [T1, T2]);
      assert.deepEqual(ids('/terminals?statuses=Offline'), [OFFLINE]);
      assert.deepEqual(ids('/terminals?statuses=Available,Offline'), [T1, T2, OFFLINE].sort());
      assert.deepEqual(ids('/terminals?statuses=InUse&statuses=Offline'), [OFFLINE]);
      assert.deepEqual(ids('/terminals?statuses=Unheard'), []);
      const one = h.call('GET', `/terminals/${T1}`);
      assert.deepEqual(one.body.properties, { tid: '00000001' });
      assert.equal(one.body.status, 'Available');
      assertProblem(h.call('GET', '/terminals/tm_nope'), 404);
    });

    it('needs software-house-id on terminal and session routes; reseller-id is optional', () => {
      const h = make();
      assertProblem(h.call('GET', '/terminals', undefined, {}), 400, ['software-house-id']);
      assertProblem(h.call('GET', `/terminals/${T1}`, undefined, { 'reseller-id': 'r' }), 400, ['software-house-id']);
      assertProblem(h.call('GET', '/terminal-sessions/ts_x', undefined, {}), 400, ['software-house-id']);
      assert.equal(h.call('GET', '/terminals', undefined, { 'Software-House-Id': 'sh' }).status, 200);
      const i = h.intent(100);
      assert.equal(h.call('POST', '/terminal-sessions', { terminalId: T1, details: { sessionType: 'Sale', sale: { paymentIntentId: i.id } } },
        { 'software-house-id': 'sh' }).status, 200);
    });

    it('shows a terminal InUse while it runs a session and refuses a second session (409); Offline refused (409)', async () => {
      const h = make({ stepDelayMs: 20 });
      const { session } = h.sale(1000, T1);
      assert.equal(h.call('GET', `/terminals/${T1}`).body.status, 'InUse');
      assert.deepEqual((h.call('GET', '/terminals?statuses=InUse').body as Body[]).map((t) => t.id), [T1]);
      const other = h.intent(2000);
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: other.id } }), 409);
      assertProblem(h.session(OFFLINE, { sessionType: 'Sale', sale: { paymentIntentId: other.id } }), 409);
      assertProblem(h.session('tm_nope', { sessionType: 'Sale', sale: { paymentIntentId: other.id } }), 404);
      assert.equal(h.session(T2, { sessionType: 'Sale', sale: { paymentIntentId: other.id } }).status, 200);
      await h.waitFinal(session.id);
      assert.equal(h.call('GET', `/terminals/${T1}`).body.status, 'Available');
    });
  });

  describe('terminal sessions', () => {
    it('validates the request: exactly one detail object matching sessionType', () => {
      const h = make();
      const i = h.intent(100);
      assertProblem(h.call('POST', '/terminal-sessions', { details: { sessionType: 'Sale', sale: { paymentIntentId: i.id } } }), 400, ['terminalId']);
      assertProblem(h.call('POST', '/terminal-sessions', { terminalId: T1 }), 400, ['details']);
      assertProblem(h.session(T1, { sessionType: 'Layaway', sale: { paymentIntentId: i.id } }), 400, ['details.sessionType']);
      assertProblem(h.session(T1, { sessionType: 'Sale', matchedRefund: { paymentIntentId: i.id } }), 400, ['details']);
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: i.id }, unlinkedRefund: { amount: { value: 1, currencyCode: 'GBP' } } }), 400, ['details']);
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: {} }), 400, ['details.sale.paymentIntentId']);
      assertProblem(h.session(T1, { sessionType: 'UnlinkedRefund', unlinkedRefund: {} }), 400, ['details.unlinkedRefund.amount']);
      assertProblem(h.session(T1, { sessionType: 'UnlinkedRefund', unlinkedRefund: { amount: { value: 5, currencyCode: 'JPY' } } }), 400, ['details.unlinkedRefund.amount.currencyCode']);
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: 'pi_sim_unknown' } }), 404);
      assert.equal(h.call('GET', `/terminals/${T1}`).body.status, 'Available');
      assert.equal(h.sim.ledger.length, 0);
      assertProblem(h.call('GET', '/terminal-sessions/ts_sim_unknown'), 404);
    });

    it('starts InitiateRequested with the documented shape', () => {
      const h = make({ stepDelayMs: 50, sessionExpiryMs: 10_000 });
      const before = Date.now();
      const { intent, session } = h.sale(1000);
      assert.match(session.id, /^ts_sim_/);
      assert.equal(session.terminalId, T1);
      assert.equal(session.status, 'InitiateRequested');
      assert.deepEqual(session.notificationEvents, []);
      assert.deepEqual(statuses(session), ['InitiateRequested']);
      assert.equal(session.statusEvents[0].debugMessage, '');
      assert.deepEqual(session.details, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } });
      const expire = Date.parse(session.expireAt);
      assert.ok(expire >= before + 10_000 && expire <= Date.now() + 10_000, 'expireAt = now + sessionExpiryMs');
    });

    it('approved: Captured with PresentCard, EnterPin, PleaseWait, Approved, card details and receipts', async () => {
      const h = make();
      const { intent, session } = h.sale(1000);
      const done = await h.waitFinal(session.id);
      assert.equal(done.status, 'Captured');
      assert.deepEqual(statuses(done), ['InitiateRequested', 'Initiated', 'Captured']);
      assert.deepEqual(notifications(done), ['PresentCard', 'EnterPin', 'PleaseWait', 'Approved']);
      assert.ok(Date.parse(done.expireAt) > Date.parse(session.expireAt), 'expireAt moves with the status');
      assert.ok(Date.parse(done.updatedAt) >= Date.parse(done.createdAt));
      const card = done.paymentDetails.card;
      assert.equal(card.cardType, 'VISA');
      assert.equal(card.entryMode, 'Contactless');
      assert.equal(card.verificationMethod, 'Pin');
      assert.match(card.last4PAN, /^\d{4}$/);
      assert.match(done.paymentDetails.authCode, /^\d{6}$/);
      assert.equal(typeof done.paymentDetails.transactionId, 'string');
      assert.ok(done.receipt.lines.length > 5);
      assert.ok(done.receipt.lines.some((l: Body) => /TOTAL\s+£10\.00/.test(l.text?.value ?? '')));
      assert.ok(done.merchantReceipt.lines.some((l: Body) => /MERCHANT COPY/.test(l.text?.value ?? '')));

      const paid = h.getIntent(intent.id);
      assert.equal(paid.status, 'Captured');
      assert.equal(paid.paymentDetails.transactionId, done.paymentDetails.transactionId);
      assert.equal(paid.terminalSessionHistory.length, 1);
      assert.equal(paid.terminalSessionHistory[0].terminalSession.status, 'Captured');
      assert.equal(paid.terminalSessionHistory[0].payment.verificationMode, 'Pin');
      assert.deepEqual(h.events.map((e) => [e.event, e.paymentStatus]), [
        ['payment_intent.created', 'Created'], ['payment_intent.status_updated', 'Captured'],
      ]);
      assert.deepEqual(h.sim.ledger, [{
        kind: 'sale', mode: 'terminal', terminalSessionId: session.id, terminalId: T1, paymentIntentId: intent.id,
        reference: 'Order 1000', amount: 1000, currency: 'GBP', status: 'Captured', at: session.createdAt,
      }]);
    });

    it('declined (..51): Declined [.., Declined], the intent stays Created and can be paid again', async () => {
      const h = make();
      const { intent, session } = h.sale(1051);
      const done = await h.waitFinal(session.id);
      assert.equal(done.status, 'Declined');
      assert.deepEqual(statuses(done), ['InitiateRequested', 'Initiated', 'Declined']);
      assert.deepEqual(notifications(done), ['PresentCard', 'EnterPin', 'PleaseWait', 'Declined']);
      assert.equal(done.paymentDetails.authCode, undefined);
      assert.equal(h.getIntent(intent.id).status, 'Created');
      assert.equal(h.events.length, 1);
      assert.equal(h.sim.ledger[0].status, 'Declined');
      assert.equal(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } }).status, 200);
    });

    it('timed out (..52): stays Initiated until expireAt, then Expired', async () => {
      const h = make({ sessionExpiryMs: 150 });
      const { intent, session } = h.sale(1052);
      const waiting = await h.waitSession(session.id, (s) => s.status === 'Initiated');
      await sleep(60);
      assert.equal(h.getSession(session.id).status, 'Initiated');
      const done = await h.waitFinal(session.id);
      assert.equal(done.status, 'Expired');
      assert.deepEqual(statuses(done), ['InitiateRequested', 'Initiated', 'Expired']);
      assert.deepEqual(notifications(done), ['PresentCard']);
      const expiredAt = Date.parse(done.statusEvents[2].createdAt);
      assert.ok(expiredAt >= Date.parse(waiting.expireAt) - 5, 'not before expireAt');
      assert.equal(h.getIntent(intent.id).status, 'Created');
      assert.equal(h.call('GET', `/terminals/${T1}`).body.status, 'Available');
    });

    it('cancelled on the terminal (..54): CancelRequested then Canceled', async () => {
      const h = make();
      const { intent, session } = h.sale(1054);
      const done = await h.waitFinal(session.id);
      assert.deepEqual(statuses(done), ['InitiateRequested', 'Initiated', 'CancelRequested', 'Canceled']);
      assert.deepEqual(notifications(done), ['PresentCard']);
      assert.equal(done.paymentDetails, undefined);
      assert.equal(h.getIntent(intent.id).status, 'Created');
    });

    it('drop (..55): drops the EPOS connection mid-session, then captures', async () => {
      const h = make({ stepDelayMs: 40 });
      const { session } = h.sale(1055);
      await h.waitSession(session.id, (s) => s.status === 'Initiated');
      assert.equal(h.drops, 0);
      const done = await h.waitFinal(session.id);
      assert.equal(h.drops, 1);
      assert.equal(done.status, 'Captured');
      assert.deepEqual(notifications(done), ['PresentCard', 'EnterPin', 'PleaseWait', 'Approved']);
    });

    it('Manual capture: an approved sale ends Authorized; capturing moves the intent to Captured', async () => {
      const h = make();
      const { intent, session } = h.sale(1200, T1, { captureMode: 'Manual' });
      const done = await h.waitFinal(session.id);
      assert.equal(done.status, 'Authorized');
      assert.equal(h.getIntent(intent.id).status, 'Authorized');
      assertProblem(h.call('POST', `/payment-intents/${intent.id}/captures`, { amount: 5000 }), 400, ['amount']);
      const cap = h.call('POST', `/payment-intents/${intent.id}/captures`, { amount: 1200 });
      assert.equal(cap.status, 200);
      assert.match(cap.body.captureId, /^cp_sim_/);
      const after = h.getIntent(intent.id);
      assert.equal(after.status, 'Captured');
      assert.equal(after.captures[0].amount, 1200);
      assertProblem(h.call('POST', `/payment-intents/${intent.id}/captures`, { amount: 1200 }), 409);
      assert.deepEqual(h.events.map((e) => [e.paymentStatus, e.captureMode]), [['Created', 'Manual'], ['Authorized', 'Manual'], ['Captured', 'Manual']]);
    });

    it('reversal undoes a captured payment once; not a refunded one', async () => {
      const h = make({ stepDelayMs: 0 });
      const paid = await h.captured(900);
      const r = h.call('POST', `/payment-intents/${paid.id}/reversal`);
      assert.equal(r.status, 200);
      assert.match(r.body.reversalId, /^rvs_sim_/);
      assert.equal(h.getIntent(paid.id).status, 'Reversed');
      assertProblem(h.call('POST', `/payment-intents/${paid.id}/reversal`), 409);
    });
  });

  describe('signature verification (..53)', () => {
    it('accepted by the EPOS: SignatureVerificationAccepted, intent Authorized then Captured', async () => {
      const h = make();
      const { intent, session } = h.sale(1053);
      const wait = await h.waitSession(session.id, (s) => s.status === 'SignatureVerificationRequired');
      assert.equal(wait.paymentDetails.card.verificationMethod, 'Signature');
      assert.equal(h.getIntent(intent.id).status, 'Authorized');
      assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/signature`, { accepted: 'yes' }), 400, ['accepted']);
      assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/signature`, {}), 400, ['accepted']);
      assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/cancel`), 422);
      const r = h.call('PUT', `/terminal-sessions/${session.id}/signature`, { accepted: true });
      assert.equal(r.status, 200);
      conforms('TerminalSession', r.body);
      assert.equal(r.body.status, 'SignatureVerificationAccepted');
      assert.deepEqual(statuses(r.body), ['InitiateRequested', 'Initiated', 'SignatureVerificationRequired', 'SignatureVerificationAccepted']);
      assert.deepEqual(notifications(r.body), ['PresentCard', 'PleaseWait', 'Approved']);
      assert.equal(h.getIntent(intent.id).status, 'Captured');
      assert.deepEqual(h.events.map((e) => e.paymentStatus), ['Created', 'Authorized', 'Captured']);
      assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/signature`, { accepted: true }), 422);
      assert.equal(h.sim.ledger[0].status, 'SignatureVerificationAccepted');
    });

    it('rejected by the EPOS: SignatureVerificationRejected and the intent Reversed', async () => {
      const h = make();
      const { intent, session } = h.sale(2053);
      await h.waitSession(session.id, (s) => s.status === 'SignatureVerificationRequired');
      const r = h.call('PUT', `/terminal-sessions/${session.id}/signature`, { accepted: false });
      assert.equal(r.body.status, 'SignatureVerificationRejected');
      assert.deepEqual(notifications(r.body), ['PresentCard', 'PleaseWait', 'Declined']);
      assert.equal(h.getIntent(intent.id).status, 'Reversed');
      assertProblem(h.session(T1, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } }), 409);
    });

    it('no answer within signatureTimeoutMs: accepted automatically', async () => {
      const h = make({ signatureTimeoutMs: 60, sessionExpiryMs: 20 });
      const { intent, session } = h.sale(3053);
      const wait = await h.waitSession(session.id, (s) => s.status === 'SignatureVerificationRequired');
      const done = await h.waitFinal(session.id);
      assert.equal(done.status, 'SignatureVerificationAccepted', 'a short expiry does not expire a pending signature');
      const waited = Date.parse(done.updatedAt) - Date.parse(wait.updatedAt);
      assert.ok(waited >= 55, `waited ${waited} ms`);
      assert.equal(h.getIntent(intent.id).status, 'Captured');
    });
  });

  describe('cancel from the EPOS', () => {
    it('CancelRequested at once, Canceled on the next step', async () => {
      const h = make({ stepDelayMs: 40 });
      const { intent, session } = h.sale(1000);
      const r = h.call('PUT', `/terminal-sessions/${session.id}/cancel`);
      assert.equal(r.status, 200);
      conforms('TerminalSession', r.body);
      assert.equal(r.body.status, 'CancelRequested');
      assert.equal(h.call('PUT', `/terminal-sessions/${session.id}/cancel`).body.status, 'CancelRequested', 'a repeated cancel is harmless');
      const done = await h.waitFinal(session.id);
      assert.deepEqual(statuses(done), ['InitiateRequested', 'CancelRequested', 'Canceled']);
      assert.deepEqual(notifications(done), []);
      assert.equal(h.getIntent(intent.id).status, 'Created');
      assert.equal(h.sim.ledger[0].status, 'Canceled');
    });

    it('cancels a session waiting for a card (..52)', async () => {
      const h = make({ sessionExpiryMs: 5_000 });
      const { session } = h.sale(1052);
      await h.waitSession(session.id, (s) => s.status === 'Initiated');
      assert.equal(h.call('PUT', `/terminal-sessions/${session.id}/cancel`).body.status, 'CancelRequested');
      assert.equal((await h.waitFinal(session.id)).status, 'Canceled');
    });

    it('a late cancel (session already final) is a 422 problem', async () => {
      const h = make();
      const { session } = h.sale(1000);
      await h.waitFinal(session.id);
      assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/cancel`), 422);
      assert.equal(h.getSession(session.id).status, 'Captured');
      assertProblem(h.call('PUT', '/terminal-sessions/ts_sim_unknown/cancel'), 404);
    });
  });

  describe('never charged twice', () => {
    it('refuses a second Sale session on an intent that is being paid or already captured', async () => {
      const h = make({ stepDelayMs: 15 });
      const { intent, session } = h.sale(1000, T1);
      assertProblem(h.session(T2, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } }), 409);
      await h.waitFinal(session.id);
      assertProblem(h.session(T2, { sessionType: 'Sale', sale: { paymentIntentId: intent.id } }), 409);
      assert.equal(h.sim.ledger.filter((e) => e.kind === 'sale').length, 1);
      assert.equal(h.events.filter((e) => e.paymentStatus === 'Captured').length, 1);
    });
  });

  describe('refunds', () => {
    it('online refund: idempotencyKey required, same key = same refund, over-refund refused, full refund -> Refunded', async () => {
      const h = make({ stepDelayMs: 0 });
      const paid = await h.captured(1000);
      const path = `/payment-intents/${paid.id}/refunds`;
      const refund = (body: unknown, key?: string) => h.call('POST', path, body, key === undefined ? {} : { idempotencyKey: key });

      assertProblem(refund({ amount: 300 }), 400, ['idempotencyKey']);
      assertProblem(refund({ amount: 0 }, 'k0'), 400, ['amount']);
      const first = refund({ amount: 300, refundReason: 'Faulty' }, 'k1');
      assert.equal(first.status, 200);
      conforms('Refund', first.body);
      assert.match(first.body.refundId, /^rfnd_sim_/);
      assert.deepEqual(first.body, { paymentIntentId: paid.id, refundId: first.body.refundId, refundReason: 'Faulty' });
      const again = refund({ amount: 300, refundReason: 'Faulty' }, 'k1');
      assert.deepEqual(again.body, first.body);
      assert.equal(h.sim.ledger.filter((e) => e.kind === 'refund').length, 1);
      assert.equal(h.getIntent(paid.id).refundedAmount, 300);

      assertProblem(refund({ amount: 701 }, 'k2'), 400, ['amount']);
      const rest = refund({ amount: 700 }, 'k3');
      assert.equal(rest.status, 200);
      const after = h.getIntent(paid.id);
      assert.equal(after.refundedAmount, 1000);
      assert.equal(after.status, 'Refunded');
      assert.deepEqual(h.events.map((e) => e.paymentStatus), ['Created', 'Captured', 'Refunded']);
      assertProblem(refund({ amount: 1 }, 'k4'), 409);

      const got = h.call('GET', `/payment-intents/refunds/${first.body.refundId}`);
      assert.deepEqual(got.body, first.body);
      assertProblem(h.call('GET', '/payment-intents/refunds/rfnd_nope'), 404);
      const ledger = h.sim.ledger.filter((e) => e.kind === 'refund');
      assert.deepEqual(ledger.map((e) => [e.mode, e.amount, e.status]), [['online', 300, 'Refunded'], ['online', 700, 'Refunded']]);

      const other = h.intent(500);
      assertProblem(h.call('POST', `/payment-intents/${other.id}/refunds`, { amount: 100 }, { idempotencyKey: 'k9' }), 409);
      assertProblem(h.call('POST', `/payment-intents/${other.id}/refunds`, { amount: 100 }, { idempotencyKey: 'k1' }), 400, ['idempotencyKey']);
    });

    it('matched refund sessions: partial, then the rest by default; over-refund and declines refund nothing', async () => {
      const h = make();
      const paid = await h.captured(1000);
      const matched = (amount?: number) => h.session(T2, {
        sessionType: 'MatchedRefund',
        matchedRefund: { paymentIntentId: paid.id, ...(amount === undefined ? {} : { amount: { value: amount, currencyCode: 'GBP' } }) },
      });
      assertProblem(matched(1001), 400, ['details.matchedRefund.amount.value']);

      const declined = matched(351);
      assert.equal(declined.status, 200);
      assert.equal((await h.waitFinal(declined.body.id)).status, 'Declined');
      assert.equal(h.getIntent(paid.id).refundedAmount, 0);

      const part = matched(400);
      assert.deepEqual(part.body.details, { sessionType: 'MatchedRefund', matchedRefund: { paymentIntentId: paid.id, amount: { value: 400, currencyCode: 'GBP' } } });
      assertProblem(h.session(T1, { sessionType: 'MatchedRefund', matchedRefund: { paymentIntentId: paid.id, amount: { value: 601, currencyCode: 'GBP' } } }), 400);
      const partDone = await h.waitFinal(part.body.id);
      assert.equal(partDone.status, 'Captured');
      assert.equal(partDone.receipt.lines.some((l: Body) => l.text?.value === 'REFUND'), true);
      let i = h.getIntent(paid.id);
      assert.equal(i.refundedAmount, 400);
      assert.equal(i.status, 'Captured');

      const rest = matched();
      assert.equal(rest.body.details.matchedRefund.amount.value, 600);
      await h.waitFinal(rest.body.id);
      i = h.getIntent(paid.id);
      assert.equal(i.refundedAmount, 1000);
      assert.equal(i.status, 'Refunded');
      assertProblem(matched(), 409);
      const refunds = h.sim.ledger.filter((e) => e.kind === 'refund');
      assert.deepEqual(refunds.map((e) => [e.mode, e.amount, e.status]), [['matched', 351, 'Declined'], ['matched', 400, 'Captured'], ['matched', 600, 'Captured']]);
    });

    it('unlinked refund sessions follow the amount rule on the refund amount', async () => {
      const h = make();
      const ok = h.session(T1, { sessionType: 'UnlinkedRefund', unlinkedRefund: { amount: { value: 2500, currencyCode: 'EUR' }, cardholderNotPresent: false } });
      assert.equal(ok.status, 200);
      conforms('TerminalSession', ok.body);
      const no = h.session(T2, { sessionType: 'UnlinkedRefund', unlinkedRefund: { amount: { value: 2551, currencyCode: 'GBP' } } });
      assert.equal((await h.waitFinal(ok.body.id)).status, 'Captured');
      assert.equal((await h.waitFinal(no.body.id)).status, 'Declined');
      assert.deepEqual(h.sim.ledger.map((e) => [e.kind, e.mode, e.amount, e.currency, e.status]), [
        ['refund', 'unlinked', 2500, 'EUR', 'Captured'], ['refund', 'unlinked', 2551, 'GBP', 'Declined'],
      ]);
      assert.equal(h.events.length, 0);
    });
  });

  describe('instant mode (stepDelayMs 0)', () => {
    it('every outcome is final in the POST answer, with the full history', () => {
      const h = make({ stepDelayMs: 0, signatureTimeoutMs: 60_000, sessionExpiryMs: 60_000 });
      const expected: Array<[number, string, string[], string]> = [
        [1000, 'Captured', ['PresentCard', 'EnterPin', 'PleaseWait', 'Approved'], 'Captured'],
        [1051, 'Declined', ['PresentCard', 'EnterPin', 'PleaseWait', 'Declined'], 'Created'],
        [1052, 'Expired', ['PresentCard'], 'Created'],
        [1053, 'SignatureVerificationAccepted', ['PresentCard', 'PleaseWait', 'Approved'], 'Captured'],
        [1054, 'Canceled', ['PresentCard'], 'Created'],
        [1055, 'Captured', ['PresentCard', 'EnterPin', 'PleaseWait', 'Approved'], 'Captured'],
      ];
      for (const [amount, status, notes, intentStatus] of expected) {
        const { intent, session } = h.sale(amount);
        assert.equal(session.status, status, `amount ${amount}`);
        assert.deepEqual(notifications(session), notes, `amount ${amount}`);
        assert.equal(session.statusEvents[0].status, 'InitiateRequested');
        assert.equal(h.getIntent(intent.id).status, intentStatus, `intent for ${amount}`);
        assert.equal(h.call('GET', `/terminals/${T1}`).body.status, 'Available');
        assertProblem(h.call('PUT', `/terminal-sessions/${session.id}/cancel`), 422);
      }
      assert.equal(h.drops, 1);
      assert.equal(h.sim.ledger.length, expected.length);
    });

    it('reports intent events in order', () => {
      const h = make({ stepDelayMs: 0 });
      const { intent } = h.sale(4053);
      h.call('POST', `/payment-intents/${intent.id}/refunds`, { amount: 4053 }, { idempotencyKey: 'x' });
      assert.deepEqual(h.events, [
        { paymentIntentId: intent.id, event: 'payment_intent.created', paymentStatus: 'Created', captureMode: 'Auto' },
        { paymentIntentId: intent.id, event: 'payment_intent.status_updated', paymentStatus: 'Authorized', captureMode: 'Auto' },
        { paymentIntentId: intent.id, event: 'payment_intent.status_updated', paymentStatus: 'Captured', captureMode: 'Auto' },
        { paymentIntentId: intent.id, event: 'payment_intent.status_updated', paymentStatus: 'Refunded', captureMode: 'Auto' },
      ]);
    });
  });

  describe('stop()', () => {
    it('clears every timer: no session moves on afterwards', async () => {
      const h = make({ stepDelayMs: 30, signatureTimeoutMs: 60, sessionExpiryMs: 100 });
      const signing = h.sale(1053, T2).session;
      await h.waitSession(signing.id, (s) => s.status === 'SignatureVerificationRequired');
      const moving = h.sale(1000, T1).session;
      const frozenSigning = h.getSession(signing.id);
      const frozenMoving = h.getSession(moving.id);
      h.sim.stop();
      await sleep(200);
      assert.deepEqual(h.getSession(moving.id), frozenMoving, 'no step, no expiry');
      assert.deepEqual(h.getSession(signing.id), frozenSigning, 'no automatic signature acceptance');
      assert.equal(frozenMoving.status, 'InitiateRequested');
      h.sim.stop(); // idempotent
    });
  });
});
