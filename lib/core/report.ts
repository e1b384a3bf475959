// Terminal reports (end of day, banking, X and Z balance), normalised across providers (see
// DESIGN.md `pos-report`). Few providers offer them (the registry's `reports` capability); the
// shapes stay provider-free so another provider is an adapter, not a new message.

import { PosError } from './errors';
import type { ProviderName } from './types';

export const REPORT_TYPES = ['end_of_day', 'banking', 'x_balance', 'z_balance'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export const REPORT_RESULTS = ['complete', 'timed_out'] as const;
export type ReportOutcome = (typeof REPORT_RESULTS)[number];

/** What a flow asks for; already validated (see reportRequestFrom). */
export interface ReportRequest {
  type: ReportType;
  terminalId: string;
}

/** Totals a balance report carries, in minor units; the provider's full object stays in raw. */
export interface ReportBalances {
  currency?: string;
  totalAmount?: number;
  salesAmount?: number;
  salesCount?: number;
  refundsAmount?: number;
  refundsCount?: number;
  cashbackAmount?: number;
  cashbackCount?: number;
  gratuityAmount?: number;
  gratuityCount?: number;
  /** When the totals were last reset, as the terminal says it (a time, or a word such as INSTALLATION). */
  since?: string;
}

export interface ReportResult {
  provider: ProviderName;
  terminalId: string;
  type: ReportType;
  result: ReportOutcome;
  /** The printed report, one string per line (separators as empty strings). */
  lines: string[];
  balances?: ReportBalances;
  raw: unknown;
}

export interface ReportProgress {
  terminalId: string;
  provider: ProviderName;
  /** Stable lower-case name: report_started, report_finished, ... */
  event: string;
  message: string;
  raw: unknown;
}

/** Per-run settings the node passes to the adapter. */
export interface ReportRun {
  /** Absolute deadline (ms since epoch) for the report's answer. */
  deadline: number;
  onProgress(progress: ReportProgress): void;
  /**
   * The provider's wire name for the report request, where it is not documented and so is the
   * node's to set (e.g. a WebSocket API that documents none: [inferred], default `report`).
   */
  method?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `msg.payload` → a report request, or a bad_input error naming what is wrong. `terminalId`
 * is required: a report prints on, and resets the totals of, one particular terminal.
 */
export function reportRequestFrom(payload: unknown): ReportRequest {
  if (!isObject(payload)) {
    throw new PosError('bad_input', 'msg.payload must be an object: { type: "end_of_day" | "banking" | "x_balance" | "z_balance", terminalId }');
  }
  const { type, terminalId } = payload;
  if (typeof type !== 'string' || !(REPORT_TYPES as readonly string[]).includes(type)) {
    throw new PosError('bad_input', `msg.payload.type must be one of ${REPORT_TYPES.join(', ')}, got ${JSON.stringify(type) ?? 'nothing'}`);
  }
  if (terminalId !== undefined && terminalId !== null && typeof terminalId !== 'string') {
    throw new PosError('bad_input', `msg.payload.terminalId must be a string (a terminal id as a terminals node lists it), got ${typeof terminalId}`);
  }
  if (typeof terminalId !== 'string' || terminalId.trim() === '') {
    throw new PosError('bad_input', 'msg.payload.terminalId is required: the terminal that runs the report (a terminals node lists them)');
  }
  return { type: type as ReportType, terminalId };
}
