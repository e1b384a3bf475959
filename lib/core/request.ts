// Turns what a flow sent into a PaymentRequest, or a PosError a person can act on. Nothing
// reaches a provider before this has passed: a bad amount must never become a charge.

import { PosError } from './errors';
import { checkCurrency, checkMinorUnits } from './money';
import { LINKED_KINDS, type PaymentKind, type PaymentRequest } from './types';

export interface RequestDefaults {
  terminalId?: string;
  currency?: string;
  /** Used when the payload has no reference (the node passes msg._msgid). */
  reference?: string;
}

const KNOWN_FIELDS = new Set(['kind', 'amount', 'currency', 'reference', 'terminalId', 'tip', 'cashback', 'options', 'originalReference']);

/** What a pay node takes in msg.payload.kind; refunds have a node of their own. */
const PAY_KINDS: readonly PaymentKind[] = ['sale', 'preauth', 'completion', 'release', 'verify'];

/**
 * References starting with this character are the journal's own (lib/core/settlements.ts): a
 * flow may not use them, so they can never collide with a payment's reference.
 */
export const RESERVED_REFERENCE_START = '\u0001';

/**
 * `node`: the kind of node the message came to. A pay node takes `payload.kind` (default
 * `sale`); a refund node takes refunds only.
 */
export function parsePaymentRequest(node: 'sale' | 'refund', payload: unknown, defaults: RequestDefaults = {}): PaymentRequest {
  if (payload === undefined || payload === null) {
    throw new PosError('bad_input', `msg.payload is missing: send { amount, currency } with the amount in minor units`);
  }
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PosError('bad_input', `msg.payload must be an object such as { "amount": 1250, "currency": "GBP" }, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  }
  const p = payload as Record<string, unknown>;
  const kind = kindOf(node, p.kind);
  // A release gives back the whole reserve (the amount may be left out); a check is zero by definition.
  const amount = kind === 'verify' || (kind === 'release' && p.amount === undefined)
    ? checkZeroOrMore(kind, p.amount)
    : checkMinorUnits('amount', p.amount);
  const currency = checkCurrency(p.currency ?? defaults.currency);
  const reference = p.reference ?? defaults.reference;
  if (typeof reference !== 'string' || reference.trim() === '' || reference.length > 128) {
    throw new PosError('bad_input', 'reference must be a non-empty text of at most 128 characters');
  }
  if (reference.startsWith(RESERVED_REFERENCE_START)) throw new PosError('bad_input', 'reference must not start with a control character');
  const terminalId = p.terminalId ?? defaults.terminalId;
  if (terminalId !== undefined && terminalId !== '' && typeof terminalId !== 'string') {
    throw new PosError('bad_input', `terminalId must be text, got ${typeof terminalId}`);
  }
  const request: PaymentRequest = { kind, amount, currency, reference };
  if (typeof terminalId === 'string' && terminalId !== '') request.terminalId = terminalId;
  if (p.tip !== undefined) {
    if (kind !== 'sale' && kind !== 'refund') throw new PosError('bad_input', `a tip cannot be given on a ${kind}`);
    request.tip = checkMinorUnits('tip', p.tip, { allowZero: true });
  }
  if (p.cashback !== undefined) {
    if (kind !== 'sale') throw new PosError('bad_input', `cashback cannot be given on a ${kind}`);
    request.cashback = checkMinorUnits('cashback', p.cashback, { allowZero: true });
  }
  if (p.options !== undefined) {
    if (typeof p.options !== 'object' || p.options === null || Array.isArray(p.options)) {
      throw new PosError('bad_input', 'options must be an object of provider-specific fields');
    }
    request.options = p.options as Record<string, unknown>;
  }
  const linked = LINKED_KINDS.includes(kind);
  if (linked) {
    const original = p.originalReference;
    if (typeof original !== 'string' || original.trim() === '' || original.length > 128) {
      throw new PosError('bad_input', `a ${kind} needs originalReference: the reference of the approved pre-auth it ${kind === 'release' ? 'gives back' : 'completes'}`);
    }
    if (original === reference) throw new PosError('bad_input', `a ${kind} needs a reference of its own, not the pre-auth's (${original})`);
    request.originalReference = original;
  } else if (p.originalReference !== undefined) {
    throw new PosError('bad_input', `originalReference only goes with a completion or a release, not with a ${kind}`);
  }
  const unknown = Object.keys(p).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    // A misspelt "ammount" or "curency" must not be silently ignored on a payment.
    throw new PosError('bad_input', `msg.payload has unknown field(s) ${unknown.slice(0, 5).join(', ')}; provider-specific fields go in payload.options`);
  }
  return request;
}

function kindOf(node: 'sale' | 'refund', value: unknown): PaymentKind {
  if (node === 'refund') {
    if (value === undefined || value === 'refund') return 'refund';
    throw new PosError('bad_input', `a refund node takes refunds only; send a ${JSON.stringify(value)?.slice(0, 20)} to a pay node`);
  }
  if (value === undefined) return 'sale';
  if (value === 'refund') throw new PosError('bad_input', 'a refund goes to a refund node, not a pay node');
  if (typeof value === 'string' && (PAY_KINDS as readonly string[]).includes(value)) return value as PaymentKind;
  throw new PosError('bad_input', `payload.kind must be one of ${PAY_KINDS.join(', ')}, got ${JSON.stringify(value)?.slice(0, 20)}`);
}

/**
 * verify: zero or left out (a zero-amount check, the one place zero is valid). release without
 * an amount: 0 here, and the payment service puts the pre-auth's amount in its place.
 */
function checkZeroOrMore(kind: PaymentKind, value: unknown): number {
  if (value === undefined) return 0;
  const amount = checkMinorUnits('amount', value, { allowZero: true });
  if (kind === 'verify' && amount !== 0) throw new PosError('bad_input', `a verify checks the card without charging it: amount must be 0 or left out, got ${amount}`);
  return amount;
}

/** Control messages name the payment they act on. */
export function parseReference(payload: unknown): string {
  const ref = payload && typeof payload === 'object' ? (payload as Record<string, unknown>).reference : undefined;
  if (typeof ref !== 'string' || ref === '') {
    throw new PosError('bad_input', 'msg.payload.reference must name the payment this action is for');
  }
  return ref;
}
