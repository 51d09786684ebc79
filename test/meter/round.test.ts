import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { roundTenth } from '../../server/src/meter/round.js';

// Pairs [x, round(x, 1)] recorded from Python 3.11: ties of the exact
// binary value, values just beside ties, random rates and large values.
const recorded = JSON.parse(
  readFileSync(new URL('./round-cases.json', import.meta.url), 'utf8'),
) as { cases: [number, number][] };

describe('roundTenth', () => {
  it.each([
    [1.25, 1.2],
    [0.75, 0.8],
    [2.25, 2.2],
    [2.75, 2.8],
    [0.25, 0.2],
    [1.05, 1.1],
    [0.15, 0.1],
    [2.675, 2.7],
    [-1.25, -1.2],
    [0, 0],
    // Ties near 2^51, where 10x is no longer exact (values from Python 3.11).
    [2000000000000000.25, 2000000000000000.2],
    [1999999999999999.75, 1999999999999999.8],
    [123456789012345.75, 123456789012345.8],
  ])('rounds %d to %d as Python does', (x, expected) => {
    expect(roundTenth(x)).toBe(expected);
  });

  it('differs from Math.round on ties', () => {
    expect(Math.round(1.25 * 10) / 10).toBe(1.3);
    expect(roundTenth(1.25)).toBe(1.2);
  });

  it('matches Python on every recorded value', () => {
    expect(recorded.cases.length).toBeGreaterThan(1_000);
    const mismatches = recorded.cases.filter(([x, expected]) => roundTenth(x) !== expected);
    expect(mismatches).toEqual([]);
  });

  it('passes non-finite values through', () => {
    expect(roundTenth(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundTenth(Number.NaN)).toBeNaN();
  });
});
