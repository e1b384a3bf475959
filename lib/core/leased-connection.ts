// One connection of a provider that the provider serves only once per account (e.g. a pay at
// table socket whose newest client displaces the older), run by several Node-RED instances
// on one shared journal: only the instance holding the lease opens it, the others show
// `standby`. Unlike LeasedProvider (which leases a provider's only connection and hands
// payments over), this leases one connection *beside* others that every instance keeps open
// (the same provider's pay at counter), so there is nothing to hand over.

import type { ConnectionLease } from './leased-provider';
import { Listeners } from './listeners';
import type { ConnectionState, Logger } from './types';

/** What can be leased: a connection that starts, stops and reports its state. */
export interface Runnable {
  readonly state: ConnectionState;
  start(): void;
  stop(): Promise<void>;
  onState(listener: (state: ConnectionState) => void): () => void;
}

/** Between two attempts to open the lease while the database cannot be reached. */
const REOPEN_MS = 3000;

export class LeasedConnection implements Runnable {
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

  /** `openLease` is called on every start, since a lease that was stopped is over. `what` names the connection in logs. */
  constructor(private readonly inner: Runnable, private readonly openLease: () => Promise<ConnectionLease>, private readonly logger: Logger, private readonly what: string) {
    inner.onState((state) => {
      if (this.active) this.states.emit(state);
    });
  }

  get state(): ConnectionState {
    return this.active ? this.inner.state : this.waiting;
  }

  /** True while this instance holds the connection. */
  get holding(): boolean {
    return this.active;
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    return this.states.add(listener);
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    const generation = ++this.generation;
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
    if (wasActive) this.innerStopping = this.inner.stop();
    await this.innerStopping;
    await lease?.stop();
    this.setWaiting({ name: 'closed' });
  }

  private onHolding(holding: boolean): void {
    if (holding === this.active || !this.wanted) return;
    this.active = holding;
    if (holding) {
      // A connection still closing from a lease lost a moment ago is let go first.
      void this.innerStopping.then(() => {
        if (this.active) this.inner.start();
      });
      // Until the inner connection reports, say it is on its way rather than idle or closed.
      const now = this.inner.state;
      this.states.emit(now.name === 'idle' || now.name === 'closed' ? { name: 'connecting', attempt: 0 } : now);
      return;
    }
    this.logger.warn(`${this.what}: the lease on the shared journal was lost; closing the connection so that another instance can hold it`);
    this.innerStopping = this.inner.stop().catch((err: Error) => this.logger.warn(`closing: ${err.message}`));
    this.setWaiting({ name: 'standby', reason: 'another instance holds the connection' });
  }

  private setWaiting(state: ConnectionState): void {
    this.waiting = state;
    if (!this.active) this.states.emit(state);
  }
}
