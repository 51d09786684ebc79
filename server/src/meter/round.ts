/**
 * Rounds to one decimal exactly as Python's `round(x, 1)` does: the exact
 * binary value of `x` is rounded, and an exact tie goes to the even digit.
 *
 * `Number.prototype.toFixed` already rounds the exact binary value, but it
 * breaks ties upwards. A double is exactly halfway between two tenths only
 * when `4 * x` is an odd integer (x ends in .25 or .75), so those two cases
 * are settled here: 1.25 gives 1.2, 0.75 gives 0.8, 2.25 gives 2.2.
 * `Math.round(x * 10) / 10` is wrong on such ties and on values like 1.05,
 * whose product `x * 10` rounds up to a tie that `x` itself is not.
 */
export function roundTenth(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) {
    return x;
  }

  const quarters = x * 4;
  const isTie = Number.isInteger(quarters) && Math.abs(quarters % 2) === 1;
  if (!isTie) {
    return Number(x.toFixed(1));
  }

  // The tie x = q.25 rounds to q.2 and x = q.75 to q.8. Parsing the decimal
  // text gives the double nearest to it, as Python's round does. Arithmetic
  // such as Math.floor(x * 10) is inexact once x is near 2^51.
  const magnitude = Math.abs(x);
  const whole = Math.floor(magnitude);
  const tenth = magnitude - whole === 0.25 ? 2 : 8;
  return Math.sign(x) * Number(`${whole}.${tenth}`);
}
