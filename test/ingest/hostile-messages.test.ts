import type { IngestStats } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { captureLogger } from '../helpers/logger.js';
import { linesWithReason } from './direct-ingest.js';

const startHub = useHubs();

// Stream `a` of node `n` is known to every hub below: 41 tokens from 1 s to
// 3 s on the node's clock, so 20.5 tok/s.
const knownEntry = streamEntry('a', { model: 'llama', out: 41, beganAt: 500, firstAt: 1_000, lastAt: 3_000 });

/** Returns a valid message text of node `node` with one entry, its fields overridden by `fields`. */
function message(fields: object = {}, node = 'n'): string {
  return JSON.stringify({ v: 1, node, streams: [{ ...streamEntry('b', { out: 5, beganAt: 0, firstAt: 100, lastAt: 1_100 }), ...fields }] });
}

/** Returns `message()` with one value written as `raw`, for numbers and tokens JSON.stringify cannot write. */
function withRawValue(field: string, raw: string): string {
  return message({ [field]: 12_345 }).replace(`"${field}":12345`, `"${field}":${raw}`);
}

type Outcome =
  | { rejected: keyof IngestStats['rejected'] }
  | { ignored: keyof IngestStats['ignored'] };

const hostile: { name: string; raw: string; outcome: Outcome }[] = [
  { name: 'text that is not JSON', raw: 'tokens: 12', outcome: { rejected: 'invalid_json' } },
  { name: 'truncated JSON', raw: message().slice(0, 40), outcome: { rejected: 'invalid_json' } },
  { name: 'an empty message', raw: '', outcome: { rejected: 'invalid_json' } },
  { name: 'a JSON array', raw: '[{"v":1}]', outcome: { rejected: 'invalid_schema' } },
  { name: 'a JSON string', raw: '"update"', outcome: { rejected: 'invalid_schema' } },
  { name: 'a JSON number', raw: '42', outcome: { rejected: 'invalid_schema' } },
  { name: 'JSON null', raw: 'null', outcome: { rejected: 'invalid_schema' } },
  { name: 'a count of 1e309', raw: withRawValue('out', '1e309'), outcome: { rejected: 'invalid_schema' } },
  { name: 'a timestamp of 1e309', raw: withRawValue('lastAt', '1e309'), outcome: { rejected: 'invalid_schema' } },
  { name: 'a bare NaN token', raw: withRawValue('out', 'NaN'), outcome: { rejected: 'invalid_json' } },
  { name: 'a count of "NaN"', raw: message({ out: 'NaN' }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a count of "Infinity"', raw: message({ reasoning: 'Infinity' }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a timestamp of "-Infinity"', raw: message({ firstAt: '-Infinity' }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a negative count', raw: message({ out: -5 }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a negative timestamp', raw: message({ beganAt: -1 }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a fractional count', raw: message({ out: 2.5 }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a count of 2^53', raw: message({ out: 2 ** 53 }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a count above 2^53', raw: withRawValue('reasoning', '9007199254740993'), outcome: { rejected: 'invalid_schema' } },
  { name: 'a count as a string', raw: message({ out: '5' }), outcome: { rejected: 'invalid_schema' } },
  { name: 'version 2', raw: message().replace('"v":1', '"v":2'), outcome: { rejected: 'invalid_schema' } },
  { name: 'an empty id', raw: message({ id: '' }), outcome: { rejected: 'invalid_schema' } },
  { name: 'an id of 257 characters', raw: message({ id: 'x'.repeat(257) }), outcome: { rejected: 'invalid_schema' } },
  { name: 'an empty node id', raw: message({}, ''), outcome: { rejected: 'invalid_schema' } },
  {
    name: 'a __proto__ member in the message',
    raw: message().replace('{"v":1,', '{"__proto__":{"bye":true},"v":1,'),
    outcome: { rejected: 'invalid_schema' },
  },
  {
    name: 'a __proto__ member in an entry',
    raw: message().replace('[{"id"', '[{"__proto__":{"ended":true},"id"'),
    outcome: { rejected: 'invalid_schema' },
  },
  {
    name: 'a constructor member in an entry',
    raw: message().replace('[{"id"', '[{"constructor":{"prototype":{"out":1}},"id"'),
    outcome: { rejected: 'invalid_schema' },
  },
  { name: 'an unknown member', raw: message({ tokens: 5 }), outcome: { rejected: 'invalid_schema' } },
  { name: 'a repeated stream id', raw: message().replace(/\[(.*)\]/, '[$1,$1]'), outcome: { rejected: 'duplicate_stream' } },
  { name: 'firstAt after lastAt', raw: message({ firstAt: 2_000, lastAt: 1_000 }), outcome: { rejected: 'invalid_timing' } },
  { name: 'tokens without timestamps', raw: message({ firstAt: null, lastAt: null }), outcome: { rejected: 'invalid_timing' } },
  { name: 'a message of 5 MB', raw: message({ model: 'm'.repeat(5 * 1024 * 1024) }), outcome: { rejected: 'too_large' } },
  {
    name: 'a count going backwards',
    raw: JSON.stringify({ v: 1, node: 'n', streams: [{ ...knownEntry, out: 21, lastAt: 2_000 }] }),
    outcome: { ignored: 'count_regressed' },
  },
  {
    name: 'a known stream spanning over 24 h',
    raw: JSON.stringify({ v: 1, node: 'n', streams: [{ ...knownEntry, out: 99, lastAt: 1_000 + 86_400_001 }] }),
    outcome: { ignored: 'implausible_duration' },
  },
  {
    name: 'a latest token far in the future',
    raw: message({ firstAt: 1_764_842_000_000, lastAt: 8.64e15 }),
    outcome: { ignored: 'implausible_duration' },
  },
  {
    name: 'a known stream beginning after its first token',
    raw: JSON.stringify({ v: 1, node: 'n', streams: [{ ...knownEntry, out: 99, lastAt: 4_000, beganAt: 2_001 }] }),
    outcome: { ignored: 'negative_ttft' },
  },
  {
    name: 'a new stream beginning after its first token',
    raw: message({ beganAt: 1_764_842_000_000 }),
    outcome: { ignored: 'negative_ttft' },
  },
  {
    name: 'a rate above 100,000 tok/s',
    raw: message({ out: 1_000_000, firstAt: 100, lastAt: 101 }),
    outcome: { ignored: 'implausible_rate' },
  },
  { name: 'the end of an unknown stream', raw: message({ ended: true }), outcome: { ignored: 'ended_unknown' } },
];

const ROUNDS = 3;

describe('hostile messages', () => {
  it.each(hostile)('drops $name', async ({ raw, outcome }) => {
    const { logger, lines } = captureLogger();
    const { hub, bus, publish, scheduler } = await startHub({ logger });
    await publish('n', [knownEntry]);
    scheduler.fire();
    const frameBefore = hub.latestFrame();
    const statsBefore = structuredClone(hub.stats.ingest);

    for (let round = 0; round < ROUNDS; round += 1) {
      const received = hub.stats.ingest.messagesReceived;
      await bus.publish('metering:updates', raw);
      while (hub.stats.ingest.messagesReceived === received) await new Promise((resolve) => setImmediate(resolve));
    }
    scheduler.fire();

    const stats = hub.stats.ingest;
    expect(hub.latestFrame()).toEqual(frameBefore);
    expect(frameBefore).toMatchObject({ tps: 20.5, active: 1, ttft: { p50: 500, samples: 1 } });
    expect(stats.messagesReceived - statsBefore.messagesReceived).toBe(ROUNDS);
    expect(stats.updatesApplied).toBe(statsBefore.updatesApplied);
    expect(stats.streamsAdopted).toBe(statsBefore.streamsAdopted);
    expect(stats.evicted).toBe(0);

    const reason = 'rejected' in outcome ? outcome.rejected : outcome.ignored;
    if ('rejected' in outcome) {
      expect(stats.rejected).toEqual({ ...statsBefore.rejected, [reason]: ROUNDS });
      expect(stats.ignored).toEqual(statsBefore.ignored);
      expect(stats.messagesAccepted).toBe(statsBefore.messagesAccepted);
    } else {
      expect(stats.ignored).toEqual({ ...statsBefore.ignored, [reason]: ROUNDS });
      expect(stats.rejected).toEqual(statsBefore.rejected);
      expect(stats.messagesAccepted - statsBefore.messagesAccepted).toBe(ROUNDS);
    }

    // Ending an unknown stream is normal after a hub restart, so it is
    // counted but not logged.
    const expectedLines = reason === 'ended_unknown' ? 0 : 1;
    expect(linesWithReason(lines(), reason)).toHaveLength(expectedLines);
    expect(lines().filter((line) => line.level === 40)).toHaveLength(expectedLines);
  });
});

describe('stream ids named like Object members', () => {
  const rated = (id: string, out: number, model?: string) =>
    streamEntry(id, { out, beganAt: 0, firstAt: 0, lastAt: 1_000, ...(model ? { model } : {}) });

  it('meters each as a stream of its own', async () => {
    const { hub, publish, scheduler } = await startHub();
    await publish('n', [
      rated('__proto__', 10, 'constructor'),
      rated('constructor', 30, '__proto__'),
      rated('toString', 50),
      rated('hasOwnProperty', 70),
    ]);
    await publish('__proto__', [rated('constructor', 20, 'constructor')]);
    await publish('constructor', [rated('__proto__', 60)]);
    scheduler.fire();

    const frame = hub.latestFrame();
    expect(frame).toMatchObject({ tps: 40, total: 240, active: 6 });
    expect(frame.nodes).toEqual([
      { key: 'n', tps: 40, total: 160, active: 4 },
      { key: 'constructor', tps: 60, total: 60, active: 1 },
      { key: '__proto__', tps: 20, total: 20, active: 1 },
    ]);
    expect(frame.models).toEqual([
      { key: 'constructor', tps: 15, total: 30, active: 2 },
      { key: '__proto__', tps: 30, total: 30, active: 1 },
    ]);
    expect(hub.stats.ingest.updatesApplied).toBe(6);
  });

  it('updates and ends them one at a time', async () => {
    const { hub, publish, scheduler } = await startHub();
    await publish('n', [rated('__proto__', 10), rated('constructor', 30), rated('toString', 50)]);
    await publish('__proto__', [rated('n', 20)]);

    await publish('n', [streamEntry('__proto__', { out: 110, beganAt: 0, firstAt: 0, lastAt: 2_000 })]);
    await publish('n', [streamEntry('constructor', { out: 30, beganAt: 0, firstAt: 0, lastAt: 1_000, ended: true })]);
    scheduler.fire();

    // Left: n/__proto__ 55, n/toString 50 and __proto__/n 20 tok/s.
    expect(hub.latestFrame()).toMatchObject({ tps: 41.7, total: 125, active: 3 });
    expect(hub.latestFrame().nodes).toEqual([
      { key: 'n', tps: 52.5, total: 105, active: 2 },
      { key: '__proto__', tps: 20, total: 20, active: 1 },
    ]);
    expect(hub.stats.ingest.ignored.ended_unknown).toBe(0);
    expect(({} as Record<string, unknown>).out).toBeUndefined();
  });
});
