// What every provider adapter offers the nodes. Nodes never look at a provider's name to
// decide behaviour: they ask `capabilities`, so a new provider is an adapter plus an entry.

import type { ConnectionState, NotificationEvent, PaymentRequest, PaymentResult, ProgressEvent, ProviderName, Terminal } from './types';

export interface Capabilities {
  pay: boolean;
  refund: boolean;
  cancel: boolean;
  signature: boolean;
  terminals: boolean;
  notifications: boolean;
  requests: boolean;
}

export type Capability = keyof Capabilities;

/** Per-attempt data the journal keeps before anything is sent, so the attempt can be asked about later. */
export interface PaymentAttempt {
  request: PaymentRequest;
  /** A UUID for this attempt; adapters use it as the provider's request id where they can. */
  attemptId: string;
  /** Absolute deadline (ms since epoch) for the final result. */
  deadline: number;
  onProgress: (event: ProgressEvent) => void;
}

/** What asking the provider about an earlier attempt found. */
export type LookupResult =
  | { found: 'result'; result: PaymentResult }
  | { found: 'in_progress' }
  | { found: 'nothing' }
  | { found: 'cannot_ask'; reason: string };

export type Unsubscribe = () => void;

export interface PaymentProvider {
  readonly name: ProviderName;
  readonly capabilities: Capabilities;
  readonly state: ConnectionState;
  /** Opens the connection (first user arrived). */
  start(): void;
  /** Closes everything it opened, within 2 s. */
  stop(): Promise<void>;
  /** Runs one sale or refund to its final result. A decline resolves; only failures to talk reject. */
  pay(attempt: PaymentAttempt): Promise<PaymentResult>;
  cancel(reference: string): Promise<void>;
  answerSignature(reference: string, accepted: boolean): Promise<void>;
  listTerminals(): Promise<Terminal[]>;
  /** Asks the provider what became of an attempt whose result was lost (disconnect, restart). */
  lookup(attempt: { request: PaymentRequest; attemptId: string }): Promise<LookupResult>;
  onState(listener: (state: ConnectionState) => void): Unsubscribe;
  onNotification(listener: (event: NotificationEvent) => void): Unsubscribe;
}
