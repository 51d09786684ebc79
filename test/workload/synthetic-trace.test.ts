import { describe, expect, it } from 'vitest';

import {
  CONV_ARRIVALS_PER_MS,
  CONV_SPAN_MS,
  syntheticConvTrace,
  WorkloadOptionsError,
} from '../../server/src/workload/index.js';
import { drawOutputTokens } from '../../server/src/workload/synthetic-trace.js';

function sortedTokens(requests: { outputTokens: number }[]): number[] {
  return requests.map((request) => request.outputTokens).sort((a, b) => a - b);
}

function at(sorted: number[], probability: number): number {
  return sorted[Math.round((sorted.length - 1) * probability)] ?? Number.NaN;
}

describe('syntheticConvTrace', () => {
  it.each([1, 2, 42])('matches the conv statistics for seed %i', (seed) => {
    const requests = syntheticConvTrace({ seed });
    const tokens = sortedTokens(requests);
    const spanMs = requests.at(-1)?.arrivalMs ?? 0;
    const meanTokens = tokens.reduce((sum, value) => sum + value, 0) / tokens.length;

    expect(requests).toHaveLength(19_366);
    expect(requests[0]?.arrivalMs).toBe(0);
    // The span of 19,365 exponential gaps has a relative spread of 0.7%.
    expect(Math.abs(spanMs - CONV_SPAN_MS) / CONV_SPAN_MS).toBeLessThan(0.04);
    expect(Math.abs(at(tokens, 0.5) - 129)).toBeLessThanOrEqual(6);
    expect(Math.abs(at(tokens, 0.99) - 601)).toBeLessThanOrEqual(60);
    expect(Math.abs(meanTokens - 211.1)).toBeLessThan(6);
    expect(tokens[0]).toBeGreaterThanOrEqual(7);
    expect(tokens.at(-1)).toBeLessThanOrEqual(1_000);
  });

  it('gives arrivals exponential gaps', () => {
    const requests = syntheticConvTrace({ seed: 3 });
    const gaps = requests
      .slice(1)
      .map((request, i) => request.arrivalMs - (requests[i]?.arrivalMs ?? 0));
    const meanGap = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    const shortShare = gaps.filter((gap) => gap < meanGap).length / gaps.length;

    expect(gaps.every((gap) => gap >= 0)).toBe(true);
    expect(Math.abs(meanGap * CONV_ARRIVALS_PER_MS - 1)).toBeLessThan(0.04);
    // For an exponential distribution P(gap < mean) = 1 - 1/e ≈ 0.632.
    expect(Math.abs(shortShare - (1 - Math.exp(-1)))).toBeLessThan(0.02);
  });

  it('repeats itself for one seed', () => {
    expect(syntheticConvTrace({ seed: 9, count: 500 })).toEqual(
      syntheticConvTrace({ seed: 9, count: 500 }),
    );
  });

  it('differs between seeds', () => {
    const first = syntheticConvTrace({ seed: 9, count: 500 });
    const second = syntheticConvTrace({ seed: 10, count: 500 });

    expect(first).not.toEqual(second);
  });

  it('keeps lengths when only durationMs changes', () => {
    const short = syntheticConvTrace({ seed: 4, count: 200, durationMs: 10_000 });
    const long = syntheticConvTrace({ seed: 4, count: 200, durationMs: 100_000 });

    expect(long.map((request) => request.outputTokens)).toEqual(
      short.map((request) => request.outputTokens),
    );
    expect(long[199]?.arrivalMs).toBeCloseTo((short[199]?.arrivalMs ?? 0) * 10, 6);
  });

  it('derives count and duration from the conv rate', () => {
    const byCount = syntheticConvTrace({ seed: 1, count: 1_000 });
    const byDuration = syntheticConvTrace({ seed: 1, durationMs: 60_000 });

    expect(byCount).toHaveLength(1_000);
    expect(byDuration).toHaveLength(Math.round(60_000 * CONV_ARRIVALS_PER_MS) + 1);
    expect(syntheticConvTrace({ seed: 1, count: 0 })).toEqual([]);
  });

  it.each([
    [{ seed: 1.5 }, 'Invalid seed 1.5: expected an integer'],
    [{ seed: 1, count: -1 }, 'Invalid count -1: expected an integer of at least 0.'],
    [{ seed: 1, durationMs: 0 }, 'Invalid durationMs 0: expected a finite number above 0.'],
  ])('rejects options %j', (options, message) => {
    expect(() => syntheticConvTrace(options)).toThrow(WorkloadOptionsError);
    expect(() => syntheticConvTrace(options)).toThrow(message);
  });
});

describe('drawOutputTokens', () => {
  it.each([
    [0, 7],
    [0.5, 129],
    [0.99, 601],
    [0.665, 304],
    [0.999_999_9, 1_000],
  ])('maps %f to %i tokens', (uniform, tokens) => {
    expect(drawOutputTokens(uniform)).toBe(tokens);
  });
});
