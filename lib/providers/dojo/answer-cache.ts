// A small map that forgets: entries expire after a TTL and the oldest go first beyond a size
// cap. Dojo retries a request with the same JSON-RPC id after a reconnect and delivers events
// at least once; remembering answers and event ids for a while is what makes those repeats
// harmless. Written here rather than taken from a package: it is a few lines over Map's
// insertion order, and the pack keeps its production dependencies to ws and ajv.

export interface AnswerCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

export class AnswerCache<V> {
  private readonly slots = new Map<string, Slot<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: AnswerCacheOptions) {
    this.ttlMs = Number.isFinite(opts.ttlMs) && opts.ttlMs > 0 ? opts.ttlMs : 0;
    this.maxEntries = Number.isInteger(opts.maxEntries) && opts.maxEntries > 0 ? opts.maxEntries : 1;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    this.prune();
    return this.slots.size;
  }

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.slots.delete(key);
      return undefined;
    }
    return slot.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores (or refreshes) as the newest entry, with a fresh TTL. */
  set(key: string, value: V): void {
    // Delete first so the entry moves to the end: Map order then stays oldest-expiry-first.
    this.slots.delete(key);
    this.slots.set(key, { value, expiresAt: this.now() + this.ttlMs });
    this.prune();
    while (this.slots.size > this.maxEntries) this.slots.delete(this.slots.keys().next().value as string);
  }

  delete(key: string): boolean {
    return this.slots.delete(key);
  }

  clear(): void {
    this.slots.clear();
  }

  /** Drops expired entries from the front; stops at the first live one (every later one expires later). */
  private prune(): void {
    const now = this.now();
    for (const [key, slot] of this.slots) {
      if (slot.expiresAt > now) break;
      this.slots.delete(key);
    }
  }
}
