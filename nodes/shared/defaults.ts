// Every node's defaults: one table per node (nodes/defaults/<type>.json), read by the runtime
// here and by the editor (the build writes the same table into the node's .html, see
// scripts/build.js). A flow built outside the editor (the admin API, an older export) that
// lacks a property so gets at runtime the value the editor would have shown, never another.
// A flow node's default provider (its table says `"provider": ""`) and its config references
// (one per provider it offers) come from the provider table, as they do in the editor.

import { PROVIDER_NAMES, flowNodeDefaults } from '../../lib/providers/registry';
import journal from '../defaults/pos-journal.json';
import notificationIn from '../defaults/pos-notification-in.json';
import pay from '../defaults/pos-pay.json';
import refund from '../defaults/pos-refund.json';
import report from '../defaults/pos-report.json';
import requestIn from '../defaults/pos-request-in.json';
import response from '../defaults/pos-response.json';
import terminals from '../defaults/pos-terminals.json';

type Table = Readonly<Record<string, unknown>>;

const OWN = {
  'pos-journal': journal,
  'pos-notification-in': notificationIn,
  'pos-pay': pay,
  'pos-refund': refund,
  'pos-report': report,
  'pos-request-in': requestIn,
  'pos-response': response,
  'pos-terminals': terminals,
} as const;

/** A provider's config node reads its table by name; the build copies nodes/defaults beside the compiled nodes. */
function configDefaults(provider: string): Table {
  return require(`../defaults/pos-${provider}.json`) as Table;
}

/** Typed for the nodes that are not a provider's (a provider's node reads its own table directly). */
export const NODE_DEFAULTS = {
  ...Object.fromEntries(Object.entries(OWN).map(([type, table]) => [type, { ...table, ...flowNodeDefaults(type) }])),
  ...Object.fromEntries(PROVIDER_NAMES.map((name) => [`pos-${name}`, configDefaults(name)])),
} as typeof OWN & Readonly<Record<string, Table>>;

export type NodeType = string;

/**
 * The saved config with every property it lacks set to the editor's default. Only a missing
 * property is filled: a value the flow holds (an empty text included) is the flow's choice,
 * and each node's own reader decides what an unusable one means.
 */
export function withDefaults<C extends object>(type: NodeType, config: C): C {
  const table = NODE_DEFAULTS[type];
  if (!table) throw new Error(`no defaults for ${type}`);
  const filled = { ...config } as Record<string, unknown>;
  for (const [key, value] of Object.entries(table)) {
    if (filled[key] === undefined) filled[key] = value;
  }
  return filled as C;
}
