// The gateway's keepalive is an application message ({"action":"ping"} every 30 s, a pong
// expected within 10 s [doc][seed]), not a WebSocket ping frame, so it lives beside the socket.

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Sends one ping; false when the socket is not open (the tick is then skipped). */
  sendPing: () => boolean;
  onTimeout: (reason: string) => void;
}

export class AppHeartbeat {
  private interval: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HeartbeatOptions) {}

  /** Called on open; restarting clears whatever the previous connection left. */
  start(): void {
    this.stop();
    if (!(this.opts.intervalMs > 0)) return;
    this.interval = setInterval(() => this.tick(), this.opts.intervalMs);
  }

  pong(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.interval = this.deadline = undefined;
  }

  private tick(): void {
    if (!this.opts.sendPing()) return;
    // One pong answers every ping sent so far: the timer runs from the oldest unanswered ping.
    if (this.deadline) return;
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      this.stop();
      this.opts.onTimeout(`no pong within ${duration(this.opts.timeoutMs)}`);
    }, this.opts.timeoutMs);
  }
}

function duration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
