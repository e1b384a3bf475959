// A provider that allows one connection per account (Modulus, Dojo's EPOS socket), run by
// several Node-RED instances on one shared journal: only the instance holding the lease opens
// the connection; the others are on `standby` and hand their payments to it through the
// journal (PaymentService). Losing the lease closes the connection at once, before another
// instance can take the lease and connect, so two instances never hold it together.
// A provider with `holdExclusivePart` is split instead: it runs on every instance, and only
// its single-connection part follows the lease (nothing is handed over).

import { PosError } from './errors';
import { Listeners } from './listeners';
import type { AttemptRecord, LookupResult, PaymentAttempt, PaymentProvider, Unsubscribe } from './provider';
import type { ConnectionState, Logger, NotificationEvent, PaymentResult, Terminal } from './types';

/** One holder at a time across instances (lib/journal/postgres-lease.ts). */
export interface ConnectionLease {
  readonly holding: boolean;
  onChange(listener: (holding: boolean) => void): () => void;
  start(): void;
  /** Final; `release: false` leaves the lease to expire instead of freeing it. */
  stop(opts?: { release?: boolean }): Promise<void>;
}

/** Between two attempts to open the lease while the database cannot be reached. */
const REOPEN_MS = 3000;

export class LeasedProvider implements PaymentProvider {
  private readonly states = new Listeners<ConnectionState>((m) => this.logger.error(`lease: a state listener failed: ${m}`));
  private lease: ConnectionLease | undefined;
  private offLease: (() => void) | undefined;
  private wanted = false;
  /** The inner connection is ours to run (the lease is held). */
  private active = false;
  private waiting: ConnectionState = { name: 'idle' };
  private innerStopping: Promise<void> = Promise.resolve();
  private reopenTimer: NodeJS.Timeout | undefined;
  private generation = 0;

  /** `openLease` is called on every start, since a lease that was stopped is over. */
  readonly setNotificationInterest?: PaymentProvider['setNotificationInterest'];
  readonly setTopics?: PaymentProvider['setTopics'];
  readonly channelsOf?: PaymentProvider['channelsOf'];
  /** A report runs on the terminal over the one connection, so only the holder can run it. */
  readonly runReport?: PaymentProvider['runReport'];

  constructor(private readonly inner: PaymentProvider, private readonly openLease: () => Promise<ConnectionLease>, private readonly logger: Logger) {
    // Only what the inner provider has: the connection asks whether these exist.
    this.setNotificationInterest = inner.setNotificationInterest?.bind(inner);
    this.setTopics = inner.setTopics?.bind(inner);
    this.channelsOf = inner.channelsOf?.bind(inner);
    const report = inner.runReport?.bind(inner);
    this.runReport = report && ((request, run) => (this.usable ? report(request, run) : Promise.reject(this.notHolding())));
    inner.onState((state) => {
      if (this.active || this.split) this.states.emit(state);
    });
  }

  /** Only a part of the provider is leased: it runs everywhere, payments included. */
  get split(): boolean {
    return this.inner.holdExclusivePart !== undefined;
  }

  /** Payments sent to this instance on standby go to the holder (the whole connection is leased). */
  get handsOver(): boolean {
    return !this.split;
  }

  get name() { return this.inner.name; }
  get capabilities() { return this.inner.capabilities; }
  get requests() { return this.inner.requests; }

  get state(): ConnectionState {
    return this.active || this.split ? this.inner.state : this.waiting;
  }

  /** True while this instance holds the connection. */
  get holding(): boolean {
    return this.active;
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    const generation = ++this.generation;
    if (this.split) {
      this.inner.holdExclusivePart?.(false);
      this.inner.start();
    }
    this.setWaiting({ name: 'standby', reason: 'waiting for the lease on the shared journal' });
    const open = () => {
      this.openLease().then((lease) => {
        if (generation !== this.generation) {
          void lease.stop();
          return;
        }
        this.lease = lease;
        this.offLease = lease.onChange((holding) => this.onHolding(holding));
        lease.start();
      }, (err: Error) => {
        if (generation !== this.generation) return;
        this.setWaiting({ name: 'standby', reason: `the shared journal cannot be reached (${err.message}); trying again` });
        this.reopenTimer = setTimeout(open, REOPEN_MS);
        this.reopenTimer.unref();
      });
    };
    open();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    this.generation++;
    clearTimeout(this.reopenTimer);
    this.offLease?.();
    this.offLease = undefined;
    const lease = this.lease;
    this.lease = undefined;
    const wasActive = this.active;
    this.active = false;
    // The connection first, then the lease: freed while still connected, another instance could connect alongside.
    if (wasActive || this.split) this.innerStopping = this.inner.stop();
    await this.innerStopping;
    await lease?.stop();
    this.setWaiting({ name: 'closed' });
  }

  private onHolding(holding: boolean): void {
    if (holding === this.active || !this.wanted) return;
    this.active = holding;
    if (this.split) {
      if (!holding) this.logger.warn(`${this.inner.name}: the lease on the shared journal was lost; its single connection closes so that another instance can hold it`);
      this.inner.holdExclusivePart?.(holding);
      return;
    }
    if (holding) {
      // A connection still closing from a lease lost a moment ago is let go first.
      void this.innerStopping.then(() => {
        if (this.active) this.inner.start();
      });
      this.states.emit(this.inner.state);
      return;
    }
    this.logger.warn(`${this.inner.name}: the lease on the shared journal was lost; closing the connection so that another instance can hold it`);
    this.innerStopping = this.inner.stop().catch((err: Error) => this.logger.warn(`closing: ${err.message}`));
    this.setWaiting({ name: 'standby', reason: 'another instance holds the connection' });
  }

  private setWaiting(state: ConnectionState): void {
    this.waiting = state;
    if (!this.active && !this.split) this.states.emit(state);
  }

  /** Whether the provider's calls may go to the inner provider here. */
  private get usable(): boolean {
    return this.active || this.split;
  }

  pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    return this.usable ? this.inner.pay(attempt) : Promise.reject(this.notHolding());
  }

  cancel(reference: string): Promise<void> {
    return this.usable ? this.inner.cancel(reference) : Promise.reject(this.notHolding());
  }

  answerSignature(reference: string, accepted: boolean): Promise<void> {
    return this.usable ? this.inner.answerSignature(reference, accepted) : Promise.reject(this.notHolding());
  }

  listTerminals(): Promise<Terminal[]> {
    return this.usable ? this.inner.listTerminals() : Promise.reject(this.notHolding());
  }

  async lookup(attempt: AttemptRecord): Promise<LookupResult> {
    if (!this.usable) return { found: 'cannot_ask', reason: 'this instance is on standby' };
    return this.inner.lookup(attempt);
  }

  onState(listener: (state: ConnectionState) => void): Unsubscribe {
    return this.states.add(listener);
  }

  onNotification(listener: (event: NotificationEvent) => void): Unsubscribe {
    return this.inner.onNotification(listener);
  }


  private notHolding(): PosError {
    return new PosError('standby', `this Node-RED instance is on standby: another instance holds the ${this.inner.name} connection, ` +
      'so this can only be done there');
  }
}
