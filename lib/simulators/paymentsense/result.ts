// The final transaction object, in the REST v2 `transaction` shape plus `tid` (protocol notes
// 3.3): the closest documented shape to what Connect answers a WS Perform Transaction with.

import { randomInt } from 'node:crypto';
import type { WireReceiptLine, WireTransaction } from '../../providers/paymentsense/wire';
import { RESULT_MESSAGES, type CardProfile, type TransactionResult } from './scenario';
import type { TransactionMethod } from './transactions';

/** REST v2 transactionType of each method [related: REST]. */
const TRANSACTION_TYPE: Readonly<Record<TransactionMethod, string>> = {
  sale: 'SALE', refund: 'REFUND', preAuth: 'PRE_AUTH', completion: 'COMPLETION', accountVerification: 'ACCOUNT_VERIFICATION',
};

export interface ResultInput {
  requestId: string;
  tid: string;
  kind: TransactionMethod;
  amount: number;
  currency: string;
  amountCashback: number;
  amountGratuity: number;
  transactionId: string;
  transactionNumber: number;
  result: TransactionResult;
  card?: CardProfile;
  notifications: string[];
  at: Date;
}

export function buildTransaction(input: ResultInput): WireTransaction {
  const approved = input.result === 'SUCCESSFUL';
  // Cashback and gratuity are only given when the payment went through (notes 3.2).
  const amountCashback = approved ? input.amountCashback : 0;
  const amountGratuity = approved ? input.amountGratuity : 0;
  const tx: WireTransaction = {
    requestId: input.requestId,
    tid: input.tid,
    transactionResult: input.result,
    transactionType: TRANSACTION_TYPE[input.kind],
    transactionId: input.transactionId,
    transactionNumber: String(input.transactionNumber).padStart(4, '0'),
    transactionTime: localIsoSeconds(input.at),
    amountBase: input.amount,
    amountCashback,
    amountGratuity,
    amountTotal: input.amount + amountCashback + amountGratuity,
    currency: input.currency,
    notifications: [...input.notifications],
    userMessage: RESULT_MESSAGES[input.result],
  };
  const card = input.card;
  if (card) {
    Object.assign(tx, {
      cardSchemeName: card.scheme,
      cardHolderVerificationMethod: card.verification,
      paymentMethod: card.paymentMethod,
      primaryAccountNumber: card.pan,
      primaryAccountNumberSequence: '01',
      applicationId: card.applicationId,
      applicationLabel: card.applicationLabel,
      dateOfExpiry: card.dateOfExpiry,
    });
  }
  if (approved) tx.authCode = authCode();
  tx.receiptLines = {
    MERCHANT: receipt(input, tx, 'MERCHANT COPY'),
    CUSTOMER: receipt(input, tx, 'CUSTOMER COPY'),
  };
  return tx;
}

/** The REST schema gives `YYYY-MM-DDThh:mm:ss` with no zone, i.e. the terminal's local time. */
function localIsoSeconds(d: Date): string {
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const AUTH_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
function authCode(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += AUTH_ALPHABET[randomInt(AUTH_ALPHABET.length)];
  return s;
}

function money(minor: number, currency: string): string {
  const symbol = currency === 'GBP' ? '£' : currency === 'EUR' ? '€' : `${currency} `;
  return `${symbol}${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

const VERIFICATION_TEXT: Readonly<Record<string, string>> = {
  PIN: 'PIN VERIFIED',
  SIGNATURE: 'SIGNATURE VERIFIED',
  DEVICE: 'VERIFIED BY DEVICE',
  NONE: 'NO CARDHOLDER VERIFICATION',
};

function receipt(input: ResultInput, tx: WireTransaction, copy: string): WireReceiptLine[] {
  const text = (value: string, format?: string[]): WireReceiptLine => (format ? { type: 'TEXT', format, value } : { type: 'TEXT', value });
  const lines: WireReceiptLine[] = [
    text('PAYMENTSENSE CONNECT SIMULATOR', ['BOLD']),
    text(copy),
    { type: 'LINE_SEPARATOR_SINGLE', value: '' },
    text(`TID: ${input.tid}`),
    text(`${tx.transactionType} ${tx.transactionNumber}`),
    text(String(tx.transactionTime).replace('T', ' ')),
  ];
  if (input.card) {
    lines.push(text(`${input.card.applicationLabel} ${input.card.pan}`));
    lines.push(text(input.card.paymentMethod === 'CONTACTLESS' ? 'CONTACTLESS' : 'ICC'));
  }
  lines.push({ type: 'LINE_SEPARATOR_SINGLE', value: '' });
  lines.push(text(`AMOUNT ${money(input.amount, input.currency)}`));
  if (tx.amountCashback) lines.push(text(`CASHBACK ${money(tx.amountCashback, input.currency)}`));
  if (tx.amountGratuity) lines.push(text(`GRATUITY ${money(tx.amountGratuity, input.currency)}`));
  lines.push(text(`TOTAL ${money(tx.amountTotal ?? input.amount, input.currency)}`, ['BOLD']));
  if (input.card && input.result === 'SUCCESSFUL') lines.push(text(VERIFICATION_TEXT[input.card.verification] ?? input.card.verification));
  if (tx.authCode) lines.push(text(`AUTH CODE: ${tx.authCode}`));
  if (input.result === 'DECLINED') lines.push({ type: 'BOX_DECLINE', value: 'DECLINED' });
  else if (input.result === 'VOID') lines.push({ type: 'BOX_VOID', value: 'VOID' });
  else lines.push(text(input.result === 'SUCCESSFUL' ? 'APPROVED' : input.result.replace('_', ' '), ['BOLD']));
  lines.push({ type: 'LINE_SEPARATOR_DOUBLE', value: '' });
  lines.push(text(copy === 'CUSTOMER COPY' ? 'PLEASE RETAIN FOR YOUR RECORDS' : 'MERCHANT COPY - KEEP'));
  lines.push({ type: 'TICKET_FEED', value: '' });
  return lines;
}
