// Flow-node statuses are throttled (issue 14): the first change shows at once, then at most one
// per ~150 ms with the latest winning, the pending one is shown on close, and a status text is
// formatted from the catalog only when it is shown.
import assert from 'node:assert/strict';
import type { ConnectionState } from '../../lib/core/types';
import { bindFlowNode } from '../../nodes/shared/flow-node';
import type { Node, NodeStatus, RedApi } from '../../nodes/shared/red';
import { textStatus } from '../../nodes/shared/status';
import { STATUS_INTERVAL_MS, StatusThrottle } from '../../nodes/shared/status-throttle';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakes() {
  const shown: NodeStatus[] = [];
  let formatted = 0;
  const closers: Array<(removed: boolean, done: () => void) => void> = [];
  let user: { onState(s: ConnectionState): void } | undefined;
  const connection = {
    provider: { capabilities: { pay: true } },
    register: (u: typeof user) => { user = u; },
    deregister: async () => undefined,
  };
  const RED = {
    nodes: { createNode() {}, registerType() {}, getNode: (id: string) => (id === 'cfg' ? { connection } : null) },
    util: { cloneMessage: <T>(m: T) => m },
    _: (key: string, subs?: Record<string, unknown>) => {
      formatted += 1;
      return `${key} ${JSON.stringify(subs ?? {})}`;
    },
  } as unknown as RedApi;
  const node = {
    id: 'pay1',
    status: (s: NodeStatus) => void shown.push(s),
    on: (event: string, handler: (removed: boolean, done: () => void) => void) => { if (event === 'close') closers.push(handler); },
  } as unknown as Node;
  const binding = bindFlowNode(RED, node, { provider: 'paymentsense', paymentsense: 'cfg' }, 'pay');
  return {
    RED, binding, shown,
    formatted: () => formatted,
    state: (s: ConnectionState) => user!.onState(s),
    close: () => new Promise<void>((resolve) => { for (const c of closers) c(false, resolve); }),
  };
}

describe('flow-node status throttle', () => {
  it('100 rapid status changes: the first at once, then one more, the latest, within the interval', async () => {
    const f = fakes();
    for (let i = 1; i <= 100; i++) {
      if (i % 10 === 0) f.state({ name: 'reconnecting', attempt: i, delayMs: 1000, reason: 'x' });
      else f.binding.show(() => textStatus(f.RED, 'status.paying', { amount: `${i}.00 GBP` }));
    }
    assert.equal(f.shown.length, 1, 'only the first so far');
    assert.match(String(f.shown[0]!.text), /1\.00 GBP/);
    await sleep(STATUS_INTERVAL_MS * 3);
    assert.equal(f.shown.length, 2, `shown: ${JSON.stringify(f.shown)}`);
    assert.match(String(f.shown[1]!.text), /reconnecting.*"attempt":100/, 'the last one shown is the latest');
    assert.equal(f.formatted(), 2, 'only the two shown were formatted');
    await f.close();
  });

  it('a steady stream shows about one status per interval, never more', async () => {
    const f = fakes();
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < STATUS_INTERVAL_MS * 6) {
      i += 1;
      const amount = String(i);
      f.binding.show(() => textStatus(f.RED, 'status.paying', { amount }));
      await sleep(2);
    }
    const elapsed = Date.now() - started;
    await sleep(STATUS_INTERVAL_MS * 2);
    assert.ok(i > 50, `${i} changes`);
    assert.ok(f.shown.length <= Math.ceil(elapsed / STATUS_INTERVAL_MS) + 2, `${f.shown.length} shown in ${elapsed} ms`);
    assert.ok(f.shown.length >= 3, `${f.shown.length} shown`);
    assert.match(String(f.shown.at(-1)!.text), new RegExp(`"amount":"${i}"`));
    await f.close();
  });

  it('after a quiet interval a change shows at once again', async () => {
    const f = fakes();
    f.state({ name: 'connecting', attempt: 0 });
    await sleep(STATUS_INTERVAL_MS + 30);
    f.state({ name: 'connected' });
    assert.equal(f.shown.length, 2);
    assert.equal(f.shown[1]!.fill, 'green');
    await f.close();
  });

  it('close shows the pending status at once and leaves no timer; later changes are dropped', async () => {
    const f = fakes();
    f.state({ name: 'connecting', attempt: 0 });
    f.state({ name: 'connected' });
    assert.equal(f.shown.length, 1);
    await f.close();
    assert.equal(f.shown.length, 2);
    assert.equal(f.shown[1]!.fill, 'green');
    f.state({ name: 'closed' });
    await sleep(STATUS_INTERVAL_MS + 30);
    assert.equal(f.shown.length, 2);
  });

  it('the throttle itself: its one timer is gone after close', () => {
    const shown: NodeStatus[] = [];
    const t = new StatusThrottle((s) => shown.push(s));
    t.set({ text: 'a' });
    t.set({ text: 'b' });
    const timer = (t as unknown as { timer?: NodeJS.Timeout }).timer;
    assert.ok(timer && timer.hasRef() === false, 'pending, on an unref\'d timer');
    t.close();
    assert.equal((t as unknown as { timer?: NodeJS.Timeout }).timer, undefined);
    assert.deepEqual(shown.map((s) => s.text), ['a', 'b']);
  });

  it('a status that fails to format is skipped, not thrown at the payment', () => {
    const shown: NodeStatus[] = [];
    const t = new StatusThrottle((s) => shown.push(s), 150, () => 0);
    assert.doesNotThrow(() => t.set(() => { throw new Error('catalog broken'); }));
    t.close();
    assert.deepEqual(shown, []);
  });
});
