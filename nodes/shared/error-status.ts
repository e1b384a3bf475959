// The status a flow node shows when a message fails: a few words from the catalog saying why,
// in red. The full sentence goes to the Catch node; a status has room for a few words only, and
// it must replace whatever the node showed before (an older error from another message would
// otherwise look like this message's reason).

import { isPosError, type PosErrorCode } from '../../lib/core/errors';
import type { NodeStatus, RedApi } from './red';
import { textStatus } from './status';

/** The catalog keys under `pos.error.`: one per error code, and one for anything else. */
export const ERROR_STATUS_KEYS: Readonly<Record<PosErrorCode | 'unexpected', string>> = {
  bad_input: 'error.bad_input',
  not_connected: 'error.not_connected',
  unauthorized: 'error.unauthorized',
  capability_missing: 'error.capability_missing',
  protocol_error: 'error.protocol_error',
  timeout: 'error.timeout',
  provider_error: 'error.provider_error',
  not_found: 'error.not_found',
  journal_unavailable: 'error.journal_unavailable',
  standby: 'error.standby',
  displaced: 'error.displaced',
  closed: 'error.closed',
  unexpected: 'error.unexpected',
};

export function errorStatus(RED: RedApi, err: unknown): NodeStatus {
  const key = isPosError(err) ? ERROR_STATUS_KEYS[err.code] : ERROR_STATUS_KEYS.unexpected;
  return textStatus(RED, key, undefined, 'red');
}
