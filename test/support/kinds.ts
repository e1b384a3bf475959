// A scripted provider for the transaction-kind tests (unit and PostgreSQL): it offers every
// kind, records each attempt, and answers like an adapter (no `kind`; the service adds it).

import type { Capabilities, LookupResult, PaymentAttempt, PaymentProvider } from '../../lib/core/provider';
import type { ConnectionState, PaymentKind, PaymentRequest, PaymentResult, Terminal } from '../../lib/core/types';

export const ALL: Capabilities = {
  pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false,
  preauth: true, completion: true, release: true, verify: true, reports: false,
};

export class KindsProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  capabilities: Capabilities = { ...ALL };
  state: ConnectionState = { name: 'connected' };
  attempts: PaymentAttempt[] = [];
  lookups = 0;
  terminals: Terminal[] = [];
  behaviour: (a: PaymentAttempt) => Promise<PaymentResult> = async (a) => result(a.request, 'approved');
  lookupAnswer: () => LookupResult = () => ({ found: 'nothing' });
  start() {}
  async stop() {}
  pay(a: PaymentAttempt) { this.attempts.push(a); return this.behaviour(a); }
  async cancel() {}
  async answerSignature() {}
  async listTerminals() { return this.terminals; }
  async lookup() { this.lookups++; return this.lookupAnswer(); }
  onState() { return () => {}; }
  onNotification() { return () => {}; }
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

