// Every delay a simulator's transaction engine waits on goes through here, so stop() can clear
// them all at once and wake the waiters instead of leaving timers or hung promises behind.

export interface Timer {
  /** True when the time elapsed; false when cancelled or the clock was disposed. */
  done: Promise<boolean>;
  cancel(): void;
}

export class Clock {
  private readonly live = new Map<NodeJS.Timeout, (elapsed: boolean) => void>();
  private disposed = false;

  timer(ms: number): Timer {
    if (this.disposed) return { done: Promise.resolve(false), cancel: () => undefined };
    let handle: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => {
      handle = setTimeout(() => {
        this.live.delete(handle as NodeJS.Timeout);
        resolve(true);
      }, ms);
      this.live.set(handle, resolve);
    });
    const cancel = (): void => {
      const h = handle as NodeJS.Timeout;
      const resolve = this.live.get(h);
      if (!resolve) return;
      clearTimeout(h);
      this.live.delete(h);
      resolve(false);
    };
    return { done, cancel };
  }

  wait(ms: number): Promise<boolean> {
    return this.timer(ms).done;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    this.disposed = true;
    for (const [handle, resolve] of this.live) {
      clearTimeout(handle);
      resolve(false);
    }
    this.live.clear();
  }
}
