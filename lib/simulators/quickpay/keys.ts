// The simulator's fixed identities: QuickPay's public app key (the same in sandbox and
// production), a made-up API key and merchant, and a throw-away RSA pair so tests and the
// `simulator` environment can sign JWTs the simulator verifies. None of these is a real secret.

import { generateKeyPairSync } from 'node:crypto';

export const SIMULATOR_APP_KEY = 'pagCMLx6TXrb';
export const SIMULATOR_API_KEY = 'qp_simulator_api_key';
export const SIMULATOR_MERCHANT_ID = 'merchant_001';

let pair: { privateKeyPem: string; publicKeyPem: string } | undefined;

/** A test RSA key pair made once per process (2048 bits), PEM strings. Never a real key. */
export function simulatorKeys(): { privateKeyPem: string; publicKeyPem: string } {
  // Generated lazily: a 2048-bit pair costs tens of milliseconds, which a process that never
  // starts the QuickPay simulator should not pay at require time.
  pair ??= (() => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { privateKeyPem: privateKey, publicKeyPem: publicKey };
  })();
  return { ...pair };
}
