import {
  checkFraction,
  checkInteger,
  checkNonNegative,
  checkPositive,
  withDefaults,
} from './options-check.js';
import { drawForIndex } from './random.js';

/**
 * Token timing of replayed streams. The trace records only output lengths,
 * so these options stand in for per-token timing.
 */
export interface TokenTimingOptions {
  /** Time from a stream's start to its first token, in ms. @default 500 */
  ttftMs?: number;
  /** Mean decode rate after the first token, in tokens per second. @default 40 */
  tokensPerSecond?: number;
  /**
   * Spread of each stream's rate as a fraction of the mean. With 0.25 and a
   * mean of 40, rates are drawn uniformly from 30 to 50 tokens/s. Must be
   * below 1 so that every rate stays above 0.
   * @default 0.25
   */
  rateSpread?: number;
}

export const tokenTimingDefaults: Required<TokenTimingOptions> = {
  ttftMs: 500,
  tokensPerSecond: 40,
  rateSpread: 0.25,
};

/** Token timing of one stream. */
export interface StreamTiming {
  outputTokens: number;
  ttftMs: number;
  tokensPerSecond: number;
}

/** Assigns each request of a workload its own token timing. */
export class TokenTimingModel {
  private readonly options: Required<TokenTimingOptions>;

  /** @param seed seed of the per-request rate draws, reduced to 32 bits */
  constructor(
    options: TokenTimingOptions = {},
    private readonly seed = 0,
  ) {
    this.options = withDefaults(tokenTimingDefaults, options);
    checkNonNegative('ttftMs', this.options.ttftMs);
    checkPositive('tokensPerSecond', this.options.tokensPerSecond);
    checkFraction('rateSpread', this.options.rateSpread);
    checkInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  }

  /**
   * Returns the timing of request `index`. Its rate depends only on the
   * seed and the index, so a replay gives every stream the same rate each time.
   */
  timingFor(index: number, outputTokens: number): StreamTiming {
    const { ttftMs, tokensPerSecond, rateSpread } = this.options;
    const offset = (2 * drawForIndex(this.seed, index) - 1) * rateSpread;
    return { outputTokens, ttftMs, tokensPerSecond: tokensPerSecond * (1 + offset) };
  }
}

/**
 * Returns when token `k` (1-based) arrives, in ms since the stream began.
 * The first arrives at the ttft and each later one 1/rate seconds after the
 * previous one.
 */
export function tokenArrivalMs(timing: StreamTiming, k: number): number {
  return timing.ttftMs + ((k - 1) * 1_000) / timing.tokensPerSecond;
}

/**
 * Returns the running output count `elapsedMs` after the stream began. It
 * is 0 before the ttft, then the number of tokens whose arrival time has
 * passed, up to `outputTokens`.
 */
export function runningOutputAt(timing: StreamTiming, elapsedMs: number): number {
  if (timing.outputTokens === 0 || elapsedMs < timing.ttftMs) return 0;

  let count = Math.floor(((elapsedMs - timing.ttftMs) * timing.tokensPerSecond) / 1_000) + 1;
  // The division above can round across a token boundary. Settle the count
  // on tokenArrivalMs so that both functions agree on every arrival instant.
  if (tokenArrivalMs(timing, count + 1) <= elapsedMs) count += 1;
  else if (tokenArrivalMs(timing, count) > elapsedMs) count -= 1;

  return Math.min(count, timing.outputTokens);
}

/**
 * Returns when the stream has all its tokens, in ms since it began. A stream
 * with no output is complete at the ttft, when its first token would be due.
 */
export function lastTokenAtMs(timing: StreamTiming): number {
  return timing.outputTokens === 0 ? timing.ttftMs : tokenArrivalMs(timing, timing.outputTokens);
}

