// Every node's defaults: one table per node (nodes/defaults/<type>.json), read by the runtime
// here and by the editor (the build writes the same table into the node's .html, see
// scripts/build.js). A flow built outside the editor (the admin API, an older export) that
// lacks a property so gets at runtime the value the editor would have shown, never another.

import dojo from '../defaults/pos-dojo.json';
import journal from '../defaults/pos-journal.json';
import modulus from '../defaults/pos-modulus.json';
import notificationIn from '../defaults/pos-notification-in.json';
import pay from '../defaults/pos-pay.json';
import paymentsense from '../defaults/pos-paymentsense.json';
import quickpay from '../defaults/pos-quickpay.json';
import refund from '../defaults/pos-refund.json';
import report from '../defaults/pos-report.json';
import requestIn from '../defaults/pos-request-in.json';
import response from '../defaults/pos-response.json';
import sensepass from '../defaults/pos-sensepass.json';
import terminals from '../defaults/pos-terminals.json';

export const NODE_DEFAULTS = {
  'pos-dojo': dojo,
  'pos-journal': journal,
  'pos-modulus': modulus,
  'pos-notification-in': notificationIn,
  'pos-pay': pay,
  'pos-paymentsense': paymentsense,
  'pos-quickpay': quickpay,
  'pos-refund': refund,
  'pos-report': report,
  'pos-request-in': requestIn,
  'pos-response': response,
  'pos-sensepass': sensepass,
  'pos-terminals': terminals,
} as const;

export type NodeType = keyof typeof NODE_DEFAULTS;

/**
 * The saved config with every property it lacks set to the editor's default. Only a missing
 * property is filled: a value the flow holds (an empty text included) is the flow's choice,
 * and each node's own reader decides what an unusable one means.
 */
export function withDefaults<C extends object>(type: NodeType, config: C): C {
  const filled = { ...config } as Record<string, unknown>;
  for (const [key, value] of Object.entries(NODE_DEFAULTS[type])) {
    if (filled[key] === undefined) filled[key] = value;
  }
  return filled as C;
}
