// Config node for QuickPay's real-time stream: one Pusher Channels connection (pusher-js),
// shared by the notification nodes that select it; they decide which channels it subscribes to.

import type * as Client from '../lib/providers/quickpay/client';
import type * as Simulator from '../lib/simulators/quickpay';
import { ownConnection, type ConfigNode } from './shared/config-node';
import { accountJournal } from './shared/account-journal';
import { nodeLogger } from './shared/connection';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { environmentOf, unlessFalse, type Environment } from './shared/config-fields';
import { withDefaults } from './shared/defaults';
import { wireOption, wireTapFor } from './shared/wire-log-node';
import { registerCheckEndpoint } from './shared/check-endpoint';



interface QuickPayConfig {
  /** A pos-journal node's id; empty: the built-in file journal. */
  journal?: string;
  name?: string;
  environment?: Environment;
  url?: string;
  /** Public: part of the WebSocket path and of every channel signature. */
  appKey?: string;
  merchantId?: string;
  verifyTls?: boolean | string;
  /** QuickPay does not document these event names [inferred]; the defaults are the simulator's. */
  paymentEvent?: string;
  notificationEvent?: string;
  /** Redacted frames to <userDir>/pos-payments/wire/ while investigating (default false). */
  wireLog?: boolean | string;
}


/** Loaded when the first QuickPay connection is made, so pusher-js costs nothing to a start without one. */
function load(): typeof Client & typeof Simulator {
  return { ...(require('../lib/providers/quickpay/client') as typeof Client), ...(require('../lib/simulators/quickpay') as typeof Simulator) };
}

/**
 * The built-in simulator: its base URL is what the adapter takes in `custom` mode. It publishes
 * under the connection's event names, so a person can try the names their account uses.
 */
function builtInSimulator(names: { paymentEvent?: string; notificationEvent?: string }) {
  const sim = new (load().QuickPaySimulator)(names);
  return {
    start: () => sim.start().then(({ apiUrl }) => ({ url: apiUrl })),
    stop: () => sim.stop(),
  };
}

export = function (RED: RedApi): void {
  registerCheckEndpoint(RED);
  RED.nodes.registerType('pos-quickpay', function (this: ConfigNode, config: QuickPayConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-quickpay', config);
    const node = this;
    const { QuickPayProvider, SIMULATOR_API_KEY, SIMULATOR_APP_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } = load();
    const environment = environmentOf(config.environment);
    const simulated = environment === 'simulator';
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
    const names = {
      ...(text(config.paymentEvent) ? { paymentEvent: text(config.paymentEvent) } : {}),
      ...(text(config.notificationEvent) ? { notificationEvent: text(config.notificationEvent) } : {}),
    };
    // One simulator per set of names: two connections wanting different names get their own.
    const simulatorName = `quickpay:${names.paymentEvent ?? ''}:${names.notificationEvent ?? ''}`;
    ownConnection(node, 'QuickPay', simulated ? { name: simulatorName, create: () => builtInSimulator(names) } : undefined,
      (prepare) => new QuickPayProvider({
        // The simulator's address is only known once it listens; the URL is taken on each attempt.
        environment: simulated ? 'custom' : environment,
        ...(simulated ? { url: 'http://127.0.0.1:1' } : text(config.url) ? { url: text(config.url) } : {}),
        appKey: simulated ? SIMULATOR_APP_KEY : text(config.appKey) || SIMULATOR_APP_KEY,
        merchantId: text(config.merchantId) || (simulated ? SIMULATOR_MERCHANT_ID : ''),
        apiKey: simulated ? SIMULATOR_API_KEY : resolveSecret(RED, node, node.credentials?.apiKey),
        privateKeyPem: simulated ? simulatorKeys().privateKeyPem : resolveSecret(RED, node, node.credentials?.privateKey),
        verifyTls: unlessFalse(config.verifyTls),
        ...names,
        ...wireOption(wireTapFor(RED, node, 'quickpay', config.wireLog, simulated ? [] : [resolveSecret(RED, node, node.credentials?.apiKey), resolveSecret(RED, node, node.credentials?.privateKey)])),
        logger: nodeLogger(node),
      }, prepare),
      // QuickPay takes no payments here; the journal is there for the shared connection code.
      accountJournal(RED, node, 'quickpay', environment, simulated ? [] : [text(config.url), text(config.merchantId)], config.journal));
  }, {
    credentials: { apiKey: { type: 'password' }, privateKey: { type: 'password' } },
  });
};
