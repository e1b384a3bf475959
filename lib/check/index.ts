// The provider checks by name, for the CLI and the admin endpoint: one per provider of the
// table (lib/providers/registry.json), in lib/check/<name>.ts exporting `<name>Check`.

import { PROVIDER_NAMES } from '../providers/registry';
import type { ProviderCheck } from './types';

export const CHECK_PROVIDERS: readonly string[] = PROVIDER_NAMES;

/** Loaded on demand: a check of one provider does not load the others' clients (Socket.IO, pusher-js). */
export function checkFor(provider: string): ProviderCheck | undefined {
  if (!PROVIDER_NAMES.includes(provider)) return undefined;
  return (require(`./${provider}`) as Record<string, ProviderCheck>)[`${provider}Check`];
}

/** POS_<PROVIDER>_<CREDENTIAL> in upper snake case: token -> POS_<PROVIDER>_TOKEN, apiKey -> POS_<PROVIDER>_API_KEY. */
export function secretEnvName(provider: string, credential: string): string {
  return `POS_${provider.toUpperCase()}_${credential.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export { runCheck } from './runner';
export type { CheckInput, CheckReport, CheckStep, ProviderCheck } from './types';
