// Shared set-up for node tests: the real Paymentsense simulator on loopback and the real
// compiled nodes loaded into Node-RED by node-red-node-test-helper.

import helper from 'node-red-node-test-helper';
import { PaymentsenseSimulator, type PaymentsenseSimulatorOptions } from '../../lib/simulators/paymentsense';

helper.init(require.resolve('node-red'));

export { helper };

export const nodes = {
  config: require('../../nodes/pos-paymentsense.js'),
  pay: require('../../nodes/pos-pay.js'),
  refund: require('../../nodes/pos-refund.js'),
  terminals: require('../../nodes/pos-terminals.js'),
  notification: require('../../nodes/pos-notification-in.js'),
};
export const ALL_NODES = Object.values(nodes);

export const TOKEN = 'SECRET-token-7f3a9c';

export async function startSimulator(opts: PaymentsenseSimulatorOptions = {}): Promise<{ sim: PaymentsenseSimulator; url: string }> {
  const sim = new PaymentsenseSimulator({ token: TOKEN, stepDelayMs: 20, pingIntervalMs: 60_000, ...opts });
  const { url } = await sim.start();
  return { sim, url };
}

/**
 * The mocha hooks of a Paymentsense node test: the test helper's server for the describe block,
 * and a fresh simulator for each test (the flow unloaded and the simulator stopped after it).
 * `use` receives each test's simulator and URL.
 */
export function useSimulator(use: (s: { sim: PaymentsenseSimulator; url: string }) => void, opts: PaymentsenseSimulatorOptions = {}): void {
  let current: PaymentsenseSimulator | undefined;
  before((done) => { helper.startServer(done); });
  after((done) => { helper.stopServer(done); });
  beforeEach(async () => {
    const started = await startSimulator(opts);
    current = started.sim;
    use(started);
  });
  afterEach(async () => {
    await helper.unload();
    await current?.stop();
  });
}

export function configNode(url: string, extra: Record<string, unknown> = {}) {
  return { id: 'cfg', type: 'pos-paymentsense', name: 'sim', environment: 'custom', url, softwareHouseId: 'SH01', installerId: 'IN01', verifyTls: true, ...extra };
}

export const credentials = { cfg: { token: TOKEN } };

export interface Msg { topic?: string; payload?: any; [k: string]: any }

export { until } from '../support/until';

export function connected(id = 'cfg'): () => boolean {
  return () => helper.getNode(id)?.connection?.provider.state.name === 'connected';
}

/** Collects every message a helper node receives. */
export function collect(id: string): Msg[] {
  const list: Msg[] = [];
  helper.getNode(id).on('input', (msg: Msg) => list.push(msg));
  return list;
}

/** Errors a node reported through done(err) (what a Catch node would see). */
export function errors(id: string): string[] {
  const list: string[] = [];
  helper.getNode(id).on('call:error', (call: { args: unknown[] }) => list.push(String((call.args[0] as Error)?.message ?? call.args[0])));
  return list;
}

export function statuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const list: Array<{ fill?: string; shape?: string; text?: string }> = [];
  helper.getNode(id).on('call:status', (call: { args: any[] }) => list.push(call.args[0]));
  return list;
}

/** Listeners on `process`, to prove a redeploy leaves none behind. */
export function processListeners(): number {
  return process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0);
}
