// Identifiers shaped like the sandbox's (`pi_sandbox_<22 chars>`, `ts_sandbox_<24 hex>`), with
// `sim` in place of the environment so a log line says where a payment came from.

import { randomBytes, randomInt, randomUUID } from 'node:crypto';

export const intentId = (): string => `pi_sim_${randomBytes(16).toString('base64url').slice(0, 22)}`;
export const sessionId = (): string => `ts_sim_${randomBytes(12).toString('hex')}`;
export const refundId = (): string => `rfnd_sim_${randomBytes(9).toString('base64url')}`;
export const captureId = (): string => `cp_sim_${randomBytes(16).toString('base64url').slice(0, 22)}`;
export const reversalId = (): string => `rvs_sim_${randomBytes(9).toString('base64url')}`;
export const transactionId = (): string => randomUUID();

export function authCode(): string {
  return String(randomInt(1_000_000)).padStart(6, '0');
}

export const isoNow = (): string => new Date().toISOString();
