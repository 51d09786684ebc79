import { describe, expect, it } from 'vitest';

import {
  lastTokenAtMs,
  runningOutputAt,
  type StreamTiming,
  tokenArrivalMs,
  tokenTimingDefaults,
  TokenTimingModel,
  WorkloadOptionsError,
} from '../../server/src/workload/index.js';

const steady: StreamTiming = { outputTokens: 5, ttftMs: 500, tokensPerSecond: 40 };

describe('runningOutputAt', () => {
  it.each([
    [0, 0],
    [499.9, 0],
    [500, 1],
    [524.9, 1],
    [525, 2],
    [550, 3],
    [599.9, 4],
    [600, 5],
    [10_000, 5],
  ])('at %f ms counts %i tokens', (elapsedMs, count) => {
    expect(runningOutputAt(steady, elapsedMs)).toBe(count);
  });

  it('agrees with tokenArrivalMs at odd rates', () => {
    const timing: StreamTiming = { outputTokens: 1_000, ttftMs: 321.7, tokensPerSecond: 37.3 };

    for (let k = 1; k <= timing.outputTokens; k += 1) {
      const arrivalMs = tokenArrivalMs(timing, k);
      expect(runningOutputAt(timing, arrivalMs), `token ${k} on time`).toBe(k);
      expect(runningOutputAt(timing, arrivalMs - 1e-6), `token ${k} early`).toBe(k - 1);
    }
  });

  it('stays at 0 for a stream with no output', () => {
    const empty: StreamTiming = { ...steady, outputTokens: 0 };

    expect(runningOutputAt(empty, 10_000)).toBe(0);
    expect(lastTokenAtMs(empty)).toBe(500);
  });
});

describe('lastTokenAtMs', () => {
  it('is the arrival of the last token', () => {
    expect(lastTokenAtMs(steady)).toBe(600);
    expect(lastTokenAtMs({ ...steady, outputTokens: 1 })).toBe(500);
  });
});

describe('TokenTimingModel', () => {
  it('uses the documented defaults', () => {
    expect(tokenTimingDefaults).toEqual({ ttftMs: 500, tokensPerSecond: 40, rateSpread: 0.25 });
  });

  it('spreads rates uniformly by the spread', () => {
    const model = new TokenTimingModel({}, 11);
    const rates = Array.from({ length: 20_000 }, (_, i) => model.timingFor(i, 10).tokensPerSecond);
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
    const belowMean = rates.filter((rate) => rate < 40).length / rates.length;

    expect(Math.min(...rates)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...rates)).toBeLessThanOrEqual(50);
    expect(Math.min(...rates)).toBeLessThan(30.1);
    expect(Math.max(...rates)).toBeGreaterThan(49.9);
    expect(Math.abs(mean - 40)).toBeLessThan(0.2);
    expect(Math.abs(belowMean - 0.5)).toBeLessThan(0.02);
  });

  it('draws the same rate for a seed and index', () => {
    const first = new TokenTimingModel({}, 3);
    const second = new TokenTimingModel({}, 3);
    const other = new TokenTimingModel({}, 4);

    expect(second.timingFor(17, 100)).toEqual(first.timingFor(17, 100));
    expect(other.timingFor(17, 100)).not.toEqual(first.timingFor(17, 100));
  });

  it('applies options and zero spread', () => {
    const model = new TokenTimingModel({ ttftMs: 200, tokensPerSecond: 10, rateSpread: 0 });

    expect(model.timingFor(5, 30)).toEqual({ outputTokens: 30, ttftMs: 200, tokensPerSecond: 10 });
  });

  it('keeps the default for an undefined option', () => {
    const model = new TokenTimingModel({ ttftMs: undefined, rateSpread: 0 });

    expect(model.timingFor(0, 1).ttftMs).toBe(500);
  });

  it.each([
    [{ ttftMs: -1 }, 'Invalid ttftMs -1: expected a finite number, 0 or more.'],
    [{ tokensPerSecond: 0 }, 'Invalid tokensPerSecond 0: expected a finite number above 0.'],
    [{ rateSpread: 1 }, 'Invalid rateSpread 1: expected a fraction of at least 0 and below 1.'],
  ])('rejects %j', (options, message) => {
    expect(() => new TokenTimingModel(options)).toThrow(WorkloadOptionsError);
    expect(() => new TokenTimingModel(options)).toThrow(message);
  });
});
