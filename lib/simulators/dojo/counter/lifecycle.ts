// Payment-intent operations after the terminal is done: DELETE (cancel), capture of a Manual
// payment, and reversal (protocol notes 8, "lifecycle operations").

import { captureId, isoNow, reversalId } from './ids';
import { Fields, bodyObject, readMinor } from './input';
import type { Intent, IntentStore } from './intents';
import { badRequest, conflict } from './problem';
import type { CounterLedgerEntry } from './types';

/** Where accepted captures and reversals are booked (the simulator's ledger). */
export type Book = (entry: CounterLedgerEntry) => void;

function assertIdle(intent: Intent): void {
  if (intent.activeSessionId) throw conflict(`Payment intent ${intent.id} is being paid on a terminal (session ${intent.activeSessionId}).`);
}

/** POST /payment-intents/{id}/captures: an Authorized (Manual) payment becomes Captured. */
export function capture(intents: IntentStore, intent: Intent, body: unknown, record?: Book): Record<string, unknown> {
  const b = bodyObject(body, true);
  const f = new Fields();
  const amount = readMinor(f, 'amount', b.amount, { required: true });
  const tipsAmount = readMinor(f, 'tipsAmount', b.tipsAmount, { allowZero: true });
  f.check();
  assertIdle(intent);
  if (intent.status !== 'Authorized') throw conflict(`Payment intent ${intent.id} is ${intent.status}; only an Authorized payment can be captured.`);
  const most = intent.totalAmount.value;
  if ((amount as number) > most) throw badRequest('The capture is larger than the authorised amount.', { amount: [`At most ${most} can be captured.`] });
  const id = captureId();
  intent.captures.push({ id, amount: amount as number, ...(tipsAmount !== undefined ? { tipsAmount } : {}), status: 'Successful', createdAt: isoNow() });
  intents.setStatus(intent, 'Captured');
  record?.({ kind: 'capture', mode: 'online', paymentIntentId: intent.id, reference: intent.reference, amount: amount as number, currency: intent.amount.currencyCode, status: 'Captured', at: isoNow() });
  return { message: 'Captured', captureId: id };
}

/** POST /payment-intents/{id}/reversal: undoes an authorisation or a capture nothing was refunded from. */
export function reverse(intents: IntentStore, intent: Intent, record?: Book): Record<string, unknown> {
  assertIdle(intent);
  if (intent.status !== 'Authorized' && intent.status !== 'Captured') {
    throw conflict(`Payment intent ${intent.id} is ${intent.status}; only an Authorized or Captured payment can be reversed.`);
  }
  if (intent.refundedAmount > 0 || intent.reservedRefund > 0) throw conflict(`Payment intent ${intent.id} has refunds; refund the rest instead.`);
  intents.setStatus(intent, 'Reversed');
  record?.({ kind: 'reversal', mode: 'online', paymentIntentId: intent.id, reference: intent.reference, amount: intent.totalAmount.value, currency: intent.amount.currencyCode, status: 'Reversed', at: isoNow() });
  return { message: 'Reversed', reversalId: reversalId() };
}
