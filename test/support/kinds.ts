// A scripted provider for the transaction-kind tests (unit and PostgreSQL): it offers every
// kind, records each attempt, and answers like an adapter (no `kind`; the service adds it).

import type { Capabilities } from '../../lib/core/provider';
import type { PaymentKind, PaymentRequest, PaymentResult } from '../../lib/core/types';
import { ScriptedProvider } from './scripted-provider';

export const ALL: Capabilities = {
  pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false,
  preauth: true, completion: true, release: true, verify: true, reports: false,
};

/** Offers every kind; approves every payment until a test scripts otherwise. */
export class KindsProvider extends ScriptedProvider {
  constructor() {
    super((r) => result(r, 'approved'), { capabilities: ALL });
  }
}

/** An adapter's result: no `kind` (the service adds it), an auth code on approvals. */
export function result(r: PaymentRequest, outcome: PaymentResult['outcome']): PaymentResult {
  return {
    outcome, approved: outcome === 'approved', amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense',
    terminalId: 'T1', transactionId: `tx-${r.reference}`, ...(outcome === 'approved' ? { authCode: `AC${r.reference.length}` } : {}),
    card: {}, receipt: {}, message: outcome, raw: null,
  };
}

export const req = (kind: PaymentKind, reference: string, amount: number, extra: Partial<PaymentRequest> = {}): PaymentRequest =>
  ({ kind, amount, currency: 'GBP', reference, terminalId: 'T1', ...extra });

