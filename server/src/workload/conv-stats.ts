// Measured on conv.csv of the Azure LLM inference trace 2023 (Azure Public
// Dataset, chat requests of one day in November 2023). The synthetic
// workload reproduces the trace from these numbers when the file is absent.

/** Requests in the trace. */
export const CONV_REQUEST_COUNT = 19_366;

/** Time from the first arrival to the last, in ms (58 min 21.7 s). */
export const CONV_SPAN_MS = 3_501_722;

/** Mean arrival rate in requests per ms: about 5.53 per second. */
export const CONV_ARRIVALS_PER_MS = (CONV_REQUEST_COUNT - 1) / CONV_SPAN_MS;

/**
 * Quantiles of GeneratedTokens as `[probability, tokens]` pairs, computed by
 * linear interpolation between order statistics. The points are dense around
 * p66-p67, where the distribution jumps from short responses (about
 * 240 tokens) to a second mode near 380-420 tokens. The mean of the trace is 211.1.
 */
export const CONV_OUTPUT_TOKEN_QUANTILES: readonly (readonly [number, number])[] = [
  [0, 7],
  [0.01, 16],
  [0.025, 28],
  [0.05, 41],
  [0.1, 54],
  [0.2, 77],
  [0.3, 91],
  [0.4, 103],
  [0.5, 129],
  [0.6, 177],
  [0.65, 217],
  [0.66, 237],
  [0.67, 371],
  [0.7, 384],
  [0.75, 395],
  [0.8, 400],
  [0.85, 411],
  [0.9, 424],
  [0.95, 451],
  [0.975, 522],
  [0.99, 601],
  [0.999, 954],
  [1, 1_000],
];
