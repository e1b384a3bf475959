// The shared terminal pool: every PAC connection sees and drives the same terminals, as
// several tills do against one Connect account (protocol notes 2.2).

import type { WireTerminal } from '../../providers/paymentsense/wire';

export interface SimTerminalConfig {
  tid: string;
  currency?: string;
}

/**
 * Suffixes follow the sandbox virtual terminals (protocol notes 3.10) so a flow built against
 * the simulator reads the same as one built against the Paymentsense test environment.
 */
export const DEFAULT_TERMINALS: ReadonlyArray<Readonly<Required<SimTerminalConfig>>> = Object.freeze([
  { tid: 'VCM00001SIP0', currency: 'GBP' },
  { tid: 'VCM00002SCD0', currency: 'GBP' },
  { tid: 'VCM00003DIP0', currency: 'GBP' },
  { tid: 'VCM00004SIS0', currency: 'GBP' },
  { tid: 'VCM00005UIP0', currency: 'GBP' },
  { tid: 'VCM00006TIP0', currency: 'GBP' },
  { tid: 'VCM00007SIP0', currency: 'EUR' },
]);

export type TerminalBehaviour = 'chip-pin' | 'contactless' | 'declined' | 'signature' | 'unsuccessful' | 'timed-out';

/** Unknown suffixes behave as chip & PIN so custom terminal lists still follow the amount rule. */
export function terminalBehaviour(tid: string): TerminalBehaviour {
  const suffix = tid.slice(-4).toUpperCase();
  switch (suffix) {
    case 'SCD0': return 'contactless';
    case 'DIP0': return 'declined';
    case 'SIS0': return 'signature';
    case 'UIP0': return 'unsuccessful';
    case 'TIP0': return 'timed-out';
    default: return 'chip-pin';
  }
}

interface TerminalState {
  tid: string;
  currency: string;
  busyWith?: string;
  transactionCount: number;
}

export class TerminalPool {
  private readonly byTid = new Map<string, TerminalState>();

  constructor(list: ReadonlyArray<SimTerminalConfig>) {
    for (const t of list) {
      if (typeof t.tid !== 'string' || t.tid === '') throw new Error('Simulator terminal needs a non-empty tid');
      if (this.byTid.has(t.tid)) throw new Error(`Simulator terminal ${t.tid} is listed twice`);
      this.byTid.set(t.tid, { tid: t.tid, currency: t.currency ?? 'GBP', transactionCount: 0 });
    }
  }

  has(tid: string): boolean {
    return this.byTid.has(tid);
  }

  currency(tid: string): string | undefined {
    return this.byTid.get(tid)?.currency;
  }

  isBusy(tid: string): boolean {
    return this.byTid.get(tid)?.busyWith !== undefined;
  }

  /** Marks the terminal busy and returns its next session transaction number. */
  occupy(tid: string, requestId: string): number {
    const t = this.mustGet(tid);
    t.busyWith = requestId;
    t.transactionCount += 1;
    return t.transactionCount;
  }

  /** Marks the terminal busy for something that is not a transaction (a report): no transaction number taken. */
  hold(tid: string, requestId: string): void {
    this.mustGet(tid).busyWith = requestId;
  }

  release(tid: string, requestId: string): void {
    const t = this.byTid.get(tid);
    // Only the transaction that took the terminal may free it.
    if (t && t.busyWith === requestId) delete t.busyWith;
  }

  details(tid: string): WireTerminal | undefined {
    const t = this.byTid.get(tid);
    return t ? toWire(t) : undefined;
  }

  list(): WireTerminal[] {
    return [...this.byTid.values()].map(toWire);
  }

  private mustGet(tid: string): TerminalState {
    const t = this.byTid.get(tid);
    if (!t) throw new Error(`Unknown terminal ${tid}`);
    return t;
  }
}

function toWire(t: TerminalState): WireTerminal {
  return { tid: t.tid, status: t.busyWith === undefined ? 'AVAILABLE' : 'BUSY', currency: t.currency };
}
