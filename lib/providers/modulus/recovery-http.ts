// Asking the Terminal Gateway HTTP API what became of a payment whose result the WebSocket did
// not bring (GET /v1/transactions/{id}, HMAC-signed [doc]). The docs' rule: after a timeout,
// check the transaction before any retry.

import { isPosError } from '../../core/errors';
import { requestJson } from '../../core/http';
import type { LookupResult } from '../../core/provider';
import type { Redactor } from '../../core/redact';
import type { PaymentRequest } from '../../core/types';
import { mapPaymentResponse, voidedResult } from './mapping';
import { isPaymentResponse, isTransaction } from './schemas';
import { signRequest } from './signature';
import { HEADER, TRANSACTIONS_PATH, type WireTransaction } from './wire';

export interface TransactionQuery {
  httpBase: string;
  apiKey: string;
  apiSecret: string;
  groupId?: string;
  transactionId: string;
  timeoutMs: number;
  verifyTls: boolean;
  redact: Redactor;
}

export async function lookupTransaction(q: TransactionQuery, request: PaymentRequest, terminalId?: string): Promise<LookupResult> {
  const url = new URL(q.httpBase);
  const path = `${url.pathname.replace(/\/+$/, '')}${TRANSACTIONS_PATH}${encodeURIComponent(q.transactionId)}`;
  const timestamp = new Date().toISOString();
  let status: number;
  let body: unknown;
  try {
    ({ status, body } = await requestJson({
      method: 'GET',
      url: `${url.origin}${path}`,
      headers: {
        [HEADER.apiKey]: q.apiKey,
        [HEADER.timestamp]: timestamp,
        [HEADER.signature]: signRequest(q.apiSecret, 'GET', path, timestamp, ''),
        ...(q.groupId ? { [HEADER.groupId]: q.groupId } : {}),
      },
      timeoutMs: q.timeoutMs,
      verifyTls: q.verifyTls,
    }));
  } catch (err) {
    const why = isPosError(err) || err instanceof Error ? err.message : String(err);
    return { found: 'cannot_ask', reason: q.redact(`the Terminal Gateway HTTP API did not answer: ${why}`) };
  }
  if (status === 404) return { found: 'nothing' };
  if (status === 401 || status === 403) {
    return { found: 'cannot_ask', reason: q.redact(`the Terminal Gateway refused the look-up (HTTP ${status}${errorCode(body)}); check the API key and secret`) };
  }
  if (status !== 200) return { found: 'cannot_ask', reason: q.redact(`the Terminal Gateway answered the look-up with HTTP ${status}${errorCode(body)}`) };
  if (!isTransaction(body)) {
    return { found: 'cannot_ask', reason: `the Terminal Gateway answered the look-up with something this pack cannot read (${isTransaction.explain()})` };
  }
  return fromTransaction(body, request, terminalId);
}

export function fromTransaction(t: WireTransaction, request: PaymentRequest, terminalId?: string): LookupResult {
  const status = t.status.toUpperCase();
  const id = t.transactionId;
  if (status === 'PENDING' || status === 'AWAITING_RECONNECT') return { found: 'in_progress' };
  if (status === 'VOIDED') return { found: 'result', result: voidedResult(request, terminalId, id, t, t.voidReason) };
  if (status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED') {
    // The stored response says what happened; without one, the transaction status alone does.
    const fallback = { transactionId: id ?? '', status: status === 'COMPLETED' ? 'SUCCESS' : status };
    const response = isPaymentResponse(t.response) ? t.response : fallback;
    const mapped = mapPaymentResponse(response, request, terminalId, t);
    return mapped.pending ? { found: 'in_progress' } : { found: 'result', result: mapped.result };
  }
  return { found: 'cannot_ask', reason: `the Terminal Gateway reports transaction status "${t.status.slice(0, 40)}", which this pack does not know` };
}

function errorCode(body: unknown): string {
  const code = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return typeof code === 'string' ? ` ${code.slice(0, 60)}` : '';
}
