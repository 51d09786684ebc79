import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  FleetReplay,
  runFleetRealtime,
  WorkloadOptionsError,
} from '../../server/src/workload/index.js';
import { createPublishers } from '../helpers/recording-publisher.js';

function createFleet(): FleetReplay {
  return new FleetReplay({
    requests: [
      { arrivalMs: 0, outputTokens: 2 },
      { arrivalMs: 2_000, outputTokens: 2 },
    ],
    publishers: createPublishers(2),
    timing: { ttftMs: 100, tokensPerSecond: 20, rateSpread: 0 },
    speed: 2,
  });
}

describe('runFleetRealtime', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('steps the fleet on the real clock', async () => {
    const fleet = createFleet();
    const run = runFleetRealtime(fleet, { stepMs: 50, now: () => Date.now() });

    expect(fleet.started).toBe(1);

    await vi.advanceTimersByTimeAsync(950);
    expect(fleet.started).toBe(1);
    expect(fleet.ended).toBe(1);

    await vi.advanceTimersByTimeAsync(50);
    expect(fleet.started).toBe(2);

    await vi.advanceTimersByTimeAsync(150);
    await expect(run.finished).resolves.toBe('done');
    expect(fleet.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer on stop', async () => {
    const fleet = createFleet();
    const run = runFleetRealtime(fleet, { now: () => Date.now() });
    await vi.advanceTimersByTimeAsync(200);

    run.stop();

    await expect(run.finished).resolves.toBe('stopped');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fleet.started).toBe(1);
  });

  it('waits for a start in the future', async () => {
    const fleet = createFleet();
    const run = runFleetRealtime(fleet, { now: () => Date.now(), startAtMs: Date.now() + 500 });

    await vi.advanceTimersByTimeAsync(450);
    expect(fleet.started).toBe(0);

    await vi.advanceTimersByTimeAsync(50);
    expect(fleet.started).toBe(1);
    run.stop();
  });

  it('rejects when the clock goes back', async () => {
    let clockMs = 1_000;
    const fleet = createFleet();
    const run = runFleetRealtime(fleet, { stepMs: 10, now: () => clockMs });

    clockMs = 1_500;
    await vi.advanceTimersByTimeAsync(10);
    clockMs = 1_200;
    await vi.advanceTimersByTimeAsync(10);

    await expect(run.finished).rejects.toThrow('Invalid simMs 200');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects an invalid stepMs', () => {
    expect(() => runFleetRealtime(createFleet(), { stepMs: 0 })).toThrow(WorkloadOptionsError);
    expect(() => runFleetRealtime(createFleet(), { stepMs: 0 })).toThrow(
      'Invalid stepMs 0: expected a finite number above 0.',
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});
