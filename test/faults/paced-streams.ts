import type { Publisher } from '@metering-hub/shared';

/** Start of the node clock, ms since the epoch. */
export const NODE_CLOCK_START_MS = 1_764_842_000_000;

/** A node clock in ms since the epoch; only the test moves it. */
export interface NodeClock {
  now: number;
}

/** Running token total of a stream as a function of ms since its first token. */
export type TokenCurve = (elapsedMs: number) => number;

/** Returns the curve of a stream that delivers exactly `tokensPerSecond`, counting from 0 at its first token. */
export function steady(tokensPerSecond: number): TokenCurve {
  return (elapsedMs) => Math.floor((tokensPerSecond * elapsedMs) / 1000);
}

interface PacedStream {
  publisher: Publisher;
  id: string;
  curve: TokenCurve;
  firstAt: number;
}

/**
 * Streams whose running totals follow a curve over a node clock that the
 * test advances, so every rate the hub should show is known in advance.
 * Publishers take the clock as their `now`.
 */
export class PacedStreams {
  readonly clock: NodeClock;
  private readonly streams = new Map<string, PacedStream>();
  private timer: NodeJS.Timeout | undefined;

  constructor(clock: NodeClock = { now: NODE_CLOCK_START_MS }) {
    this.clock = clock;
  }

  /** Begins a stream whose first token (a count of 0) comes now on the node clock. */
  begin(publisher: Publisher, id: string, curve: TokenCurve): void {
    publisher.begin(id);
    publisher.token(id, curve(0));
    this.streams.set(id, { publisher, id, curve, firstAt: this.clock.now });
  }

  end(id: string): void {
    this.streams.get(id)?.publisher.end(id);
    this.streams.delete(id);
  }

  /** Moves the node clock by `stepMs` and records each stream's new total. */
  step(stepMs = 100): void {
    this.clock.now += stepMs;
    this.repeat();
  }

  /**
   * Records each stream's current total again at the same node time, so
   * the next flush sends every stream's state unchanged.
   */
  repeat(): void {
    for (const stream of this.streams.values()) {
      stream.publisher.token(stream.id, stream.curve(this.clock.now - stream.firstAt));
    }
  }

  /** Steps every `intervalMs` of real time until `stop()`. */
  run(intervalMs = 100, stepMs = 100): void {
    this.stop();
    this.timer = setInterval(() => this.step(stepMs), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The rate the hub should show for a stream, tokens per second, unrounded. */
  rate(id: string): number {
    const stream = this.streams.get(id);
    if (!stream) throw new Error(`Unknown paced stream ${id}.`);
    const elapsedMs = this.clock.now - stream.firstAt;
    return stream.curve(elapsedMs) / (elapsedMs / 1000);
  }
}
