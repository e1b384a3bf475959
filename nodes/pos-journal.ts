// Config node: where the provider connections that select it journal their payments. `file`
// is the pack's own file journal in the user directory (what a connection without a journal
// node uses too); `postgres` is one table shared by several Node-RED instances, so a reference
// is charged at most once whichever instance receives it.

import { registerAdminApi, type AdminRed } from './shared/admin-api';
import type { JournalNode } from './shared/journal-node';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';
import { NODE_DEFAULTS, withDefaults } from './shared/defaults';

interface JournalConfig {
  name?: string;
  store?: string;
  table?: string;
  leaseSeconds?: number | string;
}

const DEFAULT_LEASE_S = NODE_DEFAULTS['pos-journal'].leaseSeconds;

export = function (RED: RedApi): void {
  // The Payments sidebar's endpoints: registered here because every install loads this file (once per runtime).
  registerAdminApi(RED as AdminRed);
  RED.nodes.registerType('pos-journal', function (this: JournalNode, config: JournalConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-journal', config);
    this.store = config.store === 'postgres' ? 'postgres' : 'file';
    this.table = String(config.table ?? '').trim() || NODE_DEFAULTS['pos-journal'].table;
    const lease = Number(config.leaseSeconds);
    this.leaseSeconds = Number.isFinite(lease) && lease >= 2 && lease <= 300 ? lease : DEFAULT_LEASE_S;
    this.connectionString = this.store === 'postgres' ? resolveSecret(RED, this, this.credentials?.connectionString) || undefined : undefined;
  }, {
    credentials: { connectionString: { type: 'password' } },
  });
};
