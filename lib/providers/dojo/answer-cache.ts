// A small map that forgets: entries expire after a TTL and the oldest go first beyond a size
// cap. Dojo retries a request with the same JSON-RPC id after a reconnect and delivers events
// at least once; remembering answers and event ids for a while is what makes those repeats
// harmless. Written here rather than taken from a package: it is a Map plus an oldest-first
// queue, and the pack keeps its production dependencies to ws and ajv.

export interface AnswerCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

interface Slot<V> {
  /** Undefined once the slot went stale (its key refreshed): a stale slot keeps nothing alive. */
  value: V | undefined;
  /** On the clock of `now() - epoch`: a small integer, kept in the object, not in a heap number of its own. */
  expiresAt: number;
}

/** A consumed queue prefix longer than this (and than half the queue) is cut off. */
const COMPACT_FROM = 1024;

export class AnswerCache<V> {
  private readonly slots = new Map<string, Slot<V>>();
  /**
   * Every set() in order, oldest first, as two parallel arrays read from `head`. An entry whose
   * slot is no longer the key's current one (refreshed, deleted, expired on get) is stale and
   * skipped. Pruning and eviction walk this queue, not the Map: V8 leaves a deleted Map entry
   * as a hole that every iteration from the front steps over again, so walking the Map from
   * its front after many deletes cost 17 µs a set at 10,000 entries.
   */
  private queueKeys: string[] = [];
  private queueSlots: Array<Slot<V> | undefined> = [];
  private head = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly epoch: number;

  constructor(opts: AnswerCacheOptions) {
    this.ttlMs = Number.isFinite(opts.ttlMs) && opts.ttlMs > 0 ? opts.ttlMs : 0;
    this.maxEntries = Number.isInteger(opts.maxEntries) && opts.maxEntries > 0 ? opts.maxEntries : 1;
    this.clock = opts.now ?? Date.now;
    this.epoch = this.clock();
  }

  private now(): number {
    return this.clock() - this.epoch;
  }

  get size(): number {
    this.prune();
    return this.slots.size;
  }

  get(key: string): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.now()) {
      slot.value = undefined;
      this.slots.delete(key);
      return undefined;
    }
    return slot.value as V;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores (or refreshes) as the newest entry, with a fresh TTL. */
  set(key: string, value: V): void {
    const slot: Slot<V> = { value, expiresAt: this.now() + this.ttlMs };
    // A refreshed key's older queue entry goes stale: its slot is no longer the current one, and
    // lets go of its value (under load, what a stale slot held was kept as long as the live one).
    const old = this.slots.get(key);
    if (old !== undefined) old.value = undefined;
    this.slots.set(key, slot);
    this.queueKeys.push(key);
    this.queueSlots.push(slot);
    this.prune();
    while (this.slots.size > this.maxEntries) this.evictOldest();
    this.compact();
  }

  delete(key: string): boolean {
    const old = this.slots.get(key);
    if (old === undefined) return false;
    old.value = undefined;
    return this.slots.delete(key);
  }

  clear(): void {
    this.slots.clear();
    this.queueKeys = [];
    this.queueSlots = [];
    this.head = 0;
  }

  /** Drops expired entries from the front; stops at the first live one (every later one expires later). */
  private prune(): void {
    const now = this.now();
    while (this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head] as string;
      const slot = this.queueSlots[this.head];
      if (this.slots.get(key) === slot) {
        if ((slot as Slot<V>).expiresAt > now) return;
        this.slots.delete(key);
      }
      this.pop();
    }
  }

  /** Deletes the oldest live entry (stale queue entries before it are skipped). */
  private evictOldest(): void {
    while (this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head] as string;
      const live = this.slots.get(key) === this.queueSlots[this.head];
      this.pop();
      if (live) {
        this.slots.delete(key);
        return;
      }
    }
  }

  private pop(): void {
    this.queueSlots[this.head] = undefined;
    this.head += 1;
  }

  /**
   * Cuts the consumed prefix off once it is most of the queue, and drops stale entries once
   * they outnumber the live ones (a key refreshed again and again within its TTL): each is
   * O(queue) after at least as many cheap set()s, so O(1) amortised.
   */
  private compact(): void {
    const length = this.queueKeys.length;
    const waiting = length - this.head;
    const tooManyStale = waiting > 2 * this.slots.size + COMPACT_FROM;
    if (!tooManyStale && (this.head < COMPACT_FROM || this.head * 2 < length)) return;
    const keys: string[] = [];
    const slots: Array<Slot<V> | undefined> = [];
    for (let i = this.head; i < length; i++) {
      const key = this.queueKeys[i] as string;
      const slot = this.queueSlots[i];
      if (tooManyStale && this.slots.get(key) !== slot) continue;
      keys.push(key);
      slots.push(slot);
    }
    this.queueKeys = keys;
    this.queueSlots = slots;
    this.head = 0;
  }
}
