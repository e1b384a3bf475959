// What every provider adapter offers the nodes. Nodes never look at a provider's name to
// decide behaviour: they ask `capabilities`, so a new provider is an adapter plus an entry.

import type { RequestServer } from './inbound';
import type { ReportRequest, ReportResult, ReportRun } from './report';
import type { ConnectionState, NotificationEvent, PaymentKind, PaymentRequest, PaymentResult, ProgressEvent, ProviderName, Terminal } from './types';

export interface Capabilities {
  pay: boolean;
  refund: boolean;
  cancel: boolean;
  signature: boolean;
  terminals: boolean;
  notifications: boolean;
  requests: boolean;
  /** Transaction kinds beyond sale and refund (DESIGN.md "Transaction kinds"). */
  preauth: boolean;
  completion: boolean;
  release: boolean;
  verify: boolean;
  /** End-of-day, banking and X/Z balance reports printed by a terminal (pos-report). */
  reports: boolean;
}

export type Capability = keyof Capabilities;

/** The capability a transaction kind needs. */
export function capabilityOf(kind: PaymentKind): Capability {
  return kind === 'sale' ? 'pay' : kind;
}

/** Per-attempt data the journal keeps before anything is sent, so the attempt can be asked about later. */
export interface PaymentAttempt {
  request: PaymentRequest;
  /** A UUID for this attempt; adapters use it as the provider's request id where they can. */
  attemptId: string;
  /** Absolute deadline (ms since epoch) for the final result. */
  deadline: number;
  onProgress: (event: ProgressEvent) => void;
  /**
   * Records provider ids (a payment intent, a session) in the journal before the adapter goes
   * on, so that lookup() can find the payment after a lost result or a restart. Resolves once
   * the note is stored.
   */
  note: (notes: Record<string, unknown>) => Promise<void>;
}

/** What lookup() is told about an earlier attempt. */
export interface AttemptRecord {
  request: PaymentRequest;
  attemptId: string;
  /** When the attempt was journalled (ISO 8601). */
  startedAt: string;
  /** What the adapter noted during the attempt, if anything. */
  notes?: Record<string, unknown>;
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
  lookup(attempt: AttemptRecord): Promise<LookupResult>;
  onState(listener: (state: ConnectionState) => void): Unsubscribe;
  onNotification(listener: (event: NotificationEvent) => void): Unsubscribe;
  /** Runs one report on a terminal (capability `reports`). Only failures to talk reject; a terminal's TIMED_OUT is a result. */
  runReport?(request: ReportRequest, run: ReportRun): Promise<ReportResult>;
  /** Providers that call us (capability `requests`) serve flows through this. */
  readonly requests?: RequestServer;
  /**
   * Told when the first notification listener arrives and the last leaves, for providers that
   * must ask the remote side to send events (e.g. by registering event capabilities).
   */
  setNotificationInterest?(wanted: boolean): void;
  /**
   * For providers whose events come on channels one subscribes to: told the union of the
   * topics every notification listener asked for, whenever it changes. A topic is a stream name
   * the provider knows (e.g. `rates`, `payments`) or `channel:<name>` for a channel by name.
   */
  setTopics?(topics: readonly string[]): void;
  /** The channel names a set of topics stands for, so each listener gets only its own channels' events. */
  channelsOf?(topics: readonly string[]): string[];
}
