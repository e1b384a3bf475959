// What every provider's config node does around its adapter: build it (reporting a config that
// cannot work on every node that uses it), start the built-in simulator on first use in the
// `simulator` environment, and on close stop the connection and then release the simulator.

import { PosError } from '../../lib/core/errors';
import { LeasedProvider } from '../../lib/core/leased-provider';
import type { PaymentProvider } from '../../lib/core/provider';
import { acquireSimulator, type RunningSimulator } from '../../lib/simulators/in-process';
import type { AccountJournal } from './account-journal';
import { ProviderConnection, nodeLogger } from './connection';
import type { Node } from './red';

export interface ConfigNode extends Node {
  connection?: ProviderConnection;
  /** Why the config node could not make a connection (no key, bad URL, ...). */
  configError?: string;
}

interface SimulatorFactory {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

/**
 * `journal` is the account's journal (account-journal.ts), released when the node closes.
 * `build` gets a `prepare` function when a simulator is given: the adapter calls it before
 * its first connection attempt to learn the simulator's URL (known only once it listens).
 * `singleConnection`: the provider allows one connection per account, so on a shared journal
 * one instance at a time holds it (the others are on standby and hand payments over).
 */
export function ownConnection(
  node: ConfigNode,
  label: string,
  simulator: { name: string; create: () => SimulatorFactory } | undefined,
  build: (prepare: (() => Promise<{ url: string }>) | undefined) => PaymentProvider,
  journal: AccountJournal,
  opts: { singleConnection?: boolean } = {},
): void {
  let running: Promise<RunningSimulator> | undefined;
  const prepare = simulator ? () => {
    running ??= acquireSimulator(simulator.name, simulator.create);
    return running.then((s) => ({ url: s.url }));
  } : undefined;
  try {
    const logger = nodeLogger(node);
    const provider = build(prepare);
    const leased = opts.singleConnection && journal.openLease ? new LeasedProvider(provider, journal.openLease, logger) : provider;
    node.connection = new ProviderConnection(leased, journal.journal, logger, journal.imported);
  } catch (err) {
    node.configError = (err as Error).message;
    node.error(err instanceof PosError ? `${label}: ${err.message}` : String(err));
  }

  node.on('close', (_removed: boolean, done: () => void) => {
    const closing = node.connection?.close() ?? Promise.resolve();
    closing
      .then(() => journal.release())
      .then(() => running?.then((s) => s.release()))
      .catch((err: Error) => node.warn(err.message))
      .then(() => done());
  });
}
