// The `payment` action's PaymentRequest [doc 3.4] from the pack's request: the amount as an
// exact decimal string, our reference in metadata (echoed back by the gateway), and the
// provider-specific options (products, customerInfo, ...) passed through.

import { PosError } from '../../core/errors';
import type { PaymentAttempt } from '../../core/provider';
import { minorToDecimal } from '../../core/money';
import type { WirePaymentRequest } from './wire';

export function buildPaymentRequest(attempt: PaymentAttempt, transactionId: string): WirePaymentRequest {
  const { request } = attempt;
  const { paymentMethod, metadata, ...rest } = request.options ?? {};
  if (paymentMethod !== undefined && (typeof paymentMethod !== 'string' || paymentMethod === '')) {
    throw new PosError('bad_input', 'options.paymentMethod must be text such as CARD, CASH, MOBILE or OTHER');
  }
  if (metadata !== undefined && !isObject(metadata)) throw new PosError('bad_input', 'options.metadata must be an object');
  return {
    ...rest,
    transactionId,
    amount: minorToDecimal(request.amount, request.currency),
    currency: request.currency,
    paymentMethod: paymentMethod ?? 'CARD',
    metadata: { reference: request.reference, ...metadata },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
