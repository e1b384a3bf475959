// What a terminal shows for each outcome: the notification sequence and the card it read.
// Sequences follow the state machine in the protocol notes (3.9) and the order in the REST
// `transaction.notifications` example; they are inferred, not captured from a real terminal.

import { outcomeForAmount } from '../outcome';
import { terminalBehaviour } from './terminals';

export type TransactionResult = 'SUCCESSFUL' | 'DECLINED' | 'VOID' | 'UNSUCCESSFUL' | 'CANCELLED' | 'TIMED_OUT';

export interface Step {
  notification: string;
  /** Until authorisation starts, a cancel from the EPoS ends the transaction CANCELLED. */
  cancellable: boolean;
}

export interface CardProfile {
  scheme: string;
  pan: string;
  paymentMethod: 'ICC_CHIP' | 'CONTACTLESS';
  verification: 'PIN' | 'SIGNATURE' | 'DEVICE' | 'NONE';
  applicationId: string;
  applicationLabel: string;
  dateOfExpiry: string;
}

export interface Script {
  steps: Step[];
  /** When set, the terminal asks the EPoS to check a signature after `steps`. */
  signature: boolean;
  /** The result when there is no signature step. */
  result: TransactionResult;
  /** Undefined when no card was read (timed out waiting, cancelled before a card). */
  card?: CardProfile;
  /** Connection drops after the first notification (amount rule 55). */
  drop: boolean;
}

const CHIP_PIN: CardProfile = {
  scheme: 'VISA', pan: '************0119', paymentMethod: 'ICC_CHIP', verification: 'PIN',
  applicationId: 'A0000000031010', applicationLabel: 'VISA DEBIT', dateOfExpiry: '12/29',
};
const CONTACTLESS: CardProfile = {
  scheme: 'MASTERCARD', pan: '************4444', paymentMethod: 'CONTACTLESS', verification: 'DEVICE',
  applicationId: 'A0000000041010', applicationLabel: 'MASTERCARD', dateOfExpiry: '06/28',
};
const CHIP_SIGNATURE: CardProfile = { ...CHIP_PIN, verification: 'SIGNATURE' };

export const USER_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  TRANSACTION_STARTED: 'Transaction started',
  PRESENT_CARD: 'Present card',
  INSERT_CARD: 'Insert card',
  PIN_ENTRY: 'Enter PIN',
  PLEASE_WAIT: 'Please wait',
  CONNECTING: 'Connecting',
  CONNECTION_MADE: 'Connection made',
  RETRYING: 'Retrying',
  APPROVED: 'Approved',
  DECLINED: 'Declined',
  PROCESSING_ERROR: 'Processing error',
  REMOVE_CARD: 'Remove card',
  CANCELLING: 'Cancelling',
  UNABLE_TO_CANCEL: 'Unable to cancel',
  SIGNATURE_VERIFICATION: 'Check signature',
  SIGNATURE_VERIFICATION_IN_PROGRESS: 'Signature verification in progress',
  SIGNATURE_VERIFICATION_PROCESS_COMPLETED: 'Signature verification completed',
  SIGNATURE_VERIFICATION_TIMEOUT: 'Signature verification timed out',
  TRANSACTION_FINISHED: 'Transaction finished',
});

export const RESULT_MESSAGES: Readonly<Record<TransactionResult, string>> = Object.freeze({
  SUCCESSFUL: 'Transaction approved',
  DECLINED: 'Transaction declined',
  VOID: 'Transaction voided',
  UNSUCCESSFUL: 'Transaction unsuccessful',
  CANCELLED: 'Transaction cancelled',
  TIMED_OUT: 'Transaction timed out',
});

const c = (notification: string): Step => ({ notification, cancellable: true });
const n = (notification: string): Step => ({ notification, cancellable: false });

function cardSteps(contactless: boolean): Step[] {
  return contactless
    ? [c('TRANSACTION_STARTED'), c('PRESENT_CARD'), c('PLEASE_WAIT')]
    : [c('TRANSACTION_STARTED'), c('PRESENT_CARD'), c('PIN_ENTRY'), c('PLEASE_WAIT')];
}

/** The ending after the card was read and authorisation went online. */
function onlineEnding(contactless: boolean, verdict: string): Step[] {
  const end = [n('CONNECTING'), n('CONNECTION_MADE'), n(verdict)];
  if (!contactless) end.push(n('REMOVE_CARD'));
  end.push(n('TRANSACTION_FINISHED'));
  return end;
}

export function scriptFor(tid: string, amount: number): Script {
  const behaviour = terminalBehaviour(tid);
  if (behaviour === 'declined') return declined(false);
  if (behaviour === 'signature') return signature();
  if (behaviour === 'unsuccessful') return unsuccessful();
  if (behaviour === 'timed-out') return timedOut();
  const contactless = behaviour === 'contactless';
  switch (outcomeForAmount(amount)) {
    case 'declined': return declined(contactless);
    case 'timed_out': return timedOut();
    case 'signature_required': return signature();
    case 'cancelled': return cancelledOnTerminal();
    case 'drop_then_approved': return { ...approved(contactless), drop: true };
    default: return approved(contactless);
  }
}

function approved(contactless: boolean): Script {
  return {
    steps: [...cardSteps(contactless), ...onlineEnding(contactless, 'APPROVED')],
    signature: false, result: 'SUCCESSFUL', card: contactless ? CONTACTLESS : CHIP_PIN, drop: false,
  };
}

function declined(contactless: boolean): Script {
  return {
    steps: [...cardSteps(contactless), ...onlineEnding(contactless, 'DECLINED')],
    signature: false, result: 'DECLINED', card: contactless ? CONTACTLESS : CHIP_PIN, drop: false,
  };
}

function unsuccessful(): Script {
  return {
    steps: [...cardSteps(false), n('CONNECTING'), n('PROCESSING_ERROR'), n('REMOVE_CARD'), n('TRANSACTION_FINISHED')],
    signature: false, result: 'UNSUCCESSFUL', card: CHIP_PIN, drop: false,
  };
}

/** No card was presented in time: the terminal gives up on its own. */
function timedOut(): Script {
  return {
    steps: [c('TRANSACTION_STARTED'), c('PRESENT_CARD'), n('TRANSACTION_FINISHED')],
    signature: false, result: 'TIMED_OUT', drop: false,
  };
}

/** The customer pressed cancel on the terminal. */
function cancelledOnTerminal(): Script {
  return {
    steps: [c('TRANSACTION_STARTED'), c('PRESENT_CARD'), n('CANCELLING'), n('TRANSACTION_FINISHED')],
    signature: false, result: 'CANCELLED', drop: false,
  };
}

/** Chip & signature: authorised online first, then the EPoS checks the signature. */
function signature(): Script {
  return {
    steps: [c('TRANSACTION_STARTED'), c('INSERT_CARD'), c('PLEASE_WAIT'), n('CONNECTING'), n('CONNECTION_MADE')],
    signature: true, result: 'SUCCESSFUL', card: CHIP_SIGNATURE, drop: false,
  };
}

export type SignatureAnswer = 'accepted' | 'rejected' | 'timeout';

export function signatureEnding(answer: SignatureAnswer): { steps: Step[]; result: TransactionResult } {
  if (answer === 'accepted') {
    return {
      steps: [n('SIGNATURE_VERIFICATION_IN_PROGRESS'), n('SIGNATURE_VERIFICATION_PROCESS_COMPLETED'), n('APPROVED'), n('REMOVE_CARD'), n('TRANSACTION_FINISHED')],
      result: 'SUCCESSFUL',
    };
  }
  if (answer === 'rejected') {
    // A rejected signature makes the terminal reverse the authorisation (protocol notes 3.6).
    return {
      steps: [n('SIGNATURE_VERIFICATION_IN_PROGRESS'), n('SIGNATURE_VERIFICATION_PROCESS_COMPLETED'), n('REMOVE_CARD'), n('TRANSACTION_FINISHED')],
      result: 'VOID',
    };
  }
  return { steps: [n('SIGNATURE_VERIFICATION_TIMEOUT'), n('REMOVE_CARD'), n('TRANSACTION_FINISHED')], result: 'VOID' };
}

export const CANCEL_ENDING: readonly Step[] = Object.freeze([n('CANCELLING'), n('TRANSACTION_FINISHED')]);
