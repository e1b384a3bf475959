// Normalised shapes shared by every provider (see DESIGN.md "Messages"). Money is always an
// integer in minor units plus an ISO 4217 code.

export type ProviderName = 'paymentsense' | 'dojo' | 'modulus' | 'quickpay' | 'sensepass';

export const OUTCOMES = ['approved', 'declined', 'cancelled', 'failed', 'timed_out', 'voided', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type TerminalStatus = 'available' | 'busy' | 'offline' | 'unknown';

/**
 * Transaction kinds (DESIGN.md "Transaction kinds"). `sale` and `refund` every paying provider
 * has; the others only where `Capabilities` says so. `completion` and `release` act on an
 * earlier approved `preauth`, named by `originalReference`.
 */
export const PAYMENT_KINDS = ['sale', 'refund', 'preauth', 'completion', 'release', 'verify'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

/** The kinds that act on an earlier pre-auth rather than on a card. */
export const LINKED_KINDS: readonly PaymentKind[] = ['completion', 'release'];

/**
 * What a completion or release needs of its pre-auth, copied from the journal by the pack
 * (never from the flow), so the flow only ever names the pre-auth by its reference.
 */
export interface OriginalPayment {
  reference: string;
  amount: number;
  currency: string;
  terminalId?: string;
  transactionId?: string;
  authCode?: string;
  /** What the adapter noted while the pre-auth ran (Dojo: its payment intent id). */
  notes?: Record<string, unknown>;
}

/** What a flow asks for; already validated (see request.ts). */
export interface PaymentRequest {
  kind: PaymentKind;
  amount: number;
  currency: string;
  reference: string;
  terminalId?: string;
  tip?: number;
  cashback?: number;
  /** Provider-specific fields passed through untouched. */
  options?: Record<string, unknown>;
  /** completion / release: the reference of the pre-auth acted on. */
  originalReference?: string;
  /** completion / release: filled from the journal before the request is journalled itself. */
  original?: OriginalPayment;
}

export interface CardDetails {
  scheme?: string;
  last4?: string;
  entryMode?: string;
  verification?: string;
}

export interface PaymentResult {
  /**
   * The kind of the request this answers. Adapters may leave it out: the payment service sets
   * it on every result that reaches a flow, a journal or a payment_recovered event.
   */
  kind?: PaymentKind;
  outcome: Outcome;
  approved: boolean;
  amount: number;
  currency: string;
  reference: string;
  terminalId?: string;
  provider: ProviderName;
  transactionId?: string;
  authCode?: string;
  card: CardDetails;
  receipt: { merchant?: string[]; customer?: string[] };
  message: string;
  raw: unknown;
}

export interface ProgressEvent {
  reference: string;
  terminalId?: string;
  provider: ProviderName;
  /** Stable lower-case name such as present_card, pin_entry, signature_required. */
  event: string;
  message: string;
  raw: unknown;
}

export interface Terminal {
  id: string;
  name: string;
  status: TerminalStatus;
  provider: ProviderName;
  raw: unknown;
}

export interface NotificationEvent {
  provider: ProviderName;
  event: string;
  reference?: string;
  terminalId?: string;
  channel?: string;
  data: unknown;
  receivedAt: string;
}

/** The one source of truth for a connection's state, shown under every node using it. */
export type ConnectionState =
  | { name: 'idle' }
  | { name: 'connecting'; attempt: number }
  /** `channels`: for providers that subscribe to channels (QuickPay), how many are subscribed and how many still on their way. */
  | { name: 'connected'; channels?: { subscribed: number; subscribing: number } }
  | { name: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { name: 'unauthorized'; reason: string }
  | { name: 'displaced'; reason: string }
  /**
   * Another Node-RED instance on the same shared journal holds the provider's one connection;
   * payments are handed to it. `paysHere`: only one part of the provider is held elsewhere (Dojo's
   * EPOS socket, Paymentsense's pay at table), and payments go out from this instance itself.
   */
  | { name: 'standby'; reason: string; paysHere?: true }
  | { name: 'error'; reason: string }
  | { name: 'closed' };

export type ConnectionStateName = ConnectionState['name'];

/** Where the library reports what it sees. Everything passed here is already redacted. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
