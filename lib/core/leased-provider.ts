// A provider that allows one connection per account and has nothing else, run by
// several Node-RED instances on one shared journal: only the instance holding the lease opens
// the connection (LeasedConnection); the others are on `standby` and hand their payments to it
// through the journal (PaymentService). Providers with one single-connection part beside others
// (an EPoS data socket, a pay at table socket) lease only that part themselves.

import { PosError } from './errors';
import { LeasedConnection } from './leased-connection';
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

export class LeasedProvider implements PaymentProvider {
  private readonly connection: LeasedConnection;

  readonly setNotificationInterest?: PaymentProvider['setNotificationInterest'];
  readonly setTopics?: PaymentProvider['setTopics'];
  readonly channelsOf?: PaymentProvider['channelsOf'];
  /** A report runs on the terminal over the one connection, so only the holder can run it. */
  readonly runReport?: PaymentProvider['runReport'];

  /** `openLease` is called on every start, since a lease that was stopped is over. */
  constructor(private readonly inner: PaymentProvider, openLease: () => Promise<ConnectionLease>, logger: Logger) {
    this.connection = new LeasedConnection(inner, openLease, logger, inner.name);
    // Only what the inner provider has: the connection asks whether these exist.
    this.setNotificationInterest = inner.setNotificationInterest?.bind(inner);
    this.setTopics = inner.setTopics?.bind(inner);
    this.channelsOf = inner.channelsOf?.bind(inner);
    const report = inner.runReport?.bind(inner);
    this.runReport = report && ((request, run) => (this.holding ? report(request, run) : Promise.reject(this.notHolding())));
  }

  get name() { return this.inner.name; }
  get capabilities() { return this.inner.capabilities; }
  get requests() { return this.inner.requests; }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** True while this instance holds the connection. */
  get holding(): boolean {
    return this.connection.holding;
  }

  start(): void {
    this.connection.start();
  }

  stop(): Promise<void> {
    return this.connection.stop();
  }

  pay(attempt: PaymentAttempt): Promise<PaymentResult> {
    return this.holding ? this.inner.pay(attempt) : Promise.reject(this.notHolding());
  }

  cancel(reference: string): Promise<void> {
    return this.holding ? this.inner.cancel(reference) : Promise.reject(this.notHolding());
  }

  answerSignature(reference: string, accepted: boolean): Promise<void> {
    return this.holding ? this.inner.answerSignature(reference, accepted) : Promise.reject(this.notHolding());
  }

  listTerminals(): Promise<Terminal[]> {
    return this.holding ? this.inner.listTerminals() : Promise.reject(this.notHolding());
  }

  async lookup(attempt: AttemptRecord): Promise<LookupResult> {
    if (!this.holding) return { found: 'cannot_ask', reason: 'this instance is on standby' };
    return this.inner.lookup(attempt);
  }

  onState(listener: (state: ConnectionState) => void): Unsubscribe {
    return this.connection.onState(listener);
  }

  onNotification(listener: (event: NotificationEvent) => void): Unsubscribe {
    return this.inner.onNotification(listener);
  }


  private notHolding(): PosError {
    return new PosError('standby', `this Node-RED instance is on standby: another instance holds the ${this.inner.name} connection, ` +
      'so this can only be done there');
  }
}
