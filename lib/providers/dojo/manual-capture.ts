// Completing and releasing a Dojo pre-auth. A pre-auth is a payment intent with captureMode
// Manual paid on a terminal (it ends Authorized); completing it is POST .../captures with the
// final amount, releasing it POST .../reversal [spec]. Neither involves the terminal. The
// payment intent comes from the pre-auth's journal entry, never from the flow. A lost answer
// is asked about by reading the intent, never sent again.

import { PosError, isPosError } from '../../core/errors';
import type { AttemptRecord, LookupResult, PaymentAttempt } from '../../core/provider';
import type { PaymentRequest, PaymentResult } from '../../core/types';
import type { DojoPaymentIntent, DojoRest } from './rest';

/** The pre-auth's payment intent: its transactionId, or the id the adapter noted when it ran. */
export function preauthIntent(request: PaymentRequest): string {
  const o = request.original;
  const noted = o?.notes?.paymentIntentId;
  const id = typeof noted === 'string' && noted ? noted : o?.transactionId;
  if (!id) throw new PosError('bad_input', `the pre-auth "${request.originalReference}" has no Dojo payment intent in the journal; nothing was sent`);
  return id;
}

/** What the intent reads after a completion (Captured) or a release (Reversed) went through. */
const DONE_STATUS = { completion: 'Captured', release: 'Reversed' } as const;
type Operation = keyof typeof DONE_STATUS;

function operationOf(request: PaymentRequest): Operation {
  if (request.kind === 'completion' || request.kind === 'release') return request.kind;
  throw new PosError('bad_input', `a ${request.kind} is not a capture or a reversal`);
}

function result(request: PaymentRequest, intentId: string, raw: unknown): PaymentResult {
  const o = request.original;
  const tid = request.terminalId ?? o?.terminalId;
  return {
    outcome: 'approved', approved: true, amount: request.amount, currency: request.currency, reference: request.reference,
    ...(tid ? { terminalId: tid } : {}), provider: 'dojo',
    // The payment intent, as for a sale: what a later refund of the captured money names.
    transactionId: intentId,
    ...(o?.authCode ? { authCode: o.authCode } : {}),
    card: {}, receipt: {},
    message: request.kind === 'release' ? 'Released: the reserved amount was given back, nothing was charged' : 'Completed: the pre-auth was captured',
    raw,
  };
}

export async function settle(rest: DojoRest, attempt: PaymentAttempt): Promise<PaymentResult> {
  const { request } = attempt;
  const operation = operationOf(request);
  const intentId = preauthIntent(request);
  await attempt.note({ paymentIntentId: intentId, operation });
  try {
    const answer = operation === 'completion'
      ? await rest.createCapture(intentId, { amount: request.amount })
      : await rest.createReversal(intentId);
    return result(request, intentId, { [operation === 'completion' ? 'capture' : 'reversal']: answer, paymentIntentId: intentId });
  } catch (err) {
    // Dojo said no (409: not Authorized any more, 400: over the reserve) or does not know the intent: nothing was done.
    if (isPosError(err) && (err.code === 'provider_error' || err.code === 'not_found')) throw new PosError('provider_error', err.message, err.details);
    if (!isPosError(err) || err.code !== 'protocol_error') throw err;
    // No usable answer: the intent says whether it happened.
    const found = await lookupSettlement(rest, { request, attemptId: attempt.attemptId, startedAt: new Date().toISOString() }).catch(() => undefined);
    if (found?.found === 'result') return found.result;
    throw err;
  }
}

export async function lookupSettlement(rest: DojoRest, record: AttemptRecord): Promise<LookupResult> {
  const { request } = record;
  const operation = operationOf(request);
  const noted = record.notes?.paymentIntentId;
  const intentId = typeof noted === 'string' && noted ? noted : preauthIntent(request);
  const intent: DojoPaymentIntent = await rest.getPaymentIntent(intentId);
  if (intent.status === DONE_STATUS[operation]) return { found: 'result', result: result(request, intentId, { paymentIntent: intent }) };
  // Still only authorised: this capture or reversal never happened.
  if (intent.status === 'Authorized') return { found: 'nothing' };
  return { found: 'cannot_ask', reason: `the Dojo payment intent ${intentId} is "${String(intent.status).slice(0, 40)}", which does not say whether this ${request.kind} went through` };
}
