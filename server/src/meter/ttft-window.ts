/** Time-to-first-token percentiles over a sliding window. */
export interface TtftFigures {
  /** Median time to first token, ms; 0 without samples. */
  p50: number;
  /** 95th percentile, ms; 0 without samples. */
  p95: number;
  /** Streams whose first token arrived within the window. */
  samples: number;
}

export interface TtftWindowOptions {
  /** Seconds a sample counts. @default 60 */
  windowSeconds?: number;
  /**
   * Most samples kept; past it the oldest go first, so a burst of streams
   * cannot grow memory without bound. @default 50_000
   */
  maxSamples?: number;
}

/**
 * Times to first token of the streams whose first token arrived within the
 * window (60 s by default), with their nearest-rank percentiles.
 */
export class TtftWindow {
  private readonly windowSeconds: number;
  private readonly maxSamples: number;
  // Arrival times (seconds, meter clock) and values (ms), oldest first.
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  constructor(options: TtftWindowOptions = {}) {
    this.windowSeconds = options.windowSeconds ?? 60;
    this.maxSamples = options.maxSamples ?? 50_000;
  }

  /** Adds a sample: a first token that arrived at `at` (seconds) after `ttftMs`. */
  record(at: number, ttftMs: number): void {
    if (!Number.isFinite(ttftMs) || ttftMs < 0) return;
    this.times.push(at);
    this.values.push(ttftMs);
    if (this.times.length - this.head > this.maxSamples) this.head += 1;
  }

  /** Drops samples older than the window and returns the percentiles. */
  figures(now: number): TtftFigures {
    const cutoff = now - this.windowSeconds;
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= cutoff) this.head += 1;
    this.compact();

    // A typed array sorts numerically without a comparator call per
    // comparison, several times faster on the tens of thousands of samples
    // a busy fleet makes in a minute.
    const sorted = Float64Array.from(this.values.slice(this.head)).sort();
    return {
      p50: Math.round(nearestRank(sorted, 0.5)),
      p95: Math.round(nearestRank(sorted, 0.95)),
      samples: sorted.length,
    };
  }

  // Drops the consumed prefix once it is most of the arrays, so removal
  // costs O(1) amortized.
  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }
}

function nearestRank(sorted: Float64Array, quantile: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(quantile * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? 0;
}
