// SensePass's Transaction.status codes (Transaction model), the one place the pack reads them.
// The decision is always made on the number: statusName is display text, and the docs' own
// example pairs status 0 with "Transaction Approved".

import type { Outcome } from '../../core/types';

export interface StatusInfo {
  code: number;
  /** The pack's event name for progress and notifications. */
  event: string;
  /** No later status is expected for the payment (13 may still change, but is an answer). */
  final: boolean;
  /** Only for the codes that end a payment attempt: 5 to 9. Never set for an unknown code. */
  outcome?: Outcome;
  /** A short sentence for a person. */
  message: string;
}

export const APPROVED_STATUS = 5;
export const SETTLED_EVENT = 'settled';

const TABLE: Readonly<Record<number, Omit<StatusInfo, 'code'>>> = Object.freeze({
  0: { event: 'initialize', final: false, message: 'The payment was created; waiting for the customer' },
  1: { event: 'tap_detected', final: false, message: 'A customer tapped' },
  2: { event: 'user_approved', final: false, message: 'The customer approved the payment details' },
  // Not final: the payment page stays open and someone else may still pay.
  3: { event: 'user_declined', final: false, message: 'A customer declined; another person may still pay' },
  4: { event: 'processing_payment', final: false, message: 'Processing the payment' },
  5: { event: 'transaction_approved', final: true, outcome: 'approved', message: 'Approved' },
  6: { event: 'transaction_declined', final: true, outcome: 'declined', message: 'Declined by the payment provider' },
  7: { event: 'transaction_failed', final: true, outcome: 'failed', message: 'The payment failed' },
  8: { event: 'transaction_timeout', final: true, outcome: 'timed_out', message: 'Nobody paid before the payment timed out' },
  9: { event: 'transaction_cancelled', final: true, outcome: 'cancelled', message: 'Cancelled' },
  10: { event: 'waiting_for_tap', final: false, message: 'Waiting for the customer to tap' },
  // Refund states of an earlier payment: final as answers, but not outcomes of a payment attempt.
  11: { event: 'transaction_refunded', final: true, message: 'Refunded' },
  12: { event: 'processing_refund', final: false, message: 'Processing a refund' },
  13: { event: 'partially_refunded', final: true, message: 'Partially refunded' },
});

/** Any integer; an unknown code passes through as `status_<n>`, not final, with no outcome. */
export function statusInfo(code: number): StatusInfo {
  const known = Number.isInteger(code) && Object.prototype.hasOwnProperty.call(TABLE, code) ? TABLE[code] : undefined;
  if (known) return { code, ...known };
  const name = (code < 0 ? 'minus_' : '') + String(Math.abs(code)).replace(/[^0-9a-z]+/gi, '_').replace(/^_+|_+$/g, '');
  return { code, event: `status_${name}`, final: false, message: `SensePass status ${String(code).slice(0, 20)} (not known to this pack)` };
}

export const isApprovedStatus = (code: number): boolean => code === APPROVED_STATUS;
export const isFinalStatus = (code: number): boolean => statusInfo(code).final;
