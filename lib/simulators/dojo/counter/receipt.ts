// The card a simulated terminal reads and the receipts it prints, in the REST shapes
// (PaymentDetails, TerminalSessionReceiptLine; "Seperator" is spelled as in Dojo's spec).

import { authCode, transactionId } from './ids';
import type { PaymentDetails } from './intents';
import type { Money } from './types';

type Card = PaymentDetails['card'];

const PIN_CARD: Readonly<Card> = Object.freeze({
  cardNumber: '476173******0119', cardName: 'SIM CARDHOLDER', expiryDate: '12/29', cardType: 'VISA',
  cardFundingType: 'Debit', last4PAN: '0119', entryMode: 'Contactless', verificationMethod: 'Pin',
});
/** Signatures come with chip cards, never with a tap. */
const SIGNATURE_CARD: Readonly<Card> = Object.freeze({ ...PIN_CARD, entryMode: 'ContactChip', verificationMethod: 'Signature' });

export function cardFor(signature: boolean): Card {
  return { ...(signature ? SIGNATURE_CARD : PIN_CARD) };
}

export function paymentDetails(card: Card, message: string, approved: boolean, at: string): PaymentDetails {
  const details: PaymentDetails = { transactionId: transactionId(), transactionDateTime: at, message, card };
  if (approved) details.authCode = authCode();
  return details;
}

export interface ReceiptLine {
  lineType: string;
  text?: { value: string; size: string; align: string; emphasisBold: boolean };
}

export interface ReceiptInput {
  tid: string;
  kind: 'SALE' | 'REFUND';
  amount: Money;
  tips?: number;
  cashback?: number;
  result: string;
  details?: PaymentDetails;
  at: string;
}

const text = (value: string, bold = false, size = 'SizeBody'): ReceiptLine =>
  ({ lineType: 'Text', text: { value, size, align: 'AlignLeft', emphasisBold: bold } });

function money(minor: number, currency: string): string {
  const symbol = currency === 'GBP' ? '£' : currency === 'EUR' ? '€' : `${currency} `;
  return `${symbol}${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

const row = (label: string, value: string): string => `${label.padEnd(19)}${value}`;

export function receiptLines(input: ReceiptInput, copy: 'CUSTOMER COPY' | 'MERCHANT COPY'): ReceiptLine[] {
  const { currencyCode } = input.amount;
  const lines: ReceiptLine[] = [
    text('DOJO SIMULATOR', true, 'SizeHeader1'),
    text(`TID:****${input.tid.slice(-4)}`),
    { lineType: 'SingleLineSeperator' },
  ];
  const card = input.details?.card;
  if (card) {
    lines.push(text(card.cardType, true, 'SizeHeader1'), text(card.cardNumber), text(card.entryMode === 'Contactless' ? 'CONTACTLESS' : 'ICC_CHIP'));
  }
  lines.push(text(input.kind));
  lines.push(text(row('AMOUNT', money(input.amount.value, currencyCode))));
  if (input.tips) lines.push(text(row('GRATUITY', money(input.tips, currencyCode))));
  if (input.cashback) lines.push(text(row('CASHBACK', money(input.cashback, currencyCode))));
  const total = input.amount.value + (input.tips ?? 0) + (input.cashback ?? 0);
  lines.push(text(row('TOTAL', money(total, currencyCode)), true, 'SizeHeader1'));
  lines.push(text(input.result, true));
  if (input.result === 'SUCCESSFUL' && card) {
    lines.push(text(card.verificationMethod === 'Signature' ? 'SIGNATURE VERIFIED' : 'PIN VERIFIED'));
  }
  lines.push(text(input.at.replace(/\.\d+Z$/, 'Z')));
  if (input.details?.authCode) lines.push(text(`AUTH CODE:${input.details.authCode}`));
  lines.push({ lineType: 'DoubleLineSeperator' });
  lines.push(text(`     ${copy}      `));
  if (copy === 'CUSTOMER COPY') lines.push(text(' PLEASE RETAIN RECEIPT'));
  return lines;
}
