// Config node for Paymentsense Connect: owns the one connection its flow nodes share, and with
// pay at table ticked also the /pat connection the terminals' table requests come over.

import { PaymentsenseProvider } from '../lib/providers/paymentsense/client';
import { PatServer } from '../lib/providers/paymentsense/pat';
import type { Environment } from '../lib/providers/paymentsense/url';
import { PaymentsenseSimulator, SIMULATOR_TOKEN } from '../lib/simulators/paymentsense';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, onlyIfTrue, secondsMs, unlessFalse } from './shared/config-fields';
import OWN_DEFAULTS from './defaults/pos-paymentsense.json';
import { withDefaults } from './shared/defaults';
import { wireOption, wireTapFor } from './shared/wire-log-node';
import { registerCheckEndpoint } from './shared/check-endpoint';


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
  /** Also hold the /pat connection and serve the terminals' table requests. */
  payAtTable?: boolean | string;
  /** Adds the final-pos-receipt-request flag: the terminal asks for a final receipt after paying. */
  finalPosReceipt?: boolean | string;
  /** Seconds the flow has to answer a terminal; the terminal's own limits are not documented. */
  patAnswerLimit?: number | string;
  /** Default true; false when a connection check found Connect lacks the transactionDetails look-up. */
  transactionLookup?: boolean | string;
  /** Redacted frames to <userDir>/pos-payments/wire/ while investigating (default false). */
  wireLog?: boolean | string;
}

const DEFAULT_HEARTBEAT_S = OWN_DEFAULTS.heartbeat;
const DEFAULT_PAT_ANSWER_LIMIT_S = OWN_DEFAULTS.patAnswerLimit;
/** The built-in simulator's terminal walks the tables this long after the EPoS connects to /pat, then every 30 s. */
const SIMULATOR_FIRST_WALK_MS = 10_000;
const SIMULATOR_WALK_EVERY_MS = 30_000;

export = function (RED: RedApi): void {
  registerCheckEndpoint(RED);
  RED.nodes.registerType('pos-paymentsense', function (this: ConfigNode, config: PaymentsenseConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-paymentsense', config);
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
    const journal = accountJournal(RED, node, 'paymentsense', environment, simulated ? [] : [endpoint.url, endpoint.account, endpoint.softwareHouseId, endpoint.installerId], config.journal);
    const simulator = simulated ? {
      name: 'paymentsense',
      create: () => new PaymentsenseSimulator({ patWalk: { firstMs: SIMULATOR_FIRST_WALK_MS, everyMs: SIMULATOR_WALK_EVERY_MS } }),
    } : undefined;
    ownConnection(node, 'Paymentsense', simulator,
      (prepare) => {
        const common = {
          ...endpoint,
          // The simulator's address is only known once it listens; the URL is built on each attempt.
          ...(simulated ? { environment: 'custom' as const, url: 'ws://127.0.0.1:1' } : {}),
          verifyTls: unlessFalse(config.verifyTls),
          heartbeatIntervalMs: secondsMs(config.heartbeat, { fallback: DEFAULT_HEARTBEAT_S, max: 600 }),
          ...wireOption(wireTapFor(RED, node, 'paymentsense', config.wireLog, [endpoint.token])),
          logger: nodeLogger(node),
        };
        const tables = onlyIfTrue(config.payAtTable) ? new PatServer({
          ...common,
          finalPosReceipt: onlyIfTrue(config.finalPosReceipt),
          answerLimitMs: secondsMs(config.patAnswerLimit, { fallback: DEFAULT_PAT_ANSWER_LIMIT_S, min: 0.1, max: 120 }),
          // Connect serves one PAT client per account: on a shared journal one instance holds it; pay at counter stays on every instance.
          ...(journal.openLease ? { lease: journal.openLease } : {}),
        }, prepare) : undefined;
        return new PaymentsenseProvider({ ...common, transactionLookup: unlessFalse(config.transactionLookup), ...(tables ? { tables } : {}) }, prepare);
      },
      journal);
  }, {
    credentials: { token: { type: 'password' } },
  });
};
