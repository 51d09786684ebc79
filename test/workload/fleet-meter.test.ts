import { describe, expect, it } from 'vitest';

import { Meter } from '../../server/src/meter/meter.js';
import {
  type FleetEvent,
  FleetReplay,
  syntheticConvTrace,
} from '../../server/src/workload/index.js';
import { createPublishers } from '../helpers/recording-publisher.js';

interface MeterFeed {
  meter: Meter;
  feed: (event: FleetEvent) => void;
  setClock: (simMs: number) => void;
}

/** Feeds fleet events to a meter whose clock is the events' sim time. */
function createMeterFeed(): MeterFeed {
  let clockSeconds = 0;
  const meter = new Meter({ now: () => clockSeconds });
  const feed = (event: FleetEvent): void => {
    clockSeconds = event.atMs / 1_000;
    if (event.type === 'begin') meter.begin(event.id);
    else if (event.type === 'token') meter.recordOutput(event.id, event.running);
    else meter.end(event.id);
  };
  return { meter, feed, setClock: (simMs) => (clockSeconds = simMs / 1_000) };
}

describe('fleet timeline through a meter', () => {
  it('reads the mean decode rate', () => {
    const { meter, feed, setClock } = createMeterFeed();
    const fleet = new FleetReplay({
      requests: syntheticConvTrace({ seed: 2, count: 2_000 }),
      publishers: createPublishers(4),
      speed: 10,
      seed: 2,
      onEvent: feed,
    });

    const steadyReadings: number[] = [];
    const steadyInFlight: number[] = [];
    for (let simMs = 0; !fleet.done; simMs += 50) {
      fleet.advanceTo(simMs);
      if (simMs % 1_000 !== 0 || simMs < 10_000 || simMs > 30_000) continue;

      setClock(simMs);
      steadyReadings.push(meter.snapshot().tps);
      steadyInFlight.push(fleet.inFlight);
    }

    // Rates are drawn from 30-50 tokens/s around a mean of 40.
    expect(Math.min(...steadyReadings)).toBeGreaterThan(37);
    expect(Math.max(...steadyReadings)).toBeLessThan(45);
    // Little's law: 55 arrivals/s at speed 10 times about 5.8 s per stream.
    expect(Math.min(...steadyInFlight)).toBeGreaterThan(200);
    expect(Math.max(...steadyInFlight)).toBeLessThan(450);
    expect(meter.size).toBe(0);
  });
});
