import type { IngestStats, Snapshot } from '@metering-hub/server';
import type { MeteringFrame } from '@metering-hub/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type HubFixture, useHubs } from '../helpers/hub-fixture.js';
import { directIngest } from './direct-ingest.js';
import { FleetModel, MAX_MESSAGE_BYTES, type Rendered, type Step, steps } from './update-sequences.js';

// Fixed, so a failure reproduces. fast-check prints the seed and the
// shrunk counterexample when a property fails.
const SEED = 20_251_204;

const startHub = useHubs();

const SNAPSHOT_FIGURES = ['tps', 'high', 'low', 'active', 'total', 'outTps', 'reasoningTps'] as const;

function expectSaneNumber(value: unknown, label: string): void {
  expect(typeof value, label).toBe('number');
  expect(Number.isFinite(value), label).toBe(true);
  expect(value, label).toBeGreaterThanOrEqual(0);
}

function expectSaneSnapshot(snapshot: Snapshot): void {
  for (const field of SNAPSHOT_FIGURES) expectSaneNumber(snapshot[field], field);
  for (const [key, tally] of [...snapshot.nodes, ...snapshot.models]) {
    for (const [field, value] of Object.entries(tally)) expectSaneNumber(value, `${key}.${field}`);
  }
}

function expectSaneFrame(frame: MeteringFrame): void {
  for (const field of SNAPSHOT_FIGURES) expectSaneNumber(frame[field], field);
  for (const [field, value] of Object.entries(frame.ttft)) expectSaneNumber(value, `ttft.${field}`);
  for (const group of [...frame.nodes, ...frame.models]) {
    expectSaneNumber(group.tps, `${group.key}.tps`);
    expectSaneNumber(group.total, `${group.key}.total`);
    expectSaneNumber(group.active, `${group.key}.active`);
  }
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

// Checks that a garbage message did what the generator meant it to: a
// generator that drifted into valid messages would make the comparison
// with the reference meaningless.
function expectDropped(after: IngestStats, before: IngestStats, expected: Rendered['expected']): void {
  const rejected = sum(after.rejected) - sum(before.rejected);
  const accepted = after.messagesAccepted - before.messagesAccepted;
  const ignored = sum(after.ignored) - sum(before.ignored);

  expect(after.updatesApplied).toBe(before.updatesApplied);
  if (expected === 'rejected') {
    expect(rejected).toBe(1);
  } else if (expected === 'ignored') {
    expect(accepted).toBe(1);
    expect(ignored).toBe(1);
  } else {
    expect(rejected + accepted).toBe(1);
  }
}

function expectValidOnly(stats: IngestStats): void {
  expect(sum(stats.rejected)).toBe(0);
  expect(stats.ignored).toMatchObject({ count_regressed: 0, implausible_rate: 0, implausible_duration: 0, negative_ttft: 0 });
}

/** Feeds a sequence to an Ingest and, valid updates only, to a reference Ingest. */
function checkAgainstReference(sequence: Step[]): void {
  const model = new FleetModel();
  const mixed = directIngest({ maxMessageBytes: MAX_MESSAGE_BYTES });
  const reference = directIngest({ maxMessageBytes: MAX_MESSAGE_BYTES });

  for (const { action, clockMs } of sequence) {
    const { raw, valid, expected } = model.render(action);
    const before = structuredClone(mixed.ingest.stats);
    mixed.ingest.handle(raw);
    if (valid) {
      reference.ingest.handle(raw);
    } else {
      expectDropped(mixed.ingest.stats, before, expected);
    }

    mixed.clock.now += clockMs;
    reference.clock.now += clockMs;
    const snapshot = mixed.meter.snapshot();
    expectSaneSnapshot(snapshot);
    expect(snapshot).toEqual(reference.meter.snapshot());
    expect([...mixed.meter.ids()]).toEqual([...reference.meter.ids()]);
  }

  for (const ttft of mixed.ttfts) expectSaneNumber(ttft, 'ttft');
  expect(mixed.ttfts).toEqual(reference.ttfts);
  expect(mixed.ingest.stats.updatesApplied).toBe(reference.ingest.stats.updatesApplied);
  expect(mixed.ingest.stats.streamsAdopted).toBe(reference.ingest.stats.streamsAdopted);
  expect(mixed.ingest.stats.byes).toBe(reference.ingest.stats.byes);
  expect(mixed.ingest.stats.evicted).toBe(0);
  expectValidOnly(reference.ingest.stats);
}

async function publishRaw(fixture: HubFixture, raw: string): Promise<void> {
  const received = fixture.hub.stats.ingest.messagesReceived;
  await fixture.bus.publish('metering:updates', raw);
  while (fixture.hub.stats.ingest.messagesReceived === received) await new Promise((resolve) => setImmediate(resolve));
}

describe('ingest of mixed valid and garbage messages', () => {
  it('meters exactly the valid updates', () => {
    fc.assert(fc.property(steps, checkAgainstReference), { seed: SEED, numRuns: 150 });
  });

  it('gives a hub the frames of the valid updates alone', async () => {
    await fc.assert(
      fc.asyncProperty(steps, async (sequence) => {
        const model = new FleetModel();
        const mixed = await startHub({ maxMessageBytes: MAX_MESSAGE_BYTES });
        const reference = await startHub({ maxMessageBytes: MAX_MESSAGE_BYTES });

        for (const { action, clockMs } of sequence) {
          const { raw, valid } = model.render(action);
          await publishRaw(mixed, raw);
          if (valid) await publishRaw(reference, raw);

          mixed.clock.now += clockMs;
          reference.clock.now += clockMs;
          mixed.scheduler.fire();
          reference.scheduler.fire();
          expectSaneFrame(mixed.hub.latestFrame());
          expect(mixed.hub.latestFrame()).toEqual(reference.hub.latestFrame());
        }
        expectValidOnly(reference.hub.stats.ingest);
      }),
      { seed: SEED, numRuns: 30 },
    );
  });
});
