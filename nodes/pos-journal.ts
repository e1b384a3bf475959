// Config node: where the provider connections that select it journal their payments. `file`
// is the pack's own file journal in the user directory (what a connection without a journal
// node uses too); `postgres` is one table shared by several Node-RED instances, so a reference
// is charged at most once whichever instance receives it.

import { DEFAULT_TABLE } from '../lib/journal/postgres-journal';
import { registerAdminApi, type AdminRed } from './shared/admin-api';
import type { JournalNode } from './shared/journal-node';
import type { RedApi } from './shared/red';
import { resolveSecret } from './shared/secrets';

interface JournalConfig {
  name?: string;
  store?: string;
  table?: string;
  leaseSeconds?: number | string;
}

const DEFAULT_LEASE_S = 10;

export = function (RED: RedApi): void {
  // The Payments sidebar's endpoints: registered here because every install loads this file (once per runtime).
  registerAdminApi(RED as AdminRed);
  RED.nodes.registerType('pos-journal', function (this: JournalNode, config: JournalConfig) {
    RED.nodes.createNode(this, config);
    this.store = config.store === 'postgres' ? 'postgres' : 'file';
    this.table = String(config.table ?? '').trim() || DEFAULT_TABLE;
    const lease = Number(config.leaseSeconds);
    this.leaseSeconds = Number.isFinite(lease) && lease >= 2 && lease <= 300 ? lease : DEFAULT_LEASE_S;
    this.connectionString = this.store === 'postgres' ? resolveSecret(RED, this, this.credentials?.connectionString) || undefined : undefined;
  }, {
    credentials: { connectionString: { type: 'password' } },
  });
};
