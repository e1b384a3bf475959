// The statuses a simulated consumer walks a payment through, chosen by the amount rule every
// simulator shares (lib/simulators/outcome.ts): 0 -> 10 -> 1 -> 2 -> 4 -> 5 and its branches.

import { outcomeForAmount } from '../outcome';

export interface Step {
  /** Wait before this step, in ms. */
  delay: number;
  /** The next status, or the connection drop of the …55 payment. */
  status?: number;
  drop?: true;
}

export interface Timing {
  stepDelayMs: number;
  /** How long the payment waits at 10 (waiting for a tap). */
  tapDelayMs: number;
  /** How long a …52 payment waits at 10 before it times out. */
  timeoutAfterMs: number;
}

export function scriptFor(minorAmount: number, failPayments: boolean, t: Timing): Step[] {
  const s = t.stepDelayMs;
  const waiting: Step = { delay: s, status: 10 };
  const tapped: Step = { delay: t.tapDelayMs, status: 1 };
  const end = failPayments ? 7 : undefined;
  switch (outcomeForAmount(minorAmount)) {
    case 'declined':
      return [waiting, tapped, { delay: s, status: 2 }, { delay: s, status: 4 }, { delay: s, status: end ?? 6 }];
    case 'timed_out':
      return [waiting, { delay: t.timeoutAfterMs, status: 8 }];
    case 'signature_required':
      // SensePass has no signature: its nearest case is one consumer declining (3) and another paying.
      return [waiting, tapped, { delay: s, status: 3 }, { delay: s, status: 1 }, { delay: s, status: 2 }, { delay: s, status: 4 }, { delay: s, status: end ?? 5 }];
    case 'cancelled':
      return [waiting, { delay: t.tapDelayMs, status: 9 }];
    case 'drop_then_approved':
      // After the drop the rest happens at once, while the device is away: its messages are missed.
      return [waiting, tapped, { delay: s, drop: true }, { delay: 0, status: 2 }, { delay: 0, status: 4 }, { delay: 0, status: end ?? 5 }];
    default:
      return [waiting, tapped, { delay: s, status: 2 }, { delay: s, status: 4 }, { delay: s, status: end ?? 5 }];
  }
}
