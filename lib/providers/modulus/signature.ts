// The Terminal Gateway HTTP API's request signature [doc]: Base64(HMAC-SHA256(secret,
// METHOD \n PATH \n TIMESTAMP \n hex(SHA256(body)))). Shared by the adapter (signing) and the
// simulator (checking), so both sides compute it the same way.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function bodyHash(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

export function signRequest(secret: string, method: string, path: string, timestamp: string, body = ''): string {
  const canonical = `${method.toUpperCase()}\n${path}\n${timestamp}\n${bodyHash(body)}`;
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('base64');
}

/** Constant-time comparison, so a caller cannot learn the signature byte by byte. */
export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The documented clock tolerance for x-timestamp. */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;
