// Payment intents: created by the EPOS, moved by terminal sessions and lifecycle calls, read
// back after a session ends. Every status change is reported through onIntentEvent, which the
// EPOS Data half turns into HandleEventV1 `payment_intent.status_updated`.

import { intentId, isoNow } from './ids';
import { Fields, bodyObject, isObject, readMoney, readString } from './input';
import { conflict, notFound } from './problem';
import type { CounterEvent, Money } from './types';

/** Enough for any test or demo; keeps a long benchmark from growing without bound. */
export const MAX_KEPT = 10_000;

export interface PaymentDetails {
  transactionId: string;
  transactionDateTime: string;
  message: string;
  authCode?: string;
  card: {
    cardNumber: string;
    cardName: string;
    expiryDate: string;
    cardType: string;
    cardFundingType: string;
    last4PAN: string;
    entryMode: string;
    verificationMethod: string;
  };
}

export interface CaptureRecord {
  id: string;
  amount: number;
  tipsAmount?: number;
  status: string;
  createdAt: string;
}

export interface Intent {
  id: string;
  /** Creation order; search cursors point at it. */
  seq: number;
  createdMs: number;
  status: string;
  captureMode: string;
  amount: Money;
  tipsAmount?: Money;
  cashbackAmount?: Money;
  serviceChargeAmount?: Money;
  totalAmount: Money;
  reference: string;
  description?: string;
  metadata?: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  refundedAmount: number;
  /** Held by refund sessions still running, so two of them cannot refund the same money. */
  reservedRefund: number;
  activeSessionId?: string;
  /** Newest last, at most MAX_HISTORY. */
  sessionIds: string[];
  paymentDetails?: PaymentDetails;
  captures: CaptureRecord[];
}

const MAX_HISTORY = 50;
export const CAPTURE_MODES: readonly string[] = Object.freeze(['Auto', 'Manual']);

export class IntentStore {
  private readonly byId = new Map<string, Intent>();
  private nextSeq = 1;

  constructor(private readonly emit: (e: CounterEvent) => void) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Intent | undefined {
    return this.byId.get(id);
  }

  require(id: string): Intent {
    const intent = this.byId.get(id);
    if (!intent) throw notFound(`Payment intent ${JSON.stringify(id.slice(0, 80))} was not found.`);
    return intent;
  }

  values(): IterableIterator<Intent> {
    return this.byId.values();
  }

  create(body: unknown): Intent {
    const b = bodyObject(body, true);
    const f = new Fields();
    const amount = readMoney(f, 'amount', b.amount, { required: true });
    const currency = amount?.currencyCode;
    const reference = readString(f, 'reference', b.reference, { required: true, max: 60 });
    const captureMode = readString(f, 'captureMode', b.captureMode) ?? 'Auto';
    if (!CAPTURE_MODES.includes(captureMode)) f.add('captureMode', `The captureMode must be one of ${CAPTURE_MODES.join(', ')}.`);
    const extras = { allowZero: true, ...(currency ? { currency } : {}) };
    const tipsAmount = readMoney(f, 'tipsAmount', b.tipsAmount, extras);
    const cashbackAmount = readMoney(f, 'cashbackAmount', b.cashbackAmount, extras);
    const serviceChargeAmount = readMoney(f, 'serviceChargeAmount', b.serviceChargeAmount, extras);
    const description = readString(f, 'description', b.description, { max: 4096 });
    const metadata = readMetadata(f, b.metadata);
    f.check();

    const money = amount as Money;
    const at = isoNow();
    const intent: Intent = {
      id: intentId(),
      seq: this.nextSeq++,
      createdMs: Date.parse(at),
      status: 'Created',
      captureMode,
      amount: money,
      // [inferred] everything the card is charged: tips, service charge and cashback on top of amount.
      totalAmount: {
        value: money.value + (tipsAmount?.value ?? 0) + (cashbackAmount?.value ?? 0) + (serviceChargeAmount?.value ?? 0),
        currencyCode: money.currencyCode,
      },
      reference: reference as string,
      createdAt: at,
      updatedAt: at,
      refundedAmount: 0,
      reservedRefund: 0,
      sessionIds: [],
      captures: [],
    };
    if (tipsAmount) intent.tipsAmount = tipsAmount;
    if (cashbackAmount) intent.cashbackAmount = cashbackAmount;
    if (serviceChargeAmount) intent.serviceChargeAmount = serviceChargeAmount;
    if (description !== undefined) intent.description = description;
    if (metadata) intent.metadata = metadata;
    this.byId.set(intent.id, intent);
    this.prune();
    this.notify(intent, 'payment_intent.created');
    return intent;
  }

  /** Moves the intent and reports it; no event when nothing changed. */
  setStatus(intent: Intent, status: string): void {
    if (intent.status === status) return;
    intent.status = status;
    intent.updatedAt = isoNow();
    this.notify(intent, 'payment_intent.status_updated');
  }

  touch(intent: Intent): void {
    intent.updatedAt = isoNow();
  }

  /** `paying`: a Sale session, which holds the intent until it ends. */
  attachSession(intent: Intent, sessionId: string, paying: boolean): void {
    if (paying) intent.activeSessionId = sessionId;
    intent.sessionIds.push(sessionId);
    if (intent.sessionIds.length > MAX_HISTORY) intent.sessionIds.shift();
  }

  /** DELETE /payment-intents/{id}: only an intent still Created, with no session on a terminal. */
  cancel(intent: Intent): void {
    if (intent.status === 'Canceled') return;
    if (intent.status !== 'Created') throw conflict(`Payment intent ${intent.id} is ${intent.status} and can no longer be canceled.`);
    if (intent.activeSessionId) throw conflict(`Payment intent ${intent.id} is being paid on a terminal (session ${intent.activeSessionId}).`);
    this.setStatus(intent, 'Canceled');
  }

  /**
   * What is left to refund: what was captured (a Manual payment's captures, else the total), less
   * cashback, which was handed out in cash and never comes back [inferred].
   */
  refundable(intent: Intent): number {
    const paid = intent.captures.length > 0
      ? intent.captures.reduce((sum, c) => sum + c.amount, 0)
      : intent.totalAmount.value - (intent.cashbackAmount?.value ?? 0);
    return Math.max(0, paid - intent.refundedAmount - intent.reservedRefund);
  }

  reserveRefund(intent: Intent, amount: number): void {
    intent.reservedRefund += amount;
  }

  releaseRefund(intent: Intent, amount: number): void {
    intent.reservedRefund = Math.max(0, intent.reservedRefund - amount);
    this.settle(intent);
  }

  /** Books a refund that went through. */
  applyRefund(intent: Intent, amount: number): void {
    intent.refundedAmount += amount;
    this.touch(intent);
    this.settle(intent);
  }

  /** Fully refunded, with no refund session still running -> Refunded. */
  private settle(intent: Intent): void {
    if (intent.status === 'Captured' && this.refundable(intent) === 0 && intent.reservedRefund === 0) this.setStatus(intent, 'Refunded');
  }

  private notify(intent: Intent, event: CounterEvent['event']): void {
    this.emit({ paymentIntentId: intent.id, event, paymentStatus: intent.status, captureMode: intent.captureMode });
  }

  /** Drops the oldest intents no terminal is working on. */
  private prune(): void {
    if (this.byId.size <= MAX_KEPT) return;
    for (const [id, intent] of this.byId) {
      if (this.byId.size <= MAX_KEPT) break;
      if (!intent.activeSessionId) this.byId.delete(id);
    }
  }
}

function readMetadata(f: Fields, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    f.add('metadata', 'The metadata field must be an object of string values.');
    return undefined;
  }
  return { ...(v as Record<string, string>) };
}

/** The PaymentIntent body; `history` is terminalSessionHistory, built by the session engine. */
export function intentToWire(intent: Intent, history: unknown[]): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    id: intent.id,
    captureMode: intent.captureMode,
    cardHolderNotPresent: false,
    status: intent.status,
    paymentMethods: ['Card'],
    amount: { ...intent.amount },
    totalAmount: { ...intent.totalAmount },
    refundedAmount: intent.refundedAmount,
    createdAt: intent.createdAt,
    updatedAt: intent.updatedAt,
    reference: intent.reference,
    itemLines: [],
    taxLines: [],
    terminalSessionHistory: history,
    captures: intent.captures.map((c) => ({ ...c })),
  };
  if (intent.tipsAmount) wire.tipsAmount = { ...intent.tipsAmount };
  if (intent.cashbackAmount) wire.cashbackAmount = { ...intent.cashbackAmount };
  if (intent.serviceChargeAmount) wire.serviceChargeAmount = { ...intent.serviceChargeAmount };
  if (intent.description !== undefined) wire.description = intent.description;
  if (intent.metadata) wire.metadata = { ...intent.metadata };
  if (intent.paymentDetails) wire.paymentDetails = { ...intent.paymentDetails, card: { ...intent.paymentDetails.card } };
  return wire;
}
