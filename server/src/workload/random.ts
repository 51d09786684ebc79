/** Uniform random numbers in [0, 1), reproducible from a seed. */
export type RandomSource = () => number;

/**
 * Creates a mulberry32 generator, with 32 bits of state and a period of
 * 2^32. It suits workload shapes but not anything that needs secrecy.
 */
export function createRandom(seed: number): RandomSource {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/**
 * Draws one uniform number in [0, 1) for item `index` under `seed`. The
 * draw depends on nothing else, so it does not change with the order in
 * which items are visited.
 */
export function drawForIndex(seed: number, index: number): number {
  // Spreads consecutive indexes over the state space by the 32-bit golden
  // ratio, so neighbouring items do not start from neighbouring states.
  const mixedSeed = (seed ^ Math.imul(index + 1, 0x9e37_79b9)) >>> 0;
  return createRandom(mixedSeed)();
}
