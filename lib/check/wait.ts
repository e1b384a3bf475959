// Waits for an adapter's first verdict on its connection: open, refused, or failed. The
// adapters retry on their own; a check wants the first answer, not the retries.

import type { PaymentProvider } from '../core/provider';
import type { ConnectionState } from '../core/types';

export type Verdict =
  | { kind: 'connected'; state: ConnectionState }
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'timeout'; last: ConnectionState };

function verdictOf(state: ConnectionState): Verdict | undefined {
  switch (state.name) {
    case 'connected':
      return { kind: 'connected', state };
    case 'unauthorized':
      return { kind: 'refused', reason: state.reason };
    case 'displaced':
      return { kind: 'failed', reason: `another client took the connection over: ${state.reason}` };
    case 'reconnecting':
    case 'error':
      return { kind: 'failed', reason: state.reason };
    default:
      return undefined;
  }
}

/** Resolves on the first verdict or after timeoutMs; removes its listener and timer either way. */
export function waitForVerdict(provider: PaymentProvider, timeoutMs: number, until: (s: ConnectionState) => boolean = () => true): Promise<Verdict> {
  return new Promise((resolve) => {
    let settled = false;
    let unsubscribe: () => void = () => undefined;
    const settle = (v: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(v);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout', last: provider.state }), timeoutMs);
    const look = (s: ConnectionState) => {
      const v = verdictOf(s);
      if (v && (v.kind !== 'connected' || until(s))) settle(v);
    };
    unsubscribe = provider.onState(look);
    look(provider.state);
  });
}
