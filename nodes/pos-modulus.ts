// Config node for the Modulus Labs Terminal Gateway: owns the one WebSocket its flow nodes
// share. The gateway allows one connection per API key, so two config nodes with one key would
// displace each other; the help says so.

import type * as Client from '../lib/providers/modulus/client';
import type * as Simulator from '../lib/simulators/modulus';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, onlyIfTrue, secondsMs, unlessFalse, type Environment } from './shared/config-fields';
import OWN_DEFAULTS from './defaults/pos-modulus.json';
import { withDefaults } from './shared/defaults';
import { wireOption, wireTapFor } from './shared/wire-log-node';
import { registerCheckEndpoint } from './shared/check-endpoint';



interface ModulusConfig {
  /** A pos-journal node's id; empty: the built-in file journal. */
  journal?: string;
  name?: string;
  environment?: Environment;
  url?: string;
  /** The host Modulus support provisions per customer (test and production). */
  endpoint?: string;
  groupId?: string;
  /** The key in the URL instead of the x-api-key header; Modulus warns it may be logged. */
  keyInQuery?: boolean | string;
  verifyTls?: boolean | string;
  /** Seconds between {"action":"ping"} frames; the docs ask for 30. */
  heartbeat?: number | string;
  /** Redacted frames to <userDir>/pos-payments/wire/ while investigating (default false). */
  wireLog?: boolean | string;
}

const DEFAULT_HEARTBEAT_S = OWN_DEFAULTS.heartbeat;
/** The documented pong timeout; a shorter heartbeat shortens it so a ping is never outlived by its own wait. */
const PONG_TIMEOUT_S = 10;


/** Loaded when the first Modulus connection is made, so a start without one does not pay for it. */
function load(): typeof Client & typeof Simulator {
  return { ...(require('../lib/providers/modulus/client') as typeof Client), ...(require('../lib/simulators/modulus') as typeof Simulator) };
}

export = function (RED: RedApi): void {
  registerCheckEndpoint(RED);
  RED.nodes.registerType('pos-modulus', function (this: ConfigNode, config: ModulusConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-modulus', config);
    const node = this;
    const { ModulusProvider, ModulusSimulator, SIMULATOR_API_KEY } = load();
    const environment = environmentOf(config.environment);
    const simulated = environment === 'simulator';
    const pingMs = secondsMs(config.heartbeat, { fallback: DEFAULT_HEARTBEAT_S, min: 1, max: 300 });
    const apiSecret = simulated ? undefined : resolveSecret(RED, node, node.credentials?.apiSecret);
    const apiKey = simulated ? SIMULATOR_API_KEY : resolveSecret(RED, node, node.credentials?.apiKey);
    ownConnection(node, 'Modulus Labs', simulated ? { name: 'modulus', create: () => new ModulusSimulator() } : undefined,
      (prepare) => new ModulusProvider({
        // The simulator's address is only known once it listens; the URL is taken on each attempt.
        environment: simulated ? 'custom' : environment,
        ...(simulated ? { url: 'ws://127.0.0.1:1' } : config.url?.trim() ? { url: config.url.trim() } : {}),
        ...(config.endpoint?.trim() ? { endpoint: config.endpoint.trim() } : {}),
        apiKey,
        ...(apiSecret ? { apiSecret } : {}),
        ...(config.groupId?.trim() ? { groupId: config.groupId.trim() } : {}),
        keyInQuery: !simulated && onlyIfTrue(config.keyInQuery),
        verifyTls: unlessFalse(config.verifyTls),
        pingIntervalMs: pingMs,
        pongTimeoutMs: Math.min(PONG_TIMEOUT_S * 1000, pingMs),
        ...wireOption(wireTapFor(RED, node, 'modulus', config.wireLog, [apiKey, apiSecret])),
        logger: nodeLogger(node),
      }, prepare),
      // The gateway is provisioned per customer, and keeps one connection per key.
      accountJournal(RED, node, 'modulus', environment, simulated ? [] : [config.url?.trim(), config.endpoint?.trim(), apiKey], config.journal),
      { singleConnection: true });
  }, {
    credentials: { apiKey: { type: 'password' }, apiSecret: { type: 'password' } },
  });
};
