// SensePass's Transaction entity -> the pack's normalised result, progress and notification
// shapes.

import type { CardDetails, NotificationEvent, PaymentRequest, PaymentResult, ProgressEvent } from '../../core/types';
import { APPROVED_STATUS, SETTLED_EVENT, statusInfo } from './status';
import { statusOf, type SensePassConfirmation, type SensePassPaymentCommit, type SensePassTransaction } from './schemas';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The confirmation the pack reads: the first of confirmations[], else the deprecated single one. */
export function firstConfirmation(t: SensePassTransaction): SensePassConfirmation | undefined {
  const list = Array.isArray(t.confirmations) ? t.confirmations : [];
  const first = list.find((c) => c && typeof c === 'object');
  if (first) return first;
  return t.confirmation && typeof t.confirmation === 'object' ? t.confirmation : undefined;
}

/** A settlement message: an approved transaction with a confirmation settled (status 2 = done) [doc]. */
export function isSettlement(t: SensePassTransaction): boolean {
  if (statusOf(t) !== APPROVED_STATUS) return false;
  const list = Array.isArray(t.confirmations) ? t.confirmations : [];
  return list.some((c) => !!c && typeof c === 'object' && !!c.settlement && typeof c.settlement === 'object' && Number(c.settlement.status) === 2);
}

export function eventOf(t: SensePassTransaction): string {
  return isSettlement(t) ? SETTLED_EVENT : statusInfo(statusOf(t)).event;
}

export function mapCard(c: SensePassConfirmation | undefined): CardDetails {
  if (!c) return {};
  const scheme = text(c.acquirer) ?? text(c.paymentMethodName);
  const digits = String(typeof c.lastFourDigits === 'number' ? c.lastFourDigits : text(c.lastFourDigits) ?? '').replace(/\D/g, '');
  return { ...(scheme ? { scheme } : {}), ...(digits.length >= 4 ? { last4: digits.slice(-4) } : {}) };
}

export function terminalOf(t: SensePassTransaction, request?: PaymentRequest): string | undefined {
  return request?.terminalId ?? text(t.pos);
}

export function progressOf(t: SensePassTransaction, request: PaymentRequest): ProgressEvent {
  const info = statusInfo(statusOf(t));
  const terminalId = terminalOf(t, request);
  return { reference: request.reference, ...(terminalId ? { terminalId } : {}), provider: 'sensepass', event: info.event, message: info.message, raw: t };
}

/**
 * The result of a sale whose transaction reached a final status. 11 and 13 (refunded) say the
 * payment was approved once and refunded since; the pack reports that as unknown with the
 * reason, rather than read a refund state as an approval.
 */
export function mapSaleResult(t: SensePassTransaction, request: PaymentRequest, note?: string): PaymentResult {
  const status = statusOf(t);
  const info = statusInfo(status);
  const outcome = info.outcome ?? 'unknown';
  const c = firstConfirmation(t);
  const authCode = text(c?.authNumber);
  const terminalId = terminalOf(t, request);
  const message = info.outcome ? info.message
    : info.final ? `SensePass reports this transaction as "${info.message.toLowerCase()}" (status ${status}): it was approved and refunded since. Check the SensePass portal`
    : `SensePass status ${status} is not an outcome; see raw`;
  return {
    outcome, approved: outcome === 'approved', amount: request.amount, currency: request.currency, reference: request.reference,
    ...(terminalId ? { terminalId } : {}), provider: 'sensepass', transactionId: t.TransactionNumber,
    ...(authCode ? { authCode } : {}), card: mapCard(c), receipt: {},
    message: note ? `${message}${note}` : message, raw: t,
  };
}

export function notificationOf(t: SensePassTransaction, reference: string | undefined): NotificationEvent {
  const terminalId = text(t.pos);
  const posRef = t.posData && typeof t.posData === 'object' ? text((t.posData as { reference?: unknown }).reference) : undefined;
  const ref = reference ?? posRef;
  return {
    provider: 'sensepass', event: eventOf(t), ...(ref ? { reference: ref } : {}), ...(terminalId ? { terminalId } : {}),
    data: t, receivedAt: new Date().toISOString(),
  };
}

/** The commit's own message; the docs' examples spell the key `messsage`. */
export function commitMessage(pc: SensePassPaymentCommit): string | undefined {
  return text(pc.message) ?? text(pc.messsage);
}

/** What a payment still needs committing, or undefined when nothing is to be done. */
export function pendingCommit(t: SensePassTransaction): { link: string; secondsToCommit?: number; message?: string } | undefined {
  if (statusOf(t) !== APPROVED_STATUS) return undefined;
  const pc = t.paymentCommit;
  if (!pc || typeof pc !== 'object' || pc.isPaymentCommitted !== false || typeof pc.commitLink !== 'string' || !pc.commitLink) return undefined;
  const seconds = typeof pc.secondsToCommit === 'number' && Number.isFinite(pc.secondsToCommit) ? pc.secondsToCommit : undefined;
  const message = commitMessage(pc);
  return { link: pc.commitLink, ...(seconds !== undefined ? { secondsToCommit: seconds } : {}), ...(message ? { message } : {}) };
}
