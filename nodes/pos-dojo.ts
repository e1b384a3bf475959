// Config node for Dojo: owns the one outbound EPOS Data WebSocket its flow nodes share (Dojo
// calls us over it) and the REST client for payments at the counter.

import { DojoProvider } from '../lib/providers/dojo/client';
import { DojoSimulator, SIMULATOR_API_KEY } from '../lib/simulators/dojo';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, secondsMs, unlessFalse, type Environment } from './shared/config-fields';
import OWN_DEFAULTS from './defaults/pos-dojo.json';
import { withDefaults } from './shared/defaults';
import { wireOption, wireTapFor } from './shared/wire-log-node';
import { registerCheckEndpoint } from './shared/check-endpoint';



interface DojoConfig {
  /** A pos-journal node's id; empty: the built-in file journal. */
  journal?: string;
  name?: string;
  environment?: Environment;
  url?: string;
  softwareHouseId?: string;
  resellerId?: string;
  verifyTls?: boolean | string;
  /** Seconds between WebSocket pings; Dojo asks for one at least every 30 s. */
  heartbeat?: number | string;
  /** Seconds between two looks at a running terminal session; Dojo gives no guidance [inferred]. */
  pollInterval?: number | string;
  /** The version string registered with each capability; Dojo's guide says v1, its examples 1.0.0 [inferred]. Empty: v1. */
  capabilityVersion?: string;
  /** Redacted frames to <userDir>/pos-payments/wire/ while investigating (default false). */
  wireLog?: boolean | string;
}

const DEFAULT_HEARTBEAT_S = OWN_DEFAULTS.heartbeat;
const MAX_HEARTBEAT_S = 30;
/** How often the built-in simulator's card machine walks the pay-at-table sequence, so the example shows something. */
const SIMULATOR_TABLE_WALK_MS = 15_000;
/** The sandbox accepts these literal ids (dojo.md 8); the simulator accepts any. */
const SIMULATOR_SOFTWARE_HOUSE = 'softwareHouse1';

const DEFAULT_POLL_S = OWN_DEFAULTS.pollInterval;

export = function (RED: RedApi): void {
  registerCheckEndpoint(RED);
  RED.nodes.registerType('pos-dojo', function (this: ConfigNode, config: DojoConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-dojo', config);
    const node = this;
    const environment = environmentOf(config.environment);
    const simulated = environment === 'simulator';
    const apiKey = simulated ? SIMULATOR_API_KEY : resolveSecret(RED, node, node.credentials?.apiKey);
    // Dojo's API key is the account (it also decides sandbox or production).
    const journal = accountJournal(RED, node, 'dojo', environment, simulated ? [] : [config.url?.trim(), apiKey], config.journal);
    ownConnection(node, 'Dojo', simulated ? { name: 'dojo', create: () => new DojoSimulator({ payAtTableIntervalMs: SIMULATOR_TABLE_WALK_MS }) } : undefined,
      (prepare) => new DojoProvider({
        // The simulator's address is only known once it listens; the URL is taken on each attempt.
        environment: simulated ? 'custom' : environment,
        url: simulated ? 'http://127.0.0.1:1' : config.url?.trim() || undefined,
        apiKey,
        softwareHouseId: config.softwareHouseId?.trim() || (simulated ? SIMULATOR_SOFTWARE_HOUSE : ''),
        ...(config.resellerId?.trim() ? { resellerId: config.resellerId.trim() } : {}),
        verifyTls: unlessFalse(config.verifyTls),
        heartbeatIntervalMs: secondsMs(config.heartbeat, { fallback: DEFAULT_HEARTBEAT_S, max: MAX_HEARTBEAT_S }),
        pollIntervalMs: secondsMs(config.pollInterval, { fallback: DEFAULT_POLL_S, min: 0.05, max: 10 }),
        ...(typeof config.capabilityVersion === 'string' && config.capabilityVersion.trim() ? { capabilityVersion: config.capabilityVersion.trim() } : {}),
        ...wireOption(wireTapFor(RED, node, 'dojo', config.wireLog, [apiKey])),
        logger: nodeLogger(node),
        // Dojo serves one EPOS Data socket per account: on a shared journal, one instance holds it.
        ...(journal.openLease ? { lease: journal.openLease } : {}),
      }, prepare),
      journal);
  }, {
    credentials: { apiKey: { type: 'password' } },
  });
};
