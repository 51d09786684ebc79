import { roundTenth } from '@metering-hub/server';
import { createPublisher, type MeteringFrame, type Publisher } from '@metering-hub/shared';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';
import { useHubProcesses } from './hub-process.js';
import { fetchStats, readyStatus } from './http.js';
import { PacedStreams, steady } from './paced-streams.js';

const redisServer = useRedisServer();
const startHub = useHubProcesses();

const HOUR_MS = 3_600_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openPublisher(nodeId: string, channel: string, streams: PacedStreams): Publisher {
  const publisher = createPublisher({
    nodeId,
    redis: redisServer().url,
    channel,
    flushIntervalMs: 20,
    logger: silentLogger,
    now: () => streams.clock.now,
  });
  cleanups.push(() => publisher.close());
  return publisher;
}

function nodeRates(frame: MeteringFrame): Record<string, number> {
  return Object.fromEntries(frame.nodes.map((node) => [node.key, node.tps]));
}

function sameRates(actual: Record<string, number>, expected: Record<string, number>): boolean {
  const keys = Object.keys(expected);
  return Object.keys(actual).length === keys.length && keys.every((key) => actual[key] === expected[key]);
}

describe('hub process restarted mid-hour', () => {
  it('keeps HIGH and LOW', async () => {
    const channel = 'extremes:updates';
    const key = `${channel}:readings`;
    const redis = new Redis(redisServer().url);
    cleanups.push(() => void redis.disconnect());

    // Readings two hours old, far above any real one: HIGH would show
    // them if the restarted hub loaded readings from outside the window.
    const oldMs = Date.now() - 2 * HOUR_MS;
    for (let index = 0; index < 10; index++) await redis.zadd(key, oldMs + index, `seed:${oldMs + index}:999`);

    const first = await startHub({ redisUrl: redisServer().url, channel });
    await waitFor(async () => (await readyStatus(first.base)) === 200, { what: 'the first hub to subscribe' });
    const streams = new PacedStreams();
    cleanups.push(() => streams.stop());
    const publisher = openPublisher('chat-1', channel, streams);
    await waitFor(() => publisher.ready, { what: 'the publisher to connect' });

    // One node publishes every stream, so each message moves the mean from
    // one known value to another: 45 tok/s with two streams, then 33.3.
    // Rates are multiples of 10 tok/s, so each 100 ms step adds whole tokens
    // and every rate is exact at every step.
    streams.begin(publisher, 'fast', steady(60));
    streams.begin(publisher, 'medium', steady(30));
    streams.run();
    await waitFor(async () => (await fetchStats(first.base)).high === 45, { what: 'HIGH to reach 45' });
    streams.begin(publisher, 'slow', steady(10));
    await waitFor(async () => (await fetchStats(first.base)).low === 33.3, { what: 'LOW to reach 33.3' });
    streams.stop();
    const before = await fetchStats(first.base);
    expect(before.high).toBe(45);
    expect(before.low).toBe(33.3);

    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = await startHub({ redisUrl: redisServer().url, channel });
    await waitFor(async () => (await readyStatus(second.base)) === 200, { what: 'the second hub to subscribe' });
    const dashboard = await connectDashboard(second.port);
    cleanups.push(() => void dashboard.socket.disconnect());
    streams.run();
    await waitFor(() => dashboard.frames.some((frame) => frame.active === 3), { what: 'a frame with the three streams resumed' });

    const resumed = dashboard.frames.find((frame) => frame.active === 3);
    expect(resumed?.tps).toBe(33.3);
    expect(resumed?.high).toBe(before.high);
    expect(resumed?.low).toBe(before.low);

    // Bounded: trimmed to the window on every add, and set to expire.
    expect(await redis.zcount(key, '-inf', Date.now() - HOUR_MS)).toBe(0);
    expect(await redis.zcard(key)).toBeLessThanOrEqual(3_600);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(HOUR_MS + 60_000);
  });

  it('keeps streams in flight', async () => {
    const channel = 'in-flight:updates';
    const first = await startHub({ redisUrl: redisServer().url, channel });
    await waitFor(async () => (await readyStatus(first.base)) === 200, { what: 'the first hub to subscribe' });

    // One stream per node, so each node's rate in the frame is one stream's
    // rate. The accelerating stream's rate depends on its exact totals.
    const streams = new PacedStreams();
    cleanups.push(() => streams.stop());
    const nodeA = openPublisher('node-a', channel, streams);
    const nodeB = openPublisher('node-b', channel, streams);
    await waitFor(() => nodeA.ready && nodeB.ready, { what: 'the publishers to connect' });
    streams.begin(nodeA, 'accelerating', (elapsedMs) => Math.floor((elapsedMs * elapsedMs) / 50_000));
    streams.begin(nodeB, 'steady', steady(30));
    streams.run();
    await waitFor(() => streams.rate('accelerating') >= 20, { what: 'the accelerating stream to pass 20 tok/s' });
    streams.stop();

    const expectedRates = { 'node-a': roundTenth(streams.rate('accelerating')), 'node-b': 30 };
    await waitFor(async () => sameRates(nodeRates(await fetchStats(first.base)), expectedRates), {
      what: `the first hub to show the rates ${JSON.stringify(expectedRates)}`,
    });
    const before = await fetchStats(first.base);

    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = await startHub({ redisUrl: redisServer().url, channel });
    await waitFor(async () => (await readyStatus(second.base)) === 200, { what: 'the second hub to subscribe' });
    // The next update of each stream carries the totals the first hub had.
    streams.repeat();
    await Promise.all([nodeA.flush(), nodeB.flush()]);
    await waitFor(async () => (await fetchStats(second.base)).active === 2, { what: 'the second hub to adopt both streams' });
    const after = await fetchStats(second.base);

    expect(nodeRates(after)).toEqual(nodeRates(before));
    expect(after.tps).toBe(before.tps);
    expect(after.total).toBe(before.total);
    expect(after.stale).toBe(false);

    streams.step(1_000);
    const nextRate = roundTenth(streams.rate('accelerating'));
    await waitFor(async () => nodeRates(await fetchStats(second.base))['node-a'] === nextRate, {
      what: `the adopted stream to move on to ${nextRate} tok/s`,
    });
  });
});
