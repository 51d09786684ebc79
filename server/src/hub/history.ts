import type { HistoryPoint } from '@metering-hub/shared';

import { roundTenth } from '../meter/round.js';

export interface HistoryOptions {
  /** How far back points are kept, ms on the monotonic clock. @default 3_600_000 */
  windowMs?: number;
  /** Most points `GET /history` returns. @default 720 */
  maxPoints?: number;
}

/**
 * The frames of the last hour, as (time, tps, total) points, so a chart
 * opened mid-hour does not start blank.
 */
export class History {
  private readonly windowMs: number;
  private readonly maxPoints: number;
  private points: { monotonicMs: number; point: HistoryPoint }[] = [];
  private head = 0;

  constructor(options: HistoryOptions = {}) {
    this.windowMs = options.windowMs ?? 3_600_000;
    this.maxPoints = options.maxPoints ?? 720;
  }

  /** Adds the point of a tick taken at `monotonicMs`. */
  add(monotonicMs: number, point: HistoryPoint): void {
    this.points.push({ monotonicMs, point });
    const cutoff = monotonicMs - this.windowMs;
    while (this.head < this.points.length && (this.points[this.head]?.monotonicMs ?? 0) <= cutoff) {
      this.head += 1;
    }
    if (this.head > 1_024 && this.head * 2 > this.points.length) {
      this.points = this.points.slice(this.head);
      this.head = 0;
    }
  }

  /** Number of points kept. */
  get size(): number {
    return this.points.length - this.head;
  }

  /**
   * Returns the kept points, oldest first. Past `maxPoints`, consecutive
   * points are averaged in equal runs, each placed at the time of its last
   * point.
   */
  downsampled(): HistoryPoint[] {
    const kept = this.points.slice(this.head).map((entry) => entry.point);
    if (kept.length <= this.maxPoints) return kept;

    const runLength = Math.ceil(kept.length / this.maxPoints);
    const result: HistoryPoint[] = [];
    for (let start = 0; start < kept.length; start += runLength) {
      const run = kept.slice(start, start + runLength);
      const last = run[run.length - 1] as HistoryPoint;
      result.push({
        at: last.at,
        tps: roundTenthMean(run.map((point) => point.tps)),
        total: roundTenthMean(run.map((point) => point.total)),
      });
    }
    return result;
  }
}

function roundTenthMean(values: number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return roundTenth(mean);
}
