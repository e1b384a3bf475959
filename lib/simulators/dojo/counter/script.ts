// What a terminal session goes through for each outcome of the shared amount rule. One step
// runs per stepDelayMs; the arrows follow protocol notes 8.1 (the arrows there are inferred, so
// are these sequences). Documented sequences (status + notificationEvents):
//
//   approved            InitiateRequested > Initiated [PresentCard] > [EnterPin] > [PleaseWait]
//                       > Captured [Approved]        (Manual capture: Authorized [Approved])
//   declined            ... > [PleaseWait] > Declined [Declined]
//   timed_out           InitiateRequested > Initiated [PresentCard] ... Expired at expireAt
//   signature_required  Initiated [PresentCard] > [PleaseWait] > SignatureVerificationRequired
//                       > SignatureVerificationAccepted [Approved] | SignatureVerificationRejected [Declined]
//                       (no answer within signatureTimeoutMs: accepted)
//   cancelled           Initiated [PresentCard] > CancelRequested > Canceled
//   drop_then_approved  as approved; the EPOS WebSocket is dropped at [EnterPin]
//   EPOS cancel         (from InitiateRequested or Initiated) CancelRequested > Canceled

import { outcomeForAmount, type AmountOutcome } from '../../outcome';

/**
 * approve: the money moved (sale captured/authorised, refund paid). decline: the issuer said no.
 * signature: authorised, waiting for the EPOS to check the signature. reverse: authorisation undone.
 * drop: terminate the EPOS WebSocket (amount rule 55).
 */
export type Effect = 'approve' | 'decline' | 'signature' | 'reverse' | 'drop';

export interface Step {
  status?: string;
  notification?: string;
  effect?: Effect;
}

export interface Plan {
  outcome: AmountOutcome;
  steps: Step[];
}

/** A session in one of these never changes again. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'Captured', 'Authorized', 'Canceled', 'Declined', 'Expired', 'SignatureVerificationAccepted', 'SignatureVerificationRejected',
]);

/** The EPOS may still cancel: the card has not been authorised yet. */
export const CANCELLABLE_STATUSES: ReadonlySet<string> = new Set(['InitiateRequested', 'Initiated']);

const initiated: Step = { status: 'Initiated', notification: 'PresentCard' };

export function planFor(amount: number, manualCapture: boolean): Plan {
  const outcome = outcomeForAmount(amount);
  const approvedStatus = manualCapture ? 'Authorized' : 'Captured';
  const approved: Step = { status: approvedStatus, notification: 'Approved', effect: 'approve' };
  switch (outcome) {
    case 'declined':
      return { outcome, steps: [initiated, { notification: 'EnterPin' }, { notification: 'PleaseWait' }, { status: 'Declined', notification: 'Declined', effect: 'decline' }] };
    case 'timed_out':
      return { outcome, steps: [initiated] };
    case 'signature_required':
      return { outcome, steps: [initiated, { notification: 'PleaseWait' }, { status: 'SignatureVerificationRequired', effect: 'signature' }] };
    case 'cancelled':
      return { outcome, steps: [initiated, { status: 'CancelRequested' }, { status: 'Canceled' }] };
    case 'drop_then_approved':
      return { outcome, steps: [initiated, { notification: 'EnterPin', effect: 'drop' }, { notification: 'PleaseWait' }, approved] };
    default:
      return { outcome, steps: [initiated, { notification: 'EnterPin' }, { notification: 'PleaseWait' }, approved] };
  }
}

export function signatureAnswer(accepted: boolean): Step {
  return accepted
    ? { status: 'SignatureVerificationAccepted', notification: 'Approved', effect: 'approve' }
    : { status: 'SignatureVerificationRejected', notification: 'Declined', effect: 'reverse' };
}

export const CANCEL_STEPS: readonly Step[] = Object.freeze([{ status: 'Canceled' }]);
