// The simulator's transactions and what may happen to them: creation and the scripted walk,
// cancel (501 once the consumer is active), refunds (12, then 11 or 13), the payment commit and
// the later settlement message. Every status change is pushed to the device's Socket.IO room.

import { currencyExponent, decimalToMinor } from '../../core/money';
import {
  approve, CANCELLABLE, CONSUMER_ACTIVE, createTransaction, hex, maskDevice, PAYMENT_FINAL, setStatus, settle,
  type LedgerEntry, type SimTransaction,
} from './entity';
import { scriptFor, type Step, type Timing } from './scripts';

export type SensePassFault = 'dropMidPayment' | 'malformedFrames' | 'approvedNameOnZero' | 'failPayments' | 'refuseDevice' | 'foreignEvents' | 'declineRefunds';

export interface Answer { status: number; body: unknown }

export interface BookHooks {
  base(): string;
  faults: Record<SensePassFault, boolean>;
  timing(): Timing & { secondsToCommit: number; settleAfterMs: number };
  push(deviceId: string, payload: unknown): void;
  /** Closes the device's socket transports and resolves once they are gone (bounded). */
  drop(deviceId: string): Promise<void>;
  later(ms: number, fn: () => void): void;
  log(line: string): void;
}

const METHOD_TYPES = new Set(['payment']);
const MAX_TIMEOUT_S = 24 * 3600;

export const answer = (status: number, message: string): Answer => ({ status, body: { status, status_message: message } });

type Body = Record<string, unknown>;

export class TransactionBook {
  readonly ledger: LedgerEntry[] = [];
  private readonly byNumber = new Map<string, SimTransaction>();
  private readonly byToken = new Map<string, SimTransaction>();

  constructor(private readonly hooks: BookHooks) {}

  own(deviceId: string, number: string): SimTransaction | undefined {
    const tx = this.byNumber.get(number);
    return tx && tx.ledger.deviceId === deviceId ? tx : undefined;
  }

  init(deviceId: string, body: Body): Answer {
    const currency = typeof body.currency === 'string' ? body.currency.trim().toUpperCase() : '';
    if (currencyExponent(currency) === undefined) return answer(400, 'currency is required: an ISO 4217 code such as USD');
    let minor: number | undefined;
    if (body.isCent === true) {
      minor = typeof body.amount === 'number' && Number.isSafeInteger(body.amount) ? body.amount : undefined;
      if (minor === undefined) return answer(400, 'amount must be a whole number of cents when isCent is true');
    } else {
      minor = decimalToMinor(body.amount, currency);
      if (minor === undefined) return answer(400, `amount must be a number with at most ${currencyExponent(currency)} decimals`);
    }
    if (minor <= 0) return answer(400, 'amount must be more than zero');
    const methodType = body.methodType ?? 'payment';
    if (typeof methodType !== 'string' || !METHOD_TYPES.has(methodType)) return answer(400, `methodType ${JSON.stringify(methodType)?.slice(0, 30)} is not supported by the simulator (payment only)`);
    const timeOut = body.timeOut === undefined ? 120 : body.timeOut;
    if (typeof timeOut !== 'number' || !Number.isFinite(timeOut) || timeOut <= 0 || timeOut > MAX_TIMEOUT_S) return answer(400, 'timeOut must be a number of seconds');
    const faults = this.hooks.faults;
    const tx = createTransaction({
      base: this.hooks.base(), deviceId, amount: minor, currency, timeOutSeconds: timeOut, posData: body.posData,
      products: body.products, approvedNameOnZero: faults.approvedNameOnZero,
    });
    this.byNumber.set(tx.ledger.transactionNumber, tx);
    this.byToken.set(tx.commitToken, tx);
    this.ledger.push(tx.ledger);
    this.hooks.log(`payment ${short(tx)} created for device ${maskDevice(deviceId)}: ${tx.entity.amount} ${currency}`);
    const script = scriptFor(minor, faults.failPayments, this.hooks.timing());
    if (faults.dropMidPayment && !script.some((s) => s.drop)) script.splice(2, 0, { delay: 0, drop: true });
    const first = clone(tx.entity);
    // The answer goes out first; then what the device hears, in order.
    this.hooks.later(0, () => {
      if (faults.malformedFrames) {
        this.hooks.push(deviceId, '{"TransactionNumber": not json');
        this.hooks.push(deviceId, { hello: 'not a transaction', status: 'approved' });
      }
      if (faults.foreignEvents) {
        this.hooks.push(deviceId, {
          ...clone(tx.entity), TransactionNumber: hex(28), status: 5, statusName: 'Transaction Approved',
          pos: 'POS 2, Another till', posData: { reference: `foreign-${hex(4)}` },
        });
      }
      this.push(tx);
      this.walk(tx, script, 0);
    });
    return { status: 200, body: first };
  }

  get(deviceId: string, number: string): Answer {
    const tx = this.own(deviceId, number);
    return tx ? { status: 200, body: clone(tx.entity) } : answer(404, 'Transaction not found');
  }

  list(deviceId: string, body: Body): Answer {
    const start = typeof body.startDate === 'string' ? Date.parse(body.startDate) : NaN;
    const end = typeof body.endDate === 'string' ? Date.parse(body.endDate) : NaN;
    if (!Number.isFinite(start) || !Number.isFinite(end)) return answer(400, 'startDate and endDate are required dates');
    const p = body.pagination && typeof body.pagination === 'object' ? (body.pagination as Body) : {};
    const limit = p.limit === undefined ? 100 : p.limit;
    const offset = p.offset === undefined ? 0 : p.offset;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) return answer(400, 'pagination.limit must be 1 to 1000');
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return answer(400, 'pagination.offset must be 0 or more');
    // Newest first; the map keeps creation order, which also orders transactions made in the same millisecond.
    const mine = [...this.byNumber.values()]
      .filter((tx) => tx.ledger.deviceId === deviceId && tx.createdAt >= start && tx.createdAt <= end)
      .reverse();
    // The list's shape is not documented [inferred]: the entities under `transactions`.
    return { status: 200, body: { status: 200, transactions: mine.slice(offset, offset + limit).map((tx) => clone(tx.entity)), pagination: { limit, offset, total: mine.length } } };
  }

  cancel(deviceId: string, number: string): Answer {
    const tx = this.own(deviceId, number);
    if (!tx) return answer(404, 'Transaction not found');
    return this.cancelTx(tx);
  }

  cancelByDevice(deviceId: string): Answer {
    const pending = [...this.byNumber.values()].filter((tx) => tx.ledger.deviceId === deviceId && !PAYMENT_FINAL.has(tx.ledger.status) && tx.ledger.status !== 12);
    const last = pending.pop();
    if (!last) return answer(400, 'No pending transaction for this device');
    return this.cancelTx(last);
  }

  refund(deviceId: string, body: Body): Answer {
    const number = typeof body.transactionNumber === 'string' ? body.transactionNumber : '';
    if (!number) return answer(400, 'transactionNumber is required');
    const tx = this.own(deviceId, number);
    if (!tx) return answer(404, 'Transaction not found');
    const remaining = tx.ledger.amount - tx.refundedMinor;
    let amount = remaining;
    if (body.isPartial === true) {
      const given = body.isCent === true
        ? (typeof body.refundAmount === 'number' && Number.isSafeInteger(body.refundAmount) ? body.refundAmount : undefined)
        : decimalToMinor(body.refundAmount, tx.ledger.currency);
      if (given === undefined || given <= 0) return answer(400, 'refundAmount must be a positive amount for a partial refund');
      amount = given;
    }
    const refusal = tx.ledger.status !== 5 && tx.ledger.status !== 13 ? 'transaction is not in a refundable status'
      : this.hooks.faults.declineRefunds || amount > remaining || amount <= 0 ? 'refund operation declined by Processor' : undefined;
    const now = new Date().toISOString();
    if (refusal) {
      tx.ledger.refunds.push({ amount, result: 'Declined' });
      this.hooks.log(`refund of ${short(tx)} declined: ${refusal}`);
      return {
        status: 200,
        body: { errorMessage: refusal, errorCode: 22, refundConfirmation: null, approvedBy: null, refundBy: null, dateApproval: null, result: 'Declined', providerId: null, transaction: clone(tx.entity) },
      };
    }
    tx.refundedMinor += amount;
    tx.ledger.refunds.push({ amount, result: 'Approved' });
    const full = tx.refundedMinor >= tx.ledger.amount;
    this.hooks.log(`refund of ${short(tx)} approved: ${amount} of ${tx.ledger.amount} minor units`);
    this.hooks.later(0, () => {
      setStatus(tx, 12);
      this.push(tx);
      this.hooks.later(this.hooks.timing().stepDelayMs, () => {
        setStatus(tx, full ? 11 : 13);
        this.push(tx);
      });
    });
    return {
      status: 200,
      body: {
        errorMessage: '', errorCode: 0, refundConfirmation: `RF-${hex(5)}`, approvedBy: 'Visa', refundBy: String(tx.entity.pos),
        dateApproval: now, result: 'Approved', providerId: hex(16), transaction: clone(tx.entity),
      },
    };
  }

  commit(token: string): Answer {
    const tx = this.byToken.get(token);
    if (!tx) return answer(404, 'Commit link not found');
    tx.ledger.committed = true;
    const pc = tx.entity.paymentCommit;
    if (pc && typeof pc === 'object') (pc as Body).isPaymentCommitted = true;
    this.hooks.log(`payment ${short(tx)} committed`);
    return answer(200, 'Payment committed');
  }

  private cancelTx(tx: SimTransaction): Answer {
    const status = tx.ledger.status;
    if (CANCELLABLE.has(status)) {
      setStatus(tx, 9);
      this.hooks.log(`payment ${short(tx)} cancelled`);
      this.hooks.later(0, () => this.push(tx));
      return answer(200, 'Transaction Was Canceled');
    }
    if (CONSUMER_ACTIVE.has(status)) return answer(501, 'Cannot cancel the transaction due to consumer activity');
    return answer(400, 'Transaction cannot be canceled in its current status');
  }

  private walk(tx: SimTransaction, script: Step[], i: number): void {
    const step = script[i];
    if (!step) return;
    this.hooks.later(step.delay, () => {
      // A cancel (or anything else final) ends the consumer's walk.
      if (PAYMENT_FINAL.has(tx.ledger.status)) return;
      if (step.drop) {
        this.hooks.log(`dropping the connection of device ${maskDevice(tx.ledger.deviceId)} mid-payment`);
        this.hooks.drop(tx.ledger.deviceId).then(() => this.walk(tx, script, i + 1), () => this.walk(tx, script, i + 1));
        return;
      }
      this.change(tx, step.status as number);
      this.walk(tx, script, i + 1);
    });
  }

  private change(tx: SimTransaction, status: number): void {
    setStatus(tx, status);
    if (status === 5) {
      const t = this.hooks.timing();
      approve(tx, this.hooks.base(), t.secondsToCommit);
      this.hooks.later(t.settleAfterMs, () => {
        if (tx.ledger.status === 5 && settle(tx)) this.push(tx);
      });
    }
    this.hooks.log(`payment ${short(tx)}: status ${status} ${String(tx.entity.statusName)}`);
    this.push(tx);
  }

  private push(tx: SimTransaction): void {
    this.hooks.push(tx.ledger.deviceId, clone(tx.entity));
  }
}

const clone = <T>(v: T): T => structuredClone(v);
const short = (tx: SimTransaction): string => tx.ledger.transactionNumber.slice(0, 8);

