// What this connection knows about the terminals: filled from terminalsResponse, kept current
// by terminalStatusUpdate pushes. A terminal can be named by its deviceId, terminalId or
// connectionId [doc], so each entry remembers every id it has been seen with.

import type { Terminal } from '../../core/types';
import { mapTerminal, terminalIds, terminalKey } from './mapping';
import type { WireStatusUpdate, WireTerminal } from './wire';

interface Entry {
  key: string;
  ids: Set<string>;
  raw: WireTerminal;
}

export class TerminalDirectory {
  private entries = new Map<string, Entry>();

  /** The list is authoritative: terminals it no longer has are gone. */
  replace(list: WireTerminal[]): void {
    const next = new Map<string, Entry>();
    for (const raw of list) {
      const key = terminalKey(raw);
      if (key) next.set(key, { key, ids: new Set(terminalIds(raw)), raw });
    }
    this.entries = next;
  }

  /** Applies a push; returns the entry's key (the id the pack shows for the terminal). */
  update(u: WireStatusUpdate): string {
    const info = u.terminalInfo && typeof u.terminalInfo === 'object' ? u.terminalInfo : {};
    const ids = [...terminalIds(u), ...terminalIds(info)];
    let entry = this.find(ids);
    if (!entry) {
      const key = terminalKey(u) ?? terminalKey(info) ?? (ids[0] as string);
      entry = { key, ids: new Set(), raw: {} };
      this.entries.set(key, entry);
    }
    for (const id of ids) entry.ids.add(id);
    // The push speaks connected/disconnected; the stored raw keeps the push's own word.
    entry.raw = {
      ...entry.raw, ...info,
      ...(u.deviceId ? { deviceId: u.deviceId } : {}),
      ...(u.terminalId ? { terminalId: u.terminalId } : {}),
      ...(u.connectionId ? { connectionId: u.connectionId } : {}),
      status: u.status,
    };
    return entry.key;
  }

  /** The key of the terminal known by `id`, or `id` itself for a terminal not (yet) listed. */
  canonical(id: string): string {
    return this.find([id])?.key ?? id;
  }

  /** Every id the terminal named `id` is known by (for matching pushes to a running payment). */
  idsOf(id: string): Set<string> {
    return new Set(this.find([id])?.ids ?? [id]);
  }

  list(isBusy: (key: string) => boolean): Terminal[] {
    const out: Terminal[] = [];
    for (const entry of this.entries.values()) {
      const t = mapTerminal(entry.raw);
      if (!t) continue;
      t.id = entry.key;
      if (t.status === 'available' && isBusy(entry.key)) t.status = 'busy';
      out.push(t);
    }
    return out;
  }

  private find(ids: string[]): Entry | undefined {
    for (const id of ids) {
      const direct = this.entries.get(id);
      if (direct) return direct;
    }
    for (const entry of this.entries.values()) if (ids.some((id) => entry.ids.has(id))) return entry;
    return undefined;
  }
}
