// One payment at a time per terminal: terminal providers refuse a second payment while a
// terminal is taking one ("terminal busy"). Payments for a busy terminal wait
// here in arrival order, each within its own limit, and one that runs out of time was never
// sent. Payments that name no terminal are not queued: the provider picks a free one.

import { PosError } from './errors';

export type BusyMode = 'queue' | 'fail';

interface Waiter {
  reference: string;
  grant: (release: () => void) => void;
  refuse: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Line {
  /** The reference of the payment holding the terminal. */
  holder: string;
  waiting: Waiter[];
}

export class TerminalQueue {
  private readonly lines = new Map<string, Line>();

  /** How many payments wait (not counting the ones running), for tests and status. */
  get waitingCount(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.waiting.length;
    return n;
  }

  /** Who holds a terminal, if anyone: the reference of its running payment. */
  holderOf(terminalId: string): string | undefined {
    return this.lines.get(key(terminalId))?.holder;
  }

  /**
   * Resolves with the function that frees the terminal once this payment may go to it.
   * `fail`: a busy terminal is refused at once. `queue`: waits its turn for at most `limitMs`,
   * then fails with code `timeout`; `onQueued` is told once when it has to wait.
   */
  acquire(terminalId: string, reference: string, opts: { mode: BusyMode; limitMs: number; onQueued?: (holder: string) => void }): Promise<() => void> {
    const k = key(terminalId);
    const line = this.lines.get(k);
    if (!line) {
      this.lines.set(k, { holder: reference, waiting: [] });
      return Promise.resolve(this.releaser(k, reference));
    }
    if (opts.mode === 'fail') {
      return Promise.reject(new PosError('bad_input', `terminal ${terminalId} is busy with payment "${line.holder}"; nothing was sent ` +
        '(this node is set to fail at once when the terminal is busy; choose "wait in a queue" to send it after the running payment)'));
    }
    opts.onQueued?.(line.holder);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        reference,
        grant: resolve,
        refuse: reject,
        timer: setTimeout(() => {
          const at = line.waiting.indexOf(waiter);
          if (at >= 0) line.waiting.splice(at, 1);
          const seconds = Math.round((Date.now() - started) / 100) / 10;
          reject(new PosError('timeout', `terminal ${terminalId} was still busy with payment "${line.holder}" after this payment ` +
            `waited ${seconds} s for it; nothing was sent`));
        }, Math.max(0, opts.limitMs)),
      };
      line.waiting.push(waiter);
    });
  }

  /** Frees the terminal once: the next waiter (if any) takes it, in arrival order. */
  private releaser(k: string, reference: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const line = this.lines.get(k);
      if (!line || line.holder !== reference) return;
      const next = line.waiting.shift();
      if (!next) {
        this.lines.delete(k);
        return;
      }
      clearTimeout(next.timer);
      line.holder = next.reference;
      next.grant(this.releaser(k, next.reference));
    };
  }

  /** Everyone still waiting is refused (the connection is closing); nothing of theirs was sent. */
  refuseAll(err: () => Error): void {
    for (const line of this.lines.values()) {
      for (const w of line.waiting.splice(0)) {
        clearTimeout(w.timer);
        w.refuse(err());
      }
    }
  }
}

/** Terminal ids are compared as the providers compare them: without surrounding spaces, any case. */
function key(terminalId: string): string {
  return terminalId.trim().toUpperCase();
}
