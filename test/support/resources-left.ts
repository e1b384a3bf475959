// What a stretch of a test left behind: the timers and sockets created since trackResources()
// that are still open and keep the process alive. Counting all of the process's resources before
// and after (process.getActiveResourcesInfo) also counted other test files' timers, and one of
// those ending in between made a test fail that leaked nothing, or would have hidden one that did.

import { createHook } from 'node:async_hooks';

/** async_hooks type -> the name process.getActiveResourcesInfo() gives it. */
const TRACKED: Record<string, string> = { Timeout: 'Timeout', TCPWRAP: 'TCPSocketWrap', TCPSERVERWRAP: 'TCPServerWrap' };

export interface ResourceTracker {
  /** Resources created since trackResources() that are open and ref'd, by kind; {} when nothing is left. */
  left(): Promise<Record<string, number>>;
  /** left(), once nothing is left or `ms` have passed: for resources that close a moment later. */
  leftWithin(ms: number): Promise<Record<string, number>>;
  stop(): void;
}

export function trackResources(): ResourceTracker {
  const live = new Map<number, { kind: string; resource: { hasRef?: () => boolean } }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      const kind = TRACKED[type];
      if (kind) live.set(id, { kind, resource: resource as { hasRef?: () => boolean } });
    },
    // A timer is destroyed when it fires (unless it repeats) or is cleared; a socket when its handle closes.
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  const tracker: ResourceTracker = {
    async left() {
      // Node reports a timer that just fired, or a handle just closed, as destroyed a moment later.
      await new Promise((r) => setImmediate(r));
      const counts: Record<string, number> = {};
      for (const { kind, resource } of live.values()) {
        // Unref'd ones do not keep the process alive, as getActiveResourcesInfo() leaves them out.
        if (typeof resource.hasRef === 'function' && !resource.hasRef()) continue;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      return counts;
    },
    async leftWithin(ms) {
      const end = Date.now() + ms;
      let left = await tracker.left();
      while (Object.keys(left).length > 0 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        left = await tracker.left();
      }
      return left;
    },
    stop() {
      hook.disable();
      live.clear();
    },
  };
  return tracker;
}
