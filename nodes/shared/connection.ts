// The config node's side: it owns one provider connection, shared by the flow nodes that use
// it. Connect when the first user registers, disconnect when the last one leaves and was
// removed, fan the connection state out to every user, and remove only what it added.

import type { Journal } from '../../lib/core/journal';
import { LeasedProvider } from '../../lib/core/leased-provider';
import { PaymentService, canSend } from '../../lib/core/payments';
import type { PaymentProvider, Unsubscribe } from '../../lib/core/provider';
import type { ConnectionState, Logger, NotificationEvent, PaymentResult } from '../../lib/core/types';
import type { Node } from './red';
import { RequestRouter } from './request-router';

export interface ConnectionUser {
  id: string;
  onState(state: ConnectionState): void;
}

/** How often a connection on a shared journal looks for the unfinished payments of instances that stopped. */
const SHARED_RECOVERY_MS = 3000;

/**
 * How long the connection stays up after its last user closed without being removed. A
 * "modified nodes" deploy closes a changed node and starts it again with the same id a moment
 * later: the connection (and a payment running on it) carries on. Nobody back by then (the node
 * now uses another connection): it closes.
 */
const LINGER_MS = 5000;

/** How long stop() may take before the config node reports it closed anyway. */
const CLOSE_LIMIT_MS = 2000;

/**
 * How long a closing config node waits for results in flight: the socket's own close must fit
 * in what is left of the 2 s a close may take.
 */
const DRAIN_MS = 1000;

export class ProviderConnection {
  readonly payments: PaymentService;
  /** Present when the provider calls us (capability `requests`). */
  readonly requests: RequestRouter | undefined;
  private readonly users = new Map<string, ConnectionUser>();
  /** Each listener with the topics it asked for and, where the provider has channels, the channels they stand for. */
  private readonly notificationListeners = new Map<(e: NotificationEvent) => void, { topics: readonly string[]; channels?: ReadonlySet<string> }>();
  private readonly own: Unsubscribe[] = [];
  private recovered = false;
  private recovering: Promise<void> | undefined;
  private recoverTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Set while no user is left but the last one may come back (a partial deploy). */
  private lingering: NodeJS.Timeout | undefined;
  /** Whether the provider was told that events are wanted (setNotificationInterest). */
  private interested = false;
  /** Set while a notification node that closed without being removed may come back. */
  private settleTimer: NodeJS.Timeout | undefined;
  /** Set while this instance holds a leased connection and takes the payments standby instances hand over. */
  private serving: (() => void) | undefined;
  /** On standby, this instance's unfinished payments were left to the lease holder. */
  private leftToHolder = false;

  /**
   * `ready`: what must be done before payments left from an earlier run are looked at (an
   * earlier version's journal taken over).
   */
  constructor(readonly provider: PaymentProvider, private readonly journal: Journal, private readonly logger: Logger, private readonly ready: Promise<unknown> = Promise.resolve()) {
    this.payments = new PaymentService(provider, journal, logger, { drainMs: DRAIN_MS });
    this.payments.onRecovered((result) => this.emit(recoveredEvent(result)));
    this.requests = provider.requests ? new RequestRouter(provider.requests) : undefined;
    this.own.push(provider.onState((state) => this.fanOut(state)));
    this.own.push(provider.onNotification((event) => this.emit(event)));
  }

  get userCount(): number {
    return this.users.size;
  }

  register(user: ConnectionUser): void {
    this.users.set(user.id, user);
    user.onState(this.provider.state);
    if (this.lingering) {
      // Back after a partial deploy: the connection never went away.
      clearTimeout(this.lingering);
      this.lingering = undefined;
      return;
    }
    if (this.users.size === 1) {
      // A restart while a stop is still finishing must wait for it, or the old socket would close the new one's state.
      const start = () => this.provider.start();
      if (this.stopping) this.stopping.then(start, start);
      else start();
    }
  }

  /**
   * `removed`: Node-RED's close flag. A node deleted from the flow that was the last user ends the
   * connection now; one that is only being restarted (a partial deploy) leaves it up a moment.
   */
  async deregister(user: ConnectionUser, removed = true): Promise<void> {
    if (!this.users.delete(user.id) || this.users.size > 0) return;
    if (removed) {
      await this.stop();
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      if (this.users.size === 0) void this.stop();
    }, LINGER_MS);
    this.lingering.unref();
  }

  /**
   * `topics` matter to providers whose events come on channels (stream names or
   * `channel:<name>`, see PaymentProvider.setTopics): the provider subscribes to the union of every listener's topics, and each
   * listener gets only the events of its own channels.
   */
  onNotification(listener: (e: NotificationEvent) => void, topics: readonly string[] = []): (removed?: boolean) => void {
    const channels = topics.length > 0 && this.provider.channelsOf ? new Set(this.provider.channelsOf(topics)) : undefined;
    this.notificationListeners.set(listener, { topics, ...(channels ? { channels } : {}) });
    this.settleNotifications();
    // `removed` false (a partial deploy restarts the node at once): the node stops hearing events
    // now, but its channels and the provider's interest stay a moment for its return, so nothing
    // is unsubscribed and subscribed again.
    return (removed = true) => {
      if (!this.notificationListeners.delete(listener)) return;
      clearTimeout(this.settleTimer);
      this.settleTimer = undefined;
      if (removed) {
        this.settleNotifications();
        return;
      }
      this.settleTimer = setTimeout(() => {
        this.settleTimer = undefined;
        this.settleNotifications();
      }, LINGER_MS);
      this.settleTimer.unref();
    };
  }

  /** Tells the provider what the listeners now want: its interest (some ask the remote side for events) and the union of their topics. */
  private settleNotifications(): void {
    const wanted = this.notificationListeners.size > 0;
    if (wanted !== this.interested) {
      this.interested = wanted;
      this.provider.setNotificationInterest?.(wanted);
    }
    this.updateTopics();
  }

  private updateTopics(): void {
    if (!this.provider.setTopics) return;
    const union = new Set<string>();
    for (const { topics } of this.notificationListeners.values()) for (const topic of topics) union.add(topic);
    this.provider.setTopics([...union].sort());
  }

  /**
   * Called when the config node itself closes: nothing of ours may outlive it. Results in
   * flight get a moment (at most 2 s) before the connection goes; a payment still running then
   * stays pending in the journal and is reported after the next start.
   */
  async close(): Promise<void> {
    const began = Date.now();
    clearTimeout(this.lingering);
    this.lingering = undefined;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.requests?.close();
    this.stopServing();
    await this.payments.close();
    for (const off of this.own.splice(0)) off();
    this.users.clear();
    this.notificationListeners.clear();
    await this.stop(Math.max(100, CLOSE_LIMIT_MS - (Date.now() - began)));
  }

  private stop(limitMs = CLOSE_LIMIT_MS): Promise<void> {
    if (!this.stopping) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.warn(`the ${this.provider.name} connection did not close within ${limitMs} ms; abandoned it`);
          resolve();
        }, limitMs);
      });
      const stopped = this.provider.stop().catch((err: Error) => this.logger.warn(`closing: ${err.message}`));
      this.stopping = Promise.race([stopped, limit]).finally(() => {
        clearTimeout(timer);
        this.stopping = undefined;
        this.recovered = false;
        clearInterval(this.recoverTimer);
        this.recoverTimer = undefined;
      });
    }
    return this.stopping;
  }

  private fanOut(state: ConnectionState): void {
    for (const user of this.users.values()) user.onState(state);
    // Only a provider leased whole hands payments over; one that leases a part of itself pays everywhere.
    const handsOver = this.provider instanceof LeasedProvider;
    // Only while connected: what is queued meanwhile waits for a holder that can send it.
    if (state.name === 'connected' && handsOver) {
      this.serving ??= this.journal.handOff?.serve((entry, remainingMs) => this.payments.runHandedOver(entry, remainingMs));
    } else {
      this.stopServing();
    }
    // On standby nothing here can ask the provider: this instance's unfinished payments go to the holder.
    if (state.name === 'standby' && handsOver && !this.leftToHolder) {
      this.leftToHolder = true;
      this.journal.leaveToHolder?.().catch((err: Error) => {
        this.leftToHolder = false;
        this.logger.warn(`could not leave unfinished payments to the instance holding the connection: ${err.message}`);
      });
    }
    if (canSend(state)) this.leftToHolder = false;
    if (canSend(state) && !this.recovered) {
      this.recovered = true;
      // Payments a previous run left without a result are asked about once per connection.
      this.recover();
      // With a shared journal another instance may die at any time: its payments are looked for again and again.
      this.recoverTimer ??= setInterval(() => { if (this.journal.waitForResult && canSend(this.provider.state)) this.recover(); }, SHARED_RECOVERY_MS);
      this.recoverTimer.unref();
    }
  }

  private stopServing(): void {
    this.serving?.();
    this.serving = undefined;
  }

  private recover(): void {
    if (this.recovering) return;
    this.recovering = this.ready.then(() => this.payments.recoverPending())
      .catch((err: Error) => this.logger.warn(`could not check unfinished payments: ${err.message}`))
      .finally(() => { this.recovering = undefined; });
  }

  private emit(event: NotificationEvent): void {
    for (const [listener, { channels }] of this.notificationListeners) {
      if (channels && event.channel !== undefined && !channels.has(event.channel)) continue;
      listener(event);
    }
  }
}

function recoveredEvent(result: PaymentResult): NotificationEvent {
  return {
    provider: result.provider,
    event: 'payment_recovered',
    reference: result.reference,
    ...(result.terminalId ? { terminalId: result.terminalId } : {}),
    data: result,
    receivedAt: new Date().toISOString(),
  };
}

/** Node-RED's log, for the library. The library has already redacted what it passes. */
export function nodeLogger(node: Node): Logger {
  return {
    debug: (m) => node.debug(m),
    info: (m) => node.log(m),
    warn: (m) => node.warn(m),
    error: (m) => node.error(m),
  };
}
