import { streamKey } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { streamEntry } from '../helpers/hub-fixture.js';
import { directIngest, linesWithReason } from './direct-ingest.js';

const DAY_MS = 86_400_000;
// A node clock far from the hub's: only its differences matter.
const T0 = 1_764_842_000_000;

describe('stream duration bound', () => {
  it('accepts a span of exactly 24 h', () => {
    const { ingest, meter, send } = directIngest();
    send('n', [streamEntry('a', { out: 86_400, beganAt: T0, firstAt: T0, lastAt: T0 + DAY_MS })]);

    expect(meter.progress(streamKey('n', 'a'))).toMatchObject({ output: 86_400 });
    expect(ingest.stats.ignored.implausible_duration).toBe(0);
  });

  it('ignores a span 1 ms over 24 h', () => {
    const { ingest, meter, send, lines } = directIngest();
    send('n', [streamEntry('a', { out: 86_400, beganAt: T0, firstAt: T0, lastAt: T0 + DAY_MS + 1 })]);

    expect(meter.size).toBe(0);
    expect(ingest.stats.ignored.implausible_duration).toBe(1);
    expect(linesWithReason(lines(), 'implausible_duration')).toMatchObject([
      { node: 'n', stream: 'a', spanMs: DAY_MS + 1, maxStreamDurationMs: DAY_MS },
    ]);
  });

  it('keeps a known stream as it was', () => {
    const { ingest, meter, send } = directIngest({ maxStreamDurationMs: 10_000 });
    send('n', [streamEntry('a', { out: 10, beganAt: T0, firstAt: T0, lastAt: T0 + 1_000 })]);
    const before = meter.progress(streamKey('n', 'a'));

    send('n', [streamEntry('a', { out: 20, beganAt: T0, firstAt: T0, lastAt: T0 + 10_001 })]);
    send('n', [streamEntry('a', { out: 30, beganAt: T0, firstAt: T0, lastAt: 1e300 })]);

    expect(meter.progress(streamKey('n', 'a'))).toEqual(before);
    expect(ingest.stats.ignored.implausible_duration).toBe(2);
  });
});

describe('negative time to first token', () => {
  it('accepts beganAt up to 1 s after firstAt', () => {
    const { ingest, meter, send } = directIngest();
    send('n', [streamEntry('a', { out: 2, beganAt: T0 + 1_000, firstAt: T0, lastAt: T0 + 500 })]);

    expect(meter.progress(streamKey('n', 'a'))).toMatchObject({ output: 2 });
    expect(ingest.stats.ignored.negative_ttft).toBe(0);
  });

  it('ignores beganAt more than 1 s after firstAt', () => {
    const { ingest, meter, ttfts, send, lines } = directIngest();
    send('n', [streamEntry('a', { out: 2, beganAt: T0 + 1_001, firstAt: T0, lastAt: T0 + 500 })]);

    expect(meter.size).toBe(0);
    expect(ttfts).toEqual([]);
    expect(ingest.stats.ignored.negative_ttft).toBe(1);
    expect(linesWithReason(lines(), 'negative_ttft')).toMatchObject([
      { node: 'n', stream: 'a', beganAt: T0 + 1_001, firstAt: T0, maxNegativeTtftMs: 1_000 },
    ]);
  });

  it('takes its tolerance from the options', () => {
    const { ingest, send } = directIngest({ maxNegativeTtftMs: 0 });
    send('n', [streamEntry('a', { out: 1, beganAt: T0, firstAt: T0, lastAt: T0 })]);
    send('n', [streamEntry('b', { out: 1, beganAt: T0 + 1, firstAt: T0, lastAt: T0 })]);

    expect(ingest.stats.updatesApplied).toBe(1);
    expect(ingest.stats.ignored.negative_ttft).toBe(1);
  });

  it('checks only streams with a first token', () => {
    const { ingest, meter, send } = directIngest();
    send('n', [streamEntry('a', { beganAt: 1e300 })]);

    expect(meter.has(streamKey('n', 'a'))).toBe(true);
    expect(ingest.stats.ignored.negative_ttft).toBe(0);
  });
});

describe('timing checks', () => {
  it('let an implausible entry end a stream', () => {
    const { ingest, meter, send } = directIngest();
    send('n', [streamEntry('a', { out: 5, beganAt: T0, firstAt: T0 + 100, lastAt: T0 + 1_100 })]);
    send('n', [streamEntry('a', { out: 6, beganAt: T0 + 5_000, firstAt: T0 + 100, lastAt: T0 + 2 * DAY_MS, ended: true })]);

    expect(meter.size).toBe(0);
    expect(ingest.stats.ignored.implausible_duration).toBe(0);
    expect(ingest.stats.ignored.negative_ttft).toBe(0);
  });

  it('pass on a plausible first token', () => {
    const { ttfts, send } = directIngest();
    send('n', [streamEntry('a', { out: 1, beganAt: T0, firstAt: T0 + 450, lastAt: T0 + 450 })]);
    send('n', [streamEntry('a', { out: 9, beganAt: T0, firstAt: T0 + 450, lastAt: T0 + 1_450 })]);

    expect(ttfts).toEqual([450]);
  });
});
