// Config node for Paymentsense Connect: owns the one connection its flow nodes share.

import { PosError } from '../lib/core/errors';
import { PaymentsenseProvider } from '../lib/providers/paymentsense/client';
import type { Environment } from '../lib/providers/paymentsense/url';
import { acquireSimulator, type RunningSimulator } from '../lib/simulators/in-process';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../lib/simulators/paymentsense';
import { ProviderConnection, contextJournalStore, nodeLogger } from './shared/connection';
import { resolveSecret } from './shared/secrets';
import type { Node, RedApi } from './shared/red';

interface PaymentsenseConfig {
  name?: string;
  environment?: Environment;
  url?: string;
  account?: string;
  softwareHouseId?: string;
  installerId?: string;
  verifyTls?: boolean | string;
  /** Seconds between liveness checks of the socket; a silent socket is dropped after two. */
  heartbeat?: number | string;
}

interface PaymentsenseNode extends Node {
  connection?: ProviderConnection;
  configError?: string;
}

const ENVIRONMENTS: Environment[] = ['simulator', 'test', 'production', 'custom'];
const DEFAULT_HEARTBEAT_S = 15;

function heartbeatMs(value: unknown): number {
  const seconds = Number(value);
  return Math.round((Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) : DEFAULT_HEARTBEAT_S) * 1000);
}

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-paymentsense', function (this: PaymentsenseNode, config: PaymentsenseConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const environment = ENVIRONMENTS.includes(config.environment as Environment) ? (config.environment as Environment) : 'simulator';
    const simulated = environment === 'simulator';
    const endpoint = {
      environment,
      url: config.url?.trim() || undefined,
      account: config.account?.trim() || undefined,
      token: simulated ? SIMULATOR_TOKEN : resolveSecret(RED, node, node.credentials?.token),
      softwareHouseId: config.softwareHouseId?.trim() || (simulated ? 'SIMULATOR' : ''),
      installerId: config.installerId?.trim() || (simulated ? 'SIMULATOR' : ''),
    };
    let simulator: Promise<RunningSimulator> | undefined;
    try {
      const provider = new PaymentsenseProvider({
        ...endpoint,
        // The simulator's address is only known once it listens; the URL is built on each attempt.
        ...(simulated ? { environment: 'custom' as const, url: 'ws://127.0.0.1:1' } : {}),
        verifyTls: config.verifyTls !== false && config.verifyTls !== 'false',
        heartbeatIntervalMs: heartbeatMs(config.heartbeat),
        logger: nodeLogger(node),
      }, simulated ? () => {
        simulator ??= acquireSimulator('paymentsense', () => new PaymentsenseSimulator());
        return simulator.then((s) => ({ url: s.url }));
      } : undefined);
      node.connection = new ProviderConnection(provider, contextJournalStore(node), nodeLogger(node));
    } catch (err) {
      // A config that cannot work (no token, bad URL) is reported on every node that uses it.
      node.configError = (err as Error).message;
      node.error(err instanceof PosError ? `Paymentsense: ${err.message}` : String(err));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      const closing = node.connection?.close() ?? Promise.resolve();
      closing
        .then(() => simulator?.then((s) => s.release()))
        .catch((err: Error) => node.warn(err.message))
        .then(() => done());
    });
  }, {
    credentials: { token: { type: 'password' } },
  });
};
