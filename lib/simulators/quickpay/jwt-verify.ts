// Checks the per-request JWT QuickPay documents under "Signing a Request" [doc]: RS256 over the
// merchant's key pair, claims uri / nonce / iat / exp / sub / bodyHash. Written on node:crypto
// rather than a JWT library because the pack has none as a dependency and RS256 verification
// is one crypto.verify call; the claim rules are QuickPay's own anyway.

import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isJwtClaims, isJwtHeader, type JwtClaims } from './schemas';

/** The JWT `uri` for the auth call; the docs do not say whether `/v1` is part of it [inferred]. */
export const AUTH_URIS: readonly string[] = ['/v1/websocket/auth', '/websocket/auth'];
/** QuickPay: exp must be < iat + 55 [doc]. */
export const MAX_LIFETIME_S = 55;
/** How far iat may be from the simulator's clock either way [inferred]. */
export const CLOCK_SKEW_S = 60;

export type JwtRefusal =
  | 'malformed_token' | 'unsupported_alg' | 'invalid_signature' | 'invalid_claims' | 'uri_mismatch'
  | 'iat_out_of_range' | 'token_expired' | 'token_lifetime_too_long' | 'subject_mismatch'
  | 'body_hash_mismatch' | 'nonce_reused';

export const JWT_REFUSAL_MESSAGES: Record<JwtRefusal, string> = {
  malformed_token: 'The bearer token is not a JWT',
  unsupported_alg: 'The JWT must be signed with RS256',
  invalid_signature: 'The JWT signature does not verify with the registered public key',
  invalid_claims: 'The JWT must carry uri, nonce, iat, exp, sub and bodyHash',
  uri_mismatch: 'The JWT uri claim does not name this endpoint',
  iat_out_of_range: 'The JWT iat claim is too far from the current time',
  token_expired: 'The JWT has expired',
  token_lifetime_too_long: `The JWT exp claim must be less than iat + ${MAX_LIFETIME_S} seconds`,
  subject_mismatch: 'The JWT sub claim does not match the X-API-KEY header',
  body_hash_mismatch: 'The JWT bodyHash claim does not match the request body',
  nonce_reused: 'The JWT nonce has been used before',
};

/** Nonces seen while they could still be replayed, bounded so a flood cannot fill memory. */
export class NonceBook {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 50_000) {}

  has(nonce: string): boolean {
    return this.seen.has(nonce);
  }

  /** Remembers `nonce` until `untilS`; forgets the ones that can no longer pass the exp check. */
  add(nonce: string, untilS: number, nowS: number): void {
    for (const [n, until] of this.seen) {
      if (until + CLOCK_SKEW_S >= nowS && this.seen.size < this.max) break;
      this.seen.delete(n);
    }
    this.seen.set(nonce, untilS);
  }
}

export interface JwtVerifierOptions {
  publicKeyPem: string;
  /** False skips every check of the token itself (the standalone simulator for a person's own keys). */
  verify: boolean;
}

export interface RequestFacts {
  token: string;
  apiKey: string;
  rawBody: Buffer;
  nowS: number;
}

export class JwtVerifier {
  private readonly key: KeyObject;
  private readonly nonces = new NonceBook();

  constructor(private readonly opts: JwtVerifierOptions) {
    // Parsed once: a bad PEM is a configuration error the constructor reports, not a 401 later.
    this.key = createPublicKey(opts.publicKeyPem);
  }

  /** undefined when the token is acceptable; otherwise why not. A passing token's nonce is spent. */
  check(facts: RequestFacts): JwtRefusal | undefined {
    if (!this.opts.verify) return undefined;
    const parts = facts.token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return 'malformed_token';
    const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
    const header = decodeJson(headerPart);
    const claims = decodeJson(claimsPart);
    if (!isJwtHeader(header)) return 'malformed_token';
    if (header.alg !== 'RS256') return 'unsupported_alg';
    const signed = Buffer.from(`${headerPart}.${claimsPart}`, 'ascii');
    if (!signatureVerifies(signed, this.key, signaturePart)) return 'invalid_signature';
    if (!isJwtClaims(claims)) return 'invalid_claims';
    const refusal = this.claimRefusal(claims, facts);
    if (refusal) return refusal;
    this.nonces.add(claims.nonce, claims.exp, facts.nowS);
    return undefined;
  }

  private claimRefusal(claims: JwtClaims, facts: RequestFacts): JwtRefusal | undefined {
    if (!AUTH_URIS.includes(claims.uri)) return 'uri_mismatch';
    if (Math.abs(claims.iat - facts.nowS) > CLOCK_SKEW_S) return 'iat_out_of_range';
    if (claims.exp <= facts.nowS) return 'token_expired';
    if (claims.exp - claims.iat >= MAX_LIFETIME_S) return 'token_lifetime_too_long';
    if (claims.sub !== facts.apiKey) return 'subject_mismatch';
    const bodyHash = createHash('sha256').update(facts.rawBody).digest('hex');
    if (claims.bodyHash.toLowerCase() !== bodyHash) return 'body_hash_mismatch';
    if (this.nonces.has(claims.nonce)) return 'nonce_reused';
    return undefined;
  }
}

function signatureVerifies(signed: Buffer, key: KeyObject, signature: string): boolean {
  try {
    return verify('sha256', signed, key, Buffer.from(signature, 'base64url'));
  } catch {
    return false; // OpenSSL rejects some malformed signatures by throwing rather than by answering false
  }
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
