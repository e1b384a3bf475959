// What the pack requires of SensePass's answers and notifications (ajv, compiled once when this
// module loads). Only the members the pack reads are constrained; everything else in the
// Transaction entity is kept in `raw` untouched. The docs disagree with their own examples on
// some types (amount: string in the model, a number in the examples), so both are accepted.

import { compileSchema } from '../../core/schema';

export interface SensePassConfirmation {
  confirmationNumber?: unknown;
  paymentMethodName?: unknown;
  approvedBy?: unknown;
  authNumber?: unknown;
  acquirer?: unknown;
  lastFourDigits?: unknown;
  settlement?: { status?: unknown; created?: unknown; confirmation?: unknown } | null;
  [k: string]: unknown;
}

export interface SensePassPaymentCommit {
  message?: unknown;
  /** The docs' examples spell it with three s. */
  messsage?: unknown;
  isPaymentCommitted?: unknown;
  secondsToCommit?: unknown;
  commitLink?: unknown;
  [k: string]: unknown;
}

/** The Transaction entity: REST answers, socket `message` payloads and callbacks alike. */
export interface SensePassTransaction {
  TransactionNumber: string;
  /** A number on the wire; a string of digits is tolerated and read as that number. */
  status: number | string;
  statusName?: unknown;
  amount?: number | string | null;
  currency?: string | null;
  pos?: unknown;
  posData?: unknown;
  paymentCommit?: SensePassPaymentCommit | null;
  confirmations?: SensePassConfirmation[] | null;
  /** Deprecated single confirmation, still in the examples. */
  confirmation?: SensePassConfirmation | null;
  [k: string]: unknown;
}

export interface SensePassRefundAnswer {
  errorMessage?: unknown;
  errorCode?: number | string | null;
  refundConfirmation?: unknown;
  result?: unknown;
  transaction?: unknown;
  [k: string]: unknown;
}

export interface SensePassStatusAnswer {
  status?: unknown;
  status_message?: unknown;
  [k: string]: unknown;
}

const confirmation = {
  type: 'object',
  properties: {
    lastFourDigits: { type: ['string', 'number', 'null'] },
    settlement: { type: ['object', 'null'] },
  },
};

const transactionSchema = {
  type: 'object',
  required: ['TransactionNumber', 'status'],
  properties: {
    TransactionNumber: { type: 'string', minLength: 1, maxLength: 200 },
    status: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]{1,9}$' }] },
    amount: { type: ['number', 'string', 'null'] },
    currency: { type: ['string', 'null'] },
    paymentCommit: { type: ['object', 'null'] },
    confirmations: { type: ['array', 'null'], items: confirmation },
    confirmation: { anyOf: [{ type: 'null' }, confirmation] },
  },
};

const refundSchema = {
  type: 'object',
  anyOf: [{ required: ['errorCode'] }, { required: ['result'] }],
  properties: {
    errorCode: { type: ['number', 'string', 'null'] },
    result: { type: ['string', 'null'] },
  },
};

const statusAnswerSchema = {
  type: 'object',
  properties: { status: { type: ['number', 'string', 'null'] }, status_message: { type: ['string', 'null'] } },
};

export const checkTransaction = compileSchema<SensePassTransaction>(transactionSchema);
export const checkRefundAnswer = compileSchema<SensePassRefundAnswer>(refundSchema);
export const checkStatusAnswer = compileSchema<SensePassStatusAnswer>(statusAnswerSchema);

/** The numeric status of a validated entity. */
export function statusOf(t: SensePassTransaction): number {
  return typeof t.status === 'number' ? t.status : Number.parseInt(t.status, 10);
}
