// The transaction engine: runs each sale/refund through its terminal's script, reports
// progress to the till that started it, keeps results for transactionDetails, and records
// every accepted transaction frame in the ledger (tests count it to prove nothing was charged
// twice).

import { randomUUID } from 'node:crypto';
import { APP_ERROR, METHOD, type WireTransaction } from '../../providers/paymentsense/wire';
import { Clock } from '../clock';
import { PreAuthBook } from './preauths';
import { buildTransaction } from './result';
import { RpcFault, type RpcPeer } from './rpc';
import {
  CANCEL_ENDING, USER_MESSAGES, scriptFor, signatureEnding,
  type CardProfile, type Script, type SignatureAnswer, type Step, type TransactionResult,
} from './scenario';
import type { TerminalPool } from './terminals';

/** The Perform Transaction methods the simulator runs (wire.ts METHOD names). */
export type TransactionMethod = 'sale' | 'refund' | 'preAuth' | 'completion' | 'accountVerification';

export interface LedgerEntry {
  requestId: string;
  rpcId: string | number;
  tid: string;
  method: TransactionMethod;
  amount: number;
  currency: string;
  amountCashback?: number;
  amountGratuity?: number;
  /** Set when the transaction ends. */
  result?: string;
  /** Epoch ms when the frame was accepted. */
  at: number;
}

/** A Perform Transaction request after validation (see methods.ts). */
export interface TransactionOrder {
  kind: TransactionMethod;
  tid: string;
  requestId?: string;
  amount: number;
  currency: string;
  amountCashback?: number;
  amountGratuity?: number;
  /** Completion: the pre-auth it completes, and the total the EPoS says was pre-authorised. */
  authCode?: string;
  amountPreAuthorisedTotal?: number;
}

export interface EngineOptions {
  stepDelayMs: number;
  signatureTimeoutMs: number;
  dropMidPayment(): boolean;
  log(line: string): void;
}

interface Running {
  order: TransactionOrder;
  requestId: string;
  rpcId: string | number;
  peer: RpcPeer;
  script: Script;
  entry: LedgerEntry;
  transactionNumber: number;
  notifications: string[];
  cancellable: boolean;
  cancelRequested: boolean;
}

/** Enough for any test or demo; keeps a long benchmark from growing without bound. */
const MAX_KEPT_RESULTS = 10_000;

export class TransactionEngine {
  readonly ledger: LedgerEntry[] = [];
  /** Approved pre-auths, found again by the auth code a completion sends. */
  readonly preAuths = new PreAuthBook();
  private readonly running = new Map<string, Running>();
  private readonly finished = new Map<string, WireTransaction>();
  private readonly droppedOnce = new Set<string>();
  private readonly clock = new Clock();
  private nextTransactionId = 1_000_001;

  constructor(private readonly pool: TerminalPool, private readonly opts: EngineOptions) {}

  /** Starts a transaction; its result is sent later as the response to rpcId. */
  begin(peer: RpcPeer, rpcId: string | number, order: TransactionOrder): void {
    if (this.pool.isBusy(order.tid)) {
      throw new RpcFault(APP_ERROR.terminalBusy, `Terminal ${order.tid} is busy with another transaction`);
    }
    const requestId = order.requestId ?? randomUUID();
    if (this.running.has(requestId)) {
      throw new RpcFault(APP_ERROR.transactionInProgress, `Transaction ${requestId} is already in progress`);
    }
    // A completion holds its pre-auth from here (checked by the acquirer, -32602 when it cannot).
    if (order.kind === 'completion') this.preAuths.reserve(order.authCode as string, order.amount, order.currency, order.amountPreAuthorisedTotal, requestId);
    const entry: LedgerEntry = {
      requestId, rpcId, tid: order.tid, method: order.kind, amount: order.amount, currency: order.currency, at: Date.now(),
    };
    if (order.amountCashback !== undefined) entry.amountCashback = order.amountCashback;
    if (order.amountGratuity !== undefined) entry.amountGratuity = order.amountGratuity;
    this.ledger.push(entry);
    const tx: Running = {
      order, requestId, rpcId, peer, entry,
      script: scriptFor(order.tid, order.amount),
      transactionNumber: this.pool.occupy(order.tid, requestId),
      notifications: [], cancellable: true, cancelRequested: false,
    };
    this.running.set(requestId, tx);
    this.opts.log(`${order.kind} ${requestId} on ${order.tid}: ${order.amount} ${order.currency} started`);
    if (this.instant && !tx.script.signature) this.runInstant(tx);
    else this.run(tx).catch((err: Error) => this.opts.log(`transaction ${requestId} failed: ${err.message}`));
  }

  cancel(tid: string | undefined, requestId: string | undefined): string {
    const tx = this.findRunning(tid, requestId);
    if (!tx) throw new RpcFault(APP_ERROR.noTransactionToCancel, 'No transaction in progress to cancel');
    // v1 answers `cancelling` either way; the outcome still arrives as the transaction's response.
    if (tx.cancellable) tx.cancelRequested = true;
    else this.emit(tx, 'UNABLE_TO_CANCEL');
    return 'cancelling';
  }

  details(tid: string | undefined, requestId: string): WireTransaction {
    const running = this.running.get(requestId);
    if (running && (tid === undefined || running.order.tid === tid)) {
      throw new RpcFault(APP_ERROR.transactionInProgress, `Transaction ${requestId} is still in progress`);
    }
    const done = this.finished.get(requestId);
    if (done && (tid === undefined || done.tid === tid)) return done;
    throw new RpcFault(APP_ERROR.transactionNotFound, `Transaction ${requestId} not found`);
  }

  resetLedger(): void {
    this.ledger.length = 0;
  }

  /** Wakes every waiting transaction so it ends without answering, and clears all timers. */
  stop(): void {
    this.clock.dispose();
  }

  private get instant(): boolean {
    return this.opts.stepDelayMs <= 0;
  }

  private findRunning(tid: string | undefined, requestId: string | undefined): Running | undefined {
    if (requestId !== undefined) {
      const tx = this.running.get(requestId);
      return tx && (tid === undefined || tx.order.tid === tid) ? tx : undefined;
    }
    for (const tx of this.running.values()) if (tx.order.tid === tid) return tx;
    return undefined;
  }

  /** Benchmark mode: no notifications, no timers, the response leaves before begin() returns. */
  private runInstant(tx: Running): void {
    for (const step of tx.script.steps) tx.notifications.push(step.notification);
    this.dropIfDue(tx);
    this.finish(tx, tx.script.result, tx.script.card);
  }

  private async run(tx: Running): Promise<void> {
    const { script } = tx;
    for (let i = 0; i < script.steps.length; i++) {
      if (!(await this.step(tx, script.steps[i]))) return;
      if (i === 0) this.dropIfDue(tx);
      if (tx.cancelRequested) return this.endCancelled(tx);
    }
    if (!script.signature) return this.finish(tx, script.result, script.card);

    this.emit(tx, 'SIGNATURE_VERIFICATION');
    tx.cancellable = false;
    const answer = await this.askSignature(tx);
    if (answer === 'stopped') return;
    const ending = signatureEnding(answer);
    for (const step of ending.steps) if (!(await this.step(tx, step))) return;
    this.finish(tx, ending.result, script.card);
  }

  private async endCancelled(tx: Running): Promise<void> {
    for (const step of CANCEL_ENDING) if (!(await this.step(tx, step))) return;
    this.finish(tx, 'CANCELLED', undefined);
  }

  /** Shows one notification, then stays on it for stepDelayMs. False when the engine stopped. */
  private async step(tx: Running, step: Step): Promise<boolean> {
    this.emit(tx, step.notification);
    tx.cancellable = step.cancellable;
    if (this.instant) return !this.clock.isDisposed;
    return this.clock.wait(this.opts.stepDelayMs);
  }

  private emit(tx: Running, notification: string): void {
    tx.notifications.push(notification);
    if (this.instant) return;
    tx.peer.notify(METHOD.transactionNotification, {
      tid: tx.order.tid, requestId: tx.requestId, notification, userMessage: USER_MESSAGES[notification] ?? notification,
    });
  }

  private dropIfDue(tx: Running): void {
    const byAmount = tx.script.drop && !this.droppedOnce.has(tx.requestId);
    if (!byAmount && !this.opts.dropMidPayment()) return;
    if (byAmount) this.droppedOnce.add(tx.requestId);
    if (!tx.peer.open) return;
    this.opts.log(`connection ${tx.peer.id} dropped mid-payment (${tx.requestId})`);
    tx.peer.terminate();
  }

  private askSignature(tx: Running): Promise<SignatureAnswer | 'stopped'> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = this.clock.timer(this.opts.signatureTimeoutMs);
      const settle = (answer: SignatureAnswer | 'stopped'): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        resolve(answer);
      };
      timer.done.then((elapsed) => settle(elapsed ? 'timeout' : 'stopped'), () => undefined);
      tx.peer.request(METHOD.signatureVerification, { tid: tx.order.tid, requestId: tx.requestId }).then(
        (result) => settle(isAccepted(result) ? 'accepted' : 'rejected'),
        // An error answer is a refusal; a lost connection leaves the terminal waiting it out.
        (err: Error) => { if (err instanceof RpcFault) settle('rejected'); },
      );
    });
  }

  private finish(tx: Running, result: TransactionResult, card: CardProfile | undefined): void {
    const wire = buildTransaction({
      requestId: tx.requestId,
      tid: tx.order.tid,
      kind: tx.order.kind,
      amount: tx.order.amount,
      currency: tx.order.currency,
      amountCashback: tx.order.amountCashback ?? 0,
      amountGratuity: tx.order.amountGratuity ?? 0,
      transactionId: String(this.nextTransactionId++),
      transactionNumber: tx.transactionNumber,
      result,
      notifications: tx.notifications,
      at: new Date(),
      ...(card ? { card } : {}),
    });
    this.running.delete(tx.requestId);
    this.keep(tx.requestId, wire);
    if (tx.order.kind === 'preAuth' && result === 'SUCCESSFUL' && wire.authCode) {
      this.preAuths.record(wire.authCode, tx.order.tid, tx.order.amount, tx.order.currency);
    }
    if (tx.order.kind === 'completion') this.preAuths.settle(tx.order.authCode as string, tx.requestId, result === 'SUCCESSFUL');
    tx.entry.result = result;
    // Free the terminal before answering so a till reacting to the result can use it at once.
    this.pool.release(tx.order.tid, tx.requestId);
    this.opts.log(`${tx.order.kind} ${tx.requestId} on ${tx.order.tid}: ${result}`);
    if (tx.peer.open) tx.peer.respond(tx.rpcId, wire);
    else this.opts.log(`result of ${tx.requestId} kept: its connection is gone`);
  }

  private keep(requestId: string, wire: WireTransaction): void {
    this.finished.delete(requestId);
    this.finished.set(requestId, wire);
    if (this.finished.size > MAX_KEPT_RESULTS) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}

/** The answer is `{ accepted }`; a bare boolean is tolerated because the WS shape is unconfirmed. */
function isAccepted(result: unknown): boolean {
  if (result === true) return true;
  return typeof result === 'object' && result !== null && (result as { accepted?: unknown }).accepted === true;
}
