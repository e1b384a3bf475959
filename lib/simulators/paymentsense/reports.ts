// Terminal reports in the PAC simulator: END_OF_DAY, BANKING, X_BALANCE and Z_BALANCE on one
// terminal, answered in REST's `reportResponse` shape plus `tid` (protocol notes 3.7), with
// REPORT_STARTED / REPORT_FINISHED as progress notifications. Over the WebSocket all of this is
// [inferred]; the method name is the client's default (DEFAULT_REPORT_METHOD).
//
// The totals are the simulator's own ledger: approved sales and refunds on that terminal since
// its totals were last reset. A Z balance and an end of day reset them (an X balance only
// reads them); an end of day also closes the banking session. Terminals whose id ends TIP0
// answer TIMED_OUT, as their payments do.

import { randomUUID } from 'node:crypto';
import { formatMinor } from '../../core/money';
import { DEFAULT_REPORT_METHOD, type WireBalances, type WireBanking, type WireReport, type WireTotals } from '../../providers/paymentsense/report-wire';
import { APP_ERROR, METHOD, type WireReceiptLine } from '../../providers/paymentsense/wire';
import { Clock } from '../clock';
import { DEFERRED, INVALID_PARAMS, RpcFault, type IncomingRequest, type RpcPeer } from './rpc';
import { terminalBehaviour, type TerminalPool } from './terminals';
import type { LedgerEntry } from './transactions';

const REPORT_TYPES = ['END_OF_DAY', 'BANKING', 'X_BALANCE', 'Z_BALANCE'] as const;
type WireReportType = (typeof REPORT_TYPES)[number];

/** One report request the simulator accepted (tests count these to prove nothing was sent). */
export interface ReportLedgerEntry {
  requestId: string;
  tid: string;
  reportType: WireReportType;
  /** Epoch ms when the request was accepted. */
  at: number;
  /** Set when the report ends: COMPLETE or TIMED_OUT. */
  result?: string;
}

export interface ReportEngineOptions {
  /** Time between the report's progress steps; 0 = answer at once, without notifications. */
  stepDelayMs: number;
  log(line: string): void;
}

/** REST keys banking totals by acquirer name; the simulated account has one acquirer, under a plain label. */
const ACQUIRER = 'SIMULATED ACQUIRER';
/** Reports run for this many step delays between REPORT_STARTED and the answer (printing). */
const PRINT_STEPS = 2;

/**
 * Which payments a terminal's reports have already closed. Kept by entry, not by time, so a
 * payment and a report within the same millisecond still land in exactly one period.
 */
interface Session {
  /** Epoch ms the totals were last reset; 0 = never ("INSTALLATION"). Shown, not counted by. */
  totalsSince: number;
  /** Payments a Z balance or end of day already reset. */
  reset: WeakSet<LedgerEntry>;
  /** Payments of banking sessions an end of day closed. */
  banked: WeakSet<LedgerEntry>;
  previousBanking: LedgerEntry[];
}

export class ReportEngine {
  readonly ledger: ReportLedgerEntry[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly clock = new Clock();

  constructor(
    private readonly pool: TerminalPool,
    private readonly payments: readonly LedgerEntry[],
    private readonly opts: ReportEngineOptions,
  ) {}

  handles(method: string): boolean {
    return method === DEFAULT_REPORT_METHOD;
  }

  handle(peer: RpcPeer, req: IncomingRequest): typeof DEFERRED {
    const p = req.params;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid('params must be an object');
    const { tid, reportType, requestId } = p as Record<string, unknown>;
    if (typeof tid !== 'string' || tid === '') throw invalid('tid is required');
    if (!this.pool.has(tid)) throw invalid('Unknown terminal', { tid });
    if (typeof reportType !== 'string' || !(REPORT_TYPES as readonly string[]).includes(reportType)) {
      throw invalid(`reportType must be one of ${REPORT_TYPES.join(', ')}`);
    }
    if (requestId !== undefined && (typeof requestId !== 'string' || requestId === '')) throw invalid('requestId must be a non-empty string');
    if (this.pool.isBusy(tid)) throw new RpcFault(APP_ERROR.terminalBusy, `Terminal ${tid} is busy`);
    const entry: ReportLedgerEntry = { requestId: requestId ?? randomUUID(), tid, reportType: reportType as WireReportType, at: Date.now() };
    this.ledger.push(entry);
    this.pool.hold(tid, entry.requestId);
    this.opts.log(`report ${entry.reportType} ${entry.requestId} on ${tid} started`);
    this.run(peer, req.id, entry).catch((err: Error) => this.opts.log(`report ${entry.requestId} failed: ${err.message}`));
    return DEFERRED;
  }

  /** Wakes every running report so it ends without answering, and clears its timers. */
  stop(): void {
    this.clock.dispose();
  }

  private async run(peer: RpcPeer, rpcId: string | number, entry: ReportLedgerEntry): Promise<void> {
    const notifications: string[] = [];
    const emit = (notification: string) => {
      notifications.push(notification);
      if (this.opts.stepDelayMs > 0) peer.notify(METHOD.transactionNotification, { tid: entry.tid, requestId: entry.requestId, notification, userMessage: notification === 'REPORT_STARTED' ? 'Report started' : 'Report finished' });
    };
    emit('REPORT_STARTED');
    if (this.opts.stepDelayMs > 0 && !(await this.clock.wait(this.opts.stepDelayMs * PRINT_STEPS))) {
      this.pool.release(entry.tid, entry.requestId);
      return;
    }
    const timedOut = terminalBehaviour(entry.tid) === 'timed-out';
    if (!timedOut) emit('REPORT_FINISHED');
    const report = timedOut ? this.timedOut(entry, notifications) : this.complete(entry, notifications);
    entry.result = report.reportResult;
    // Free the terminal before answering, as a transaction does, so the flow can go on at once.
    this.pool.release(entry.tid, entry.requestId);
    this.opts.log(`report ${entry.reportType} ${entry.requestId} on ${entry.tid}: ${report.reportResult}`);
    if (peer.open) peer.respond(rpcId, report);
  }

  private timedOut(entry: ReportLedgerEntry, notifications: string[]): WireReport {
    return { ...this.header(entry, notifications), reportResult: 'TIMED_OUT' };
  }

  private complete(entry: ReportLedgerEntry, notifications: string[]): WireReport {
    const session = this.session(entry.tid);
    const currency = this.pool.currency(entry.tid) ?? 'GBP';
    const report: WireReport = { ...this.header(entry, notifications), reportResult: 'COMPLETE' };
    const open = this.approved(entry.tid, currency).filter((e) => !session.reset.has(e));
    const banking = this.approved(entry.tid, currency).filter((e) => !session.banked.has(e));
    if (entry.reportType !== 'BANKING') report.balances = balances(open, currency, session.totalsSince);
    if (entry.reportType === 'BANKING' || entry.reportType === 'END_OF_DAY') {
      report.banking = { [ACQUIRER]: bankingTotals(banking, session.previousBanking, currency) };
    }
    report.reportLines = printout(entry, report, currency);
    // Z and end of day reset the totals after printing them; end of day also closes the banking session.
    if (entry.reportType === 'Z_BALANCE' || entry.reportType === 'END_OF_DAY') {
      for (const e of open) session.reset.add(e);
      session.totalsSince = Date.now();
    }
    if (entry.reportType === 'END_OF_DAY') {
      for (const e of banking) session.banked.add(e);
      session.previousBanking = banking;
    }
    return report;
  }

  private header(entry: ReportLedgerEntry, notifications: string[]): Omit<WireReport, 'reportResult'> {
    return {
      requestId: entry.requestId,
      tid: entry.tid,
      reportType: entry.reportType,
      reportTime: localIsoSeconds(new Date()),
      notifications: [...notifications],
    };
  }

  private session(tid: string): Session {
    let s = this.sessions.get(tid);
    if (!s) {
      s = { totalsSince: 0, reset: new WeakSet(), banked: new WeakSet(), previousBanking: [] };
      this.sessions.set(tid, s);
    }
    return s;
  }

  /** Approved payments on the terminal in its currency, in ledger order. */
  private approved(tid: string, currency: string): LedgerEntry[] {
    return this.payments.filter((e) => e.tid === tid && e.currency === currency && e.result === 'SUCCESSFUL');
  }
}

function balances(open: LedgerEntry[], currency: string, since: number): WireBalances {
  const withCashback = open.filter((e) => e.method === 'sale' && (e.amountCashback ?? 0) > 0);
  const withGratuity = open.filter((e) => (e.amountGratuity ?? 0) > 0);
  return {
    ...totals(open, currency),
    totalCashbackAmount: withCashback.reduce((n, e) => n + (e.amountCashback ?? 0), 0),
    totalCashbackCount: withCashback.length,
    totalGratuityAmount: withGratuity.reduce((n, e) => n + (e.amountGratuity ?? 0), 0),
    totalGratuityCount: withGratuity.length,
    totalsSince: since === 0 ? 'INSTALLATION' : localIsoSeconds(new Date(since)),
    // The ledger does not keep card schemes or waiters, so no split by issuer or waiter.
    issuerTotals: {},
    waiterTotals: {},
  };
}

function bankingTotals(current: LedgerEntry[], previous: LedgerEntry[], currency: string): WireBanking {
  return {
    currency,
    currentSessionTotals: totals(current, currency),
    previousSessionTotals: totals(previous, currency),
    currentSessionIssuerTotals: {},
    previousSessionIssuerTotals: {},
    currentSessionTransactionNumbers: [],
    previousSessionTransactionNumbers: [],
  };
}

/** Sales and refunds in minor units; totalAmount is what the period took: sales less refunds [inferred]. */
function totals(entries: LedgerEntry[], currency: string): Required<Pick<WireTotals, 'currency' | 'totalAmount' | 'totalSalesAmount' | 'totalSalesCount' | 'totalRefundsAmount' | 'totalRefundsCount'>> {
  const sales = entries.filter((e) => e.method === 'sale');
  const refunds = entries.filter((e) => e.method === 'refund');
  const salesAmount = sales.reduce((n, e) => n + e.amount, 0);
  const refundsAmount = refunds.reduce((n, e) => n + e.amount, 0);
  return {
    currency,
    totalAmount: salesAmount - refundsAmount,
    totalSalesAmount: salesAmount,
    totalSalesCount: sales.length,
    totalRefundsAmount: refundsAmount,
    totalRefundsCount: refunds.length,
  };
}

function invalid(message: string, data?: unknown): RpcFault {
  return new RpcFault(INVALID_PARAMS, message, data);
}

const TITLES: Readonly<Record<WireReportType, string>> = {
  END_OF_DAY: 'END OF DAY REPORT',
  BANKING: 'BANKING REPORT',
  X_BALANCE: 'X BALANCE REPORT',
  Z_BALANCE: 'Z BALANCE REPORT',
};

/** What the terminal prints: the same numbers as the report's balances and banking objects. */
function printout(entry: ReportLedgerEntry, report: WireReport, currency: string): WireReceiptLine[] {
  const text = (value: string, format?: string[]): WireReceiptLine => (format ? { type: 'TEXT', format, value } : { type: 'TEXT', value });
  const rule = (type: 'LINE_SEPARATOR_SINGLE' | 'LINE_SEPARATOR_DOUBLE'): WireReceiptLine => ({ type, value: '' });
  const money = (minor: number) => formatMinor(minor, currency);
  const lines: WireReceiptLine[] = [
    text('PAYMENTSENSE CONNECT SIMULATOR', ['BOLD']),
    text(TITLES[entry.reportType], ['BOLD', 'DOUBLE_HEIGHT']),
    rule('LINE_SEPARATOR_SINGLE'),
    text(`TID: ${entry.tid}`),
    text(String(report.reportTime).replace('T', ' ')),
  ];
  const b = report.balances;
  if (b) {
    lines.push(rule('LINE_SEPARATOR_SINGLE'));
    lines.push(text(`TOTALS SINCE ${String(b.totalsSince).replace('T', ' ')}`));
    lines.push(text(`SALES ${b.totalSalesCount} ${money(b.totalSalesAmount ?? 0)}`));
    lines.push(text(`REFUNDS ${b.totalRefundsCount} ${money(b.totalRefundsAmount ?? 0)}`));
    lines.push(text(`CASHBACK ${b.totalCashbackCount} ${money(b.totalCashbackAmount ?? 0)}`));
    lines.push(text(`GRATUITY ${b.totalGratuityCount} ${money(b.totalGratuityAmount ?? 0)}`));
    lines.push(text(`TOTAL ${money(b.totalAmount ?? 0)}`, ['BOLD']));
  }
  const bank = report.banking?.[ACQUIRER];
  if (bank) {
    lines.push(rule('LINE_SEPARATOR_SINGLE'));
    lines.push(text(ACQUIRER));
    for (const [label, t] of [['CURRENT SESSION', bank.currentSessionTotals], ['PREVIOUS SESSION', bank.previousSessionTotals]] as const) {
      lines.push(text(`${label} ${t?.totalSalesCount ?? 0} SALES ${money(t?.totalAmount ?? 0)}`));
    }
  }
  if (entry.reportType === 'Z_BALANCE' || entry.reportType === 'END_OF_DAY') lines.push(text('TOTALS RESET', ['BOLD']));
  if (entry.reportType === 'END_OF_DAY') lines.push(text('BANKING SESSION CLOSED'));
  lines.push(rule('LINE_SEPARATOR_DOUBLE'));
  lines.push(text('END OF REPORT'));
  lines.push({ type: 'TICKET_FEED', value: '' });
  return lines;
}

/** The REST schema gives `YYYY-MM-DDThh:mm:ss` with no zone, i.e. the terminal's local time. */
function localIsoSeconds(d: Date): string {
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
