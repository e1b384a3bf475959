// Shared set-up for Dojo node tests: the real Dojo simulator on loopback, the real compiled
// nodes, and the core nodes the example flows use, loaded by node-red-node-test-helper.

import { DojoSimulator, type DojoSimulatorOptions } from '../../lib/simulators/dojo';
import { helper } from './harness';

export const DOJO_KEY = 'sk_sandbox_SECRET_4f1b2c';

export const dojoNodes = [
  require('../../nodes/pos-dojo.js'),
  require('../../nodes/pos-request-in.js'),
  require('../../nodes/pos-response.js'),
  require('../../nodes/pos-pay.js'),
  require('../../nodes/pos-refund.js'),
  require('../../nodes/pos-terminals.js'),
  require('../../nodes/pos-notification-in.js'),
  require('@node-red/nodes/core/common/20-inject.js'),
  require('@node-red/nodes/core/common/21-debug.js'),
  require('@node-red/nodes/core/common/25-catch.js'),
  require('@node-red/nodes/core/common/90-comment.js'),
  require('@node-red/nodes/core/function/10-function.js'),
  require('@node-red/nodes/core/function/10-switch.js'),
  require('@node-red/nodes/core/function/15-change.js'),
];

export async function startDojo(opts: DojoSimulatorOptions = {}): Promise<{ sim: DojoSimulator; url: string }> {
  const sim = new DojoSimulator({ apiKeys: [DOJO_KEY], stepDelayMs: 20, pingIntervalMs: 60_000, ...opts });
  const { url } = await sim.start();
  return { sim, url };
}

export function dojoConfig(url: string, id = 'cfg', extra: Record<string, unknown> = {}) {
  return { id, type: 'pos-dojo', name: 'dojo', environment: 'custom', url, softwareHouseId: 'SH-test', resellerId: '', verifyTls: true, heartbeat: 25, ...extra };
}

export const dojoCredentials = (id = 'cfg') => ({ [id]: { apiKey: DOJO_KEY } });

/** An example flow from examples/, pointed at a test simulator instead of the built-in one. */
export function exampleFlow(file: string, url: string): Array<Record<string, any>> {
  const flow = require(`../../../examples/${file}`) as Array<Record<string, any>>;
  return flow.map((n) => {
    if (n.type === 'pos-dojo') return { ...dojoConfig(url, n.id) };
    return { ...n };
  });
}

export { helper };
