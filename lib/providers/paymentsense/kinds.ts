// Which Perform Transaction method each transaction kind is on Connect, and its parameters.
// Connect's v1 changelog names preAuth and completion (which needs the pre-auth's authCode)
// and accountVerification (a zero-value check) [doc]; their fields follow the REST v2 request
// schemas [related: REST]. Connect documents no release of a pre-auth.

import { PosError } from '../../core/errors';
import type { PaymentKind, PaymentRequest } from '../../core/types';
import { METHOD, type WireTransactionRequest } from './wire';

const METHOD_OF: Readonly<Partial<Record<PaymentKind, string>>> = {
  sale: METHOD.sale,
  refund: METHOD.refund,
  preauth: METHOD.preAuth,
  completion: METHOD.completion,
  verify: METHOD.accountVerification,
};

export function methodOf(kind: PaymentKind): string {
  const method = METHOD_OF[kind];
  if (!method) throw new PosError('capability_missing', `paymentsense does not support ${kind} in this pack; nothing was sent`);
  return method;
}

/** The terminal: the request's, else (a completion) the pre-auth's, since pre-auth and completion use one card. */
export function terminalOf(request: PaymentRequest): string | undefined {
  return request.terminalId ?? request.original?.terminalId;
}

export function transactionParams(request: PaymentRequest, tid: string, requestId: string): WireTransactionRequest {
  const params: WireTransactionRequest = { ...(request.options ?? {}), tid, requestId, currency: request.currency };
  // A verification is zero-value by definition: REST sends it without an amount.
  if (request.kind !== 'verify') params.amount = request.amount;
  if (request.kind === 'sale' && request.cashback) params.amountCashback = request.cashback;
  if ((request.kind === 'sale' || request.kind === 'refund') && request.tip) params.amountGratuity = request.tip;
  if (request.kind === 'completion') {
    const authCode = request.original?.authCode;
    if (!authCode) {
      throw new PosError('bad_input', `the pre-auth "${request.originalReference}" has no auth code in the journal, which a Connect completion needs; nothing was sent`);
    }
    params.authCode = authCode;
    params.amountPreAuthorisedTotal = request.original?.amount;
  }
  return params;
}
