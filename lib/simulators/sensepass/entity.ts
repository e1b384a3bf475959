// The simulator's Transaction entities: shaped as the SensePass Transaction model documents
// them (amount a major-unit string, a 56-hex TransactionNumber, the status with its name), plus
// the bookkeeping the simulator needs beside each one.

import { randomBytes } from 'node:crypto';
import { minorToDecimal } from '../../core/money';

/** statusName values: only "Initialize" and "Transaction Approved" are documented; the rest follow the model's names [inferred]. */
export const STATUS_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Initialize', 1: 'Tap Detected', 2: 'User Approved', 3: 'User Declined', 4: 'Proccessing Payment',
  5: 'Transaction Approved', 6: 'Transaction Declined', 7: 'Transaction Failed', 8: 'Transaction Timeout',
  9: 'Transaction Cancel', 10: 'Waiting For Tap', 11: 'Transaction Refund', 12: 'Transaction Processing Refund',
  13: 'Transaction Partially Refunded',
});

/** Statuses after which the payment itself no longer moves (refund states follow approval). */
export const PAYMENT_FINAL = new Set([5, 6, 7, 8, 9, 11, 13]);
/** Cancellable without consumer activity [doc: 501 once the consumer is active]. */
export const CANCELLABLE = new Set([0, 10]);
export const CONSUMER_ACTIVE = new Set([1, 2, 3, 4]);

export interface LedgerEntry {
  transactionNumber: string;
  deviceId: string;
  /** Minor units. */
  amount: number;
  currency: string;
  status: number;
  committed: boolean;
  refunds: Array<{ amount: number; result: 'Approved' | 'Declined' }>;
  posData?: unknown;
}

export interface SimTransaction {
  entity: Record<string, unknown>;
  ledger: LedgerEntry;
  commitToken: string;
  createdAt: number;
  refundedMinor: number;
}

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export interface NewTransaction {
  base: string;
  deviceId: string;
  amount: number;
  currency: string;
  timeOutSeconds: number;
  posData: unknown;
  products?: unknown;
  approvedNameOnZero: boolean;
}

export function createTransaction(n: NewTransaction): SimTransaction {
  const now = Date.now();
  const number = hex(28);
  const page = `${n.base}/orderSummary/${number}`;
  const entity: Record<string, unknown> = {
    TransactionNumber: number,
    date: new Date(now).toISOString(),
    amount: minorToDecimal(n.amount, n.currency),
    currency: n.currency,
    status: 0,
    // The docs' example pairs status 0 with "Transaction Approved"; the fault reproduces it.
    statusName: n.approvedNameOnZero ? 'Transaction Approved' : STATUS_NAMES[0],
    pos: 'POS 1, Simulator',
    posReceiptsEndpoint: `${n.base}/api/invoicesReceipts/receipt/save/${hex(14)}`,
    ...(n.posData !== undefined ? { posData: n.posData } : {}),
    businessName: 'Simulator Coffee Bar',
    businessId: 1,
    timeoutDate: new Date(now + n.timeOutSeconds * 1000).toISOString(),
    SMS: 'Not sent',
    products: Array.isArray(n.products) ? n.products : [],
    productSumMismatch: false,
    confirmations: [],
    transactionPage: {
      iOSLink: page, androidLink: page, qrURL: page,
      consumerPage: { regular: `${page}?size=regular`, medium: `${page}?size=medium`, small: `${page}?size=small` },
    },
  };
  return {
    entity,
    ledger: {
      transactionNumber: number, deviceId: n.deviceId, amount: n.amount, currency: n.currency, status: 0, committed: false, refunds: [],
      ...(n.posData !== undefined ? { posData: n.posData } : {}),
    },
    commitToken: hex(16),
    createdAt: now,
    refundedMinor: 0,
  };
}

export function setStatus(tx: SimTransaction, status: number): void {
  tx.entity.status = status;
  tx.entity.statusName = STATUS_NAMES[status] ?? `Status ${status}`;
  tx.ledger.status = status;
}

/** What an approval adds: the commit to be acknowledged and the card's confirmation [doc]. */
export function approve(tx: SimTransaction, base: string, secondsToCommit: number): void {
  tx.entity.paymentCommit = {
    messsage: 'Payment commit is enabled for this transaction',
    isPaymentCommitted: false,
    secondsToCommit,
    commitLink: `${base}/api/transactions/commitPayment/${tx.commitToken}`,
  };
  const now = new Date().toISOString();
  tx.entity.confirmations = [{
    paymentType: 'Regular',
    confirmationNumber: `063-${hex(4)}`,
    dateApproval: now,
    paymentMethodName: 'Visa',
    approvedBy: 'Visa',
    providerId: hex(16),
    requestID: hex(16),
    authNumber: String(100000 + (randomBytes(3).readUIntBE(0, 3) % 900000)),
    referenceNumber: String(randomBytes(4).readUInt32BE(0)),
    acquirer: 'Visa',
    lastFourDigits: '4242',
    installments: 1,
    sensePassReferenceId: hex(10),
    settlement: { status: 1 },
  }];
}

export function settle(tx: SimTransaction): boolean {
  const list = tx.entity.confirmations;
  if (!Array.isArray(list) || !list[0] || typeof list[0] !== 'object') return false;
  (list[0] as Record<string, unknown>).settlement = { status: 2, created: new Date().toISOString(), confirmation: String(randomBytes(4).readUInt32BE(0)) };
  return true;
}

/** Logs name a device by its last four characters only. */
export const maskDevice = (deviceId: string): string => (deviceId.length > 4 ? `…${deviceId.slice(-4)}` : '…');
