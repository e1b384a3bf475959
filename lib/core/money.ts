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
  const exp = currencyExponent(currency) ?? 2;
  if (exp === 0) return `${amount} ${currency}`;
  const sign = amount < 0 ? '-' : '';
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0');
  return `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)} ${currency}`;
}
