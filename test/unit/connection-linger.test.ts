// Issue 13: the shared connection follows Node-RED's `removed` flag. The last user closing for
// a partial deploy (removed false) leaves the connection up for its return; nobody back within
// the linger time, it closes anyway; a removed last user closes it at once.

import assert from 'node:assert/strict';
import { MemoryJournal } from '../../lib/core/journal';
import { Listeners } from '../../lib/core/listeners';
import type { PaymentProvider } from '../../lib/core/provider';
import type { ConnectionState } from '../../lib/core/types';
import { silentLogger } from '../../lib/core/types';
import { ProviderConnection } from '../../nodes/shared/connection';

class CountingProvider implements PaymentProvider {
  readonly name = 'paymentsense' as const;
  capabilities = { pay: true, refund: true, cancel: true, signature: true, terminals: true, notifications: true, requests: false, preauth: false, completion: false, release: false, verify: false, reports: false };
  state: ConnectionState = { name: 'idle' };
  starts = 0;
  stops = 0;
  topics: string[][] = [];
  private readonly states = new Listeners<ConnectionState>(() => {});
  start() { this.starts++; this.state = { name: 'connected' }; this.states.emit(this.state); }
  async stop() { this.stops++; this.state = { name: 'closed' }; this.states.emit(this.state); }
  async pay(): Promise<never> { throw new Error('not used'); }
  async cancel() {}
  async answerSignature() {}
  async listTerminals() { return []; }
  async lookup() { return { found: 'nothing' as const }; }
  onState(l: (s: ConnectionState) => void) { return this.states.add(l); }
  onNotification() { return () => {}; }
  setTopics(topics: readonly string[]) { this.topics.push([...topics]); }
}

/** Runs `fn` with setTimeout captured: returns the callbacks it scheduled, to fire by hand. */
function capturingTimers(fn: () => void): Array<() => void> {
  const real = global.setTimeout;
  const scheduled: Array<() => void> = [];
  (global as { setTimeout: unknown }).setTimeout = (cb: () => void) => { scheduled.push(cb); return real(() => {}, 0); };
  try {
    fn();
  } finally {
    global.setTimeout = real;
  }
  return scheduled;
}

describe('shared connection: Node-RED\'s removed flag', () => {
  let provider: CountingProvider;
  let connection: ProviderConnection;
  const user = (id: string) => ({ id, onState() {} });
  beforeEach(() => {
    provider = new CountingProvider();
    connection = new ProviderConnection(provider, new MemoryJournal(), silentLogger);
  });
  afterEach(() => connection.close());

  it('the last user restarted by a partial deploy: no stop, no second start', async () => {
    connection.register(user('pay'));
    await connection.deregister(user('pay'), false);
    connection.register(user('pay'));
    assert.equal(provider.starts, 1);
    assert.equal(provider.stops, 0);
    assert.equal(provider.state.name, 'connected');
  });

  it('the last user closed without being removed and never back: the connection closes after the linger', async () => {
    connection.register(user('pay'));
    let pending: Promise<void> = Promise.resolve();
    const timers = capturingTimers(() => { pending = connection.deregister(user('pay'), false); });
    await pending;
    assert.equal(provider.stops, 0, 'not at once');
    assert.equal(timers.length, 1);
    timers[0]!();
    await new Promise((r) => setImmediate(r));
    assert.equal(provider.stops, 1);
  });

  it('a removed last user closes the connection at once', async () => {
    connection.register(user('pay'));
    await connection.deregister(user('pay'), true);
    assert.equal(provider.stops, 1);
  });

  it('a notification node restarted by a partial deploy keeps its topics; a removed one drops them', () => {
    const off = connection.onNotification(() => {}, ['rates']);
    assert.deepEqual(provider.topics.at(-1), ['rates']);
    const told = provider.topics.length;
    off(false);
    connection.onNotification(() => {}, ['rates']);
    assert.deepEqual(provider.topics.slice(told), [['rates']], 'the union never lost the topic');
    const off2 = connection.onNotification(() => {}, ['payments']);
    off2(true);
    assert.deepEqual(provider.topics.at(-1), ['rates']);
  });
});
