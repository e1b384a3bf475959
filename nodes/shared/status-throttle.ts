// The status under a flow node, throttled: the first change shows at once, later ones at most
// one per interval, the latest winning, and what is pending is shown when the node closes.
// A status is given as a function and only formatted (from the i18n catalog) when it is shown:
// under load, pos-pay spent a fifth of its time formatting texts that were replaced before
// anybody could read them.

import type { NodeStatus } from './red';

export type StatusSource = NodeStatus | (() => NodeStatus);

export const STATUS_INTERVAL_MS = 150;

export class StatusThrottle {
  private lastShownAt = -Infinity;
  private pending: (() => NodeStatus) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly show: (status: NodeStatus) => void,
    private readonly intervalMs = STATUS_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  set(status: StatusSource): void {
    const make = typeof status === 'function' ? status : () => status;
    if (this.closed) return;
    const wait = this.lastShownAt + this.intervalMs - this.now();
    if (wait <= 0 && this.timer === undefined) {
      this.emit(make);
      return;
    }
    this.pending = make;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.showPending();
      }, Math.max(0, wait));
      // A status never keeps Node-RED (or a test run) alive.
      this.timer.unref?.();
    }
  }

  /** Shows what is pending now; later changes are dropped (the node is closing). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.showPending();
    this.closed = true;
  }

  private showPending(): void {
    const make = this.pending;
    this.pending = undefined;
    if (make) this.emit(make);
  }

  private emit(make: () => NodeStatus): void {
    this.lastShownAt = this.now();
    let status: NodeStatus;
    try {
      status = make();
    } catch {
      // A catalog or formatting failure must not break the payment that asked for the status.
      return;
    }
    this.show(status);
  }
}
