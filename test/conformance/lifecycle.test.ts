// Redeploying leaves nothing behind, for every provider: timers, sockets, process listeners.

import assert from 'node:assert/strict';
import { processListeners } from '../nodes/harness';
import { trackResources } from '../support/resources-left';
import { forEachProvider, helper, sleep, until, type Conformance } from './fixture';

const REDEPLOYS = 10;

forEachProvider('lifecycle', (c: Conformance) => {
  async function deployOnce(): Promise<number> {
    await helper.load(c.entry.nodeModules, c.flow(), c.handle.credentials('cfg'));
    await until(() => c.connectionState() === 'connected', 'the connection', 10000);
    await c.handle.ready?.();
    const t0 = Date.now();
    await helper.unload();
    return Date.now() - t0;
  }

  async function settled(): Promise<void> {
    if (c.handle.openConnections) await until(() => c.handle.openConnections!() === 0, 'every client socket to close', 5000);
    await sleep(100);
  }

  it(`${REDEPLOYS} redeploys leave no timer or socket of theirs open and the process listeners as they were, each closing within 2 s`, async () => {
    // One warm-up so Node-RED's own one-off resources are not counted.
    await deployOnce();
    await settled();
    const tracker = trackResources();
    const listenersBefore = processListeners();
    let slowest = 0;
    for (let i = 0; i < REDEPLOYS; i++) slowest = Math.max(slowest, await deployOnce());
    await settled();
    const left = await tracker.left();
    tracker.stop();
    assert.ok(slowest < 2000, `a close took ${slowest} ms`);
    assert.deepEqual(left, {}, 'timers and sockets made by the redeploys and still open');
    assert.equal(processListeners(), listenersBefore, 'process listeners');
  });
});
