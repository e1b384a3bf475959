// From Paymentsense's vocabulary to the pack's. Enumerations are open: a value this file
// does not know maps to the neutral choice and the original stays in `raw`.

import { eventName } from '../../core/names';
import { compileSchema } from '../../core/schema';
import type { Outcome, PaymentRequest, PaymentResult, ProgressEvent, Terminal, TerminalStatus } from '../../core/types';
import derived from './schemas.generated.json';
import type { WireReceiptLine, WireTerminal, WireTransaction } from './wire';

export const isWireTransaction = compileSchema<WireTransaction>(derived.transaction);
export const isWireTerminal = compileSchema<WireTerminal>(derived.terminal);

const OUTCOME: Record<string, Outcome> = {
  SUCCESSFUL: 'approved',
  DECLINED: 'declined',
  VOID: 'voided',
  UNSUCCESSFUL: 'failed',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'timed_out',
};

const TERMINAL_STATUS: Record<string, TerminalStatus> = { AVAILABLE: 'available', BUSY: 'busy' };

/** What a person at the till should read for each progress value; unknown values are humanised. */
const PROMPTS: Record<string, string> = {
  REQUEST_SENT: 'Request sent to the terminal',
  CONNECTING: 'Terminal connecting to the bank',
  CONNECTION_MADE: 'Terminal connected to the bank',
  TRANSACTION_STARTED: 'Transaction started',
  PRESENT_CARD: 'Present card',
  INSERT_CARD: 'Insert card',
  RE_PRESENT_CARD: 'Present card again',
  PRESENT_ONLY_ONE_CARD: 'Present only one card',
  PIN_ENTRY: 'Customer entering PIN',
  ENTER_CASHBACK: 'Customer choosing cashback',
  PLEASE_WAIT: 'Please wait',
  REMOVE_CARD: 'Remove card',
  APPROVED: 'Approved',
  DECLINED: 'Declined',
  DECLINED_BY_CARD: 'Declined by card',
  SIGNATURE_VERIFICATION: 'Signature check needed',
  SIGNATURE_VERIFICATION_IN_PROGRESS: 'Signature being checked',
  SIGNATURE_VERIFICATION_PROCESS_COMPLETED: 'Signature check completed',
  SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED: 'Signature check could not be completed',
  SIGNATURE_VERIFICATION_TIMEOUT: 'Signature check timed out',
  ATTEMPTING_CANCEL: 'Trying to cancel',
  CANCELLING: 'Cancelling',
  UNABLE_TO_CANCEL: 'Too late to cancel',
  BAD_SWIPE: 'Bad swipe, try again',
  CARD_ERROR: 'Card error',
  CARD_EXPIRED: 'Card expired',
  CARD_NOT_SUPPORTED: 'Card not supported',
  PROCESSING_ERROR: 'Processing error',
  RETRYING: 'Retrying',
  REPLACE_PAPER: 'Replace the paper roll',
  TRANSACTION_FINISHED: 'Transaction finished',
};

export function progressMessage(value: string): string {
  return PROMPTS[value] ?? value.charAt(0) + value.slice(1).toLowerCase().replace(/_/g, ' ');
}

/** The signature request becomes the pack-wide `signature_required` progress event. */
export const SIGNATURE_EVENT = 'signature_required';

export function mapProgress(value: string, request: PaymentRequest, raw: unknown): ProgressEvent {
  return {
    reference: request.reference,
    ...(request.terminalId ? { terminalId: request.terminalId } : {}),
    provider: 'paymentsense',
    event: eventName(value),
    message: progressMessage(value),
    raw,
  };
}

const lines = (list: WireReceiptLine[] | undefined): string[] | undefined =>
  Array.isArray(list) ? list.map((l) => (typeof l.value === 'string' ? l.value : '')) : undefined;

const lastFour = (pan: string | undefined): string | undefined => {
  const digits = pan?.replace(/\D/g, '');
  return digits && digits.length >= 4 ? digits.slice(-4) : undefined;
};

const lower = (v: string | undefined): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

export function mapTransaction(t: WireTransaction, request: PaymentRequest): PaymentResult {
  const outcome: Outcome = (t.transactionResult && OUTCOME[t.transactionResult]) || 'unknown';
  // Built field by field, in the order the spreads of throwaway objects used to give: this runs
  // for every payment's result.
  const card: PaymentResult['card'] = {};
  if (t.cardSchemeName) card.scheme = t.cardSchemeName;
  const last4 = lastFour(t.primaryAccountNumber);
  if (last4) card.last4 = last4;
  if (t.paymentMethod) card.entryMode = lower(t.paymentMethod);
  if (t.cardHolderVerificationMethod) card.verification = lower(t.cardHolderVerificationMethod);
  const receipt: PaymentResult['receipt'] = {};
  const merchant = lines(t.receiptLines?.MERCHANT);
  if (merchant) receipt.merchant = merchant;
  const customer = lines(t.receiptLines?.CUSTOMER);
  if (customer) receipt.customer = customer;
  const message = t.userMessage
    || (outcome === 'unknown' ? `Paymentsense answered with result "${String(t.transactionResult)}", which this pack does not know; see raw` : progressMessage(t.transactionResult ?? 'UNKNOWN'));
  const result: PaymentResult = {
    outcome,
    approved: outcome === 'approved',
    // `amount` keeps the request's meaning (the base amount); tip and cashback actually given stay in raw.
    amount: typeof t.amountBase === 'number' ? t.amountBase : request.amount,
    currency: typeof t.currency === 'string' ? t.currency : request.currency,
    reference: request.reference,
  } as PaymentResult;
  const terminalId = t.tid ?? request.terminalId;
  if (terminalId) result.terminalId = terminalId;
  result.provider = 'paymentsense';
  if (t.transactionId) result.transactionId = t.transactionId;
  if (t.authCode) result.authCode = t.authCode;
  result.card = card;
  result.receipt = receipt;
  result.message = message;
  result.raw = t;
  return result;
}

export function mapTerminal(t: WireTerminal): Terminal {
  return {
    id: t.tid,
    name: t.tid,
    status: TERMINAL_STATUS[String(t.status)] ?? 'unknown',
    provider: 'paymentsense',
    raw: t,
  };
}
