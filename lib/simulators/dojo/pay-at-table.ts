// The scripted card machine at the table (protocol notes 5 and 6): search the payable orders,
// lock or read the chosen one, record one or more payments, release the lock. A payment the
// EPOS does not accept is reversed by Dojo, so it lands in the ledger as a reversal.

import { randomUUID } from 'node:crypto';
import { CARD_MACHINE_HEADERS, type CallResult, type ReplyFrame } from './epos-client';

export interface TableLedgerEntry {
  kind: 'table_payment' | 'reversal';
  /** ISO time the entry was written. */
  at: string;
  orderId: string;
  paymentIntentId: string;
  amount: number;
  currency: string;
  tipsAmount?: number;
  /** Why a payment was reversed. */
  reason?: string;
}

export interface PayAtTableOptions {
  waiterId?: string;
  tableId?: string;
  /** The order to pay; default the first payable order found. */
  orderId?: string;
  /** Split count; default 1. */
  payments?: number;
  /** Tip added to each payment, in minor units. */
  tipsAmount?: number;
  /** Default a fresh UUID, as Dojo generates it. */
  lockId?: string;
}

export interface PayAtTableStep {
  method: string;
  params: Record<string, unknown>;
  response?: ReplyFrame;
  timedOut?: boolean;
}

export interface PayAtTableReport {
  ok: boolean;
  orderId?: string;
  steps: PayAtTableStep[];
  /** Sum of the recorded payments' paidAmount, minor units. */
  paid: number;
  /** paymentIntentIds Dojo reversed because the EPOS did not record them. */
  reversed: string[];
  message: string;
}

export interface TableDeps {
  call(method: string, params: Record<string, unknown>): Promise<CallResult>;
  has(capability: string): boolean;
  ledger: TableLedgerEntry[];
}

/**
 * Lock expiries (notes 5): long when Dojo cannot extend, short when it can. The exact values
 * are not documented; these are long enough for any scripted walk.
 */
export const LONG_LOCK_MS = 15 * 60_000;
export const SHORT_LOCK_MS = 60_000;

interface Money { value: number; currencyCode: string }

class WalkFailed extends Error {}

export async function playPayAtTable(deps: TableDeps, opts: PayAtTableOptions = {}): Promise<PayAtTableReport> {
  const steps: PayAtTableStep[] = [];
  const reversed: string[] = [];
  let paid = 0;
  let orderId: string | undefined;
  let lockId: string | undefined;
  const headers: Record<string, string> = { ...CARD_MACHINE_HEADERS, ...(opts.waiterId ? { waiterId: opts.waiterId } : {}) };

  const step = async (method: string, params: Record<string, unknown>): Promise<CallResult> => {
    const full = { ...params, headers };
    const out = await deps.call(method, full);
    steps.push({ method, params: full, ...(out.response ? { response: out.response } : {}), ...(out.timedOut ? { timedOut: true } : {}) });
    return out;
  };
  const report = (ok: boolean, message: string): PayAtTableReport => ({ ok, ...(orderId ? { orderId } : {}), steps, paid, reversed, message });

  try {
    for (const cap of ['SearchOrders', 'RecordOrderPayment']) {
      if (!deps.has(cap)) return report(false, `pay at table needs the ${cap} capability registered`);
    }
    const dineIn = { ...(opts.waiterId ? { waiterId: opts.waiterId } : {}), ...(opts.tableId ? { tableId: opts.tableId } : {}) };
    const search = await step('SearchOrdersV1', { payableOnly: true, ...(Object.keys(dineIn).length ? { dineIn } : {}) });
    const orders = ordersOf(expectResult('SearchOrdersV1', search));
    if (orders.length === 0) return report(false, 'no payable orders');
    const picked = opts.orderId === undefined ? orders[0] : orders.find((o) => o.id === opts.orderId);
    if (!picked) return report(false, `order ${opts.orderId} is not among the payable orders`);
    orderId = picked.id as string;

    let order: Record<string, unknown> = picked;
    if (deps.has('CreateOrderLock')) {
      const id = opts.lockId ?? randomUUID();
      const expiry = new Date(Date.now() + (deps.has('ExtendOrderLock') ? SHORT_LOCK_MS : LONG_LOCK_MS)).toISOString();
      const locked = await step('CreateOrderLockV1', { orderId, lockId: id, expiry });
      order = orderOr(expectResult('CreateOrderLockV1', locked), picked);
      lockId = id;
    } else if (deps.has('GetOrderById')) {
      order = orderOr(expectResult('GetOrderByIdV1', await step('GetOrderByIdV1', { orderId })), picked);
    }

    const total = moneyOf(order.totalAmount);
    if (!total) throw new WalkFailed(`order ${orderId} has no valid totalAmount`);
    const already = moneyOf(order.paidAmount)?.value ?? 0;
    const remaining = total.value - already;
    if (remaining <= 0) throw new WalkFailed(`order ${orderId} is already paid`);
    const parts = splitAmount(remaining, opts.payments ?? 1);

    for (const [i, value] of parts.entries()) {
      if (i > 0 && lockId && deps.has('ExtendOrderLock')) {
        await step('ExtendOrderLockV1', { orderId, lockId, expiry: new Date(Date.now() + SHORT_LOCK_MS).toISOString() });
      }
      const paymentIntentId = `pi_sim_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
      const tips = opts.tipsAmount && opts.tipsAmount > 0 ? { value: opts.tipsAmount, currencyCode: total.currencyCode } : undefined;
      const params = {
        orderId, paymentIntentId, paidAmount: { value, currencyCode: total.currencyCode },
        ...(tips ? { tipsAmount: tips } : {}), ...(lockId ? { lockId } : {}),
      };
      const entry = { at: '', orderId, paymentIntentId, amount: value, currency: total.currencyCode, ...(tips ? { tipsAmount: tips.value } : {}) };
      let out: CallResult | undefined;
      let failure: string | undefined;
      try {
        out = await step('RecordOrderPaymentByIdV1', params);
      } catch (err) {
        failure = (err as Error).message;
      }
      if (out && out.response && !out.error) {
        deps.ledger.push({ ...entry, kind: 'table_payment', at: new Date().toISOString() });
        paid += value;
        continue;
      }
      // The card was charged before the EPOS was told: any failure to record it is reversed.
      const reason = failure ?? (out?.error ? out.error.errorType : out?.timedOut ? 'no answer (timeout)' : 'connection closed');
      deps.ledger.push({ ...entry, kind: 'reversal', at: new Date().toISOString(), reason });
      reversed.push(paymentIntentId);
      await release();
      return report(false, `RecordOrderPaymentByIdV1 failed (${reason}): payment ${paymentIntentId} of ${value} ${total.currencyCode} reversed; ${paid} recorded before it`);
    }
    await release();
    return report(true, `order ${orderId} paid ${paid} ${total.currencyCode} in ${parts.length} payment${parts.length === 1 ? '' : 's'}`);
  } catch (err) {
    await release();
    return report(false, (err as Error).message);
  }

  async function release(): Promise<void> {
    if (!lockId || !orderId) return;
    const id = lockId;
    lockId = undefined;
    if (!deps.has('DeleteOrderLock')) return;
    // A lock Dojo fails to release expires on the EPOS (notes 5); it does not undo the payments.
    await step('DeleteOrderLockV1', { orderId, lockId: id }).catch(() => undefined);
  }
}

/** n integer parts of `total` that sum exactly, the larger ones first; never a zero part. */
export function splitAmount(total: number, n: number): number[] {
  const count = Math.max(1, Math.min(Math.floor(Number.isFinite(n) ? n : 1), total));
  const base = Math.floor(total / count);
  const extra = total - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

function expectResult(method: string, out: CallResult): unknown {
  if (out.error) throw new WalkFailed(`${method} answered ${out.error.errorType}${out.error.debugMessage ? `: ${out.error.debugMessage}` : ''}`);
  if (!out.response) throw new WalkFailed(`${method}: ${out.timedOut ? 'no answer (timeout)' : 'connection closed'}`);
  return out.result;
}

function ordersOf(result: unknown): Array<Record<string, unknown>> {
  const list = Array.isArray(result) ? result : isObject(result) && Array.isArray(result.data) ? result.data : [];
  return list.filter((o): o is Record<string, unknown> => isObject(o) && typeof o.id === 'string' && o.id !== '');
}

function orderOr(result: unknown, fallback: Record<string, unknown>): Record<string, unknown> {
  return isObject(result) && result.totalAmount !== undefined ? result : fallback;
}

function moneyOf(v: unknown): Money | undefined {
  if (!isObject(v) || !Number.isSafeInteger(v.value) || typeof v.currencyCode !== 'string') return undefined;
  return { value: v.value as number, currencyCode: v.currencyCode };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
