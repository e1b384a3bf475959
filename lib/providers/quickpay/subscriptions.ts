// The channels the notification nodes want, kept subscribed on whatever pusher-js connection is
// current. pusher-js subscribes again after every reconnect by itself; what it does not do is
// pace a refused channel (it would ask again on every reconnect, a storm of auth calls) or try
// again after a failed auth call while the connection stays up. Both are handled here:
// - a refusal (401/403, or a signature the server rejects) takes the channel out of pusher-js
//   and asks again later: on the next connection, then on a back-off, never more than once per
//   channel per refusedRetry.minMs (default 1 min) and at least every refusedRetry.maxMs
//   (default 15 min). A refusal can be temporary (a key being rotated, QuickPay's side fixed),
//   and giving up for good left the payments channel silent until a redeploy.
// - any other failure is retried with its own (shorter) backoff.

import type Pusher from 'pusher-js';
import type { Channel } from 'pusher-js';
import { Backoff } from '../../core/backoff';
import type { Logger } from '../../core/types';
import type { ChannelAuthOutcome } from './authorizer';
import { oneLine } from './close-codes';
import { isPusherInternal } from './mapping';
import { checkSubscriptionError } from './schemas';

type GlobalCallback = (event: string, data: unknown) => void;

/** How often a refused channel is asked for again. */
export interface RefusedRetry {
  /** No two auth calls for a refused channel closer than this; default 60 s. */
  minMs?: number;
  /** The back-off doubles from minMs up to this; default 15 min. */
  maxMs?: number;
}

const DEFAULT_REFUSED_MIN_MS = 60_000;
const DEFAULT_REFUSED_MAX_MS = 15 * 60_000;

interface Entry {
  name: string;
  /** The pusher-js channel object we listen to, while it is in pusher-js's table. */
  channel?: Channel;
  listener?: GlobalCallback;
  /** What QuickPay said when it refused it; set until a subscription succeeds. */
  refused?: string;
  /** The current back-off after a refusal; 0 = not refusal-paced (never refused, or cannot be subscribed at all). */
  refusedDelayMs: number;
  /** A refused channel is being asked for again (it is back in pusher-js's table). */
  reasking: boolean;
  reaskTimer?: NodeJS.Timeout;
  reaskDue: number;
  /** When the last auth call for it went out (Date.now()). */
  lastAuthAt: number;
  retryTimer?: NodeJS.Timeout;
  backoff: Backoff;
  /** Failures since the last success: the first is a warning, the rest debug lines. */
  failures: number;
  /** Subscribed at least once since start(): a later success is a re-subscription. */
  subscribedBefore: boolean;
}

export interface SubscriptionHooks {
  /** Something the state shows changed (counts, a refusal). */
  changed(): void;
  /** A channel event for the flow (not pusher:*, not pusher_internal:*). */
  event(channel: string, event: string, data: unknown): void;
  /** A channel was subscribed again on a later connection. */
  resubscribed(channel: string): void;
}

export class ChannelSubscriptions {
  private readonly entries = new Map<string, Entry>();
  private pusher: Pusher | undefined;
  /** Set while we hand pusher-js an auth failure, whose subscription_error echo is then ours. */
  private echoOf: string | undefined;
  /**
   * Between connected() and disconnected(). pusher-js keeps its state 'connected' and the old
   * socket id while it waits to reconnect, so a subscribe then would sign for a dead socket.
   */
  private live = false;

  private readonly refusedMinMs: number;
  private readonly refusedMaxMs: number;

  constructor(
    private readonly logger: Logger,
    private readonly hooks: SubscriptionHooks,
    private readonly backoff: { initialMs?: number; maxMs?: number } = {},
    refusedRetry: RefusedRetry = {},
  ) {
    this.refusedMinMs = positiveOr(refusedRetry.minMs, DEFAULT_REFUSED_MIN_MS);
    this.refusedMaxMs = Math.max(this.refusedMinMs, positiveOr(refusedRetry.maxMs, DEFAULT_REFUSED_MAX_MS));
  }

  /** The channel names wanted now, refused ones included. */
  get wanted(): string[] {
    return [...this.entries.keys()];
  }

  /** Replaces the wanted set: new channels are subscribed, dropped ones unsubscribed (and forgiven). */
  setWanted(names: readonly string[]): void {
    const next = new Set(names);
    for (const name of [...this.entries.keys()]) {
      if (!next.has(name)) this.forget(name);
    }
    for (const name of next) {
      if (this.entries.has(name)) continue;
      this.entries.set(name, {
        name, backoff: this.newBackoff(), failures: 0, subscribedBefore: false, refusedDelayMs: 0, reasking: false, reaskDue: 0, lastAuthAt: 0,
      });
      this.ensure(name);
    }
    this.hooks.changed();
  }

  /** A new pusher-js instance (start()): every wanted channel is asked for again, refusals forgotten. */
  attach(pusher: Pusher): void {
    this.pusher = pusher;
    for (const entry of this.entries.values()) {
      this.forgive(entry);
      entry.failures = 0;
      entry.subscribedBefore = false;
      entry.backoff.reset();
      this.ensure(entry.name);
    }
  }

  /** start() while connected: refused channels are asked for once more. */
  retryRefused(): void {
    let any = false;
    for (const entry of this.entries.values()) {
      if (!entry.refused) continue;
      any = true;
      this.forgive(entry);
      entry.failures = 0;
      entry.backoff.reset();
      this.ensure(entry.name);
    }
    if (any) this.hooks.changed();
  }

  /** stop(): our listeners and timers go; pusher-js's table goes with its instance. */
  detach(): void {
    for (const entry of this.entries.values()) {
      this.unbind(entry);
      this.clearRetry(entry);
      this.clearReask(entry);
      entry.reasking = false;
    }
    this.pusher = undefined;
    this.live = false;
  }

  /**
   * A new connection (a new socket id) is up: a refused channel is asked for again on it, as
   * soon as its last auth call is refusedRetry.minMs old (a reconnect storm stays one call a minute).
   */
  connected(): void {
    this.live = true;
    for (const entry of this.entries.values()) {
      if (!entry.refused || entry.refusedDelayMs === 0 || entry.reasking) continue;
      this.scheduleReask(entry, entry.lastAuthAt + this.refusedMinMs);
    }
  }

  /** The connection was lost: refused channels wait for the next one. */
  disconnected(): void {
    this.live = false;
  }

  /**
   * Called before every auth call pusher-js asks for. False for a refused channel asked for
   * within refusedRetry.minMs of its last call (pusher-js re-subscribes whatever is in its table
   * on every reconnect): its pending subscription is then answered with an error and dropped.
   */
  admit(name: string, callback: (err: Error | null, data: { auth: string } | null) => void): boolean {
    const entry = this.entries.get(name);
    if (!entry) return true;
    const now = Date.now();
    if (entry.refused && entry.refusedDelayMs > 0 && now - entry.lastAuthAt < this.refusedMinMs) {
      // Deferred: pusher-js is inside its subscribe() (or our ensure()) and must finish first.
      queueMicrotask(() => {
        if (this.entries.get(name) !== entry || !entry.refused) return;
        this.echo(name, () => callback(new Error('the channel was refused; it is asked for again later'), null));
        this.removeFromPusher(name);
        entry.reasking = false;
        this.scheduleReask(entry, entry.lastAuthAt + this.refusedMinMs);
      });
      return false;
    }
    entry.lastAuthAt = now;
    return true;
  }

  counts(): { subscribed: number; subscribing: number } {
    let subscribed = 0;
    let subscribing = 0;
    for (const entry of this.entries.values()) {
      if (entry.refused) continue;
      if (entry.channel?.subscribed) subscribed += 1;
      else subscribing += 1;
    }
    return { subscribed, subscribing };
  }

  /** The refused channels by name and what QuickPay said, for the state; undefined when none. */
  refusal(): string | undefined {
    const refused = [...this.entries.values()].filter((e) => e.refused);
    if (refused.length === 0) return undefined;
    const said = [...new Set(refused.map((e) => e.refused as string))].join(' / ');
    const paced = refused.some((e) => e.refusedDelayMs > 0);
    return `QuickPay refused the channel authorisation for ${refused.map((e) => e.name).join(', ')}: ${said}; check the API key, the private key and the merchant id`
      + (paced ? `; asked again on the next connection and at least every ${duration(this.refusedMaxMs)}` : '');
  }

  isWanted(name: string): boolean {
    const entry = this.entries.get(name);
    return !!entry && !entry.refused;
  }

  /**
   * Finishes one auth call pusher-js asked for. `callback` is pusher-js's: given an error it
   * emits pusher:subscription_error on the channel, which is then our own echo.
   */
  authorized(name: string, outcome: ChannelAuthOutcome, callback: (err: Error | null, data: { auth: string } | null) => void): void {
    const entry = this.entries.get(name);
    if (!entry || (entry.refused && !entry.reasking)) {
      // Not wanted any more: let pusher-js drop the pending subscription, then take it out of its table.
      this.echo(name, () => callback(new Error('the channel is no longer wanted'), null));
      this.removeFromPusher(name);
      return;
    }
    if (outcome.kind === 'ok') {
      callback(null, { auth: outcome.auth });
      return;
    }
    this.echo(name, () => callback(new Error(outcome.message), null));
    if (outcome.kind === 'refused') this.refuse(entry, outcome.message);
    else this.fail(entry, outcome.message);
  }

  private ensure(name: string): void {
    const entry = this.entries.get(name);
    const pusher = this.pusher;
    if (!entry || (entry.refused && !entry.reasking) || !pusher || entry.channel || entry.retryTimer) return;
    let channel: Channel;
    try {
      channel = pusher.subscribe(name);
    } catch (err) {
      // pusher-js throws for channel kinds it cannot do; channels.ts filters those, so this is a surprise.
      entry.refused = `pusher-js cannot subscribe it (${oneLine((err as Error)?.message ?? String(err))})`;
      entry.refusedDelayMs = 0;
      entry.reasking = false;
      this.clearReask(entry);
      this.logger.error(`QuickPay channel ${name} cannot be subscribed: ${entry.refused}`);
      return;
    }
    const listener: GlobalCallback = (event, data) => {
      try {
        this.onChannelEvent(entry, channel, event, data);
      } catch (err) {
        // pusher-js called us from its frame handler: a throw here would end up in the socket's event loop.
        this.logger.error(`QuickPay: handling ${oneLine(String(event), 60)} on ${name} failed: ${(err as Error)?.message ?? String(err)}`);
      }
    };
    channel.bind_global(listener);
    entry.channel = channel;
    entry.listener = listener;
  }

  private onChannelEvent(entry: Entry, channel: Channel, event: string, data: unknown): void {
    if (entry.channel !== channel) return;
    if (event === 'pusher:subscription_succeeded') {
      this.clearRetry(entry);
      entry.backoff.reset();
      if (entry.refused) this.logger.info(`QuickPay: accepted the channel authorisation for ${entry.name} again; subscribed`);
      this.forgive(entry);
      if (entry.failures > 0) this.logger.info(`QuickPay: subscribed to ${entry.name} after ${entry.failures} failed attempt(s)`);
      else this.logger.debug(`QuickPay: subscribed to ${entry.name}`);
      entry.failures = 0;
      const again = entry.subscribedBefore;
      entry.subscribedBefore = true;
      if (again) this.hooks.resubscribed(entry.name);
      this.hooks.changed();
      return;
    }
    if (event === 'pusher:subscription_error') {
      if (this.echoOf === entry.name) return;
      this.onServerRefusal(entry, data);
      return;
    }
    if (isPusherInternal(event)) return;
    this.hooks.event(entry.name, event, data);
  }

  /** A subscription_error frame from the server (soketi style) [related: soketi]. */
  private onServerRefusal(entry: Entry, data: unknown): void {
    const d = checkSubscriptionError(data) ? data : {};
    const words = [d.type, d.error].filter((v): v is string => typeof v === 'string' && v !== '').map((v) => oneLine(v, 100)).join(': ');
    const message = `${d.status !== undefined ? `status ${d.status}` : 'subscription error'}${words ? ` (${words})` : ''}`;
    // The protocol has no other reason to refuse a subscription than its signature: without a status it is an auth refusal.
    if (d.status === undefined || d.status === 401 || d.status === 403) this.refuse(entry, message);
    else this.fail(entry, message);
  }

  private refuse(entry: Entry, message: string): void {
    this.removeFromPusher(entry.name);
    this.clearRetry(entry);
    const again = entry.refusedDelayMs > 0;
    entry.refused = message;
    entry.reasking = false;
    entry.refusedDelayMs = again ? Math.min(this.refusedMaxMs, entry.refusedDelayMs * 2) : this.refusedMinMs;
    this.clearReask(entry);
    this.scheduleReask(entry, entry.lastAuthAt + entry.refusedDelayMs);
    const line = `QuickPay refused the channel authorisation for ${entry.name}: ${message}; check the API key, the private key and the merchant id (asked again on the next connection or in ${duration(entry.refusedDelayMs)})`;
    if (again) this.logger.debug(line);
    else this.logger.warn(line);
    this.hooks.changed();
  }

  private fail(entry: Entry, message: string): void {
    this.removeFromPusher(entry.name);
    this.clearRetry(entry);
    if (entry.refused && entry.refusedDelayMs > 0) {
      // Asking a refused channel again failed on the way (network, 5xx): it stays refused and
      // keeps its slower pace, rather than the quick retries of a channel never refused.
      entry.reasking = false;
      this.logger.debug(`QuickPay: asking again for the refused channel ${entry.name} failed: ${message}`);
      this.scheduleReask(entry, entry.lastAuthAt + entry.refusedDelayMs);
      return;
    }
    entry.failures += 1;
    const delay = entry.backoff.next();
    const line = `QuickPay: subscribing to ${entry.name} failed: ${message}; retry ${entry.backoff.attempt} in ${delay} ms`;
    if (entry.failures === 1) this.logger.warn(line);
    else this.logger.debug(line);
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      if (this.entries.get(entry.name) === entry) this.ensure(entry.name);
    }, delay);
    this.hooks.changed();
  }

  private forget(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.clearRetry(entry);
    this.clearReask(entry);
    const channel = entry.channel;
    this.unbind(entry);
    // pusher-js keeps a pending channel until its auth answer (cancelSubscription); authorized() then removes it.
    if (channel && this.pusher) {
      try {
        this.pusher.unsubscribe(name);
      } catch (err) {
        this.logger.debug(`QuickPay: unsubscribing ${name}: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  /** Out of pusher-js's table, so that its re-subscription after a reconnect skips it. */
  private removeFromPusher(name: string): void {
    const entry = this.entries.get(name);
    if (entry) this.unbind(entry);
    const pusher = this.pusher;
    if (!pusher) return;
    const channel = pusher.channel(name);
    if (!channel) return;
    if (channel.subscribed) {
      pusher.unsubscribe(name);
      return;
    }
    pusher.channels.remove(name);
  }

  private unbind(entry: Entry): void {
    if (entry.channel && entry.listener) entry.channel.unbind_global(entry.listener);
    entry.channel = undefined;
    entry.listener = undefined;
  }

  private clearRetry(entry: Entry): void {
    clearTimeout(entry.retryTimer);
    entry.retryTimer = undefined;
  }

  /** Asks for a refused channel again at `at` (not before now), unless an earlier ask is already set. */
  private scheduleReask(entry: Entry, at: number): void {
    const now = Date.now();
    const due = Math.max(at, now);
    if (entry.reaskTimer && entry.reaskDue <= due) return;
    this.clearReask(entry);
    entry.reaskDue = due;
    entry.reaskTimer = setTimeout(() => {
      entry.reaskTimer = undefined;
      // Not live: connected() asks on the next connection.
      if (this.entries.get(entry.name) !== entry || !entry.refused || entry.reasking || !this.live) return;
      entry.reasking = true;
      this.ensure(entry.name);
    }, due - now);
  }

  private clearReask(entry: Entry): void {
    clearTimeout(entry.reaskTimer);
    entry.reaskTimer = undefined;
  }

  /** Not refused any more (subscribed, or start() again): the refusal pace starts afresh. */
  private forgive(entry: Entry): void {
    entry.refused = undefined;
    entry.refusedDelayMs = 0;
    entry.reasking = false;
    this.clearReask(entry);
  }

  private echo(name: string, fn: () => void): void {
    const before = this.echoOf;
    this.echoOf = name;
    try {
      fn();
    } catch (err) {
      this.logger.debug(`QuickPay: pusher-js failed on an auth error for ${name}: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      this.echoOf = before;
    }
  }

  private newBackoff(): Backoff {
    return new Backoff({ initialMs: this.backoff.initialMs, maxMs: this.backoff.maxMs });
  }
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** 90000 -> "1.5 min", 800 -> "0.8 s". */
function duration(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}
