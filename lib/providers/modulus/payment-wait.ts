// One payment sent to a terminal, waiting for its paymentComplete. The wait ends at the
// attempt's deadline, pushed back (never forward) while the gateway's grace period for a
// reconnecting terminal runs: a result must not be given up on before the gateway does.

import type { PaymentAttempt } from '../../core/provider';
import type { PaymentResult } from '../../core/types';

export class PaymentWait {
  readonly promise: Promise<PaymentResult>;
  /** Set once the payment frame has left; error frames are matched to recent sends only. */
  sentAt: number | undefined;
  /** The connection (counted from 1) the frame left on; later connections ask about it once. */
  connection = 0;
  reconnectingSince: number | undefined;
  /** Another client took the connection over while this ran: its result can only come from a look-up. */
  displaced = false;
  private settled = false;
  private until: number;
  private timer: NodeJS.Timeout | undefined;
  private followUp: NodeJS.Timeout | undefined;
  private resolveFn!: (r: PaymentResult) => void;
  private rejectFn!: (e: Error) => void;

  constructor(
    readonly attempt: PaymentAttempt,
    readonly transactionId: string,
    readonly terminalId: string,
    private readonly onExpire: (wait: PaymentWait) => void,
  ) {
    this.until = attempt.deadline;
    this.promise = new Promise<PaymentResult>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A wait ended by stop() before its frame left is never returned to anyone.
    this.promise.catch(() => undefined);
  }

  get reference(): string {
    return this.attempt.request.reference;
  }

  get done(): boolean {
    return this.settled;
  }

  /** When the wait ends (the attempt's deadline, or later while the gateway's grace runs). */
  get deadline(): number {
    return this.until;
  }

  /** Runs `fn` after `ms` unless the wait has ended by then; one at a time, cleared when it ends. */
  later(fn: () => void, ms: number): void {
    clearTimeout(this.followUp);
    if (this.settled) return;
    this.followUp = setTimeout(() => {
      this.followUp = undefined;
      if (!this.settled) fn();
    }, Math.max(0, ms));
  }

  /** Starts the clock once the frame has left. */
  sent(connection: number): void {
    this.sentAt = Date.now();
    this.connection = connection;
    this.arm();
  }

  extendTo(at: number): void {
    if (at <= this.until) return;
    this.until = at;
    if (this.timer) this.arm();
  }

  resolve(result: PaymentResult): void {
    if (this.finish()) this.resolveFn(result);
  }

  reject(err: Error): void {
    if (this.finish()) this.rejectFn(err);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.followUp);
    this.followUp = undefined;
    return true;
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.settled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.settled) this.onExpire(this);
    }, Math.max(0, this.until - Date.now()));
  }
}
