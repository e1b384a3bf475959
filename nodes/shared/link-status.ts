// The status of a request-in node whose requests come over a connection of their own
// (pay at table on a socket of its own): "tables: connected", or that the flow answers too slowly.

import type { LinkStatus } from '../../lib/core/inbound';
import type { NodeStatus, RedApi } from './red';
import { MAX_TEXT, connectionStatus } from './status';

const short = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

export function linkStatus(RED: RedApi, label: string, status: LinkStatus): NodeStatus {
  // The fallbacks say what the catalog says, for a runtime that has not loaded it (RED._ then returns the key).
  const t = (key: string, subs: Record<string, unknown>, fallback: string): string => {
    const text = RED._(key, subs);
    return short(typeof text === 'string' && text !== '' && text !== key ? text : fallback);
  };
  const name = t(`pos.status.link.${label}`, {}, label);
  if (status.slow && status.state.name === 'connected') {
    const subs = { label: name, method: status.slow.method, seconds: Math.round(status.slow.limitMs / 100) / 10 };
    return { fill: 'yellow', shape: 'dot', text: t('pos.status.link.slow', subs, `${name}: too slow for ${subs.method}`) };
  }
  const base = connectionStatus(RED, status.state);
  return { ...base, text: t('pos.status.link.prefix', { label: name, text: base.text }, `${name}: ${base.text}`) };
}
