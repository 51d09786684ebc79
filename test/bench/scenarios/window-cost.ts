import { Meter } from '@metering-hub/server';

import { checkTarget, type Scenario } from '../scenario.js';

/**
 * Snapshot cost with 3,600 readings in the HIGH/LOW window against 10:
 * the monotonic deques make a snapshot O(1) whatever the window holds.
 * The worst case is a falling rate, which keeps every reading a candidate
 * maximum. The meter has 100 streams, a small fleet, so the figure is a
 * tick's cost and not only the window's.
 */
export const windowCost: Scenario = {
  name: 'window',
  title: 'Window cost',
  async run({ smoke }) {
    const repetitions = smoke ? 20_000 : 200_000;
    // Interleaved rounds, the best of each kept, so JIT warm-up and a noisy
    // neighbour do not fall on one side only.
    let small = Number.POSITIVE_INFINITY;
    let full = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 7; round++) {
      small = Math.min(small, measure(10, repetitions));
      full = Math.min(full, measure(3_600, repetitions));
    }
    const ratio = full / small;
    return {
      figures: [
        { name: 'snapshot with 10 readings', value: small, unit: 'ns' },
        { name: 'snapshot with 3,600 readings', value: full, unit: 'ns' },
      ],
      targets: [checkTarget('snapshot cost, 3,600 / 10 readings', ratio, '<', 1.5)],
    };
  },
};

const STREAMS = 100;

// Fills a meter's window with `readings` falling readings, then times
// snapshots that each evict the oldest reading and add one, as ticks do.
function measure(readings: number, repetitions: number): number {
  const clock = { now: 1_000 };
  const meter = new Meter({ now: () => clock.now });
  for (let stream = 0; stream < STREAMS; stream++) {
    meter.begin(`s-${stream}`, { node: `node-${stream % 4}` });
    meter.recordOutput(`s-${stream}`, 1);
  }
  for (let i = 0; i < readings; i++) {
    clock.now += 3600 / readings;
    feed(meter);
    meter.snapshot();
  }

  // Every stream gets a token before each snapshot, so none goes stale and
  // every snapshot adds a reading; both runs pay the same for that.
  const step = 3600 / readings;
  const started = process.hrtime.bigint();
  for (let i = 0; i < repetitions; i++) {
    clock.now += step;
    feed(meter);
    meter.snapshot();
  }
  return Number(process.hrtime.bigint() - started) / repetitions;
}

function feed(meter: Meter): void {
  for (let stream = 0; stream < STREAMS; stream++) meter.recordOutput(`s-${stream}`, 1_000_000);
}
