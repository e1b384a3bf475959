// The listeners of one kind of event (connection state, notifications). A listener that throws
// is reported and skipped: it must never break the adapter that emits, nor starve the
// listeners after it.

import type { Unsubscribe } from './provider';

export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  /** `onError` gets the message of a listener's failure, to log (redacted) where the adapter logs. */
  constructor(private readonly onError: (message: string) => void) {}

  get size(): number {
    return this.set.size;
  }

  add(listener: (value: T) => void): Unsubscribe {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  emit(value: T): void {
    for (const listener of this.set) {
      try {
        listener(value);
      } catch (err) {
        this.onError(err instanceof Error ? err.message : String(err));
      }
    }
  }
}
