import { Inbox, type InboxSource, RedisBus } from '@metering-hub/shared';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const redisServer = useRedisServer();

function recordingSource() {
  const calls: string[] = [];
  const source: InboxSource = { pause: () => calls.push('pause'), resume: () => calls.push('resume') };
  return { source, calls };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('Inbox', () => {
  it('delivers slices between event-loop turns', async () => {
    // Each delivery moves the clock 3 ms on, so two fit in a 4 ms slice.
    let clock = 0;
    const delivered: string[] = [];
    const inbox = new Inbox((_channel, message) => {
      delivered.push(message);
      clock += 3;
    }, { sliceMs: 4, now: () => clock });
    const { source } = recordingSource();
    for (let index = 0; index < 5; index++) inbox.push('c', `m${index}`, source);
    expect(delivered).toEqual([]);

    await nextTurn();
    expect(delivered).toEqual(['m0', 'm1']);
    await nextTurn();
    expect(delivered).toEqual(['m0', 'm1', 'm2', 'm3']);
    await nextTurn();
    expect(delivered).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(inbox.size).toBe(0);
  });

  it('pauses the source over the limit', async () => {
    let clock = 0;
    const inbox = new Inbox(() => {
      clock += 1;
    }, { sliceMs: 2, maxQueuedBytes: 40, now: () => clock });
    const { source, calls } = recordingSource();
    // Ten messages of 10 characters: the fifth goes past 40.
    for (let index = 0; index < 10; index++) inbox.push('c', 'x'.repeat(10), source);
    expect(calls).toEqual(['pause']);
    expect(inbox.paused).toBe(true);

    // Two deliveries per slice leave 80, 60 and 40 characters, still paused.
    // After the fourth slice 20 are left, so reading resumes.
    for (let slice = 0; slice < 3; slice++) await nextTurn();
    expect(calls).toEqual(['pause']);
    await nextTurn();
    expect(calls).toEqual(['pause', 'resume']);
    expect(inbox.paused).toBe(false);
    await nextTurn();
    expect(inbox.size).toBe(0);
  });

  it('pauses a new connection after reconnect', () => {
    const inbox = new Inbox(() => {}, { maxQueuedBytes: 5 });
    const first = recordingSource();
    const second = recordingSource();
    inbox.push('c', 'x'.repeat(10), first.source);
    inbox.push('c', 'x'.repeat(10), first.source);
    inbox.push('c', 'x'.repeat(10), second.source);
    expect(first.calls).toEqual(['pause']);
    expect(second.calls).toEqual(['pause']);
    inbox.clear();
  });

  it('flushes all and clears all', async () => {
    const delivered: string[] = [];
    const inbox = new Inbox((_channel, message) => delivered.push(message), { maxQueuedBytes: 1 });
    const { source, calls } = recordingSource();
    inbox.push('c', 'a', source);
    inbox.push('c', 'bb', source);
    inbox.flush();
    expect(delivered).toEqual(['a', 'bb']);
    expect(calls).toEqual(['pause', 'resume']);

    inbox.push('c', 'ccc', source);
    inbox.clear();
    await nextTurn();
    expect(delivered).toEqual(['a', 'bb']);
    expect(inbox.size).toBe(0);
  });
});

describe('RedisBus delivery', () => {
  it('delivers a large backlog in order', async () => {
    const bus = new RedisBus({ url: redisServer().url, logger: silentLogger, delivery: { maxQueuedBytes: 4_096, sliceMs: 1 } });
    const publisher = new Redis(redisServer().url);
    const received: number[] = [];
    try {
      await bus.subscribe('backlog', (message) => received.push(Number(message.slice(0, 6))));
      // 2,000 messages of 1 KB in one pipeline arrive faster than slices
      // of 1 ms take them, so the subscriber socket is paused and resumed
      // many times on the way.
      const pipeline = publisher.pipeline();
      for (let index = 0; index < 2_000; index++) pipeline.publish('backlog', `${String(index).padStart(6, '0')}${'x'.repeat(1_018)}`);
      await pipeline.exec();
      await waitFor(() => received.length === 2_000, { what: 'all 2,000 messages' });
      expect(received).toEqual(Array.from({ length: 2_000 }, (_, index) => index));
    } finally {
      await bus.close();
      publisher.disconnect();
    }
  });

  it('survives a throwing listener', async () => {
    const bus = new RedisBus({ url: redisServer().url, logger: silentLogger });
    const publisher = new Redis(redisServer().url);
    const received: string[] = [];
    try {
      await bus.subscribe('throwing', () => {
        throw new Error('listener failure');
      });
      await bus.subscribe('throwing', (message) => received.push(message));
      await publisher.publish('throwing', 'first');
      await publisher.publish('throwing', 'second');
      await waitFor(() => received.length === 2, { what: 'both messages' });
      expect(received).toEqual(['first', 'second']);
    } finally {
      await bus.close();
      publisher.disconnect();
    }
  });
});
