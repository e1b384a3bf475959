// Builds the Connect WebSocket URL exactly as the documentation gives it, for the real hosts
// and for a custom base URL (a proxy, a test server, the simulator).

import { PosError } from '../../core/errors';
import { API_VERSION, PAC_PATH, QUERY } from './wire';

export type Environment = 'simulator' | 'test' | 'production' | 'custom';

export interface PaymentsenseEndpoint {
  environment: Environment;
  /** Base URL for `custom` and `simulator`, e.g. ws://127.0.0.1:8080 */
  url?: string;
  account?: string;
  token: string;
  softwareHouseId: string;
  installerId: string;
  apiVersion?: string;
}

const ACCOUNT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function paymentsenseUrl(e: PaymentsenseEndpoint, path: string = PAC_PATH): string {
  let base: URL;
  if (e.environment === 'test' || e.environment === 'production') {
    const account = (e.account ?? '').trim();
    if (!ACCOUNT.test(account)) {
      throw new PosError('bad_input', 'the Paymentsense account name must be the site name Paymentsense gave you (letters, digits and dashes)');
    }
    base = new URL(`wss://${account}.${e.environment === 'test' ? 'test.' : ''}connect.paymentsense.cloud`);
  } else {
    if (!e.url) throw new PosError('bad_input', 'a base URL such as ws://127.0.0.1:8080 is needed for the custom environment');
    try {
      base = new URL(e.url);
    } catch {
      throw new PosError('bad_input', `"${e.url}" is not a URL; use a base URL such as ws://127.0.0.1:8080`);
    }
    if (base.protocol !== 'ws:' && base.protocol !== 'wss:') {
      throw new PosError('bad_input', `the Paymentsense URL must start with ws:// or wss://, got ${base.protocol}//`);
    }
  }
  if (!e.token) throw new PosError('unauthorized', 'the Paymentsense API token is not set');
  if (!e.softwareHouseId || !e.installerId) {
    throw new PosError('bad_input', 'the software house id and installer id are both required by Paymentsense Connect');
  }
  base.pathname = base.pathname.replace(/\/+$/, '') + path;
  base.search = '';
  base.searchParams.set(QUERY.token, e.token);
  base.searchParams.set(QUERY.apiVersion, e.apiVersion ?? API_VERSION);
  base.searchParams.set(QUERY.softwareHouseId, e.softwareHouseId);
  base.searchParams.set(QUERY.installerId, e.installerId);
  return base.toString();
}
