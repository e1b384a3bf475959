// A SensePass refund (pos-refund): read the payment to learn its amount, then one POST; the
// answer is the outcome (SensePass chooses void or refund itself [doc]). The later 12 -> 11/13
// status messages reach the notification node, not this.

import { PosError, isPosError } from '../../core/errors';
import { decimalToMinor, formatMinor } from '../../core/money';
import type { PaymentAttempt } from '../../core/provider';
import type { PaymentRequest, PaymentResult } from '../../core/types';
import { terminalOf } from './mapping';
import type { SensePassRest } from './rest';
import type { SensePassRefundAnswer, SensePassTransaction } from './schemas';

/** Keys of request.options the adapter reads itself or sets; everything else goes to SensePass as it is. */
const CONTROL = new Set(['transactionNumber', 'transactionId', 'isPartial', 'refundAmount', 'isCent', 'deviceId', 'amount', 'currency']);

export function refundTarget(request: PaymentRequest): string {
  const o = request.options ?? {};
  const n = typeof o.transactionNumber === 'string' && o.transactionNumber.trim() ? o.transactionNumber.trim()
    : typeof o.transactionId === 'string' && o.transactionId.trim() ? o.transactionId.trim() : undefined;
  if (!n) {
    throw new PosError('bad_input', 'a SensePass refund needs options.transactionNumber (or options.transactionId): the transactionId of the approved payment');
  }
  return n;
}

export async function runRefund(rest: SensePassRest, attempt: PaymentAttempt): Promise<PaymentResult> {
  const { request } = attempt;
  const transactionNumber = refundTarget(request);
  await attempt.note({ transactionNumber, refund: true });
  let original: SensePassTransaction;
  try {
    original = await rest.get(transactionNumber);
  } catch (err) {
    // Only a read so far: nothing was refunded, so the reference stays free (not_connected / provider_error).
    if (isPosError(err) && (err.code === 'unauthorized' || err.code === 'not_connected')) throw err;
    if (isPosError(err) && err.code === 'not_found') throw new PosError('provider_error', `SensePass does not know the transaction to refund; nothing was refunded (${err.message})`, err.details);
    throw new PosError('not_connected', `could not read the payment to refund: ${(err as Error).message}; nothing was refunded`);
  }
  const currency = typeof original.currency === 'string' ? original.currency.trim().toUpperCase() : request.currency;
  if (currency !== request.currency) {
    throw new PosError('bad_input', `the payment was taken in ${currency}; a refund of it must be in ${currency} too, not ${request.currency}`);
  }
  const paid = decimalToMinor(original.amount, currency);
  if (paid === undefined) {
    throw new PosError('provider_error', `SensePass's amount for the payment (${JSON.stringify(original.amount)?.slice(0, 30)}) cannot be read exactly in ${currency}; nothing was refunded`);
  }
  if (request.amount > paid) {
    throw new PosError('bad_input', `the refund (${formatMinor(request.amount, currency)}) is more than the payment (${formatMinor(paid, currency)}); nothing was refunded`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(request.options ?? {})) if (!CONTROL.has(k)) extra[k] = v;
  // refundAmount's unit is not documented; isCent as on init says it is minor units [inferred].
  const answer = await rest.refund({ ...extra, transactionNumber, isPartial: request.amount < paid, refundAmount: request.amount, isCent: true });
  const result = refundResult(answer, transactionNumber, request, original);
  // lookup() can answer from this if the result itself is lost before the journal has it.
  if (result.approved && result.authCode) await attempt.note({ refundConfirmation: result.authCode });
  return result;
}

export function refundResult(answer: SensePassRefundAnswer, transactionNumber: string, request: PaymentRequest, original?: SensePassTransaction): PaymentResult {
  const code = answer.errorCode === undefined || answer.errorCode === null || answer.errorCode === '' ? undefined : Number(answer.errorCode);
  const result = typeof answer.result === 'string' ? answer.result.trim().toLowerCase() : undefined;
  const approved = (code === undefined || code === 0) && result !== 'declined' && (result === 'approved' || code === 0);
  const confirmation = typeof answer.refundConfirmation === 'string' && answer.refundConfirmation ? answer.refundConfirmation
    : typeof answer.refundConfirmation === 'number' ? String(answer.refundConfirmation) : undefined;
  const said = typeof answer.errorMessage === 'string' && answer.errorMessage.trim() ? answer.errorMessage.trim() : undefined;
  const terminalId = original ? terminalOf(original, request) : request.terminalId;
  return {
    outcome: approved ? 'approved' : 'declined', approved, amount: request.amount, currency: request.currency, reference: request.reference,
    ...(terminalId ? { terminalId } : {}), provider: 'sensepass',
    transactionId: approved ? confirmation ?? transactionNumber : transactionNumber,
    ...(approved && confirmation ? { authCode: confirmation } : {}),
    card: {}, receipt: {},
    message: approved ? 'Refund approved'
      : `Refund declined${said ? `: ${said}` : ''}${code !== undefined && Number.isFinite(code) ? ` (SensePass error ${code})` : ''}`,
    raw: answer,
  };
}

