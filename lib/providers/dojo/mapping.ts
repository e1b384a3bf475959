// From Dojo's vocabulary (terminal-session statuses, notification types, payment-intent
// statuses, receipts, terminals) to the pack's. Enumerations are open: a value this file does
// not know maps to the neutral choice and the original stays in `raw`. Progress event names
// are the ones the other terminal providers' adapters use wherever they mean the same thing,
// so one flow can switch on `event` whichever provider it is wired to.

import { eventName } from '../../core/names';
import type { CardDetails, Outcome, PaymentRequest, PaymentResult, ProgressEvent, Terminal, TerminalStatus } from '../../core/types';
import type { DojoCard, DojoPaymentDetails, DojoPaymentIntent, DojoReceipt, DojoRefund, DojoTerminal, DojoTerminalSession } from './rest';

interface Ending { outcome: Outcome; message: string }

/** The statuses after which a terminal session does not change [spec 8.1]. */
const FINAL: Readonly<Record<string, Ending>> = Object.freeze({
  Captured: { outcome: 'approved', message: 'Approved' },
  SignatureVerificationAccepted: { outcome: 'approved', message: 'Approved (signature accepted)' },
  // Only final for a Manual capture; the counter waits a little longer for Captured under Auto.
  Authorized: { outcome: 'approved', message: 'Approved: authorised, not yet captured' },
  Declined: { outcome: 'declined', message: 'Declined' },
  // Another terminal provider reports a rejected signature as VOID (the terminal reverses the authorisation): same here.
  SignatureVerificationRejected: { outcome: 'voided', message: 'Signature rejected; the payment was reversed' },
  Canceled: { outcome: 'cancelled', message: 'Cancelled' },
  Expired: { outcome: 'timed_out', message: 'The terminal session expired before the payment finished' },
});

export const SIGNATURE_STATUS = 'SignatureVerificationRequired';
export const SIGNATURE_EVENT = 'signature_required';

/**
 * Anything not listed as final (InitiateRequested, Initiated, CancelRequested,
 * SignatureVerificationRequired, and any status Dojo adds later) is treated as still running:
 * an unknown status cannot be read as an outcome, so the counter keeps asking until its deadline.
 */
export function isFinalStatus(status: string): boolean {
  return Object.prototype.hasOwnProperty.call(FINAL, status);
}

export function sessionEnding(status: string): Ending | undefined {
  return isFinalStatus(status) ? FINAL[status] : undefined;
}

/** Notification types [spec] -> the progress names the other terminal adapters use, and what the till shows. */
const NOTIFICATIONS: Readonly<Record<string, { event: string; message: string }>> = Object.freeze({
  PresentCard: { event: 'present_card', message: 'Present card' },
  InsertCard: { event: 'insert_card', message: 'Insert card' },
  ReEnterCard: { event: 're_present_card', message: 'Present or insert the card again' },
  PresentOnlyOneCard: { event: 'present_only_one_card', message: 'Present only one card' },
  EnterPin: { event: 'pin_entry', message: 'Customer entering PIN' },
  PleaseWait: { event: 'please_wait', message: 'Please wait' },
  RemoveCard: { event: 'remove_card', message: 'Remove card' },
  CardError: { event: 'card_error', message: 'Card error' },
  CardUnsupported: { event: 'card_not_supported', message: 'Card not supported' },
  Approved: { event: 'approved', message: 'Approved' },
  Declined: { event: 'declined', message: 'Declined' },
});

/** Session statuses worth a progress event of their own. */
const STATUS_PROGRESS: Readonly<Record<string, { event: string; message: string }>> = Object.freeze({
  Initiated: { event: 'transaction_started', message: 'Transaction started on the terminal' },
  CancelRequested: { event: 'cancelling', message: 'Cancelling' },
  [SIGNATURE_STATUS]: {
    event: SIGNATURE_EVENT,
    message: 'Check the customer\'s signature, then send msg.action "accept-signature" or "reject-signature"; if nobody answers, Dojo accepts the signature automatically',
  },
});

/** PresentOnlyOneCard -> present_only_one_card; stable for values this file does not know. */
function humanise(value: string): string {
  const words = eventName(value).replace(/_/g, ' ');
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Terminal update';
}

function progress(request: PaymentRequest, terminalId: string | undefined, event: string, message: string, raw: unknown): ProgressEvent {
  const tid = terminalId ?? request.terminalId;
  return { reference: request.reference, ...(tid ? { terminalId: tid } : {}), provider: 'dojo', event, message, raw };
}

export function notificationProgress(type: string, request: PaymentRequest, terminalId: string | undefined, raw: unknown): ProgressEvent {
  const known = NOTIFICATIONS[type];
  return progress(request, terminalId, known?.event ?? eventName(type), known?.message ?? humanise(type), raw);
}

/** A progress event for a status change, or undefined when the change is not worth telling. */
export function statusProgress(status: string, request: PaymentRequest, terminalId: string | undefined, raw: unknown): ProgressEvent | undefined {
  const known = STATUS_PROGRESS[status];
  return known ? progress(request, terminalId, known.event, known.message, raw) : undefined;
}

const TERMINAL_STATUS: Readonly<Record<string, TerminalStatus>> = Object.freeze({ Available: 'available', InUse: 'busy', Offline: 'offline' });

export function mapTerminal(t: DojoTerminal): Terminal {
  const tid = t.properties && typeof t.properties.tid === 'string' && t.properties.tid ? t.properties.tid : undefined;
  return { id: t.id, name: tid ?? t.id, status: TERMINAL_STATUS[String(t.status)] ?? 'unknown', provider: 'dojo', raw: t };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const lower = (v: unknown): string | undefined => text(v)?.toLowerCase();

export function mapCard(card: DojoCard | null | undefined): CardDetails {
  if (!card || typeof card !== 'object') return {};
  const scheme = text(card.cardType) ?? text(card.cardName);
  const digits = (text(card.last4PAN) ?? text(card.cardNumber) ?? '').replace(/\D/g, '');
  const entryMode = lower(card.entryMode);
  const verification = lower(card.verificationMethod);
  return {
    ...(scheme ? { scheme } : {}),
    ...(digits.length >= 4 ? { last4: digits.slice(-4) } : {}),
    ...(entryMode ? { entryMode } : {}),
    ...(verification ? { verification } : {}),
  };
}

const SEPARATOR = '-'.repeat(24);

/** Receipt lines as text a printer node can take: text values, separators as dashes, logos dropped. */
export function receiptText(receipt: DojoReceipt | null | undefined): string[] | undefined {
  if (!receipt || typeof receipt !== 'object' || !Array.isArray(receipt.lines)) return undefined;
  const out: string[] = [];
  for (const line of receipt.lines) {
    if (!line || typeof line !== 'object') continue;
    const value = line.text && typeof line.text.value === 'string' ? line.text.value : undefined;
    if (line.lineType === 'NewLine') out.push('');
    else if (line.lineType === 'SingleLineSeperator' || line.lineType === 'DoubleLineSeperator' || /Separator$/.test(String(line.lineType))) out.push(SEPARATOR);
    else if (value !== undefined) out.push(value);
  }
  return out;
}

/**
 * The schema has one `receipt`; the spec's example shows `customerReceipt` and
 * `merchantReceipt`. Accept both: the single receipt is the customer's copy.
 */
export function mapReceipt(session: DojoTerminalSession): PaymentResult['receipt'] {
  const customer = receiptText(session.customerReceipt) ?? receiptText(session.receipt);
  const merchant = receiptText(session.merchantReceipt);
  return { ...(merchant ? { merchant } : {}), ...(customer ? { customer } : {}) };
}

/** The payment intent a session works on, if any (an unlinked refund has none). */
export function sessionIntentId(session: DojoTerminalSession): string | undefined {
  const d = session.details;
  return text(d?.sale?.paymentIntentId) ?? text(d?.matchedRefund?.paymentIntentId);
}

function base(request: PaymentRequest, outcome: Outcome, message: string, terminalId: string | undefined, raw: unknown): PaymentResult {
  const tid = terminalId ?? request.terminalId;
  return {
    outcome, approved: outcome === 'approved', amount: request.amount, currency: request.currency, reference: request.reference,
    ...(tid ? { terminalId: tid } : {}), provider: 'dojo', card: {}, receipt: {}, message, raw,
  };
}

function withDetails(result: PaymentResult, details: DojoPaymentDetails | null | undefined): PaymentResult {
  if (!details || typeof details !== 'object') return result;
  const authCode = text(details.authCode);
  const said = text(details.message);
  return {
    ...result,
    ...(authCode ? { authCode } : {}),
    card: { ...mapCard(details.card), ...result.card },
    // Dojo's own words add to a decline ("Insufficient funds"); an approval needs none.
    ...(said && !result.approved && said.toLowerCase() !== result.message.toLowerCase() ? { message: `${result.message}: ${said}` } : {}),
  };
}

/**
 * The result of a finished session. `amount` keeps the request's meaning (the base amount);
 * tips and the total Dojo took stay in raw. `transactionId` is the payment intent id, which is
 * what a refund of this payment needs.
 */
export function mapSessionResult(session: DojoTerminalSession, intent: DojoPaymentIntent | undefined, request: PaymentRequest): PaymentResult {
  const ending = sessionEnding(session.status) ?? {
    outcome: 'unknown' as const,
    message: `the Dojo terminal session is "${String(session.status).slice(0, 60)}", which this pack cannot read as an outcome; see raw`,
  };
  const transactionId = text(intent?.id) ?? sessionIntentId(session) ?? text(session.paymentDetails?.transactionId) ?? session.id;
  let result = base(request, ending.outcome, ending.message, text(session.terminalId), { session, paymentIntent: intent ?? null });
  result = { ...result, transactionId };
  result = withDetails(withDetails(result, session.paymentDetails), intent?.paymentDetails);
  return { ...result, receipt: mapReceipt(session) };
}

/**
 * What a payment intent alone says about a sale (used by lookup when no session is known).
 * Reversed means the money was taken back before settlement (a rejected signature, or an
 * EPOS error during pay at table), which the pack calls voided, as for another provider's VOID.
 * Refunded means the sale went through and was refunded later: the sale itself was approved.
 */
const INTENT_ENDINGS: Readonly<Record<string, Ending>> = Object.freeze({
  Captured: { outcome: 'approved', message: 'Approved' },
  Authorized: { outcome: 'approved', message: 'Approved: authorised, not yet captured' },
  Refunded: { outcome: 'approved', message: 'Approved (since refunded)' },
  Reversed: { outcome: 'voided', message: 'The payment was reversed' },
  Canceled: { outcome: 'cancelled', message: 'Cancelled' },
});

export function intentEnding(status: string | undefined): Ending | undefined {
  return status && Object.prototype.hasOwnProperty.call(INTENT_ENDINGS, status) ? INTENT_ENDINGS[status] : undefined;
}

export function mapIntentResult(intent: DojoPaymentIntent, request: PaymentRequest, session?: DojoTerminalSession): PaymentResult {
  const ending = intentEnding(intent.status) ?? {
    outcome: 'unknown' as const,
    message: `the Dojo payment intent is "${String(intent.status).slice(0, 60)}", which this pack cannot read as an outcome; see raw`,
  };
  const result = { ...base(request, ending.outcome, ending.message, text(session?.terminalId), { session: session ?? null, paymentIntent: intent }), transactionId: intent.id };
  return withDetails(result, intent.paymentDetails);
}

/** An online refund Dojo accepted: there is no terminal and no card step, so it is final. */
export function mapRefundResult(refund: DojoRefund, paymentIntentId: string, request: PaymentRequest): PaymentResult {
  const refundId = text(refund.refundId);
  return {
    ...base(request, 'approved', 'Refund accepted by Dojo', undefined, { refund, paymentIntentId }),
    transactionId: refundId ?? paymentIntentId,
  };
}
