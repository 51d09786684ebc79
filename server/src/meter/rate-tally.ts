import { roundTenth } from './round.js';

/** Running sums over a set of streams, from which its figures follow. */
export class RateTally {
  /** Sum of the defined per-stream rates, tokens per second. */
  rateSum = 0;
  /** Sum of the output-token part of those rates. */
  outputRateSum = 0;
  /** Sum of the reasoning-token part of those rates. */
  reasoningRateSum = 0;
  /** Streams whose rate is defined. */
  rated = 0;
  /** Streams counted, rated or not. */
  active = 0;

  add(other: RateTally): void {
    this.rateSum += other.rateSum;
    this.outputRateSum += other.outputRateSum;
    this.reasoningRateSum += other.reasoningRateSum;
    this.rated += other.rated;
    this.active += other.active;
  }

  /** Mean of the defined rates, or 0 without one. */
  mean(): number {
    return this.rated === 0 ? 0 : this.rateSum / this.rated;
  }
}

/** Figures of one node or one model, rounded to one decimal. */
export interface GroupFigures {
  /** Node id or model label; `(other)` for the groups summed together. */
  key: string;
  /** Mean of the per-stream rates: what one user of the group sees. */
  tps: number;
  /** Sum of the per-stream rates: what the group delivers. */
  total: number;
  active: number;
  /** Present on the entry that sums the groups past the limit. */
  other?: true;
}

export const OTHER_GROUP_KEY = '(other)';

/** Rounds the figures of one group. */
export function groupFigures(key: string, tally: RateTally): GroupFigures {
  return { key, tps: roundTenth(tally.mean()), total: roundTenth(tally.rateSum), active: tally.active };
}

/**
 * Returns the `limit` busiest groups (by total rate, then by active
 * streams) and one `(other)` entry summing the rest, so the size of a frame
 * stays bounded however many nodes or models there are.
 */
export function topGroups(groups: ReadonlyMap<string, RateTally>, limit: number): GroupFigures[] {
  const ranked = [...groups].sort(([keyA, a], [keyB, b]) =>
    b.rateSum - a.rateSum || b.active - a.active || (keyA < keyB ? -1 : 1));

  const top = ranked.slice(0, limit).map(([key, tally]) => groupFigures(key, tally));
  if (ranked.length <= limit) return top;

  const rest = new RateTally();
  for (const [, tally] of ranked.slice(limit)) rest.add(tally);
  return [...top, { ...groupFigures(OTHER_GROUP_KEY, rest), other: true }];
}
