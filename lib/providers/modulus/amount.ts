// Modulus takes amounts as decimal strings in major units ("99.99"); the pack keeps integer
// minor units. Both directions work on the digits themselves, never through floating point.

import { PosError } from '../../core/errors';
import { currencyExponent } from '../../core/money';

function exponentOf(currency: string): number {
  const exp = currencyExponent(currency);
  if (exp === undefined) throw new PosError('bad_input', `currency must be an ISO 4217 code such as PHP or USD, got ${JSON.stringify(currency)?.slice(0, 20)}`);
  return exp;
}

/** 1234 KWD -> "1.234", 5 GBP -> "0.05", 1 JPY -> "1". */
export function minorToDecimal(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new PosError('bad_input', `amount must be a whole number of minor units, got ${minor}`);
  const exp = exponentOf(currency);
  if (exp === 0) return String(minor);
  const digits = String(minor).padStart(exp + 1, '0');
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * "99.99" USD -> 9999. A number is read through its shortest decimal spelling (99.99 -> "99.99"),
 * which is what the sender wrote. Undefined for anything that is not an exact, non-negative
 * amount in that currency (too many decimals, exponent notation, unknown currency).
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
  const whole = m[1] as string;
  const fraction = m[2] ?? '';
  // Trailing zeros beyond the exponent are harmless ("1.500" EUR); other digits would be lost.
  if (fraction.length > exp && !/^0*$/.test(fraction.slice(exp))) return undefined;
  const minor = Number(`${whole}${fraction.slice(0, exp).padEnd(exp, '0')}`);
  return Number.isSafeInteger(minor) ? minor : undefined;
}
