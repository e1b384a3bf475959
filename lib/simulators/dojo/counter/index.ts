// The pay-at-counter half of the Dojo simulator: payment intents, terminals, terminal sessions,
// refunds and the ledger, behind one handle() the simulator's HTTP server calls once it has
// authenticated a request.

import { IntentStore, MAX_KEPT } from './intents';
import { RefundDesk } from './refunds';
import { route } from './router';
import { SessionEngine } from './sessions';
import { DEFAULT_COUNTER_TERMINALS, TerminalRegistry } from './terminals';
import type { CounterEvent, CounterLedgerEntry, CounterResponse, CounterSimOptions, Headers } from './types';

export type { CounterEvent, CounterLedgerEntry, CounterSimOptions, SimTerminal, Money } from './types';
export { DEFAULT_COUNTER_TERMINALS } from './terminals';

/** The ledger keeps the newest entries; a benchmark must not grow it without bound. */
const MAX_LEDGER = MAX_KEPT * 10;

export class CounterSim {
  readonly ledger: CounterLedgerEntry[] = [];
  private readonly intents: IntentStore;
  private readonly sessions: SessionEngine;
  private readonly refunds: RefundDesk;
  private readonly terminals: TerminalRegistry;
  private readonly log: (line: string) => void;
  private readonly record: (entry: CounterLedgerEntry) => void;

  constructor(opts: CounterSimOptions) {
    this.log = (line) => { try { opts.log(line); } catch { /* a logger must not break the simulator */ } };
    const emit = (e: CounterEvent): void => {
      try { opts.onIntentEvent(e); } catch (err) { this.log(`onIntentEvent failed: ${(err as Error)?.message ?? String(err)}`); }
    };
    const record = this.record = (entry: CounterLedgerEntry): void => {
      this.ledger.push(entry);
      if (this.ledger.length > MAX_LEDGER) this.ledger.splice(0, this.ledger.length - MAX_LEDGER);
    };
    this.terminals = new TerminalRegistry(opts.terminals ?? DEFAULT_COUNTER_TERMINALS);
    this.intents = new IntentStore(emit);
    this.sessions = new SessionEngine(this.terminals, this.intents, {
      stepDelayMs: nonNegative(opts.stepDelayMs),
      signatureTimeoutMs: nonNegative(opts.signatureTimeoutMs),
      sessionExpiryMs: nonNegative(opts.sessionExpiryMs),
      dropConnection: () => opts.dropConnection(),
      log: this.log,
      record,
    });
    this.refunds = new RefundDesk(this.intents, record, this.log);
  }

  /** A REST request already authenticated by the server. Returns undefined when the route is not one of yours (server answers 404). */
  handle(method: string, url: URL, headers: Record<string, string | string[] | undefined>, body: unknown): CounterResponse | undefined {
    const services = { intents: this.intents, sessions: this.sessions, refunds: this.refunds, terminals: this.terminals, log: this.log, record: this.record };
    return route(services, method, url, headers as Headers, body);
  }

  intentCount(): number {
    return this.intents.size;
  }

  /** Clears every timer: no session moves on after this. */
  stop(): void {
    this.sessions.stop();
  }
}

function nonNegative(ms: number): number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}
