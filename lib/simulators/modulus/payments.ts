// The payment side of the simulated gateway: checks a `payment` action the way the docs list
// its errors, runs the card flow chosen by the shared amount rule, and plays the terminal
// faults around the gateway's grace period (AWAITING_RECONNECT, late success -> VOIDED).

import { randomInt, randomUUID } from 'node:crypto';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { LATE_VOID_REASON, TERMINAL_DISCONNECTED, WS_ERRORS, type TransactionStatus, type WirePaymentResponse } from '../../providers/modulus/wire';
import { outcomeForAmount, type AmountOutcome } from '../outcome';
import { isObject } from '../socket-util';
import type { Conn } from './server';
import type { PushStatus, SimTerminal, SimTerminals } from './terminals';

export interface LedgerEntry {
  transactionId: string;
  terminalId: string;
  /** Minor units, converted back exactly from the decimal string. */
  amount: number;
  currency: string;
  status: TransactionStatus;
  errorCode?: string;
  voidedAt?: string;
  voidReason?: string;
}

/** What the HTTP API tells about a transaction. */
export interface SimTransaction {
  readonly entry: LedgerEntry;
  /** The API key that sent it: only that key can see it, and results go to its connection. */
  readonly key: string;
  readonly request: Record<string, unknown>;
  response?: WirePaymentResponse;
  readonly createdAt: string;
  updatedAt: string;
  completedAt?: string;
}

export interface PaymentFaults {
  readonly dropMidPayment: boolean;
  readonly terminalLate: boolean;
  readonly terminalWithinGrace: boolean;
  readonly errorFrameOnPayment: boolean;
}

export interface PaymentEngineOptions {
  stepDelayMs: number;
  graceMs: number;
  /** What the POS gets when the grace period ends without the terminal [inferred]: a FAILED result, or nothing. */
  graceExpiry: 'failed' | 'none';
  faults: PaymentFaults;
  terminals: SimTerminals;
  /** To the key's active connection, or held for its next one. */
  deliver(key: string, frame: Record<string, unknown>): void;
  setTerminalStatus(t: SimTerminal, status: PushStatus): void;
  dropConnection(key: string, why: string): void;
  log(line: string): void;
}

type ErrorInfo = { readonly error: string; readonly message: string };

export class PaymentEngine {
  readonly ledger: LedgerEntry[] = [];
  private readonly transactions = new Map<string, SimTransaction>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;

  constructor(private readonly opts: PaymentEngineOptions) {}

  get(transactionId: string): SimTransaction | undefined {
    return this.transactions.get(transactionId);
  }

  stop(): void {
    this.stopped = true;
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
  }

  /** Returns the error frame to answer with, or undefined when the payment was taken. */
  handle(conn: Conn, frame: Record<string, unknown>): Record<string, unknown> | undefined {
    const terminalId = frame.terminalId;
    if (typeof terminalId !== 'string' || terminalId === '') return errorFrame(WS_ERRORS.terminalIdRequired);
    const pr = frame.paymentRequest;
    if (!isObject(pr)) return errorFrame(WS_ERRORS.paymentRequestRequired, { terminalId });
    const givenId = typeof pr.transactionId === 'string' && pr.transactionId !== '' ? pr.transactionId : undefined;
    const ids = { terminalId, ...(givenId ? { transactionId: givenId } : {}) };
    if (this.opts.faults.errorFrameOnPayment) return errorFrame(WS_ERRORS.groupMismatch, ids);
    const terminal = this.opts.terminals.find(terminalId);
    if (!terminal || terminal.status !== 'online') return errorFrame(WS_ERRORS.terminalNotFound, ids);
    if (terminal.group && conn.groupId !== terminal.group) return errorFrame(WS_ERRORS.groupMismatch, ids);
    // Messages below are not documented [inferred]; the categories follow the documented ones.
    const currency = typeof pr.currency === 'string' ? pr.currency.trim().toUpperCase() : '';
    const amount = decimalToMinor(pr.amount, currency);
    if (amount === undefined || amount <= 0) {
      return errorFrame({ error: 'Bad Request', message: 'amount must be a positive decimal in major units of a valid ISO 4217 currency, e.g. "99.99"' }, ids);
    }
    if (typeof pr.paymentMethod !== 'string' || pr.paymentMethod === '') return errorFrame({ error: 'Bad Request', message: 'paymentMethod is required' }, ids);
    if (givenId && this.transactions.has(givenId)) return errorFrame({ error: 'Bad Request', message: 'transactionId already exists' }, ids);
    if (terminal.busyWith) return errorFrame({ error: 'Bad Request', message: 'Terminal is busy with another payment' }, ids);

    const transactionId = givenId ?? randomUUID();
    const now = new Date().toISOString();
    const entry: LedgerEntry = { transactionId, terminalId: terminal.deviceId, amount, currency, status: 'PENDING' };
    const txn: SimTransaction = { entry, key: conn.key, request: { ...pr, transactionId }, createdAt: now, updatedAt: now };
    this.ledger.push(entry);
    this.transactions.set(transactionId, txn);
    terminal.busyWith = transactionId;
    const outcome = outcomeForAmount(amount);
    this.opts.log(`payment ${transactionId} on ${terminal.deviceId}: ${minorToDecimal(amount, currency)} ${currency} -> ${outcome}`);
    void this.run(txn, terminal, outcome);
    return undefined;
  }

  private async run(txn: SimTransaction, terminal: SimTerminal, outcome: AmountOutcome): Promise<void> {
    const step = this.opts.stepDelayMs;
    const faults = this.opts.faults;
    const drop = outcome === 'drop_then_approved' || faults.dropMidPayment;
    const terminalFault = faults.terminalLate ? 'late' : faults.terminalWithinGrace ? 'within' : undefined;
    try {
      if (!(await this.sleep(step / 2))) return;
      if (drop) this.opts.dropConnection(txn.key, `payment ${txn.entry.transactionId} is under way`);
      if (terminalFault) {
        this.opts.setTerminalStatus(terminal, 'reconnecting');
        this.setStatus(txn, 'AWAITING_RECONNECT');
        if (terminalFault === 'late') return await this.lateTerminal(txn, terminal);
        if (!(await this.sleep(Math.min(Math.max(step, 1), this.opts.graceMs / 2)))) return;
        this.opts.setTerminalStatus(terminal, 'connected');
        this.setStatus(txn, 'PENDING');
      }
      if (!(await this.sleep(outcome === 'timed_out' ? step * 2.5 : step / 2))) return;
      this.complete(txn, responseFor(outcome));
    } finally {
      if (terminal.busyWith === txn.entry.transactionId) terminal.busyWith = undefined;
    }
  }

  /** The grace period ends without the terminal; it comes back later with a success, which the gateway voids. */
  private async lateTerminal(txn: SimTransaction, terminal: SimTerminal): Promise<void> {
    if (!(await this.sleep(this.opts.graceMs))) return;
    const failed = {
      status: 'FAILED', errorCode: TERMINAL_DISCONNECTED, errorMessage: 'The terminal did not reconnect within the grace period',
    };
    if (this.opts.graceExpiry === 'failed') this.complete(txn, failed);
    else this.record(txn, 'FAILED', { ...failed, transactionId: txn.entry.transactionId });
    this.opts.setTerminalStatus(terminal, 'disconnected');
    if (!(await this.sleep(Math.max(this.opts.stepDelayMs, this.opts.graceMs / 4)))) return;
    this.opts.setTerminalStatus(terminal, 'connected');
    const voidedAt = new Date().toISOString();
    txn.response = this.response(txn, { status: 'SUCCESS', authorizationCode: authCode() });
    txn.entry.voidedAt = voidedAt;
    txn.entry.voidReason = LATE_VOID_REASON;
    delete txn.entry.errorCode;
    this.setStatus(txn, 'VOIDED');
    this.opts.log(`payment ${txn.entry.transactionId}: the terminal came back after the grace period with a success; voided`);
    this.opts.deliver(txn.key, {
      action: 'paymentVoided', terminalId: txn.entry.terminalId, transactionId: txn.entry.transactionId,
      voidedAt, voidReason: LATE_VOID_REASON, timestamp: voidedAt, version: 'v1',
    });
  }

  private complete(txn: SimTransaction, fields: Partial<WirePaymentResponse> & { status: string }): void {
    const response = this.response(txn, fields);
    const status: TransactionStatus = fields.status === 'SUCCESS' ? 'COMPLETED' : fields.status === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
    this.record(txn, status, response);
    this.opts.log(`payment ${txn.entry.transactionId}: ${fields.status}${fields.errorCode ? ` ${fields.errorCode}` : ''}`);
    this.opts.deliver(txn.key, {
      action: 'paymentComplete', terminalId: txn.entry.terminalId, paymentResponse: response, timestamp: response.timestamp, version: 'v1',
    });
  }

  private record(txn: SimTransaction, status: TransactionStatus, response: WirePaymentResponse | (Partial<WirePaymentResponse> & { transactionId: string })): void {
    txn.response = response as WirePaymentResponse;
    txn.completedAt = new Date().toISOString();
    if (typeof response.errorCode === 'string') txn.entry.errorCode = response.errorCode;
    this.setStatus(txn, status);
  }

  private response(txn: SimTransaction, fields: Partial<WirePaymentResponse> & { status: string }): WirePaymentResponse {
    const { entry, request } = txn;
    return {
      transactionId: entry.transactionId,
      amount: minorToDecimal(entry.amount, entry.currency),
      currency: entry.currency,
      paymentMethod: String(request.paymentMethod),
      ...fields,
      timestamp: new Date().toISOString(),
      ...(isObject(request.metadata) ? { metadata: request.metadata } : {}),
      ...(fields.status === 'SUCCESS'
        ? { receiptData: { merchantName: 'Simulated Shop', cardBrand: 'VISA', maskedPan: '************4242', entryMode: 'CONTACTLESS' } }
        : {}),
    };
  }

  private setStatus(txn: SimTransaction, status: TransactionStatus): void {
    txn.entry.status = status;
    txn.updatedAt = new Date().toISOString();
  }

  /** Resolves true after `ms`, or false at once when the simulator stops. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!this.stopped);
      }, Math.max(0, ms));
      this.timers.set(timer, () => resolve(false));
    });
  }
}

function responseFor(outcome: AmountOutcome): Partial<WirePaymentResponse> & { status: string } {
  switch (outcome) {
    case 'declined':
      return { status: 'FAILED', errorCode: 'INSUFFICIENT_FUNDS', errorMessage: 'Insufficient funds' };
    case 'timed_out':
      return { status: 'FAILED', errorCode: 'TIMEOUT', errorMessage: 'The terminal timed out waiting for the card' };
    case 'cancelled':
      return { status: 'CANCELLED', errorMessage: 'Cancelled on the terminal' };
    default:
      // No signature step exists on this gateway: signature_required is approved like the rest.
      return { status: 'SUCCESS', authorizationCode: authCode() };
  }
}

function authCode(): string {
  return `AUTH${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
}

function errorFrame(e: ErrorInfo, ids: { terminalId?: string; transactionId?: string } = {}): Record<string, unknown> {
  return { action: 'error', error: e.error, message: e.message, timestamp: new Date().toISOString(), ...ids };
}
