import type { Scheduler } from '@metering-hub/server';

/** A scheduler whose timers fire only when the test calls `fire()`. */
export class ManualScheduler implements Scheduler {
  private pending: { callback: () => void; delayMs: number; dueAt: number } | undefined;
  readonly delays: number[] = [];

  /** @param now clock in ms that `dueAt` is counted on */
  constructor(private readonly now: () => number = () => 0) {}

  setTimeout(callback: () => void, delayMs: number): unknown {
    this.pending = { callback, delayMs, dueAt: this.now() + delayMs };
    this.delays.push(delayMs);
    return this.pending;
  }

  clearTimeout(handle: unknown): void {
    if (handle === this.pending) this.pending = undefined;
  }

  /** Runs the pending timer, as if its delay had passed. */
  fire(): void {
    const pending = this.pending;
    if (!pending) throw new Error('No timer is pending.');
    this.pending = undefined;
    pending.callback();
  }

  /** When the pending timer is due on the clock, or Infinity without one. */
  get dueAt(): number {
    return this.pending?.dueAt ?? Number.POSITIVE_INFINITY;
  }

  get hasPending(): boolean {
    return this.pending !== undefined;
  }
}
