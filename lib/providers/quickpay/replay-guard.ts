// After a reconnect pusher-js subscribes every channel again. A server that replays the last
// events of a channel on subscription (a "last value" stream, a buffering proxy) would hand the
// flow an event it already had. Identical data is not proof of a replay, though: a rate can
// repeat its value, a test stream its message. So the guard is narrow: only in the first 2 s after
// a channel is subscribed again on a new connection, an event identical (channel, event name,
// data) to one received in the 60 s before the connection was lost is dropped, once per copy.

import { createHash } from 'node:crypto';

export const REPLAY_WINDOW_MS = 2000;
export const REPLAY_MEMORY_MS = 60_000;
/** Enough for a minute of a busy merchant's streams; never unbounded. */
const MAX_REMEMBERED = 500;

export class ReplayGuard {
  private recent: Array<{ key: string; at: number }> = [];
  /** Copies received before the last loss, by key. */
  private before = new Map<string, number>();
  /** Channel -> end of its window. */
  private windows = new Map<string, number>();

  /** True when the event is taken for a replay and must be dropped. */
  isReplay(channel: string, event: string, data: unknown, now = Date.now()): boolean {
    const key = keyOf(channel, event, data);
    const until = this.windows.get(channel);
    if (until !== undefined && now > until) this.windows.delete(channel);
    if (until !== undefined && now <= until) {
      const copies = this.before.get(key) ?? 0;
      if (copies > 0) {
        if (copies === 1) this.before.delete(key);
        else this.before.set(key, copies - 1);
        return true;
      }
    }
    this.recent.push({ key, at: now });
    if (this.recent.length > MAX_REMEMBERED) this.recent.splice(0, this.recent.length - MAX_REMEMBERED);
    return false;
  }

  /** The connection was lost: what came in the last minute may come again. */
  lost(now = Date.now()): void {
    this.before.clear();
    for (const { key, at } of this.recent) {
      if (now - at <= REPLAY_MEMORY_MS) this.before.set(key, (this.before.get(key) ?? 0) + 1);
    }
    this.recent = [];
  }

  /** A channel that had been subscribed before is subscribed again on a new connection. */
  resubscribed(channel: string, now = Date.now()): void {
    if (this.before.size > 0) this.windows.set(channel, now + REPLAY_WINDOW_MS);
  }

  clear(): void {
    this.recent = [];
    this.before.clear();
    this.windows.clear();
  }
}

function keyOf(channel: string, event: string, data: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(data) ?? 'undefined';
  } catch {
    text = String(data);
  }
  // Hashed so that a few hundred remembered payloads cost a few kilobytes, whatever their size.
  return createHash('sha256').update(`${channel}\u0000${event}\u0000${text}`).digest('base64');
}
