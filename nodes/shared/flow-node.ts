// What every flow node shares: find the config node for the chosen provider, use its
// connection, show its state, and leave cleanly.

import { PosError } from '../../lib/core/errors';
import type { Capability } from '../../lib/core/provider';
import type { ConnectionState } from '../../lib/core/types';
import { PROVIDER_NAMES, defaultProvider } from '../../lib/providers/registry';
import type { ProviderConnection } from './connection';
import type { Node, NodeStatus, RedApi } from './red';
import { connectionStatus, textStatus } from './status';
import { StatusThrottle, type StatusSource } from './status-throttle';

export interface FlowNodeConfig {
  name?: string;
  provider?: string;
  timeout?: number | string;
  [providerConfigRef: string]: unknown;
}

/** A config node of this pack carries its connection. */
interface ConfigNodeWithConnection {
  connection?: ProviderConnection;
  /** Why the config node could not make a connection (no token, bad URL, ...). */
  configError?: string;
}

export interface FlowBinding {
  readonly connection: ProviderConnection | undefined;
  readonly provider: string;
  /** The connection, or a PosError a person can act on. */
  require(capability: Capability): ProviderConnection;
  /**
   * Show something of the node's own (a payment prompt); the next connection change replaces
   * it. Throttled (see StatusThrottle): pass a function to have the text formatted only if shown.
   */
  show(status: StatusSource): void;
  readonly state: ConnectionState | undefined;
}

export interface BindOptions {
  /** A further reason this node cannot use the chosen connection (pay at table is off); checked like the capability, so nothing connects. */
  check?: (connection: ProviderConnection) => PosError | undefined;
  /** True when the node shows a state of its own (a request-in node: the pay-at-table socket's), not the connection's. */
  ownStatus?: (connection: ProviderConnection) => boolean;
}

export function bindFlowNode(RED: RedApi, node: Node, config: FlowNodeConfig, capability: Capability, opts: BindOptions = {}): FlowBinding {
  const provider = String(config.provider || defaultProvider(node.type));
  const configId = typeof config[provider] === 'string' ? (config[provider] as string) : '';
  const configNode = configId ? (RED.nodes.getNode(configId) as ConfigNodeWithConnection | null) : null;
  const connection = configNode?.connection;
  let state: ConnectionState | undefined;
  const statuses = new StatusThrottle((s: NodeStatus) => node.status(s));

  const problem = (): PosError | undefined => {
    if (!PROVIDER_NAMES.includes(provider)) return new PosError('bad_input', `unknown provider "${provider}"`);
    if (configNode?.configError) return new PosError('bad_input', `the ${provider} connection is misconfigured: ${configNode.configError}`);
    if (!connection) return new PosError('bad_input', `no ${provider} connection is selected on this node (or it is not deployed)`);
    if (!connection.provider.capabilities[capability]) {
      return new PosError('capability_missing', `${provider} does not support ${capability} in this pack`);
    }
    return opts.check?.(connection);
  };

  const initial = problem();
  const user = {
    id: node.id,
    onState(s: ConnectionState) {
      state = s;
      statuses.set(() => connectionStatus(RED, s));
    },
  };
  // A node showing a state of its own still registers (the connection starts with its first user) but leaves its status alone.
  const member = connection && opts.ownStatus?.(connection) ? { id: node.id, onState(s: ConnectionState) { state = s; } } : user;
  if (initial) node.status(textStatus(RED, initial.code === 'capability_missing' ? 'status.capabilityMissing' : 'status.notConfigured', { provider }, 'red'));
  else connection!.register(member);

  // `removed` false: a redeploy that starts this node again at once; the shared connection stays up for it.
  node.on('close', (removed: boolean, done: () => void) => {
    statuses.close();
    if (!connection || initial) return done();
    connection.deregister(member, removed === true).then(done, done);
  });

  return {
    connection,
    provider,
    get state() {
      return state;
    },
    require(cap: Capability) {
      const err = problem();
      if (err) throw err;
      if (!connection!.provider.capabilities[cap]) throw new PosError('capability_missing', `${provider} does not support ${cap} in this pack`);
      return connection!;
    },
    show(status: StatusSource) {
      statuses.set(status);
    },
  };
}

/** `timeout` in seconds from msg.timeout or the node, bounded so a typo cannot park a payment for days. */
export function timeoutMs(fromMsg: unknown, fromNode: unknown, fallbackSeconds: number): number {
  const pick = fromMsg ?? (fromNode === '' ? undefined : fromNode);
  if (pick === undefined || pick === null) return fallbackSeconds * 1000;
  const seconds = typeof pick === 'string' ? Number(pick) : pick;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new PosError('bad_input', `timeout must be a number of seconds between 1 and 3600, got ${JSON.stringify(pick)}`);
  }
  return Math.round(seconds * 1000);
}
