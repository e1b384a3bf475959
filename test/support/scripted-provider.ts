// A provider whose behaviour each test scripts, for the payment-service tests: it records every
// attempt and look-up it was given and answers as the test says (an adapter's result by default).

import type { Capabilities, LookupResult, PaymentAttempt, PaymentProvider } from '../../lib/core/provider';
import type { ConnectionState, PaymentRequest, PaymentResult, Terminal } from '../../lib/core/types';

/** Sales, refunds, cancel, signature and terminals; no other transaction kind, no reports. */
export const SALES: Capabilities = {
  pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false,
  preauth: false, completion: false, release: false, verify: false, reports: false,
};

export class ScriptedProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  capabilities: Capabilities;
  state: ConnectionState = { name: 'connected' };
  attempts: PaymentAttempt[] = [];
  lookups = 0;
  terminals: Terminal[];
  behaviour: (a: PaymentAttempt) => Promise<PaymentResult>;
  lookupAnswer: () => LookupResult = () => ({ found: 'nothing' });

  /** `answer`: the result every payment gets until a test sets `behaviour`. */
  constructor(answer: (request: PaymentRequest) => PaymentResult, opts: { capabilities?: Capabilities; terminals?: Terminal[] } = {}) {
    this.capabilities = { ...(opts.capabilities ?? SALES) };
    this.terminals = opts.terminals ?? [];
    this.behaviour = async (a) => answer(a.request);
  }

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
