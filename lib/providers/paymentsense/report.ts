// Runs one terminal report over the PAC connection (see report-wire.ts for what is [inferred]).
// A report is never repeated by the pack: a Z or end-of-day report resets the terminal's
// totals, so after a lost answer only a person looking at the terminal knows what happened.

import { randomUUID } from 'node:crypto';
import { PosError, isPosError } from '../../core/errors';
import { JsonRpcError, RPC_ERRORS } from '../../core/jsonrpc';
import type { Unsubscribe } from '../../core/provider';
import type { Redactor } from '../../core/redact';
import type { ReportBalances, ReportOutcome, ReportRequest, ReportResult, ReportRun } from '../../core/report';
import type { Logger, NotificationEvent } from '../../core/types';
import { isWireTerminal, progressMessage } from './mapping';
import { DEFAULT_REPORT_METHOD, WIRE_REPORT_TYPE, isWireReport, type WireBalances, type WireReport } from './report-wire';
import { APP_ERROR, METHOD } from './wire';

/** What the report needs of the client: its JSON-RPC requests and its notification stream. */
export interface ReportChannel {
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  onNotification(listener: (event: NotificationEvent) => void): Unsubscribe;
  logger: Logger;
  redact: Redactor;
}

/** The terminal check before the report is short: a terminal that does not answer this will not print a report either. */
const CHECK_LIMIT_MS = 10_000;

const RESULT: Readonly<Record<string, ReportOutcome>> = { COMPLETE: 'complete', TIMED_OUT: 'timed_out' };

export async function runReport(channel: ReportChannel, request: ReportRequest, run: ReportRun): Promise<ReportResult> {
  const tid = request.terminalId;
  const method = run.method?.trim() || DEFAULT_REPORT_METHOD;
  const remaining = () => Math.max(1, run.deadline - Date.now());
  await assertTerminalFree(channel, tid, Math.min(CHECK_LIMIT_MS, remaining()));

  const requestId = randomUUID();
  const off = channel.onNotification((event) => {
    const data = (event.data && typeof event.data === 'object' ? event.data : {}) as { requestId?: unknown; notification?: unknown };
    // Matched by our requestId; a notification without one counts when it names our terminal and is a report's.
    const ours = data.requestId !== undefined ? data.requestId === requestId : event.terminalId === tid && event.event.startsWith('report_');
    if (!ours) return;
    const value = typeof data.notification === 'string' ? data.notification : event.event.toUpperCase();
    run.onProgress({ terminalId: tid, provider: 'paymentsense', event: event.event, message: progressMessage(value), raw: event.data });
  });
  try {
    const answer = await channel.request(method, { tid, reportType: WIRE_REPORT_TYPE[request.type], requestId }, remaining());
    return toReport(answer, request, channel);
  } catch (err) {
    throw explain(err, method, tid);
  } finally {
    off();
  }
}

/**
 * Asks Connect (terminalDetails, [doc]) whether the terminal is free, so a report for a busy
 * terminal fails clearly with nothing sent. A server that cannot say lets the report itself
 * find out.
 */
async function assertTerminalFree(channel: ReportChannel, tid: string, limitMs: number): Promise<void> {
  let details: unknown;
  try {
    details = await channel.request(METHOD.terminalDetails, { tid }, limitMs);
  } catch (err) {
    if (err instanceof JsonRpcError && err.code === RPC_ERRORS.invalidParams) {
      throw new PosError('bad_input', `Paymentsense does not know terminal "${tid}" (${err.message}); no report was started. A terminals node lists the terminals`);
    }
    if (err instanceof JsonRpcError) {
      channel.logger.debug(`could not check terminal ${tid} before its report: ${channel.redact(err.message)}`);
      return;
    }
    throw err;
  }
  if (isWireTerminal(details) && details.status === 'BUSY') throw busy(tid);
}

function busy(tid: string): PosError {
  return new PosError('bad_input', `terminal ${tid} is busy (a payment or a report is running on it); no report was started. Run the report when the terminal is free`);
}

function explain(err: unknown, method: string, tid: string): unknown {
  if (err instanceof JsonRpcError) {
    // -32000 is also what an error without a numeric code becomes, so the words must say busy too.
    if (err.code === APP_ERROR.terminalBusy && /busy/i.test(err.message)) return busy(tid);
    if (err.code === RPC_ERRORS.methodNotFound) {
      return new PosError('provider_error', `Paymentsense does not know the report request "${method}". Its WebSocket name is not documented: set the report node's Method to the name your Connect account uses`, { code: err.code });
    }
    if (err.code === RPC_ERRORS.invalidParams) return new PosError('bad_input', `Paymentsense refused the report: ${err.message}`, { code: err.code });
    return new PosError('provider_error', `Paymentsense refused the report: ${err.message}`, { code: err.code });
  }
  if (isPosError(err) && (err.code === 'timeout' || err.code === 'protocol_error')) {
    const why = err.code === 'timeout' ? 'no report came back within the timeout' : err.message;
    // Running it again blindly could print, and for Z or end of day reset, a second time.
    return new PosError(err.code, `${why}: the report may still have run on terminal ${tid}. Check the terminal before running it again`);
  }
  return err;
}

function toReport(answer: unknown, request: ReportRequest, channel: ReportChannel): ReportResult {
  if (!isWireReport(answer)) {
    const why = isWireReport.explain();
    channel.logger.warn(`Paymentsense sent a report that does not match its schema: ${why}`);
    throw new PosError('protocol_error', `Paymentsense answered the report with something this pack cannot read (${why}); check the terminal's printout`, { raw: answer });
  }
  const result = RESULT[answer.reportResult];
  if (!result) {
    throw new PosError('protocol_error', `Paymentsense answered the report with result "${answer.reportResult.slice(0, 40)}", which this pack does not know; check the terminal's printout`, { raw: answer });
  }
  const balances = answer.balances ? mapBalances(answer.balances) : undefined;
  return {
    provider: 'paymentsense',
    terminalId: typeof answer.tid === 'string' && answer.tid !== '' ? answer.tid : request.terminalId,
    type: request.type,
    result,
    lines: reportLines(answer),
    ...(balances ? { balances } : {}),
    raw: answer,
  };
}

/** One string per printed line; separators and feeds carry no text and become empty lines. */
function reportLines(report: WireReport): string[] {
  return (report.reportLines ?? []).map((line) => (typeof line.value === 'string' ? line.value : ''));
}

function mapBalances(b: WireBalances): ReportBalances {
  const out: ReportBalances = {};
  const put = <K extends keyof ReportBalances>(key: K, value: ReportBalances[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  put('currency', b.currency);
  put('totalAmount', b.totalAmount);
  put('salesAmount', b.totalSalesAmount);
  put('salesCount', b.totalSalesCount);
  put('refundsAmount', b.totalRefundsAmount);
  put('refundsCount', b.totalRefundsCount);
  put('cashbackAmount', b.totalCashbackAmount);
  put('cashbackCount', b.totalCashbackCount);
  put('gratuityAmount', b.totalGratuityAmount);
  put('gratuityCount', b.totalGratuityCount);
  put('since', b.totalsSince);
  return out;
}
