// Turns what a flow sent into a PaymentRequest, or a PosError a person can act on. Nothing
// reaches a provider before this has passed: a bad amount must never become a charge.

import { PosError } from './errors';
import { checkCurrency, checkMinorUnits } from './money';
import type { PaymentRequest } from './types';

export interface RequestDefaults {
  terminalId?: string;
  currency?: string;
  /** Used when the payload has no reference (the node passes msg._msgid). */
  reference?: string;
}

const KNOWN_FIELDS = new Set(['amount', 'currency', 'reference', 'terminalId', 'tip', 'cashback', 'options']);

export function parsePaymentRequest(kind: PaymentRequest['kind'], payload: unknown, defaults: RequestDefaults = {}): PaymentRequest {
  if (payload === undefined || payload === null) {
    throw new PosError('bad_input', `msg.payload is missing: send { amount, currency } with the amount in minor units`);
  }
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PosError('bad_input', `msg.payload must be an object such as { "amount": 1250, "currency": "GBP" }, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  }
  const p = payload as Record<string, unknown>;
  const amount = checkMinorUnits('amount', p.amount);
  const currency = checkCurrency(p.currency ?? defaults.currency);
  const reference = p.reference ?? defaults.reference;
  if (typeof reference !== 'string' || reference.trim() === '' || reference.length > 128) {
    throw new PosError('bad_input', 'reference must be a non-empty text of at most 128 characters');
  }
  const terminalId = p.terminalId ?? defaults.terminalId;
  if (terminalId !== undefined && terminalId !== '' && typeof terminalId !== 'string') {
    throw new PosError('bad_input', `terminalId must be text, got ${typeof terminalId}`);
  }
  const request: PaymentRequest = { kind, amount, currency, reference };
  if (typeof terminalId === 'string' && terminalId !== '') request.terminalId = terminalId;
  if (p.tip !== undefined) request.tip = checkMinorUnits('tip', p.tip, { allowZero: true });
  if (p.cashback !== undefined) {
    if (kind === 'refund') throw new PosError('bad_input', 'cashback cannot be given on a refund');
    request.cashback = checkMinorUnits('cashback', p.cashback, { allowZero: true });
  }
  if (p.options !== undefined) {
    if (typeof p.options !== 'object' || p.options === null || Array.isArray(p.options)) {
      throw new PosError('bad_input', 'options must be an object of provider-specific fields');
    }
    request.options = p.options as Record<string, unknown>;
  }
  const unknown = Object.keys(p).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    // A misspelt "ammount" or "curency" must not be silently ignored on a payment.
    throw new PosError('bad_input', `msg.payload has unknown field(s) ${unknown.slice(0, 5).join(', ')}; provider-specific fields go in payload.options`);
  }
  return request;
}

/** Control messages name the payment they act on. */
export function parseReference(payload: unknown): string {
  const ref = payload && typeof payload === 'object' ? (payload as Record<string, unknown>).reference : undefined;
  if (typeof ref !== 'string' || ref === '') {
    throw new PosError('bad_input', 'msg.payload.reference must name the payment this action is for');
  }
  return ref;
}
