// Money is an integer in minor units plus an ISO 4217 code, end to end. The table below is
// ISO 4217's list of active codes with their minor-unit exponents. It is written out here
// rather than taken from Intl: ICU follows CLDR, whose digits differ from ISO 4217 for
// several currencies (IQD, IDR, ...), and a payment pack must use the standard's exponent.

import { PosError } from './errors';

const EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const EXPONENT_4 = 'CLF UYW';
const EXPONENT_2 =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN ' +
  'BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP ' +
  'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP ' +
  'LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR ' +
  'NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN ' +
  'SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ' +
  'ZMW ZWG';

const EXPONENTS: ReadonlyMap<string, number> = new Map(
  ([[EXPONENT_0, 0], [EXPONENT_2, 2], [EXPONENT_3, 3], [EXPONENT_4, 4]] as const).flatMap(([codes, exp]) =>
    codes.split(' ').map((code) => [code, exp] as [string, number]),
  ),
);

/** The ISO 4217 minor-unit exponent, or undefined for a code that is not an active currency. */
export function currencyExponent(code: string): number | undefined {
  return EXPONENTS.get(code);
}

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && EXPONENTS.has(code);
}

/**
 * Checks one amount field. Rejects floats, strings, negatives, unsafe integers and anything
 * else that is not a whole number of minor units; `allowZero` is for optional extras (tip,
 * cashback) where 0 means "none".
 */
export function checkMinorUnits(field: string, value: unknown, { allowZero = false } = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const shown = typeof value === 'string' ? `the text "${value.slice(0, 20)}"` : typeof value === 'number' ? String(value) : typeof value;
    throw new PosError('bad_input', `${field} must be a whole number of minor units (e.g. 1250 for 12.50), got ${shown}`);
  }
  if (!Number.isSafeInteger(value)) throw new PosError('bad_input', `${field} is too large to be handled exactly`);
  if (value < 0 || (value === 0 && !allowZero)) {
    throw new PosError('bad_input', `${field} must be ${allowZero ? 'zero or more' : 'more than zero'}, got ${value}`);
  }
  return value;
}

export function checkCurrency(value: unknown): string {
  if (typeof value === 'string') {
    const code = value.trim().toUpperCase();
    if (EXPONENTS.has(code)) return code;
  }
  throw new PosError('bad_input', `currency must be an ISO 4217 code such as GBP or EUR, got ${JSON.stringify(value)?.slice(0, 20)}`);
}

/** For people only (status text, messages): 1250 GBP → "12.50 GBP". Never fed back into maths. */
export function formatMinor(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  return `${sign}${digitsOf(Math.abs(amount), currencyExponent(currency) ?? 2)} ${currency}`;
}

function digitsOf(minor: number, exp: number): string {
  if (exp === 0) return String(minor);
  const digits = String(minor).padStart(exp + 1, '0');
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/**
 * For providers whose wire takes major units as a decimal text (9999 GBP minor units
 * sent as "99.99"): 1234 KWD -> "1.234", 5 GBP -> "0.05", 1 JPY -> "1". Exact: digits, never floats.
 */
export function minorToDecimal(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new PosError('bad_input', `amount must be a whole number of minor units, got ${minor}`);
  const exp = currencyExponent(currency);
  if (exp === undefined) throw new PosError('bad_input', `currency must be an ISO 4217 code such as GBP or USD, got ${JSON.stringify(currency)?.slice(0, 20)}`);
  return digitsOf(minor, exp);
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * A provider's major-unit amount ("99.99", "12.5", 12.5) -> minor units. A number is read
 * through its shortest decimal spelling (0.29 -> "0.29"), which is what the sender wrote.
 * Undefined for anything that is not an exact, non-negative amount in that currency (more
 * decimals than it has, exponent notation, an unknown currency, junk).
 */
export function decimalToMinor(value: unknown, currency: string): number | undefined {
  const exp = currencyExponent(currency);
  if (exp === undefined) return undefined;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return undefined;
  }
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  // Trailing zeros beyond the exponent are harmless ("1.500" EUR); other digits would be lost.
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exp) return undefined;
  const minor = Number(`${m[1]}${fraction.padEnd(exp, '0')}`);
  return Number.isSafeInteger(minor) ? minor : undefined;
}
