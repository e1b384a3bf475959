// Config node for Paymentsense Connect: owns the one connection its flow nodes share.

import { PaymentsenseProvider } from '../lib/providers/paymentsense/client';
import type { Environment } from '../lib/providers/paymentsense/url';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../lib/simulators/paymentsense';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, secondsMs, unlessFalse } from './shared/config-fields';

interface PaymentsenseConfig {
  /** A pos-journal node's id; empty: the built-in file journal. */
  journal?: string;
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

const DEFAULT_HEARTBEAT_S = 15;

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-paymentsense', function (this: ConfigNode, config: PaymentsenseConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const environment = environmentOf(config.environment);
    const simulated = environment === 'simulator';
    const endpoint = {
      environment,
      url: config.url?.trim() || undefined,
      account: config.account?.trim() || undefined,
      token: simulated ? SIMULATOR_TOKEN : resolveSecret(RED, node, node.credentials?.token),
      softwareHouseId: config.softwareHouseId?.trim() || (simulated ? 'SIMULATOR' : ''),
      installerId: config.installerId?.trim() || (simulated ? 'SIMULATOR' : ''),
    };
    ownConnection(node, 'Paymentsense', simulated ? { name: 'paymentsense', create: () => new PaymentsenseSimulator() } : undefined,
      (prepare) => new PaymentsenseProvider({
        ...endpoint,
        // The simulator's address is only known once it listens; the URL is built on each attempt.
        ...(simulated ? { environment: 'custom' as const, url: 'ws://127.0.0.1:1' } : {}),
        verifyTls: unlessFalse(config.verifyTls),
        heartbeatIntervalMs: secondsMs(config.heartbeat, { fallback: DEFAULT_HEARTBEAT_S, max: 600 }),
        logger: nodeLogger(node),
      }, prepare),
      accountJournal(RED, node, 'paymentsense', environment, simulated ? [] : [endpoint.url, endpoint.account, endpoint.softwareHouseId, endpoint.installerId], config.journal));
  }, {
    credentials: { token: { type: 'password' } },
  });
};
