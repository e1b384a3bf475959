// DESIGN: a message that arrives while the connection is still being made (just after a
// deploy, or reconnecting) waits for it, within the node's timeout; a connection that is
// refused, displaced or on standby fails at once.

import { PosError } from '../../lib/core/errors';
import type { PaymentProvider } from '../../lib/core/provider';
import type { ConnectionState } from '../../lib/core/types';

/**
 * Resolves at once when connected; waits while the connection is being made (just after a
 * deploy, or reconnecting), and fails as not_connected when it is refused or does not come
 * within `limitMs`. `nothingSent` ends the error message ("no report was started").
 */
export function whenConnected(provider: PaymentProvider, limitMs: number, nothingSent: string): Promise<void> {
  const waiting = (s: ConnectionState) => s.name === 'idle' || s.name === 'connecting' || s.name === 'reconnecting';
  const refused = (s: ConnectionState) => {
    const why = 'reason' in s && s.name !== 'reconnecting' ? `: ${s.reason}` : '';
    const code = s.name === 'unauthorized' || s.name === 'standby' ? s.name : 'not_connected';
    return new PosError(code, `not connected to ${provider.name} (${s.name}${why}); ${nothingSent}`);
  };
  const now = provider.state;
  if (now.name === 'connected') return Promise.resolve();
  if (!waiting(now)) return Promise.reject(refused(now));
  return new Promise((resolve, reject) => {
    let off: (() => void) | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      off?.();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(refused(provider.state)), limitMs);
    off = provider.onState((s) => {
      if (s.name === 'connected') finish();
      else if (!waiting(s)) finish(refused(s));
    });
  });
}
