// The channels the notification nodes want, kept subscribed on whatever pusher-js connection is
// current. pusher-js subscribes again after every reconnect by itself; what it does not do is
// give up on a refused channel (it would ask again on every reconnect) or try again after a
// failed auth call while the connection stays up. Both are handled here: a refusal (401/403)
// takes the channel out of pusher-js until start() again or until no node wants it; any other
// failure is retried with its own backoff.

import type Pusher from 'pusher-js';
import type { Channel } from 'pusher-js';
import { Backoff } from '../../core/backoff';
import type { Logger } from '../../core/types';
import type { ChannelAuthOutcome } from './authorizer';
import { oneLine } from './close-codes';
import { isPusherInternal } from './mapping';
import { checkSubscriptionError } from './schemas';

type GlobalCallback = (event: string, data: unknown) => void;

interface Entry {
  name: string;
  /** The pusher-js channel object we listen to, while it is in pusher-js's table. */
  channel?: Channel;
  listener?: GlobalCallback;
  /** Why QuickPay refused it: no retry until start() again. */
  refused?: string;
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

  constructor(
    private readonly logger: Logger,
    private readonly hooks: SubscriptionHooks,
    private readonly backoff: { initialMs?: number; maxMs?: number } = {},
  ) {}

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
      this.entries.set(name, { name, backoff: this.newBackoff(), failures: 0, subscribedBefore: false });
      this.ensure(name);
    }
    this.hooks.changed();
  }

  /** A new pusher-js instance (start()): every wanted channel is asked for again, refusals forgotten. */
  attach(pusher: Pusher): void {
    this.pusher = pusher;
    for (const entry of this.entries.values()) {
      entry.refused = undefined;
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
      entry.refused = undefined;
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
    }
    this.pusher = undefined;
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

  /** The first refusal, for the state; undefined when none. */
  refusal(): string | undefined {
    for (const entry of this.entries.values()) if (entry.refused) return entry.refused;
    return undefined;
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
    if (!entry || entry.refused) {
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
    if (!entry || entry.refused || !pusher || entry.channel || entry.retryTimer) return;
    let channel: Channel;
    try {
      channel = pusher.subscribe(name);
    } catch (err) {
      // pusher-js throws for channel kinds it cannot do; channels.ts filters those, so this is a surprise.
      entry.refused = `QuickPay channel ${name} cannot be subscribed: ${oneLine((err as Error)?.message ?? String(err))}`;
      this.logger.error(entry.refused);
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
    entry.refused = `QuickPay refused the channel authorisation for ${entry.name}: ${message}; check the API key, the private key and the merchant id`;
    this.logger.warn(`${entry.refused} (not asked again until the connection is restarted)`);
    this.hooks.changed();
  }

  private fail(entry: Entry, message: string): void {
    this.removeFromPusher(entry.name);
    this.clearRetry(entry);
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
