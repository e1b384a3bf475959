// The five provider checks by name, for the CLI and the admin endpoint.

import type { ProviderCheck } from './types';

const CHECKS: Record<string, () => ProviderCheck> = {
  paymentsense: () => (require('./paymentsense') as typeof import('./paymentsense')).paymentsenseCheck,
  dojo: () => (require('./dojo') as typeof import('./dojo')).dojoCheck,
  modulus: () => (require('./modulus') as typeof import('./modulus')).modulusCheck,
  quickpay: () => (require('./quickpay') as typeof import('./quickpay')).quickpayCheck,
  sensepass: () => (require('./sensepass') as typeof import('./sensepass')).sensepassCheck,
};

export const CHECK_PROVIDERS = Object.keys(CHECKS);

/** Loaded on demand: a check of one provider does not load the others' clients (Socket.IO, pusher-js). */
export function checkFor(provider: string): ProviderCheck | undefined {
  return Object.prototype.hasOwnProperty.call(CHECKS, provider) ? CHECKS[provider]!() : undefined;
}

/** POS_<PROVIDER>_<CREDENTIAL> in upper snake case: token -> POS_PAYMENTSENSE_TOKEN, apiKey -> POS_DOJO_API_KEY. */
export function secretEnvName(provider: string, credential: string): string {
  return `POS_${provider.toUpperCase()}_${credential.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export { runCheck } from './runner';
export type { CheckInput, CheckReport, CheckStep, ProviderCheck } from './types';
