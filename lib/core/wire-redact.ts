// What a wire log may keep of a frame: its shape and the values that explain a problem, never
// a secret, a card number beyond its last four digits, or a person's details. Frames are
// parsed where they are JSON so fields are masked by name; whatever is left (text, a URL, a
// broken frame) still goes through the secret redactor and a card-number sweep.

import type { Redactor } from './redact';

const MASK = '***';

/** Credentials and signatures, by field name (lower case, without - and _). */
const SECRET_FIELDS = new Set([
  'token', 'apikey', 'xapikey', 'key', 'secret', 'apisecret', 'password', 'auth', 'authorization', 'accesstoken',
  'refreshtoken', 'privatekey', 'privatekeypem', 'jwt', 'signature', 'deviceid', 'sessionsecret', 'clientsecret',
  'channeldata', 'cvv', 'cvc', 'cv2', 'pin', 'pinblock', 'track1', 'track2', 'trackdata', 'expirydate', 'dateofexpiry',
  'expirationdate', 'expdate', 'cardexpiry',
]);

/** Card numbers by field name: only the last four digits are kept. */
const PAN_FIELDS = new Set(['primaryaccountnumber', 'pan', 'cardnumber', 'maskedpan', 'accountnumber', 'cardno']);

/** A person's details. */
// Not plain `name`: terminals, tables, capabilities and events have names a support engineer needs.
const PERSONAL_FIELDS = new Set([
  'firstname', 'lastname', 'fullname', 'cardholdername', 'cardholder', 'cardname', 'customername', 'email', 'emailaddress',
  'phone', 'phonenumber', 'mobile', 'address', 'addressline1', 'addressline2', 'street', 'postcode', 'zip', 'zipcode',
  'city', 'billingaddress', 'shippingaddress', 'dateofbirth', 'dob', 'ip', 'ipaddress',
]);

/** 12 to 19 digits, possibly grouped by spaces or dashes: what a card number looks like in text. */
const PAN_TEXT = /\b\d(?:[ -]?\d){11,18}\b/g;
/** A card number masked only in the middle, as receipts print it ("476173******0119"): the leading digits go too. */
const PAN_PARTLY_MASKED = /\b\d{1,9}[*xX\u2022]{3,}\d{4}\b/g;

/** How deep a frame is walked; deeper parts are replaced, so a hostile frame cannot exhaust the stack. */
const MAX_DEPTH = 32;

function norm(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** Keeps only the last four digits of a card number ("************1234"). */
export function lastFour(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 4) return MASK;
  // The length as written (masks included), so "476173******0119" keeps its shape.
  const length = Math.max(value.replace(/[\s-]/g, '').length, digits.length);
  return `${'*'.repeat(length - 4)}${digits.slice(-4)}`;
}

function maskPansInText(text: string): string {
  return text.replace(PAN_TEXT, (m) => lastFour(m)).replace(PAN_PARTLY_MASKED, (m) => `${'*'.repeat(m.length - 4)}${m.slice(-4)}`);
}

function walk(value: unknown, depth: number, redact: Redactor): unknown {
  if (depth > MAX_DEPTH) return MASK;
  if (typeof value === 'string') return maskPansInText(redact(value));
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, redact));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const n = norm(k);
      if (SECRET_FIELDS.has(n)) out[k] = v === null || v === undefined || v === '' ? v : MASK;
      else if (PAN_FIELDS.has(n) && (typeof v === 'string' || typeof v === 'number')) out[k] = lastFour(String(v));
      else if (PERSONAL_FIELDS.has(n) && v !== null && typeof v !== 'object') out[k] = MASK;
      else out[k] = walk(v, depth + 1, redact);
    }
    return out;
  }
  return value;
}

/**
 * A frame as the wire log may keep it. JSON (also Socket.IO's `42[...]` and Pusher's `data`
 * strings that hold JSON again) is masked field by field; anything else as text.
 */
export function redactFrame(text: string, redact: Redactor): string {
  const prefix = /^\d*/.exec(text)?.[0] ?? '';
  const body = text.slice(prefix.length);
  let parsed: unknown;
  try {
    parsed = body === '' ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || parsed === null || typeof parsed !== 'object') return maskPansInText(redact(text));
  const walked = walk(unwrapNested(parsed, 0), 0, redact);
  return prefix + JSON.stringify(walked);
}

/** Pusher puts the event's JSON in a string field `data`; open it so its fields are masked by name too. */
function unwrapNested(value: unknown, depth: number): unknown {
  if (depth > 2 || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  if (typeof v.data !== 'string') return value;
  try {
    const inner: unknown = JSON.parse(v.data);
    if (inner && typeof inner === 'object') return { ...v, data: unwrapNested(inner, depth + 1) };
  } catch {
    // Not JSON: masked as text.
  }
  return value;
}
