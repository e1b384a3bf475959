// Online refunds (POST /payment-intents/{id}/refunds): no terminal involved. The required
// `idempotencyKey` header makes a retried request return the first refund instead of paying
// the money back twice.

import { isoNow, refundId as newRefundId } from './ids';
import { Fields, bodyObject, header, readMinor, readString } from './input';
import { MAX_KEPT, type IntentStore } from './intents';
import { badRequest, conflict, notFound } from './problem';
import type { CounterLedgerEntry, Headers } from './types';

interface RefundRecord {
  refundId: string;
  paymentIntentId: string;
  key: string;
  amount: number;
  refundReason?: string;
  notes?: string;
}

export const IDEMPOTENCY_HEADER = 'idempotencyKey';

export class RefundDesk {
  private readonly byId = new Map<string, RefundRecord>();
  private readonly byKey = new Map<string, RefundRecord>();

  constructor(
    private readonly intents: IntentStore,
    private readonly record: (entry: CounterLedgerEntry) => void,
    private readonly log: (line: string) => void,
  ) {}

  create(intentId: string, headers: Headers, body: unknown): Record<string, unknown> {
    const key = header(headers, IDEMPOTENCY_HEADER);
    if (key === undefined) {
      throw badRequest(`The ${IDEMPOTENCY_HEADER} header is required.`, { [IDEMPOTENCY_HEADER]: [`The ${IDEMPOTENCY_HEADER} header is required.`] });
    }
    const seen = this.byKey.get(key);
    if (seen) {
      if (seen.paymentIntentId !== intentId) {
        throw badRequest(`The ${IDEMPOTENCY_HEADER} was already used for another payment intent.`, { [IDEMPOTENCY_HEADER]: ['Already used for another payment intent.'] });
      }
      return toWire(seen);
    }
    const intent = this.intents.require(intentId);
    const b = bodyObject(body, true);
    const f = new Fields();
    const amount = readMinor(f, 'amount', b.amount, { required: true });
    const refundReason = readString(f, 'refundReason', b.refundReason, { max: 1024 });
    const notes = readString(f, 'notes', b.notes, { max: 4096 });
    readString(f, 'previousTransactionId', b.previousTransactionId, { max: 100 });
    f.check();
    if (intent.status !== 'Captured') throw conflict(`Payment intent ${intent.id} is ${intent.status}; only a Captured payment can be refunded.`);
    const left = this.intents.refundable(intent);
    if ((amount as number) > left) throw badRequest('The refund is larger than what is left to refund.', { amount: [`At most ${left} can be refunded.`] });

    const refund: RefundRecord = { refundId: newRefundId(), paymentIntentId: intent.id, key, amount: amount as number };
    if (refundReason !== undefined) refund.refundReason = refundReason;
    if (notes !== undefined) refund.notes = notes;
    this.keep(refund);
    this.intents.applyRefund(intent, refund.amount);
    this.record({
      kind: 'refund', mode: 'online', paymentIntentId: intent.id, refundId: refund.refundId, reference: intent.reference,
      amount: refund.amount, currency: intent.amount.currencyCode, status: 'Refunded', at: isoNow(),
    });
    this.log(`online refund ${refund.refundId} of ${intent.id}: ${refund.amount} ${intent.amount.currencyCode}`);
    return toWire(refund);
  }

  get(refundId: string): Record<string, unknown> {
    const refund = this.byId.get(refundId);
    if (!refund) throw notFound(`Refund ${JSON.stringify(refundId.slice(0, 80))} was not found.`);
    return toWire(refund);
  }

  private keep(refund: RefundRecord): void {
    this.byId.set(refund.refundId, refund);
    this.byKey.set(refund.key, refund);
    if (this.byId.size <= MAX_KEPT) return;
    const oldest = this.byId.values().next().value;
    if (!oldest) return;
    this.byId.delete(oldest.refundId);
    this.byKey.delete(oldest.key);
  }
}

/** Refund is a closed schema: paymentIntentId, refundId, refundReason, notes. */
function toWire(r: RefundRecord): Record<string, unknown> {
  const wire: Record<string, unknown> = { paymentIntentId: r.paymentIntentId, refundId: r.refundId };
  if (r.refundReason !== undefined) wire.refundReason = r.refundReason;
  if (r.notes !== undefined) wire.notes = r.notes;
  return wire;
}
