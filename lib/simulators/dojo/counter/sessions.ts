// Terminal sessions: the timed state machine of protocol notes 8.1, one step per stepDelayMs
// (script.ts says which steps). A session holds its terminal (InUse) until it ends; a Sale holds
// its payment intent too, so the same intent can never be charged by two sessions. Every delay
// goes through one Clock, so stop() clears them all at once.

import { Clock, type Timer } from '../../clock';
import { isoNow, sessionId as newSessionId } from './ids';
import { Fields, bodyObject, readBoolean } from './input';
import type { Intent, IntentStore, PaymentDetails } from './intents';
import { MAX_KEPT } from './intents';
import { badRequest, conflict, notFound, unprocessable } from './problem';
import { cardFor, paymentDetails, receiptLines, type ReceiptLine } from './receipt';
import {
  CANCELLABLE_STATUSES, CANCEL_STEPS, FINAL_STATUSES, planFor, signatureAnswer, type Plan, type Step,
} from './script';
import { readSessionRequest, sessionDetails, type SessionType } from './session-request';
import type { TerminalRegistry } from './terminals';
import type { CounterLedgerEntry, Money } from './types';

export interface EngineOptions {
  stepDelayMs: number;
  signatureTimeoutMs: number;
  sessionExpiryMs: number;
  dropConnection(): void;
  log(line: string): void;
  record(entry: CounterLedgerEntry): void;
}

interface Session {
  id: string;
  terminalId: string;
  type: SessionType;
  details: Record<string, unknown>;
  intentId?: string;
  /** What the terminal asks the card for: the intent's total for a sale, the refund amount otherwise. */
  amount: Money;
  /** Refund money held on the intent until this matched refund ends. */
  reserved: number;
  manualCapture: boolean;
  status: string;
  createdAt: string;
  updatedAt: string;
  expireAt: string;
  notificationEvents: Array<{ notificationType: string; createdAt: string }>;
  statusEvents: Array<{ status: string; createdAt: string; debugMessage: string }>;
  paymentDetails?: PaymentDetails;
  receipts?: { customer: ReceiptLine[]; merchant: ReceiptLine[] };
  plan: Plan;
  steps: readonly Step[];
  next: number;
  timers: { step?: Timer; expiry?: Timer; signature?: Timer };
  entry: CounterLedgerEntry;
}

const SIGNATURE_WAIT = 'SignatureVerificationRequired';

export class SessionEngine {
  private readonly sessions = new Map<string, Session>();
  private readonly clock = new Clock();

  constructor(
    private readonly terminals: TerminalRegistry,
    private readonly intents: IntentStore,
    private readonly opts: EngineOptions,
  ) {}

  private get instant(): boolean {
    return this.opts.stepDelayMs <= 0;
  }

  create(body: unknown): Record<string, unknown> {
    const req = readSessionRequest(body);
    const terminalStatus = this.terminals.status(req.terminalId);
    if (terminalStatus === undefined) throw notFound(`Terminal ${JSON.stringify(req.terminalId.slice(0, 80))} was not found.`);
    if (terminalStatus === 'InUse') throw conflict(`Terminal ${req.terminalId} is busy with another session.`);
    // [inferred] an Offline terminal is a conflict with the terminal's state, like a busy one.
    if (terminalStatus !== 'Available') throw conflict(`Terminal ${req.terminalId} is ${terminalStatus} and cannot take a session.`);

    let intent: Intent | undefined;
    let amount: Money;
    let reserved = 0;
    if (req.sessionType === 'Sale') {
      intent = this.intents.require(req.paymentIntentId as string);
      if (intent.activeSessionId) throw conflict(`Payment intent ${intent.id} already has a session in progress (${intent.activeSessionId}).`);
      if (intent.status !== 'Created') throw conflict(`Payment intent ${intent.id} is ${intent.status}; only a Created payment intent can be paid.`);
      amount = { ...intent.totalAmount };
    } else if (req.sessionType === 'MatchedRefund') {
      intent = this.intents.require(req.paymentIntentId as string);
      if (intent.status !== 'Captured') throw conflict(`Payment intent ${intent.id} is ${intent.status}; only a Captured payment can be refunded.`);
      const left = this.intents.refundable(intent);
      amount = req.amount ?? { value: left, currencyCode: intent.amount.currencyCode };
      const path = 'details.matchedRefund.amount';
      if (amount.currencyCode !== intent.amount.currencyCode) {
        throw badRequest('The refund currency differs from the payment.', { [`${path}.currencyCode`]: [`The currency must be ${intent.amount.currencyCode}.`] });
      }
      if (left === 0) throw conflict(`Payment intent ${intent.id} has nothing left to refund.`);
      if (amount.value > left) throw badRequest('The refund is larger than what is left to refund.', { [`${path}.value`]: [`At most ${left} can be refunded.`] });
      reserved = amount.value;
    } else {
      amount = req.amount as Money;
    }

    const at = isoNow();
    const id = newSessionId();
    // The amount rule reads the sale's own amount (tips and cashback aside), or the refund amount.
    const ruleAmount = req.sessionType === 'Sale' ? (intent as Intent).amount.value : amount.value;
    const plan = planFor(ruleAmount, req.sessionType === 'Sale' && intent?.captureMode === 'Manual');
    const entry: CounterLedgerEntry = {
      kind: req.sessionType === 'Sale' ? 'sale' : 'refund',
      mode: req.sessionType === 'Sale' ? 'terminal' : req.sessionType === 'MatchedRefund' ? 'matched' : 'unlinked',
      terminalSessionId: id,
      terminalId: req.terminalId,
      amount: amount.value,
      currency: amount.currencyCode,
      status: 'InitiateRequested',
      at,
    };
    if (intent) {
      entry.paymentIntentId = intent.id;
      entry.reference = intent.reference;
    }
    const s: Session = {
      id, terminalId: req.terminalId, type: req.sessionType, details: sessionDetails(req, amount), amount, reserved,
      manualCapture: intent?.captureMode === 'Manual',
      status: 'InitiateRequested', createdAt: at, updatedAt: at, expireAt: this.expiry(),
      notificationEvents: [], statusEvents: [{ status: 'InitiateRequested', createdAt: at, debugMessage: '' }],
      plan, steps: plan.steps, next: 0, timers: {}, entry,
    };
    if (intent) {
      s.intentId = intent.id;
      this.intents.attachSession(intent, id, req.sessionType === 'Sale');
      if (reserved > 0) this.intents.reserveRefund(intent, reserved);
    }
    this.sessions.set(id, s);
    this.terminals.occupy(s.terminalId, id);
    this.opts.record(entry);
    this.opts.log(`${req.sessionType} session ${id} on ${s.terminalId}: ${amount.value} ${amount.currencyCode} (${plan.outcome})`);
    this.armExpiry(s);
    this.drive(s);
    this.prune();
    return this.toWire(s);
  }

  get(id: string): Record<string, unknown> {
    return this.toWire(this.require(id));
  }

  /** PUT /cancel: CancelRequested now, Canceled on the next step; 422 once the card was authorised. */
  cancel(id: string): Record<string, unknown> {
    const s = this.require(id);
    if (s.status === 'CancelRequested') return this.toWire(s);
    if (FINAL_STATUSES.has(s.status)) throw unprocessable(`Terminal session ${id} is already ${s.status} and cannot be canceled.`);
    if (!CANCELLABLE_STATUSES.has(s.status)) throw unprocessable(`Terminal session ${id} is ${s.status}: too late to cancel.`);
    this.cancelTimer(s, 'step');
    this.opts.log(`session ${id}: cancel requested by the EPOS`);
    this.setStatus(s, 'CancelRequested');
    s.steps = CANCEL_STEPS;
    s.next = 0;
    this.drive(s);
    return this.toWire(s);
  }

  /** PUT /signature: only while the terminal waits for the EPOS to check the signature. */
  signature(id: string, body: unknown): Record<string, unknown> {
    const s = this.require(id);
    const b = bodyObject(body, true);
    const f = new Fields();
    const accepted = readBoolean(f, 'accepted', b.accepted);
    if (accepted === undefined && f.ok) f.add('accepted', 'The accepted field is required.');
    f.check();
    if (s.status !== SIGNATURE_WAIT) throw unprocessable(`Terminal session ${id} is ${s.status}, not waiting for a signature check.`);
    this.answerSignature(s, accepted as boolean, 'the EPOS');
    return this.toWire(s);
  }

  /** terminalSessionHistory of a payment intent, oldest first. */
  historyFor(intent: Intent): unknown[] {
    const out: unknown[] = [];
    for (const id of intent.sessionIds) {
      const s = this.sessions.get(id);
      if (s) out.push(historyEntry(s));
    }
    return out;
  }

  stop(): void {
    this.clock.dispose();
  }

  // --- the state machine ---

  /** Runs the session on: instantly to the end, or by arming the one timer its state needs. */
  private drive(s: Session): void {
    if (this.instant) {
      // Each pass takes a step or ends the session, so this ends; the cap is a seat belt.
      for (let guard = 0; guard < 64 && !this.isFinal(s); guard++) {
        if (s.status === SIGNATURE_WAIT) this.answerSignature(s, true, 'nobody (instant mode)');
        else if (s.next < s.steps.length) this.applyStep(s, s.steps[s.next++]);
        else this.expire(s);
      }
      return;
    }
    if (this.isFinal(s)) return;
    if (s.status === SIGNATURE_WAIT) {
      if (!s.timers.signature) {
        this.arm(s, 'signature', this.opts.signatureTimeoutMs, () => this.answerSignature(s, true, 'timeout (accepted automatically)'));
      }
      return;
    }
    // No step left (timed_out): the expiry timer ends it.
    if (s.next >= s.steps.length) return;
    this.arm(s, 'step', this.opts.stepDelayMs, () => {
      this.applyStep(s, s.steps[s.next++]);
      this.drive(s);
    });
  }

  private applyStep(s: Session, step: Step): void {
    if (this.isFinal(s)) return;
    const at = isoNow();
    if (step.notification) s.notificationEvents.push({ notificationType: step.notification, createdAt: at });
    if (step.effect) this.effect(s, step, at);
    if (step.status) this.setStatus(s, step.status);
    if (this.isFinal(s)) this.finish(s);
  }

  private effect(s: Session, step: Step, at: string): void {
    const intent = s.intentId ? this.intents.get(s.intentId) : undefined;
    const sale = s.type === 'Sale';
    switch (step.effect) {
      case 'drop':
        this.opts.log(`session ${s.id}: dropping the EPOS connection mid-payment`);
        try { this.opts.dropConnection(); } catch (err) { this.opts.log(`dropConnection failed: ${(err as Error).message}`); }
        return;
      case 'signature':
        s.paymentDetails = paymentDetails(cardFor(true), 'Authorized', true, at);
        if (sale && intent) {
          intent.paymentDetails = s.paymentDetails;
          this.intents.setStatus(intent, 'Authorized');
        }
        return;
      case 'approve': {
        const details = s.paymentDetails ?? paymentDetails(cardFor(false), '', true, at);
        details.message = sale && s.manualCapture ? 'Authorized' : 'Approved';
        s.paymentDetails = details;
        this.printReceipts(s, 'SUCCESSFUL', at);
        if (sale && intent) {
          intent.paymentDetails = details;
          this.intents.setStatus(intent, s.manualCapture ? 'Authorized' : 'Captured');
        } else if (s.type === 'MatchedRefund' && intent) {
          this.releaseReservation(s, intent);
          this.intents.applyRefund(intent, s.amount.value);
        }
        return;
      }
      case 'decline':
        s.paymentDetails = paymentDetails(cardFor(false), 'Declined', false, at);
        this.printReceipts(s, 'DECLINED', at);
        return;
      case 'reverse':
        if (s.paymentDetails) s.paymentDetails.message = 'Reversed';
        this.printReceipts(s, 'REVERSED', at);
        if (sale && intent) {
          if (s.paymentDetails) intent.paymentDetails = s.paymentDetails;
          this.intents.setStatus(intent, 'Reversed');
        }
        return;
      default:
        return;
    }
  }

  private answerSignature(s: Session, accepted: boolean, by: string): void {
    if (s.status !== SIGNATURE_WAIT) return;
    this.cancelTimer(s, 'signature');
    this.opts.log(`session ${s.id}: signature ${accepted ? 'accepted' : 'rejected'} by ${by}`);
    this.applyStep(s, signatureAnswer(accepted));
  }

  private expire(s: Session): void {
    if (this.isFinal(s) || s.status === SIGNATURE_WAIT) return;
    this.cancelTimer(s, 'step');
    this.setStatus(s, 'Expired');
    this.finish(s);
  }

  /** Records the status and moves expireAt; a status that can still stall gets an expiry timer. */
  private setStatus(s: Session, status: string): void {
    const at = isoNow();
    s.status = status;
    s.updatedAt = at;
    s.expireAt = this.expiry();
    s.statusEvents.push({ status, createdAt: at, debugMessage: '' });
    s.entry.status = status;
    this.cancelTimer(s, 'expiry');
    // A pending signature check ends by auto-acceptance, not by expiry (protocol notes 8).
    if (!this.isFinal(s) && status !== SIGNATURE_WAIT) this.armExpiry(s);
  }

  private finish(s: Session): void {
    this.cancelTimer(s, 'step');
    this.cancelTimer(s, 'expiry');
    this.cancelTimer(s, 'signature');
    this.terminals.release(s.terminalId, s.id);
    const intent = s.intentId ? this.intents.get(s.intentId) : undefined;
    if (intent) {
      if (intent.activeSessionId === s.id) delete intent.activeSessionId;
      this.releaseReservation(s, intent);
      this.intents.touch(intent);
    }
    this.opts.log(`${s.type} session ${s.id} on ${s.terminalId}: ${s.status}`);
  }

  private releaseReservation(s: Session, intent: Intent): void {
    if (s.reserved === 0) return;
    const amount = s.reserved;
    s.reserved = 0;
    this.intents.releaseRefund(intent, amount);
  }

  private printReceipts(s: Session, result: string, at: string): void {
    const intent = s.type === 'Sale' && s.intentId ? this.intents.get(s.intentId) : undefined;
    const input = {
      tid: this.terminals.tid(s.terminalId) ?? '00000000',
      kind: s.type === 'Sale' ? 'SALE' as const : 'REFUND' as const,
      amount: intent ? intent.amount : s.amount,
      tips: intent?.tipsAmount?.value,
      cashback: intent?.cashbackAmount?.value,
      result,
      details: s.paymentDetails,
      at,
    };
    s.receipts = { customer: receiptLines(input, 'CUSTOMER COPY'), merchant: receiptLines(input, 'MERCHANT COPY') };
  }

  // --- timers and bookkeeping ---

  private armExpiry(s: Session): void {
    if (this.instant) return;
    this.arm(s, 'expiry', Math.max(0, Date.parse(s.expireAt) - Date.now()), () => this.expire(s));
  }

  private arm(s: Session, kind: keyof Session['timers'], ms: number, fire: () => void): void {
    this.cancelTimer(s, kind);
    const timer = this.clock.timer(ms);
    s.timers[kind] = timer;
    timer.done.then((elapsed) => {
      if (s.timers[kind] === timer) delete s.timers[kind];
      if (!elapsed) return;
      try { fire(); } catch (err) { this.opts.log(`session ${s.id} failed: ${(err as Error).message}`); }
    }, () => undefined);
  }

  private cancelTimer(s: Session, kind: keyof Session['timers']): void {
    const timer = s.timers[kind];
    if (!timer) return;
    delete s.timers[kind];
    timer.cancel();
  }

  private expiry(): string {
    return new Date(Date.now() + this.opts.sessionExpiryMs).toISOString();
  }

  private isFinal(s: Session): boolean {
    return FINAL_STATUSES.has(s.status);
  }

  private require(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw notFound(`Terminal session ${JSON.stringify(id.slice(0, 80))} was not found.`);
    return s;
  }

  /** Drops the oldest finished sessions beyond MAX_KEPT; running ones are never dropped. */
  private prune(): void {
    if (this.sessions.size <= MAX_KEPT) return;
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= MAX_KEPT) break;
      if (this.isFinal(s)) this.sessions.delete(id);
    }
  }

  private toWire(s: Session): Record<string, unknown> {
    const wire: Record<string, unknown> = {
      id: s.id,
      terminalId: s.terminalId,
      status: s.status,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      expireAt: s.expireAt,
      notificationEvents: s.notificationEvents.map((e) => ({ ...e })),
      statusEvents: s.statusEvents.map((e) => ({ ...e })),
      details: structuredClone(s.details),
    };
    if (s.paymentDetails) wire.paymentDetails = { ...s.paymentDetails, card: { ...s.paymentDetails.card } };
    if (s.receipts) {
      // The schema names `receipt`; Dojo's own example shows the two copies. Both are given.
      wire.receipt = { lines: structuredClone(s.receipts.customer) };
      wire.customerReceipt = { lines: structuredClone(s.receipts.customer) };
      wire.merchantReceipt = { lines: structuredClone(s.receipts.merchant) };
    }
    return wire;
  }
}

/** TerminalSessionHistoryResponse: a closed schema, so only its own fields. */
function historyEntry(s: Session): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    terminalSession: {
      terminalId: s.terminalId,
      id: s.id,
      status: s.status,
      expireAt: s.expireAt,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      notificationEvents: s.notificationEvents.map((e) => ({ ...e })),
      statusEvents: s.statusEvents.map((e) => ({ ...e })),
      details: structuredClone(s.details),
    },
  };
  const p = s.paymentDetails;
  if (p) {
    entry.payment = {
      transactionDateTime: p.transactionDateTime,
      cardNumber: p.card.cardNumber,
      expiryDate: p.card.expiryDate,
      cardType: p.card.cardType,
      authGatewayTransactionId: p.transactionId,
      cardHolderName: p.card.cardName,
      entryMode: p.card.entryMode,
      verificationMode: p.card.verificationMethod,
    };
  }
  return entry;
}
