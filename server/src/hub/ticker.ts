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
}

/**
 * The one loop that takes readings: a tick runs `onTick`, then asks for the
 * delay of the next one, so the pace follows the meter (fast while streams
 * are active, slow while idle).
 */
export class Ticker {
  private readonly options: TickerOptions;
  private readonly scheduler: Scheduler;
  private handle: unknown;
  private running = false;

  constructor(options: TickerOptions) {
    this.options = options;
    this.scheduler = options.scheduler ?? realScheduler;
  }

  /** Ticks now, then keeps ticking until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== undefined) this.scheduler.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private tick(): void {
    this.handle = undefined;
    try {
      this.options.onTick();
    } finally {
      // Rescheduled even when onTick throws, so one bad tick cannot stop
      // the frames for good.
      if (this.running) {
        this.handle = this.scheduler.setTimeout(() => this.tick(), this.options.nextDelayMs());
      }
    }
  }
}
