import { Hub } from '@metering-hub/server';
import { MemoryBus } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { silentLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();

describe('hub clocks', () => {
  it('drops no stream or reading when the wall clock jumps', async () => {
    let wall = 1_764_842_000_000;
    const { hub, publish, scheduler, clock } = await startHub({ wallClock: () => wall });
    await publish('n', [streamEntry('a', { out: 1, firstAt: 0, lastAt: 0 })]);

    const frames = [];
    for (const jumpMs of [0, -3_600_000, 7_200_000, -86_400_000]) {
      clock.now += 1_000;
      wall += 1_000 + jumpMs;
      await publish('n', [streamEntry('a', { out: 1 + (clock.now - 5_000) / 100, firstAt: 0, lastAt: clock.now - 5_000 })]);
      scheduler.fire();
      frames.push(hub.latestFrame());
    }

    expect(frames.map((frame) => frame.active)).toEqual([1, 1, 1, 1]);
    expect(frames.map((frame) => frame.tps)).toEqual([11, 10.5, 10.3, 10.2]);
    // HIGH keeps the first reading although the wall clock went back.
    expect(frames.at(-1)?.high).toBe(11);
    expect(frames.map((frame) => frame.at)).toEqual([
      1_764_842_001_000,
      1_764_838_402_000,
      1_764_845_603_000,
      1_764_759_204_000,
    ]);
  });

  it('sends one frame for the present after the event loop was blocked', async () => {
    const bus = new MemoryBus();
    const hub = new Hub({ bus, port: 0, logger: silentLogger });
    const frameTimes: number[] = [];
    hub.onFrame(() => frameTimes.push(performance.now()));
    await hub.listen();
    try {
      const now = performance.timeOrigin + performance.now();
      await bus.publish('metering:updates', JSON.stringify({ v: 1, node: 'n', streams: [streamEntry('a', { out: 5, firstAt: now - 1_000, lastAt: now })] }));
      await waitFor(() => frameTimes.length >= 2, { what: 'the ticker to run at 1 s' });

      const blockedUntil = performance.now() + 3_500;
      while (performance.now() < blockedUntil) {
        // Keeps the event loop busy, as a long synchronous task would.
      }
      const before = frameTimes.length;
      await waitFor(() => frameTimes.length >= before + 2, { what: 'two frames after the block' });

      const [first, second] = frameTimes.slice(before) as [number, number];
      expect(first).toBeGreaterThanOrEqual(blockedUntil);
      // The second frame waited a whole interval: no burst of late ticks.
      expect(second - first).toBeGreaterThanOrEqual(900);
    } finally {
      await hub.close();
      await bus.close();
    }
  });
});
