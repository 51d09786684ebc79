import {
  CONV_ARRIVALS_PER_MS,
  CONV_OUTPUT_TOKEN_QUANTILES,
  CONV_REQUEST_COUNT,
  CONV_SPAN_MS,
} from './conv-stats.js';
import { checkInteger, checkPositive } from './options-check.js';
import { createRandom, type RandomSource } from './random.js';
import type { WorkloadRequest } from './request.js';

export interface SyntheticTraceOptions {
  /** Seed of every draw; the same seed gives the same trace. Reduced to 32 bits. */
  seed: number;
  /**
   * Requests to generate.
   * @default 19_366 (the conv trace), or as many as the conv arrival rate
   *   gives over `durationMs` when only that is set
   */
  count?: number;
  /**
   * Expected time from the first arrival to the last, in ms.
   * @default 3_501_722 (the conv trace), or what `count` takes at the conv
   *   arrival rate when only that is set
   */
  durationMs?: number;
}

// Separate streams keep arrivals and lengths independent, so changing
// `durationMs` moves the arrivals but leaves every output length as it was.
const ARRIVAL_STREAM = 0x0a11_0001;
const LENGTH_STREAM = 0x1e47_0002;

/**
 * Generates a workload shaped like the conv trace. Arrivals form a Poisson
 * process from 0 with a mean gap of `durationMs / (count - 1)`, and output
 * lengths are drawn from the stored quantile table of the trace.
 */
export function syntheticConvTrace(options: SyntheticTraceOptions): WorkloadRequest[] {
  const { seed, count, durationMs } = resolveSize(options);
  const arrivalRandom = createRandom(seed ^ ARRIVAL_STREAM);
  const lengthRandom = createRandom(seed ^ LENGTH_STREAM);
  const meanGapMs = count > 1 ? durationMs / (count - 1) : 0;

  const requests: WorkloadRequest[] = [];
  let arrivalMs = 0;
  for (let index = 0; index < count; index += 1) {
    if (index > 0) arrivalMs += drawExponential(arrivalRandom, meanGapMs);
    requests.push({ arrivalMs, outputTokens: drawOutputTokens(lengthRandom()) });
  }
  return requests;
}

function resolveSize(options: SyntheticTraceOptions): Required<SyntheticTraceOptions> {
  const { seed, count, durationMs } = options;
  checkInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  if (count !== undefined) checkInteger('count', count, 0);
  if (durationMs !== undefined) checkPositive('durationMs', durationMs);

  if (count !== undefined && durationMs !== undefined) {
    return { seed, count, durationMs };
  }
  if (count !== undefined) {
    return { seed, count, durationMs: Math.max(count - 1, 1) / CONV_ARRIVALS_PER_MS };
  }
  if (durationMs !== undefined) {
    return { seed, count: Math.round(durationMs * CONV_ARRIVALS_PER_MS) + 1, durationMs };
  }
  return { seed, count: CONV_REQUEST_COUNT, durationMs: CONV_SPAN_MS };
}

function drawExponential(random: RandomSource, meanMs: number): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  return -Math.log(1 - random()) * meanMs;
}

/**
 * Maps a uniform draw in [0, 1) to an output length by interpolating the
 * quantile table linearly (inverse-CDF sampling), rounded to whole tokens.
 * @internal
 */
export function drawOutputTokens(uniform: number): number {
  const table = CONV_OUTPUT_TOKEN_QUANTILES;
  for (let i = 1; i < table.length; i += 1) {
    const [upperP, upperTokens] = table[i] ?? [1, 0];
    if (uniform > upperP) continue;

    const [lowerP, lowerTokens] = table[i - 1] ?? [0, 0];
    const share = (uniform - lowerP) / (upperP - lowerP);
    return Math.round(lowerTokens + share * (upperTokens - lowerTokens));
  }
  return table.at(-1)?.[1] ?? 0;
}
