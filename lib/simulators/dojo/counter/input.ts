// Reading request bodies and headers defensively: every problem is collected per field so one
// 400 names them all, the way Dojo's validation problems do.

import { badRequest, type FieldErrors } from './problem';
import type { Headers, Money } from './types';

/** Dojo accepts GBP and EUR (Money.currencyCode in the REST spec). */
export const CURRENCIES: readonly string[] = Object.freeze(['GBP', 'EUR']);

export class Fields {
  readonly errors: FieldErrors = {};

  add(path: string, message: string): void {
    (this.errors[path] ??= []).push(message);
  }

  get ok(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /** Throws the 400 when any field was at fault. */
  check(detail = 'The request body is not valid.'): void {
    if (!this.ok) throw badRequest(detail, this.errors);
  }
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The server normally parses JSON; a raw string or Buffer is tolerated. */
export function bodyObject(body: unknown, required: boolean): Json {
  let value = body;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    if (value.trim() === '') value = undefined;
    else {
      try { value = JSON.parse(value); } catch { throw badRequest('The request body is not valid JSON.', { '': ['Invalid JSON.'] }); }
    }
  }
  if (value === undefined || value === null) {
    if (required) throw badRequest('A non-empty request body is required.', { '': ['A non-empty request body is required.'] });
    return {};
  }
  if (!isObject(value)) throw badRequest('The request body must be a JSON object.', { '': ['The request body must be a JSON object.'] });
  return value;
}

export function readString(
  f: Fields, path: string, v: unknown, opts: { required?: boolean; min?: number; max?: number } = {},
): string | undefined {
  if (v === undefined || v === null) {
    if (opts.required) f.add(path, `The ${path} field is required.`);
    return undefined;
  }
  if (typeof v !== 'string') { f.add(path, `The ${path} field must be a string.`); return undefined; }
  const min = opts.min ?? (opts.required ? 1 : 0);
  if (v.length < min || (opts.max !== undefined && v.length > opts.max)) {
    f.add(path, `The ${path} field must be a string with a length between ${min} and ${opts.max ?? 'any'}.`);
    return undefined;
  }
  return v;
}

export function readBoolean(f: Fields, path: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') { f.add(path, `The ${path} field must be true or false.`); return undefined; }
  return v;
}

/** Minor units: a safe integer, positive unless `allowZero` (tips and cashback may be 0). */
export function readMinor(f: Fields, path: string, v: unknown, opts: { required?: boolean; allowZero?: boolean } = {}): number | undefined {
  if (v === undefined || v === null) {
    if (opts.required) f.add(path, `The ${path} field is required.`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) { f.add(path, `The ${path} field must be an integer amount in minor units.`); return undefined; }
  if (v < 0 || (v === 0 && !opts.allowZero)) { f.add(path, `The ${path} field must be ${opts.allowZero ? 'zero or more' : 'greater than zero'}.`); return undefined; }
  return v;
}

export function readMoney(
  f: Fields, path: string, v: unknown, opts: { required?: boolean; allowZero?: boolean; currency?: string } = {},
): Money | undefined {
  if (v === undefined || v === null) {
    if (opts.required) f.add(path, `The ${path} field is required.`);
    return undefined;
  }
  if (!isObject(v)) { f.add(path, `The ${path} field must be an object with value and currencyCode.`); return undefined; }
  const value = readMinor(f, `${path}.value`, v.value, { required: true, allowZero: opts.allowZero });
  const currencyCode = readString(f, `${path}.currencyCode`, v.currencyCode, { required: true, max: 10 });
  if (currencyCode !== undefined && !CURRENCIES.includes(currencyCode)) {
    f.add(`${path}.currencyCode`, `The currency ${JSON.stringify(currencyCode.slice(0, 10))} is not supported; use ${CURRENCIES.join(' or ')}.`);
    return undefined;
  }
  if (currencyCode !== undefined && opts.currency !== undefined && currencyCode !== opts.currency) {
    f.add(`${path}.currencyCode`, `The currency must be ${opts.currency}, the currency of the payment.`);
    return undefined;
  }
  return value === undefined || currencyCode === undefined ? undefined : { value, currencyCode };
}

/** Node lower-cases header names; a caller building headers by hand may not. */
export function header(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, raw] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}
