// The account's card machines. InUse is derived from a running session, so a terminal frees
// itself the moment its session ends; a terminal configured with any other status than
// Available (Offline) never takes a session, which lets flows exercise the status mapping.

import { isoNow } from './ids';
import type { SimTerminal } from './types';

export const DEFAULT_COUNTER_TERMINALS: ReadonlyArray<Readonly<SimTerminal>> = Object.freeze([
  Object.freeze({ id: 'tm_sim_counter_1', tid: '00000001', status: 'Available' }),
  Object.freeze({ id: 'tm_sim_counter_2', tid: '00000002', status: 'Available' }),
  Object.freeze({ id: 'tm_sim_offline', tid: '00000009', status: 'Offline' }),
]);

export interface WireTerminal {
  id: string;
  properties: { tid: string };
  status: string;
  updatedAt: string;
}

interface TerminalState {
  id: string;
  tid: string;
  configured: string;
  busyWith?: string;
  updatedAt: string;
}

export class TerminalRegistry {
  private readonly byId = new Map<string, TerminalState>();

  constructor(list: ReadonlyArray<SimTerminal>) {
    const at = isoNow();
    for (const t of list) {
      if (typeof t.id !== 'string' || t.id === '') throw new Error('Simulator terminal needs a non-empty id');
      if (typeof t.tid !== 'string' || t.tid === '') throw new Error(`Simulator terminal ${t.id} needs a tid`);
      if (this.byId.has(t.id)) throw new Error(`Simulator terminal ${t.id} is listed twice`);
      this.byId.set(t.id, { id: t.id, tid: t.tid, configured: t.status ?? 'Available', updatedAt: at });
    }
  }

  /** Available, InUse, or the configured status (Offline) — Dojo's TerminalStatus. */
  status(id: string): string | undefined {
    const t = this.byId.get(id);
    if (!t) return undefined;
    if (t.configured !== 'Available') return t.configured;
    return t.busyWith === undefined ? 'Available' : 'InUse';
  }

  tid(id: string): string | undefined {
    return this.byId.get(id)?.tid;
  }

  occupy(id: string, sessionId: string): void {
    const t = this.byId.get(id);
    if (!t) return;
    t.busyWith = sessionId;
    t.updatedAt = isoNow();
  }

  /** Only the session that took the terminal may free it. */
  release(id: string, sessionId: string): void {
    const t = this.byId.get(id);
    if (!t || t.busyWith !== sessionId) return;
    delete t.busyWith;
    t.updatedAt = isoNow();
  }

  get(id: string): WireTerminal | undefined {
    const t = this.byId.get(id);
    return t ? this.toWire(t) : undefined;
  }

  /** `statuses` empty = all; unknown status names simply match nothing. */
  list(statuses: readonly string[]): WireTerminal[] {
    const all = [...this.byId.values()].map((t) => this.toWire(t));
    return statuses.length === 0 ? all : all.filter((t) => statuses.includes(t.status));
  }

  private toWire(t: TerminalState): WireTerminal {
    return { id: t.id, properties: { tid: t.tid }, status: this.status(t.id) ?? t.configured, updatedAt: t.updatedAt };
  }
}
