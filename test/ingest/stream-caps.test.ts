import { Ingest, Meter, streamKey } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { captureLogger, silentLogger } from '../helpers/logger.js';
import { directIngest, linesWithReason, streamKeys } from './direct-ingest.js';

const startHub = useHubs();

/** Entries of `count` new streams without tokens, `s<from>` onward. */
function newStreams(from: number, count: number): object[] {
  return Array.from({ length: count }, (_, offset) => streamEntry(`s${from + offset}`, { beganAt: 1_000 }));
}

const calmStreams = [
  streamEntry('c0', { out: 20, beganAt: 0, firstAt: 500, lastAt: 1_500 }),
  streamEntry('c1', { out: 40, reasoning: 20, beganAt: 0, firstAt: 500, lastAt: 2_500 }),
  streamEntry('c2', { beganAt: 0 }),
];

describe('stream caps on a hub', () => {
  it('bounds a flood of 100,000 stream ids per node', async () => {
    const { logger, lines } = captureLogger();
    const { hub, publish, scheduler } = await startHub({ logger });
    await publish('calm', calmStreams);
    scheduler.fire();
    const calmBefore = hub.latestFrame().nodes.find((group) => group.key === 'calm');

    let maxFloodStreams = 0;
    for (let from = 0; from < 100_000; from += 1_000) {
      await publish('flood', newStreams(from, 1_000));
      scheduler.fire();
      const flood = hub.latestFrame().nodes.find((group) => group.key === 'flood');
      maxFloodStreams = Math.max(maxFloodStreams, flood?.active ?? 0);
    }

    const frame = hub.latestFrame();
    expect(maxFloodStreams).toBe(10_000);
    expect(frame.active).toBe(10_000 + calmStreams.length);
    expect(frame.nodes.find((group) => group.key === 'calm')).toEqual(calmBefore);
    expect(calmBefore).toEqual({ key: 'calm', tps: 25, total: 50, active: 3 });
    expect(hub.stats.ingest.evicted).toBe(90_000);
    expect(hub.stats.ingest.evictedBy).toEqual({ node_limit: 90_000, total_limit: 0 });
    expect(linesWithReason(lines(), 'node_limit')).toHaveLength(1);
  });
});

describe('stream caps', () => {
  it('keeps the newest streams of a flooding node', () => {
    const { ingest, meter, send } = directIngest();
    send('calm', calmStreams);
    const calmProgress = meter.progress(streamKey('calm', 'c1'));

    for (let from = 0; from < 100_000; from += 1_000) send('flood', newStreams(from, 1_000));

    expect(meter.size).toBe(10_000 + calmStreams.length);
    expect(meter.nodeSize('flood')).toBe(10_000);
    expect([...meter.ids()].slice(calmStreams.length)).toEqual(streamKeys('flood', 90_000, 10_000));
    expect(meter.nodeSize('calm')).toBe(calmStreams.length);
    expect(meter.progress(streamKey('calm', 'c1'))).toEqual(calmProgress);
    expect(ingest.stats.evicted).toBe(90_000);
  });

  it('ends the oldest streams of any node past the total cap', () => {
    const { ingest, meter, send, lines } = directIngest({ maxStreamsPerNode: 50, maxStreams: 120 });
    const nodes = ['a', 'b', 'c', 'd'];
    for (let from = 0; from < 40; from += 10) {
      for (const node of nodes) send(node, newStreams(from, 10));
    }

    // 160 streams began; the first 40 (s0 to s9 of each node) made room.
    expect(meter.size).toBe(120);
    expect(ingest.stats.evictedBy).toEqual({ node_limit: 0, total_limit: 40 });
    for (const node of nodes) expect(meter.nodeSize(node)).toBe(30);
    expect([...meter.ids()].slice(0, 4)).toEqual(streamKeys('a', 10, 4));

    send('a', newStreams(40, 20));

    // The oldest 20 of all were a's s10-s19 and b's s10-s19.
    expect(meter.size).toBe(120);
    expect(meter.nodeSize('a')).toBe(40);
    expect(meter.nodeSize('b')).toBe(20);
    expect(ingest.stats.evictedBy).toEqual({ node_limit: 0, total_limit: 60 });

    send('a', newStreams(60, 30));

    // The first 10 end the oldest of all, c's s10-s19. Then a is at its cap
    // of 50 and ends its own oldest, which leaves the other nodes alone.
    expect(meter.nodeSize('a')).toBe(50);
    expect(meter.nodeSize('b')).toBe(20);
    expect(meter.nodeSize('c')).toBe(20);
    expect(meter.nodeSize('d')).toBe(30);
    expect(meter.size).toBe(120);
    expect(ingest.stats.evictedBy).toEqual({ node_limit: 20, total_limit: 70 });
    expect(ingest.stats.evicted).toBe(90);
    expect(linesWithReason(lines(), 'total_limit')).toHaveLength(1);
    expect(linesWithReason(lines(), 'node_limit')).toHaveLength(1);
  });

  it('bounds a flood spread over many node ids', () => {
    const { ingest, meter, send } = directIngest({ maxStreams: 1_000 });
    for (let node = 0; node < 5_000; node += 1) send(`node-${node}`, newStreams(0, 1));

    expect(meter.size).toBe(1_000);
    expect(meter.nodeSize('node-3999')).toBe(0);
    expect(meter.nodeSize('node-4000')).toBe(1);
    expect(ingest.stats.evictedBy).toEqual({ node_limit: 0, total_limit: 4_000 });
  });

  it('frees the slot of an ended stream', () => {
    const { ingest, meter, send } = directIngest({ maxStreamsPerNode: 5 });
    for (let index = 0; index < 20; index += 1) {
      send('n', [streamEntry(`s${index}`, { out: 3, beganAt: 0, firstAt: 100, lastAt: 1_100 })]);
      send('n', [streamEntry(`s${index}`, { out: 3, beganAt: 0, firstAt: 100, lastAt: 1_100, ended: true })]);
    }

    expect(meter.size).toBe(0);
    expect(ingest.stats.evicted).toBe(0);
  });

  it('evicts nothing for known streams or ignored entries', () => {
    const { ingest, meter, send } = directIngest({ maxStreamsPerNode: 2 });
    send('n', [
      streamEntry('a', { out: 1, beganAt: 0, firstAt: 100, lastAt: 100 }),
      streamEntry('b', { out: 1, beganAt: 0, firstAt: 100, lastAt: 100 }),
    ]);

    send('n', [streamEntry('a', { out: 9, beganAt: 0, firstAt: 100, lastAt: 1_100 })]);
    send('n', [streamEntry('c', { out: 5, beganAt: 9_000, firstAt: 100, lastAt: 1_100 })]);
    send('n', [streamEntry('d', { out: 5, beganAt: 0, firstAt: 100, lastAt: 100 + 86_400_001 })]);

    expect([...meter.ids()]).toEqual([streamKey('n', 'a'), streamKey('n', 'b')]);
    expect(ingest.stats.evicted).toBe(0);
    expect(ingest.stats.ignored.negative_ttft).toBe(1);
    expect(ingest.stats.ignored.implausible_duration).toBe(1);
  });

  it('adopts an evicted stream again as a new one', () => {
    const { ingest, meter, send } = directIngest({ maxStreamsPerNode: 2 });
    send('n', [
      streamEntry('a', { out: 1, beganAt: 0, firstAt: 100, lastAt: 100 }),
      streamEntry('b', { out: 1, beganAt: 0, firstAt: 100, lastAt: 100 }),
      streamEntry('c', { out: 1, beganAt: 0, firstAt: 100, lastAt: 100 }),
    ]);
    send('n', [streamEntry('a', { out: 11, beganAt: 0, firstAt: 100, lastAt: 1_100 })]);

    expect([...meter.ids()]).toEqual([streamKey('n', 'c'), streamKey('n', 'a')]);
    expect(meter.progress(streamKey('n', 'a'))).toMatchObject({ output: 11 });
    expect(ingest.stats.evicted).toBe(2);
    expect(ingest.stats.streamsAdopted).toBe(4);
  });

  it('rejects caps out of range', () => {
    const meter = new Meter();
    const create = (options: object) => () => new Ingest({ meter, logger: silentLogger, ...options });

    expect(create({ maxStreams: 0 })).toThrow(new RangeError('Invalid ingest option maxStreams 0: expected an integer of at least 1.'));
    expect(create({ maxStreamsPerNode: 2.5 })).toThrow(new RangeError('Invalid ingest option maxStreamsPerNode 2.5: expected an integer of at least 1.'));
    expect(create({ maxStreamDurationMs: Number.NaN })).toThrow(new RangeError('Invalid ingest option maxStreamDurationMs NaN: expected a number of at least 1.'));
    expect(create({ maxNegativeTtftMs: -1 })).toThrow(new RangeError('Invalid ingest option maxNegativeTtftMs -1: expected a number of at least 0.'));
    expect(create({ maxStreamDurationMs: Number.POSITIVE_INFINITY, maxNegativeTtftMs: 0 })).not.toThrow();
  });
});
