// Paymentsense Connect reports (protocol notes 3.7). Connect documents reports for REST only
// (POST /pac/terminals/{tid}/reports, then polling); whether and how the WebSocket API carries
// them is [inferred]. The pack sends one JSON-RPC request whose answer is the finished report
// in REST's `reportResponse` shape plus `tid`, with REPORT_STARTED / REPORT_FINISHED as
// progress notifications. The method name is the report node's to set because it is a guess.

import { compileSchema } from '../../core/schema';
import type { ReportType } from '../../core/report';
import derived from './report-schema.generated.json';
import type { WireReceiptLine } from './wire';

/** The report request's method name when the node leaves it empty [inferred]. */
export const DEFAULT_REPORT_METHOD = 'report';

/** `reportType` values [related: REST]. */
export const WIRE_REPORT_TYPE: Readonly<Record<ReportType, string>> = Object.freeze({
  end_of_day: 'END_OF_DAY',
  banking: 'BANKING',
  x_balance: 'X_BALANCE',
  z_balance: 'Z_BALANCE',
});

export const REPORT_NOTIFICATIONS = ['REPORT_STARTED', 'REPORT_FINISHED'] as const;

export interface WireReportRequest {
  tid: string;
  reportType: string;
  /** Client-chosen UUID, as for transactions, so progress notifications can be matched to it. */
  requestId: string;
}

/** Totals as REST's `totalsBreakdown` (issuer, waiter and banking session totals). */
export interface WireTotals {
  currency?: string;
  totalAmount?: number;
  totalSalesAmount?: number;
  totalSalesCount?: number;
  totalRefundsAmount?: number;
  totalRefundsCount?: number;
  [k: string]: unknown;
}

/** REST `reportBalances`: X, Z and end of day. */
export interface WireBalances extends WireTotals {
  totalCashbackAmount?: number;
  totalCashbackCount?: number;
  totalGratuityAmount?: number;
  totalGratuityCount?: number;
  totalsSince?: string;
  issuerTotals?: Record<string, WireTotals>;
  waiterTotals?: Record<string, WireTotals>;
}

/** REST `reportBanking`, one per acquirer: banking and end of day. */
export interface WireBanking {
  currency?: string;
  currentSessionTotals?: WireTotals;
  previousSessionTotals?: WireTotals;
  currentSessionIssuerTotals?: Record<string, WireTotals>;
  previousSessionIssuerTotals?: Record<string, WireTotals>;
  currentSessionTransactionNumbers?: string[];
  previousSessionTransactionNumbers?: string[];
  [k: string]: unknown;
}

/** REST `reportResponse` [related: REST] plus `tid`. */
export interface WireReport {
  requestId?: string;
  tid?: string;
  reportType?: string;
  reportResult: string; // COMPLETE | TIMED_OUT, open
  reportTime?: string;
  notifications?: string[];
  reportLines?: WireReceiptLine[];
  balances?: WireBalances;
  banking?: Record<string, WireBanking>;
  [k: string]: unknown;
}

export const isWireReport = compileSchema<WireReport>(derived.report);
