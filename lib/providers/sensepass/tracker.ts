// One running SensePass sale: the statuses it has seen, in order, turned into progress events
// until a final status settles it. Statuses arrive from three places (the init answer, socket
// messages, reads after a reconnect or at the deadline), possibly repeated or out of step;
// this is where they become one sequence.

import type { PaymentAttempt } from '../../core/provider';
import type { Logger } from '../../core/types';
import { progressOf } from './mapping';
import { statusOf, type SensePassTransaction } from './schemas';
import { statusInfo } from './status';

export type Source = 'answer' | 'message' | 'read';

export class RunningSale {
  transactionNumber: string | undefined;
  lastStatus: number | undefined;
  finished = false;
  /** cancel() came while the init was in flight: cancel by number once it is known. */
  cancelWanted = false;
  deadlineTimer: NodeJS.Timeout | undefined;
  readonly final: Promise<SensePassTransaction>;
  private resolveFinal!: (t: SensePassTransaction) => void;
  private rejectFinal!: (err: Error) => void;

  constructor(readonly attempt: PaymentAttempt, private readonly logger: Logger) {
    this.final = new Promise<SensePassTransaction>((resolve, reject) => {
      this.resolveFinal = resolve;
      this.rejectFinal = reject;
    });
    // Awaited by the sale later; a failure before that must not count as unhandled.
    this.final.catch(() => {});
  }

  get reference(): string {
    return this.attempt.request.reference;
  }

  observe(t: SensePassTransaction, source: Source): void {
    if (this.finished) return;
    // The init answer (status 0) is older than any message that overtook it.
    if (source === 'answer' && this.lastStatus !== undefined) return;
    const status = statusOf(t);
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    if (statusInfo(status).final) {
      this.finished = true;
      this.resolveFinal(t);
      return;
    }
    try {
      this.attempt.onProgress(progressOf(t, this.attempt.request));
    } catch (err) {
      this.logger.error(`SensePass: a progress listener failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.rejectFinal(err);
  }
}
