/** Timer functions, injectable so tests can fire ticks themselves. */
export interface Scheduler {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TickerOptions {
  /** Runs once per tick: takes the snapshot and broadcasts it. Should not throw. */
  onTick: () => void;
  /** Delay before the next tick, in ms, asked after every tick. */
  nextDelayMs: () => number;
  /** Timer functions. @default realScheduler */
  scheduler?: Scheduler;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * The one loop that takes readings: a tick runs `onTick`, then requests the
 * delay of the next one, so the pace follows the meter (fast while streams
 * are active, slow while idle).
 */
export class Ticker {
  private readonly options: TickerOptions;
  private readonly scheduler: Scheduler;
  private readonly now: () => number;
  private handle: unknown;
  private running = false;
  private lastTickAt = 0;
  private scheduledDelayMs = 0;

  constructor(options: TickerOptions) {
    this.options = options;
    this.scheduler = options.scheduler ?? realScheduler;
    this.now = options.now ?? (() => performance.now());
  }

  /** Ticks now, then keeps ticking until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Delay in ms the pending tick was scheduled with. */
  get pendingDelayMs(): number {
    return this.scheduledDelayMs;
  }

  /**
   * Asks for the delay again and brings the pending tick forward if the new
   * delay ends sooner, counted from the last tick. Without it, the first
   * stream after an idle spell would wait up to the whole idle interval.
   */
  reschedule(): void {
    if (!this.running || this.handle === undefined) return;

    const delayMs = this.options.nextDelayMs();
    if (delayMs >= this.scheduledDelayMs) return;

    this.scheduler.clearTimeout(this.handle);
    const remainingMs = Math.max(0, this.lastTickAt + delayMs - this.now());
    this.schedule(delayMs, remainingMs);
  }

  /**
   * Brings the pending tick forward to now, for a change dashboards should
   * see at once rather than after up to an idle interval.
   */
  tickSoon(): void {
    if (!this.running || this.handle === undefined) return;
    this.scheduler.clearTimeout(this.handle);
    this.schedule(0, 0);
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) this.scheduler.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private tick(): void {
    this.handle = undefined;
    this.lastTickAt = this.now();
    try {
      this.options.onTick();
    } finally {
      // Rescheduled even when onTick throws, so one bad tick cannot stop
      // the frames for good.
      if (this.running) {
        const delayMs = this.options.nextDelayMs();
        this.schedule(delayMs, delayMs);
      }
    }
  }

  private schedule(delayMs: number, remainingMs: number): void {
    this.scheduledDelayMs = delayMs;
    this.handle = this.scheduler.setTimeout(() => this.tick(), remainingMs);
  }
}
