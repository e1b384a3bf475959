// QuickPay's "Signing a Request" [doc]: the merchant signs a fresh RS256 JWT for every REST call,
// bound to that call's exact body by a SHA-256 hash and valid for under 55 s. Written on
// node:crypto because RS256 is one crypto.sign call and the pack has no JWT library; the claim
// set is QuickPay's own anyway.

import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { PosError } from '../../core/errors';

/** exp - iat: QuickPay requires exp < iat + 55 [doc]; 50 leaves room for a slow network. */
export const JWT_LIFETIME_S = 50;

export interface QuickPayClaims {
  uri: string;
  nonce: string;
  iat: number;
  exp: number;
  sub: string;
  bodyHash: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The claims for one request; `now`/`nonce` are injectable for tests. */
export function requestClaims(args: { uri: string; apiKey: string; body: string | Buffer; nowS?: number; nonce?: string }): QuickPayClaims {
  const iat = args.nowS ?? Math.floor(Date.now() / 1000);
  return {
    uri: args.uri,
    nonce: args.nonce ?? randomBytes(16).toString('hex'),
    iat,
    exp: iat + JWT_LIFETIME_S,
    sub: args.apiKey,
    bodyHash: sha256Hex(args.body),
  };
}

export function signJwt(claims: QuickPayClaims, key: KeyObject): string {
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${head}.${body}`, 'ascii'), key).toString('base64url');
  return `${head}.${body}.${signature}`;
}

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/**
 * Reads the merchant's RSA private key (PKCS#8 or PKCS#1 PEM). Tolerates what pasting does to a
 * PEM: a single-line password field drops the line breaks, and environment variables often
 * carry them as literal "\n". Errors never quote the key.
 */
export function loadPrivateKey(pem: string): KeyObject {
  const text = typeof pem === 'string' ? pem.replace(/\\n/g, '\n').trim() : '';
  if (!text) throw new PosError('bad_input', 'the QuickPay private key is not set: paste the PEM private key QuickPay gave you with the API key');
  const m = PEM.exec(text);
  if (!m) throw new PosError('bad_input', 'the QuickPay private key is not a PEM key: it must start with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----');
  const label = m[1] as string;
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(m[2] as string)) {
    throw new PosError('bad_input', 'the QuickPay private key is encrypted with a passphrase; export it without one (e.g. openssl pkey -in key.pem -out plain.pem)');
  }
  if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') {
    throw new PosError('bad_input', `the QuickPay private key must be a PRIVATE KEY or RSA PRIVATE KEY PEM, got a ${label.slice(0, 40)} block`);
  }
  const b64 = (m[2] as string).replace(/\s+/g, '');
  const lines = b64.match(/.{1,64}/g) ?? [];
  const rebuilt = `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: rebuilt, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    throw new PosError('bad_input', `the QuickPay private key could not be read${typeof code === 'string' ? ` (${code})` : ''}: paste the whole PEM, BEGIN and END lines included`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new PosError('bad_input', `the QuickPay private key must be an RSA key for RS256, got ${String(key.asymmetricKeyType)}`);
  }
  return key;
}
