// From the Terminal Gateway's vocabulary to the pack's. Enumerations are open: a value this file
// does not know maps to the neutral choice ('unknown') and the original stays in `raw`.

import type { CardDetails, Outcome, PaymentRequest, PaymentResult, Terminal, TerminalStatus } from '../../core/types';
import { LATE_VOID_REASON, type WirePaymentResponse, type WireTerminal } from './wire';

/** Both vocabularies [doc]: the list's online/offline/reconnecting and the push's connected/reconnecting/disconnected. */
const TERMINAL_STATUS: Record<string, TerminalStatus> = {
  online: 'available',
  connected: 'available',
  offline: 'offline',
  disconnected: 'offline',
  // A terminal inside its grace period cannot take a new payment.
  reconnecting: 'offline',
};

export function terminalStatus(raw: unknown): TerminalStatus {
  return typeof raw === 'string' ? TERMINAL_STATUS[raw.toLowerCase()] ?? 'unknown' : 'unknown';
}

export type TerminalEvent = 'terminal_online' | 'terminal_reconnecting' | 'terminal_offline' | 'terminal_status';

export function terminalEvent(raw: unknown): TerminalEvent {
  const s = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (s === 'online' || s === 'connected') return 'terminal_online';
  if (s === 'reconnecting') return 'terminal_reconnecting';
  if (s === 'offline' || s === 'disconnected') return 'terminal_offline';
  return 'terminal_status';
}

/** Docs: address terminals by deviceId; terminalId (HTTP list) and connectionId (legacy) follow. */
export function terminalKey(t: { deviceId?: unknown; terminalId?: unknown; connectionId?: unknown }): string | undefined {
  for (const v of [t.deviceId, t.terminalId, t.connectionId]) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

export function terminalIds(t: { deviceId?: unknown; terminalId?: unknown; connectionId?: unknown }): string[] {
  return [t.deviceId, t.terminalId, t.connectionId].filter((v): v is string => typeof v === 'string' && v !== '');
}

export function mapTerminal(t: WireTerminal): Terminal | undefined {
  const id = terminalKey(t);
  if (!id) return undefined;
  const name = typeof t.metadata?.name === 'string' && t.metadata.name ? t.metadata.name : id;
  return { id, name, status: terminalStatus(t.status), provider: 'modulus', raw: t };
}

/** Error codes that mean the card or the bank said no: a decline is a result, not a failure. */
const DECLINE_CODES = new Set([
  'INSUFFICIENT_FUNDS', 'CARD_DECLINED', 'DECLINED', 'DO_NOT_HONOR', 'DO_NOT_HONOUR', 'EXPIRED_CARD', 'CARD_EXPIRED',
  'INVALID_CARD', 'INVALID_CARD_NUMBER', 'LOST_CARD', 'STOLEN_CARD', 'RESTRICTED_CARD', 'LIMIT_EXCEEDED',
  'WITHDRAWAL_LIMIT_EXCEEDED', 'AMOUNT_LIMIT_EXCEEDED', 'PICK_UP_CARD', 'INVALID_PIN', 'INCORRECT_PIN', 'PIN_TRIES_EXCEEDED',
  'INVALID_CVV', 'SUSPECTED_FRAUD', 'FRAUD_SUSPECTED', 'CARD_NOT_SUPPORTED', 'TRANSACTION_NOT_PERMITTED',
]);

export function failureOutcome(errorCode: string | undefined): Outcome {
  if (!errorCode) return 'failed';
  const code = errorCode.toUpperCase();
  if (DECLINE_CODES.has(code) || /DECLIN/.test(code)) return 'declined';
  if (/TIMEOUT|TIMED_OUT/.test(code)) return 'timed_out';
  return 'failed';
}

/** receiptData is opaque and processor-specific [doc]: only text lines are taken as a receipt. */
export function receiptOf(data: unknown): PaymentResult['receipt'] {
  const lines = (v: unknown): string[] | undefined => {
    if (typeof v === 'string' && v.trim()) return v.split(/\r?\n/);
    if (Array.isArray(v) && v.length > 0 && v.every((l) => typeof l === 'string')) return v as string[];
    return undefined;
  };
  const whole = lines(data);
  // One receipt text serves both copies; nothing says which copy it is.
  if (whole) return { merchant: whole, customer: whole };
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    const merchant = lines(d.merchant ?? d.merchantReceipt ?? d.MERCHANT);
    const customer = lines(d.customer ?? d.customerReceipt ?? d.CUSTOMER);
    return { ...(merchant ? { merchant } : {}), ...(customer ? { customer } : {}) };
  }
  return {};
}

/** Card details only where receiptData happens to name them; nothing is guessed beyond that. */
function cardOf(data: unknown): CardDetails {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
  const d = data as Record<string, unknown>;
  const text = (...vs: unknown[]) => vs.find((v): v is string => typeof v === 'string' && v !== '');
  const scheme = text(d.cardBrand, d.cardScheme, d.cardType, d.brand);
  const pan = text(d.last4, d.maskedPan, d.cardNumber, d.pan)?.replace(/\D/g, '');
  const entryMode = text(d.entryMode);
  return {
    ...(scheme ? { scheme } : {}),
    ...(pan && pan.length >= 4 ? { last4: pan.slice(-4) } : {}),
    ...(entryMode ? { entryMode: entryMode.toLowerCase() } : {}),
  };
}

function base(request: PaymentRequest, terminalId: string | undefined, raw: unknown): Omit<PaymentResult, 'outcome' | 'approved' | 'message'> {
  const tid = terminalId ?? request.terminalId;
  return {
    amount: request.amount,
    currency: request.currency,
    reference: request.reference,
    ...(tid ? { terminalId: tid } : {}),
    provider: 'modulus',
    card: {},
    receipt: {},
    raw,
  };
}

/** PENDING is not a result: the caller keeps waiting. */
export type MappedResponse = { pending: true } | { pending: false; result: PaymentResult };

export function mapPaymentResponse(r: WirePaymentResponse, request: PaymentRequest, terminalId?: string, raw: unknown = r): MappedResponse {
  const status = String(r.status).toUpperCase();
  if (status === 'PENDING') return { pending: true };
  const common = { ...base(request, terminalId, raw), transactionId: r.transactionId };
  const said = r.errorMessage || r.message;
  if (status === 'SUCCESS') {
    return {
      pending: false,
      result: {
        ...common, outcome: 'approved', approved: true,
        ...(r.authorizationCode ? { authCode: r.authorizationCode } : {}),
        card: cardOf(r.receiptData), receipt: receiptOf(r.receiptData),
        message: r.authorizationCode ? `Approved (authorization ${r.authorizationCode})` : 'Approved',
      },
    };
  }
  if (status === 'CANCELLED') {
    return { pending: false, result: { ...common, outcome: 'cancelled', approved: false, message: said || 'The payment was cancelled on the terminal' } };
  }
  if (status === 'FAILED') {
    const outcome = failureOutcome(r.errorCode);
    const fallback = r.errorCode
      ? `${outcome === 'declined' ? 'Declined' : outcome === 'timed_out' ? 'Timed out' : 'The payment failed'}: the gateway reported ${r.errorCode}`
      : 'The payment failed; the gateway gave no error code';
    return { pending: false, result: { ...common, outcome, approved: false, message: said || fallback } };
  }
  return {
    pending: false,
    result: {
      ...common, outcome: 'unknown', approved: false,
      message: `Modulus Labs answered with payment status "${String(r.status).slice(0, 40)}", which this pack does not know; check the terminal before taking the payment again (see raw)`,
    },
  };
}

export function voidedResult(request: PaymentRequest, terminalId: string | undefined, transactionId: string | undefined, raw: unknown, reason?: string): PaymentResult {
  const why = reason && reason !== LATE_VOID_REASON ? ` (${reason})` : '';
  return {
    ...base(request, terminalId, raw),
    ...(transactionId ? { transactionId } : {}),
    outcome: 'voided',
    approved: false,
    message: `The Terminal Gateway voided this payment automatically after its terminal reconnected too late${why}; the customer was not charged`,
  };
}

/** paymentVoided fields are undocumented: the id is looked for at the top level, then in nested objects. */
export function voidedTransactionId(frame: Record<string, unknown>): string | undefined {
  if (typeof frame.transactionId === 'string') return frame.transactionId;
  for (const key of ['paymentResponse', 'transaction', 'data', 'payment']) {
    const nested = frame[key];
    if (nested && typeof nested === 'object' && typeof (nested as { transactionId?: unknown }).transactionId === 'string') {
      return (nested as { transactionId: string }).transactionId;
    }
  }
  return undefined;
}
