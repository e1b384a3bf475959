// Config node for SensePass: REST for creating and managing transactions, one Socket.IO
// connection (named after the paired device) for their progress.

import type * as Client from '../lib/providers/sensepass/client';
import type * as Simulator from '../lib/simulators/sensepass';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, unlessFalse, type Environment } from './shared/config-fields';
import { withDefaults } from './shared/defaults';
import { wireOption, wireTapFor } from './shared/wire-log-node';
import { registerCheckEndpoint } from './shared/check-endpoint';



interface SensePassConfig {
  /** A pos-journal node's id; empty: the built-in file journal. */
  journal?: string;
  name?: string;
  environment?: Environment;
  url?: string;
  /** SensePass does not document its Socket.IO server version: '4' speaks to v3/v4 servers, '2' to v2. */
  clientVersion?: string;
  transports?: string;
  /** Acknowledge approved payments (GET the payment-commit link) unless turned off. */
  autoCommit?: boolean | string;
  verifyTls?: boolean | string;
  /** Redacted frames to <userDir>/pos-payments/wire/ while investigating (default false). */
  wireLog?: boolean | string;
}

const TRANSPORTS = ['default', 'websocket', 'polling'] as const;
/** The built-in simulator's customer takes this long to tap, so the example's cancel button has time to land. */
const SIMULATOR_TAP_MS = 4000;

/**
 * Loaded when the first SensePass connection is made: Socket.IO (client and server) would
 * otherwise add about 50 ms to every Node-RED start, SensePass user or not.
 */
function load(): typeof Client & typeof Simulator {
  return { ...(require('../lib/providers/sensepass/client') as typeof Client), ...(require('../lib/simulators/sensepass') as typeof Simulator) };
}

export = function (RED: RedApi): void {
  registerCheckEndpoint(RED);
  RED.nodes.registerType('pos-sensepass', function (this: ConfigNode, config: SensePassConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-sensepass', config);
    const node = this;
    const { SensePassProvider, SensePassSimulator, SIMULATOR_DEVICE_ID } = load();
    const environment = environmentOf(config.environment);
    const simulated = environment === 'simulator';
    const transports = TRANSPORTS.find((t) => t === config.transports) ?? 'default';
    const deviceId = simulated ? SIMULATOR_DEVICE_ID : resolveSecret(RED, node, node.credentials?.deviceId);
    ownConnection(node, 'SensePass', simulated ? { name: 'sensepass', create: () => new SensePassSimulator({ tapDelayMs: SIMULATOR_TAP_MS }) } : undefined,
      (prepare) => new SensePassProvider({
        // The simulator's address is only known once it listens; the URL is taken on each attempt.
        environment: simulated ? 'custom' : environment,
        ...(simulated ? { url: 'http://127.0.0.1:1' } : config.url?.trim() ? { url: config.url.trim() } : {}),
        deviceId,
        // The built-in simulator is a Socket.IO 4 server: the client choices (hidden in its dialog) apply to real servers only.
        clientVersion: !simulated && String(config.clientVersion) === '2' ? '2' : '4',
        transports: simulated ? 'default' : transports,
        autoCommit: unlessFalse(config.autoCommit),
        verifyTls: unlessFalse(config.verifyTls),
        ...wireOption(wireTapFor(RED, node, 'sensepass', config.wireLog, [deviceId, `id_${deviceId}`])),
        logger: nodeLogger(node),
      }, prepare),
      // SensePass knows the POS by its paired device id.
      accountJournal(RED, node, 'sensepass', environment, simulated ? [] : [config.url?.trim(), deviceId], config.journal));
  }, {
    credentials: { deviceId: { type: 'password' } },
  });
};
