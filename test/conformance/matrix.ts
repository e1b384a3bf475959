// The conformance matrix: one entry per provider. Every shared test reads what differs between
// providers from here, so test bodies never name a provider; adding a provider is one entry.

import type { Capabilities } from '../../lib/core/provider';
import type { PaymentResult, ProviderName } from '../../lib/core/types';
import { dojoEntry } from './entries/dojo';
import { modulusEntry } from './entries/modulus';
import { paymentsenseEntry } from './entries/paymentsense';
import { quickpayEntry } from './entries/quickpay';
import { sensepassEntry } from './entries/sensepass';

/** A provider's simulator, started for one test, as the shared tests need to see it. */
export interface SimulatorHandle {
  /** The base URL a `custom` config node takes. */
  url: string;
  /** The config node definition (environment 'custom', pointed at this simulator). */
  config(id: string): Record<string, unknown>;
  /** Node-RED credentials for that config node. */
  credentials(id: string): Record<string, unknown>;
  /** Sales the simulator's ledger holds (every sale it accepted, whatever its outcome). */
  charges(): number;
  /** Refunds the simulator's ledger holds. */
  refunds(): number;
  /** Every transaction of any kind the simulator accepted (pre-auths, completions, ...), where it offers kinds. */
  transactions?(): number;
  /** The credential the simulator checks; it must never leak into logs, statuses or output. */
  secret: string;
  /** Client connections the simulator holds open right now (redeploys must close them all), where it can tell. */
  openConnections?(): number;
  /** Waits, after the node says connected, until the simulator is ready for payments and events. */
  ready?(): Promise<void>;
  stop(): Promise<void>;
  faults?: {
    /** Refuse the credential from now on: the next (re)connection is refused. */
    refuseCredentials?(on: boolean): void;
    /** Drops every client connection, for providers whose reconnect cannot be forced by a payment (…55). */
    drop?(): void;
  };
  /** For providers that take no payments: makes the simulator send one event the notification node wants. */
  emitEvent?(): void;
}

/** When a cancel from the flow lands: at once, before the terminal has shown anything, or on its first prompt. */
export type CancelTiming = 'before_first_progress' | 'on_progress';

export interface ConformanceEntry {
  provider: ProviderName;
  /** The config node type, e.g. 'pos-paymentsense'. */
  configType: string;
  /** What the suite expects; must equal the adapter's and the editor table's. */
  capabilities: Capabilities;
  /** require()d node files: the config node and every flow node the suite uses. */
  nodeModules: unknown[];
  /** Starts the provider's simulator on 127.0.0.1, port 0, fast timings. */
  start(): Promise<SimulatorHandle>;
  /** A terminal that follows the shared amount rule; omitted where the provider pays on a paired device. */
  terminalId?: string;
  currency: string;
  /** Amounts are base + the two digits the amount rule reads (50 approved, 51 declined ...). Default 1200. */
  amountBase?: number;
  /** Provider-specific options a refund of `paid` needs (a payment intent, a transaction number). */
  refundOptions?(paid: PaymentResult): Record<string, unknown>;
  /** Undefined: the flow cannot cancel (capability cancel is false). */
  cancelFromFlow?: CancelTiming;
  /** The amount whose payment waits long enough for a cancel to land. Default: the approved amount. */
  cancelAmount?: number;
  /** What a payment whose connection drops mid-way (amount ending 55) ends as. */
  dropOutcome: 'approved';
  /** pos-notification-in must see at least one of these for one approved payment (or, without pay, after emitEvent). */
  notificationOfPayment: string[];
  /** Extra properties of the notification node (QuickPay: the streams it subscribes to). */
  notificationNode?: Record<string, unknown>;
  /** The provider's events name the payment, so they carry our reference. */
  notificationsCarryReference: boolean;
}

/** The providers every shared test runs for. */
export const MATRIX: readonly ConformanceEntry[] = [paymentsenseEntry, dojoEntry, modulusEntry, sensepassEntry, quickpayEntry];

/** Amounts by the shared amount rule for one entry. */
export function amounts(entry: ConformanceEntry) {
  const base = entry.amountBase ?? 1200;
  return {
    approved: base + 50,
    declined: base + 51,
    timedOut: base + 52,
    cancelledOnTerminal: base + 54,
    drop: base + 55,
  };
}
