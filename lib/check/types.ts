// The shape of a connection check, shared by the CLI, the admin endpoint and the tests.
// DESIGN.md "Checking a real account" fixes the JSON: { provider, ok, steps: [{ name, ok, detail }], facts }.

import type { PaymentProvider } from '../core/provider';
import type { ConnectionState } from '../core/types';
import type { WireTap } from '../core/wire-log';

export type Environment = 'simulator' | 'test' | 'production' | 'custom';

export type StepName = 'settings' | 'address' | 'tls' | 'authenticated' | 'handshake' | 'terminals' | 'facts' | 'payment' | 'lookup';

export interface CheckStep {
  name: StepName;
  ok: boolean;
  /** One plain sentence; on failure it says what to change. Never a secret. */
  detail: string;
}

/** A provider fact the check could settle, with the config option to set when it differs from the default. */
export interface CheckFact {
  value: string | number | boolean | string[];
  /** Set when the account needs a non-default option: "set X to Y on the connection". */
  advice?: string;
}

export interface CheckReport {
  provider: string;
  ok: boolean;
  steps: CheckStep[];
  facts: Record<string, CheckFact>;
}

export interface CheckInput {
  environment: Environment;
  /** With `custom`: the base URL, as the config node takes it. */
  url?: string;
  verifyTls?: boolean;
  /** Non-secret config fields by their property names (account, softwareHouseId, ...). */
  fields: Record<string, string | undefined>;
  /** Credentials by their property names (token, apiKey, ...). */
  secrets: Record<string, string | undefined>;
  /** Take one small test payment (never in production). */
  pay?: { amount: number; currency?: string; terminalId?: string };
  /** Keep listening this long before reading facts off the wire (event names arrive when they arrive). At most 5 min. */
  listenMs?: number;
  /** How long the connection may take to answer. Default 10 s. */
  timeoutMs?: number;
  /** Sees every frame in and out (the wire log). */
  wire?: WireTap;
  /** Resolves a host name; default Node's DNS. For a resolver of one's own, and for tests that must not query DNS. */
  lookup?: (host: string) => Promise<unknown>;
}

/** What a provider's check module builds from the input: an adapter plus what to probe. */
export interface CheckTarget {
  provider: PaymentProvider;
  /** The address the adapter connects to first, probed for DNS, TCP and TLS. */
  address: string;
  /** Observes the frames the adapter exchanges, so facts can be read off the wire. */
  observed: FrameLog;
  /** When a connected state is ready to judge (a provider with channels: once every channel's auth has an answer). */
  ready?: (state: ConnectionState) => boolean;
  /**
   * Tried once when the handshake failed, to find a setting that works (another version of the
   * provider's client library, say). Whatever it reports goes into the facts; the step still fails.
   */
  afterHandshakeFailed?: (report: FactSink) => Promise<void>;
  /** Provider facts beyond the common steps, checked without moving money. */
  facts?: (report: FactSink) => Promise<void>;
  /** Facts read from the frames of a test payment (--pay). */
  factsAfterPay?: (report: FactSink) => void;
  /** Stops what the check module started besides the adapter (a built-in simulator). */
  cleanup?: () => Promise<void>;
}

export type FactSink = (name: string, fact: CheckFact) => void;

/** The frames seen during a check, in order, as text (already the adapter's own wire view). */
export interface FrameLog {
  frames: Array<{ direction: 'in' | 'out'; text: string }>;
}

export interface ProviderCheck {
  provider: string;
  /** Non-secret fields the config node has, as CLI flags take them. */
  fields: readonly string[];
  /** Credential names; the CLI reads POS_<PROVIDER>_<NAME in upper snake case>. */
  secrets: readonly string[];
  /** Credentials without which no check can start, named for a dialog that lacks them. */
  required(input: CheckInput): string[];
  /** What a refused credential is called in "authenticated: no, the <label> was refused". */
  credentialLabel: string;
  /** Said after a refusal when an [inferred] part of the sign-in could be the cause instead of the credential. */
  refusedHint?: string;
  /** The currency of a test payment when neither --currency nor the terminal names one. */
  defaultCurrency: string;
  build(input: CheckInput, wire: WireTap, observed: FrameLog): Promise<CheckTarget>;
}
