// What a flow may answer a pay-at-table terminal (DESIGN.md "Paymentsense pay at table"),
// checked before anything is sent, so a wrong shape reaches a Catch node and not the terminal.
// The shapes follow yetipay's description [related: yetipay]: open where it is vague (extra
// fields pass through, receipt line types are any name), strict where money is concerned
// (integer minor units, a known ISO 4217 currency).

import { isCurrency } from '../../core/money';
import { compileSchema, type Validator } from '../../core/schema';
import { isObject, type PatMethod } from './pat-wire';

const currency = { type: 'string', pattern: '^[A-Z]{3}$' };
const minor = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER };

const tableList = compileSchema<{ tables: string[]; currency?: string }>({
  type: 'object',
  required: ['tables'],
  properties: {
    tables: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    currency,
  },
  // The terminal needs the currency to show amounts once there is any table [related: yetipay].
  if: { properties: { tables: { minItems: 1 } } },
  then: { required: ['currency'] },
});

const tableLock = compileSchema<{ confirmed: boolean; amount?: number; currency?: string; message?: string }>({
  type: 'object',
  required: ['confirmed'],
  properties: {
    confirmed: { type: 'boolean' },
    amount: minor,
    currency,
    message: { type: 'string' },
  },
  if: { properties: { confirmed: { const: true } } },
  then: { required: ['amount', 'currency'] },
});

const receipt = compileSchema<{ receiptLines: unknown[] }>({
  type: 'object',
  required: ['receiptLines'],
  properties: {
    receiptLines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          // Open: TEXT, LINE_SEPARATOR_SINGLE, BARCODE_CODE128, ... and whatever comes next.
          type: { type: 'string', minLength: 1 },
          value: { type: 'string' },
          format: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
});

/** transactionResponse / tableUnlock: whatever the flow acknowledges with, as long as it is an object. */
const acknowledgement = compileSchema<Record<string, unknown>>({ type: 'object' });

const BY_METHOD: Readonly<Record<PatMethod, Validator<unknown>>> = {
  tableListRequest: tableList,
  tableLockRequest: tableLock,
  posReceiptRequest: receipt,
  finalPOSReceiptRequest: receipt,
  transactionResponse: acknowledgement,
  tableUnlock: acknowledgement,
};

/** Why `result` is not a valid answer to `method`; undefined when it is. */
export function checkPatAnswer(method: PatMethod, result: unknown): string | undefined {
  const check = BY_METHOD[method];
  if (!check(result)) return check.explain();
  // The pattern lets any three capitals through; the currency must be a real one.
  if (isObject(result) && typeof result.currency === 'string' && !isCurrency(result.currency)) {
    return `/currency "${result.currency}" is not an ISO 4217 currency`;
  }
  return undefined;
}
