// The pay-at-table terminal (protocol notes 4.1 and 5): while an EPoS holds /pat it walks the
// tables on its own (list, lock the first open table, print the bill, take one or two payments
// for the locked amount, report them, ask for the final receipt when the flag is on, unlock),
// times out slow EPoS replies, and keeps only the newest PAT client, telling the older one
// "Connection Discontinued" [doc]. The message names are yetipay's [related: yetipay]; the
// client's tolerance is tested by the client's tests, so the simulator speaks them plainly.

import { randomUUID } from 'node:crypto';
import { ERROR_MESSAGE } from '../../providers/paymentsense/pat-wire';
import { isObject } from '../socket-util';
import type { RpcPeer } from './rpc';

export interface TablePayment {
  /** ISO time the payment was taken. */
  at: string;
  tableId: string;
  paymentId: string;
  amount: number;
  currency: string;
  authCode: string;
  cardSchemeName: string;
}

export interface PatStep {
  method: string;
  params: Record<string, unknown>;
  result?: unknown;
  /** Set when the EPoS answered with an error, did not answer in time, or the connection closed. */
  failure?: string;
}

export interface PatWalkReport {
  ok: boolean;
  tableId?: string;
  steps: PatStep[];
  /** Sum of the payments taken, minor units. */
  paid: number;
  message: string;
}

export interface PatFaults {
  /** The terminal gives up on every EPoS answer at once, as if the EPoS were always too slow. */
  eposTooSlow: boolean;
  /** The terminal asks to lock a table the EPoS did not list, which a correct EPoS refuses. */
  lockRefused: boolean;
  /** The terminal reports an errorMessage at the start of each walk. */
  errorMessages: boolean;
}

export interface PatTerminalOptions {
  /** First walk this long after an EPoS connects to /pat; 0 = no walks on their own. */
  firstWalkMs: number;
  /** Then one walk every this long while it stays connected. */
  walkEveryMs: number;
  /** How long the terminal waits for each EPoS answer (undocumented on the real terminal). */
  replyTimeoutMs: number;
  faults: Readonly<PatFaults>;
  log(line: string): void;
}

/** What the server gives the terminal about a new /pat client. */
export interface PatClient {
  peer: RpcPeer;
  /** The connection URL carried final-pos-receipt-request. */
  finalReceipt: boolean;
  close(code: number, reason: string): void;
}

const KEEP_WALKS = 20;
const DISCONTINUED = 'Connection Discontinued';

export class PatTerminal {
  /** Every payment the terminal took at a table, in order; the same array for the simulator's lifetime. */
  readonly ledger: TablePayment[] = [];
  /** The latest walks, newest last (at most 20). */
  readonly walks: PatWalkReport[] = [];
  private client: PatClient | undefined;
  private walkTimer: NodeJS.Timeout | undefined;
  private walking: Promise<PatWalkReport> | undefined;
  private walkCount = 0;
  private stopped = false;

  constructor(private readonly opts: PatTerminalOptions) {}

  get connected(): boolean {
    return this.client !== undefined && this.client.peer.open;
  }

  /** A new /pat client: the newest is served, the one before is discontinued [doc]. */
  attach(client: PatClient): void {
    this.displace();
    this.client = client;
    this.opts.log(`PAT client ${client.peer.id} connected${client.finalReceipt ? ' (final receipt on)' : ''}`);
    if (this.opts.firstWalkMs > 0) this.schedule(this.opts.firstWalkMs);
  }

  /** The client went away on its own. */
  detach(peer: RpcPeer): void {
    if (this.client?.peer !== peer) return;
    this.client = undefined;
    this.clearTimer();
  }

  /** Ends the current client with "Connection Discontinued", as a newer EPoS connecting would. */
  displace(): boolean {
    const old = this.client;
    this.client = undefined;
    this.clearTimer();
    if (!old) return false;
    this.opts.log(`PAT client ${old.peer.id} discontinued`);
    old.peer.respondError(null, -32000, DISCONTINUED);
    old.close(4000, DISCONTINUED);
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.client = undefined;
  }

  /** One walk now (tests, the CLI); a walk already running is joined rather than doubled. */
  walk(opts: { payments?: number } = {}): Promise<PatWalkReport> {
    this.walking ??= this.play(opts).finally(() => { this.walking = undefined; });
    return this.walking;
  }

  private schedule(ms: number): void {
    this.clearTimer();
    if (this.stopped) return;
    this.walkTimer = setTimeout(() => {
      this.walkTimer = undefined;
      if (!this.connected) return;
      void this.walk().then(() => {
        if (this.connected && this.opts.walkEveryMs > 0) this.schedule(this.opts.walkEveryMs);
      });
    }, ms);
    this.walkTimer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.walkTimer);
    this.walkTimer = undefined;
  }

  private async play(opts: { payments?: number }): Promise<PatWalkReport> {
    const client = this.client;
    const steps: PatStep[] = [];
    let tableId: string | undefined;
    let locked = false;
    let paid = 0;
    const count = ++this.walkCount;
    const done = (ok: boolean, message: string): PatWalkReport => {
      const report: PatWalkReport = { ok, ...(tableId ? { tableId } : {}), steps, paid, message };
      this.walks.push(report);
      if (this.walks.length > KEEP_WALKS) this.walks.shift();
      this.opts.log(`table walk ${count}: ${message}`);
      return report;
    };
    if (!client) return done(false, 'no EPoS is connected to /pat');
    const peer = client.peer;

    const ask = async (method: string, params: Record<string, unknown>): Promise<unknown> => {
      const step: PatStep = { method, params };
      steps.push(step);
      // eposTooSlow: the request goes out and the terminal gives up on it at once, however fast the answer.
      const tooSlow = this.opts.faults.eposTooSlow;
      const waitMs = tooSlow ? 0 : this.opts.replyTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        if (tooSlow) reject(new Error('no answer within 0 ms (fault eposTooSlow)'));
        else timer = setTimeout(() => reject(new Error(`no answer within ${waitMs} ms`)), waitMs);
      });
      try {
        step.result = await Promise.race([peer.request(method, params), late]);
        return step.result;
      } catch (err) {
        step.failure = (err as Error).message;
        throw new Error(`${method}: ${step.failure}`);
      } finally {
        clearTimeout(timer);
      }
    };

    try {
      if (this.opts.faults.errorMessages) {
        peer.notify(ERROR_MESSAGE, { code: 'TERMINAL_PAPER_LOW', message: 'Printer paper low', userMessage: 'Replace the paper roll soon' });
      }
      const list = await ask('tableListRequest', {});
      const tables = tablesOf(list);
      if (tables.length === 0) return done(false, 'no open tables');
      tableId = this.opts.faults.lockRefused ? `NOT-LISTED-${count}` : tables[0];
      const lock = await ask('tableLockRequest', { tableId });
      if (!isObject(lock) || lock.confirmed !== true) {
        return done(false, `lock on ${tableId} refused${isObject(lock) && typeof lock.message === 'string' ? `: ${lock.message}` : ''}`);
      }
      locked = true;
      const amount = lock.amount;
      const currency = lock.currency;
      if (!Number.isSafeInteger(amount) || (amount as number) < 0 || typeof currency !== 'string') {
        throw new Error(`the lock on ${tableId} carried no valid amount and currency`);
      }
      await ask('posReceiptRequest', { tableId });
      // Alternate walks split the bill in two, so split payments are always exercised.
      const parts = splitAmount(amount as number, opts.payments ?? (count % 2 === 0 ? 2 : 1));
      const payments = parts.map((part, i) => {
        const payment: TablePayment = {
          at: new Date().toISOString(),
          tableId: tableId as string,
          paymentId: randomUUID(),
          amount: part,
          currency,
          authCode: String(100000 + ((count * 7 + i * 13) % 900000)),
          cardSchemeName: i % 2 === 0 ? 'VISA' : 'MASTERCARD',
        };
        this.ledger.push(payment);
        paid += part;
        return payment;
      });
      // The payments are taken whatever the EPoS answers next: they are in the ledger already.
      await ask('transactionResponse', {
        tableId, currency, amountPaid: paid,
        payments: payments.map(({ paymentId, amount: a, currency: c, authCode, cardSchemeName, at }) => ({
          paymentId, amountPaid: a, currency: c, authCode, cardSchemeName, paymentMethod: 'CONTACTLESS', time: at,
        })),
      });
      if (client.finalReceipt) await ask('finalPOSReceiptRequest', { tableId });
      locked = false;
      await ask('tableUnlock', { tableId });
      return done(true, `table ${tableId} paid ${paid} ${currency} in ${parts.length} payment${parts.length === 1 ? '' : 's'}`);
    } catch (err) {
      if (locked && tableId) {
        // A table left locked would block the waiters at the till; give it back.
        await ask('tableUnlock', { tableId }).catch(() => undefined);
      }
      return done(false, (err as Error).message);
    }
  }
}

/** Table ids from a tableList answer, tolerating the plausible shapes. */
function tablesOf(result: unknown): string[] {
  const list = Array.isArray(result) ? result : isObject(result) ? (result.tables ?? result.tableIds) : undefined;
  return Array.isArray(list) ? list.filter((t): t is string => typeof t === 'string' && t !== '') : [];
}

/** n integer parts of `total` that sum exactly, the larger first; never a zero part unless the total is zero. */
export function splitAmount(total: number, n: number): number[] {
  const count = Math.max(1, Math.min(Math.floor(n), Math.max(1, total)));
  const base = Math.floor(total / count);
  const extra = total - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}
