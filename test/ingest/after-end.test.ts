import { streamKey } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { streamEntry } from '../helpers/hub-fixture.js';
import { directIngest, linesWithReason } from './direct-ingest.js';

describe('updates after a stream ended', () => {
  it('ignores a late progress update', () => {
    const { ingest, meter, send, lines } = directIngest();
    const progress = streamEntry('r', { beganAt: 1_000, out: 30, firstAt: 1_500, lastAt: 2_500 });
    send('late', [progress]);
    send('late', [{ ...progress, out: 45, lastAt: 3_000, ended: true }]);
    expect(meter.has(streamKey('late', 'r'))).toBe(false);

    // The same progress message again, as a retry or a reordering brings it.
    const carriedTokens = send('late', [progress]);

    expect(carriedTokens).toBe(false);
    expect(meter.has(streamKey('late', 'r'))).toBe(false);
    expect(ingest.stats.ignored.after_end).toBe(1);
    expect(linesWithReason(lines(), 'after_end')).toHaveLength(1);
  });

  it('accepts the id begun again', () => {
    const { meter, send } = directIngest();
    send('node', [streamEntry('r', { beganAt: 1_000, out: 30, firstAt: 1_500, lastAt: 2_500, ended: true })]);

    send('node', [streamEntry('r', { beganAt: 9_000, out: 4, firstAt: 9_400, lastAt: 9_500 })]);

    expect(meter.progress(streamKey('node', 'r'))).toMatchObject({ output: 4 });
  });
});
