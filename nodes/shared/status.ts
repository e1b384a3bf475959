// Status under a node, from the locale catalog (key prefix `pos.` is merged into every
// node's catalog by the build, see scripts/build.js).

import { formatMinor } from '../../lib/core/money';
import type { ConnectionState, PaymentResult } from '../../lib/core/types';
import type { NodeStatus, RedApi } from './red';

/** Longer texts run under the neighbouring nodes of a flow; the catalog texts are written to fit (test/unit/status-texts.test.ts). */
export const MAX_TEXT = 48;
const short = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

export function connectionStatus(RED: RedApi, state: ConnectionState): NodeStatus {
  const t = (key: string, subs?: Record<string, unknown>) => short(RED._(`pos.status.${key}`, subs));
  switch (state.name) {
    case 'idle': return { fill: 'grey', shape: 'ring', text: t('idle') };
    case 'connecting': return { fill: 'yellow', shape: 'ring', text: t('connecting') };
    case 'connected': {
      const c = state.channels;
      if (!c || c.subscribed + c.subscribing === 0) return { fill: 'green', shape: 'dot', text: t('connected') };
      if (c.subscribing > 0) return { fill: 'yellow', shape: 'dot', text: t('subscribing', { done: c.subscribed, total: c.subscribed + c.subscribing }) };
      return { fill: 'green', shape: 'dot', text: t('subscribed', { count: c.subscribed }) };
    }
    case 'reconnecting': return { fill: 'yellow', shape: 'ring', text: t('reconnecting', { attempt: state.attempt, seconds: Math.ceil(state.delayMs / 1000) }) };
    case 'unauthorized': return { fill: 'red', shape: 'ring', text: t('unauthorized') };
    case 'displaced': return { fill: 'red', shape: 'ring', text: t('displaced') };
    case 'error': return { fill: 'red', shape: 'dot', text: t('error', { reason: state.reason }) };
    case 'standby': return { fill: 'blue', shape: 'ring', text: t('standby') };
    case 'closed': return { fill: 'grey', shape: 'ring', text: t('closed') };
  }
}

export function resultStatus(RED: RedApi, result: PaymentResult): NodeStatus {
  const fill = result.approved ? 'green' : result.outcome === 'unknown' ? 'red' : 'yellow';
  return { fill, shape: 'dot', text: short(RED._(`pos.outcome.${result.outcome}`, { amount: formatMinor(result.amount, result.currency) })) };
}

export function textStatus(RED: RedApi, key: string, subs?: Record<string, unknown>, fill: NodeStatus['fill'] = 'blue'): NodeStatus {
  return { fill, shape: 'ring', text: short(RED._(`pos.${key}`, subs)) };
}

/** A progress prompt from the catalog when it has one, else the provider's own words. */
export function progressStatus(RED: RedApi, event: string, fallback: string): NodeStatus {
  return { fill: 'blue', shape: 'dot', text: short(RED._(`pos.progress.${event}`, { defaultValue: fallback })) };
}
