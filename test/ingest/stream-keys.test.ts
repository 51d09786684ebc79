import { Ingest, Meter, streamKey, StreamKeys } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';

describe('StreamKeys', () => {
  it('reuses the key of a known stream', () => {
    const heldKeys = new Set<string>();
    const keys = new StreamKeys((key) => heldKeys.has(key), () => heldKeys.size);
    const first = keys.key('node-a', 'chat-1');
    expect(first).toBe(streamKey('node-a', 'chat-1'));
    // A different string object with the same text finds the cached key.
    expect(keys.key('node-a', ['chat', '1'].join('-'))).toBe(first);
    expect(keys.key('node-b', 'chat-1')).not.toBe(first);
    expect(keys.size).toBe(2);
  });

  it('sweeps keys of vanished streams', () => {
    const heldKeys = new Set<string>();
    const keys = new StreamKeys((key) => heldKeys.has(key), () => heldKeys.size);
    keys.key('a', '1');
    keys.key('a', '2');
    keys.key('b', '1');
    keys.forget('a', '1');
    expect(keys.size).toBe(2);
    keys.forgetNode('a');
    expect(keys.size).toBe(1);

    // 100,000 streams that ended without a word: the cache stays within
    // twice the held streams plus the slack.
    heldKeys.add(keys.key('live', 'kept'));
    let largest = 0;
    for (let index = 0; index < 100_000; index++) {
      keys.key(`gone-${index % 7}`, `s${index}`);
      largest = Math.max(largest, keys.size);
    }
    expect(largest).toBeLessThanOrEqual(2 * heldKeys.size + 1_024 + 1);
    expect(keys.key('live', 'kept')).toBe([...heldKeys][0]);
  });

  it('bounds the ingest cache under churn', () => {
    const meter = new Meter();
    const ingest = new Ingest({ meter, logger: silentLogger, maxStreamsPerNode: 1_000, maxStreams: 5_000 });
    for (let batch = 0; batch < 1_000; batch++) {
      const streams = Array.from({ length: 100 }, (_, index) => ({
        id: `s-${batch * 100 + index}`, beganAt: 0, firstAt: null, lastAt: null, out: 0, reasoning: 0, ended: false,
      }));
      ingest.handle(JSON.stringify({ v: 1, node: `n-${batch % 10}`, streams }));
    }
    expect(meter.size).toBe(5_000);
    const cached = (ingest as unknown as { keys: StreamKeys }).keys.size;
    expect(cached).toBeLessThanOrEqual(2 * meter.size + 1_024);
  });
});
