// Paymentsense pay at table (PAT) vocabulary. The path and the final-pos-receipt-request flag
// are [doc]; the message names and fields come from yetipay, which runs the same platform
// [related: yetipay] (protocol notes 4). So every name here is a default: method names are
// matched loosely (case, separators, a missing "Request"), table ids are taken from the fields
// a terminal plausibly uses, and callers can add their own spellings.

/** The messages a terminal sends the EPoS, as DESIGN.md names them for the flow. */
export const PAT_METHODS = [
  'tableListRequest',
  'tableLockRequest',
  'posReceiptRequest',
  'finalPOSReceiptRequest',
  'transactionResponse',
  'tableUnlock',
] as const;

export type PatMethod = (typeof PAT_METHODS)[number];

/** Messages the terminal sends without (documented) need of an answer: the pack acknowledges them for the flow. */
export const NO_ANSWER_METHODS: ReadonlySet<string> = new Set<PatMethod>(['transactionResponse', 'tableUnlock']);

/** yetipay's message for errors in either direction [related: yetipay]. */
export const ERROR_MESSAGE = 'errorMessage';

/** The valueless query flag that makes the terminal ask for a final receipt [doc]. */
export const FINAL_RECEIPT_FLAG = 'final-pos-receipt-request';

/** What Connect says to the older PAT client when a newer one connects [doc]. */
export const DISCONTINUED = /connection\s*discontinued/i;

/** Compares names without case, separators or a trailing "request"/"message". */
function squash(name: string): string {
  return name.toLowerCase().replace(/[^a-z]/g, '').replace(/(request|message)$/, '');
}

const KNOWN: ReadonlyMap<string, PatMethod | typeof ERROR_MESSAGE> = new Map<string, PatMethod | typeof ERROR_MESSAGE>([
  ...PAT_METHODS.map((m) => [squash(m), m] as const),
  // Plausible spellings of the same messages (v0 names, REST words, reversed word order).
  ['tables', 'tableListRequest'],
  ['listtables', 'tableListRequest'],
  ['locktable', 'tableLockRequest'],
  ['receipt', 'posReceiptRequest'],
  ['bill', 'posReceiptRequest'],
  ['finalreceipt', 'finalPOSReceiptRequest'],
  ['transaction', 'transactionResponse'],
  ['transactionresult', 'transactionResponse'],
  ['payments', 'transactionResponse'],
  ['unlocktable', 'tableUnlock'],
  ['tableunlockrequest', 'tableUnlock'],
  [squash(ERROR_MESSAGE), ERROR_MESSAGE],
  ['error', ERROR_MESSAGE],
]);

/**
 * The PAT method a wire name stands for, or undefined. `aliases` (wire name -> method) come
 * first, so an installation can teach the pack a spelling the defaults miss.
 */
export function patMethodOf(wire: string, aliases: Readonly<Record<string, string>> = {}): PatMethod | typeof ERROR_MESSAGE | undefined {
  // Own keys only: a terminal naming a method "constructor" must not reach Object.prototype.
  const alias = Object.prototype.hasOwnProperty.call(aliases, wire) ? aliases[wire] : undefined;
  if (typeof alias === 'string') return KNOWN.get(squash(alias));
  return KNOWN.get(squash(wire));
}

const TABLE_FIELDS = ['tableId', 'tableID', 'table_id', 'tableName', 'tableNumber', 'table'] as const;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The table id a terminal message names, as a string; undefined when it names none. A table object is looked into once. */
export function tableIdOf(params: unknown, depth = 0): string | undefined {
  if (!isObject(params)) return undefined;
  for (const field of TABLE_FIELDS) {
    const v = params[field];
    if (typeof v === 'string' && v.trim() !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (isObject(v) && depth === 0) {
      const inner = tableIdOf(v, 1) ?? (typeof v.id === 'string' || typeof v.id === 'number' ? String(v.id) : undefined);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

export interface PatPayment {
  /** Minor units; absent when the terminal sent no usable amount. */
  amount?: number;
  currency?: string;
  authCode?: string;
  cardScheme?: string;
  [k: string]: unknown;
}

export interface PatTransaction {
  tableId?: string;
  currency?: string;
  /** Minor units: what the terminal reports, or the sum of the payments when it reports no total. */
  amountPaid?: number;
  payments: PatPayment[];
  raw: unknown;
  [k: string]: unknown;
}

const firstInt = (o: Record<string, unknown>, keys: readonly string[]): number | undefined => {
  for (const k of keys) if (Number.isSafeInteger(o[k])) return o[k] as number;
  return undefined;
};
const firstString = (o: Record<string, unknown>, keys: readonly string[]): string | undefined => {
  for (const k of keys) if (typeof o[k] === 'string' && o[k] !== '') return o[k] as string;
  return undefined;
};

function paymentOf(p: Record<string, unknown>, currency: string | undefined): PatPayment {
  const amount = firstInt(p, ['amount', 'amountPaid', 'amountTotal', 'amountBase']);
  const cur = firstString(p, ['currency', 'currencyCode']) ?? currency;
  const authCode = firstString(p, ['authCode', 'authorisationCode', 'authorizationCode']);
  const cardScheme = firstString(p, ['cardScheme', 'cardSchemeName', 'scheme']);
  return { ...p, ...(amount !== undefined ? { amount } : {}), ...(cur ? { currency: cur } : {}), ...(authCode ? { authCode } : {}), ...(cardScheme ? { cardScheme } : {}) };
}

/** The flow's view of a transactionResponse (DESIGN.md): tolerant of field names, the frame itself in `raw`. */
export function normaliseTransaction(params: unknown): PatTransaction {
  const p = isObject(params) ? params : {};
  const currency = firstString(p, ['currency', 'currencyCode']);
  const list = [p.payments, p.transactions, p.paymentDetails, p.breakdown].find(Array.isArray) as unknown[] | undefined;
  const payments = (list ?? (firstInt(p, ['amount', 'amountPaid']) !== undefined ? [p] : []))
    .filter(isObject)
    .map((x) => paymentOf(x, currency));
  const sum = payments.every((x) => x.amount !== undefined) && payments.length > 0 ? payments.reduce((n, x) => n + (x.amount as number), 0) : undefined;
  const amountPaid = firstInt(p, ['amountPaid', 'totalAmountPaid', 'amountTotal', 'totalAmount']) ?? sum;
  const tableId = tableIdOf(p);
  const { payments: _p, transactions: _t, paymentDetails: _d, breakdown: _b, ...rest } = p;
  return {
    ...rest,
    ...(tableId !== undefined ? { tableId } : {}),
    ...(currency ? { currency } : {}),
    ...(amountPaid !== undefined ? { amountPaid } : {}),
    payments,
    raw: params,
  };
}

/** The flow's view of any other terminal message: the params with `tableId` filled in when the frame names a table. */
export function normaliseParams(method: string, params: unknown): unknown {
  if (method === 'transactionResponse') return normaliseTransaction(params);
  const tableId = tableIdOf(params);
  const base = isObject(params) ? params : {};
  return tableId !== undefined ? { ...base, tableId } : { ...base };
}
