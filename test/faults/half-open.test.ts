import { Hub } from '@metering-hub/server';
import { createPublisher, type MeteringFrame } from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { fetchStats, readyStatus } from './http.js';
import { PacedStreams, steady } from './paced-streams.js';
import { PausableProxy } from '../helpers/pausable-proxy.js';

const redisServer = useRedisServer();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('half-open Redis connection', () => {
  it('marks frames stale, then recovers', async () => {
    const redis = redisServer();
    const proxy = await PausableProxy.start(redis.port);
    cleanups.push(() => proxy.close());

    // NOTE: HubOptions has no field for the RedisBus health check, so the
    // hub runs with its defaults: a PING every 5 s, and 3 s for its reply.
    const hub = new Hub({ redisUrl: proxy.url, port: 0, logger: silentLogger });
    const { port } = await hub.listen();
    cleanups.push(() => hub.close());
    const base = `http://127.0.0.1:${port}`;
    const frames: { frame: MeteringFrame; receivedAt: number }[] = [];
    hub.onFrame((frame) => frames.push({ frame, receivedAt: performance.now() }));
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe through the proxy' });

    // The nodes publish to Redis directly, so only the hub is cut off.
    const streams = new PacedStreams();
    const publisher = createPublisher({ nodeId: 'chat-1', redis: redis.url, flushIntervalMs: 20, logger: silentLogger, now: () => streams.clock.now });
    cleanups.push(() => publisher.close());
    cleanups.push(() => streams.stop());
    await waitFor(() => publisher.ready, { what: 'the publisher to connect' });
    streams.begin(publisher, 'a', steady(30));
    streams.begin(publisher, 'b', steady(50));
    streams.run();
    await waitFor(() => hub.latestFrame().tps === 40, { what: 'a live frame at 40 tok/s' });
    const live = hub.latestFrame();

    proxy.pause();
    const pausedAt = performance.now();
    await waitFor(() => !hub.isReady(), { what: 'the hub to notice the silent connection', deadlineMs: 60_000 });
    console.info(`Half-open connection noticed after ${Math.round(performance.now() - pausedAt)} ms.`);
    const noticedAt = performance.now();
    expect(await readyStatus(base)).toBe(503);

    await waitFor(() => frames.some(({ receivedAt }) => receivedAt > noticedAt), { what: 'a frame while cut off' });
    const stats = await fetchStats(base);
    expect(stats.stale).toBe(true);
    expect(stats.active).toBe(2);

    proxy.resume();
    const resumedAt = performance.now();
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe again', deadlineMs: 60_000 });
    await waitFor(() => frames.some(({ frame, receivedAt }) => receivedAt > resumedAt && !frame.stale), {
      what: 'a live frame after the proxy resumed',
      deadlineMs: 30_000,
    });

    // Every frame between noticing and resuming repeats the last figures.
    const cutOff = frames.filter(({ receivedAt }) => receivedAt > noticedAt && receivedAt < resumedAt).map(({ frame }) => frame);
    expect(cutOff.length).toBeGreaterThan(0);
    expect(cutOff.every((frame) => frame.stale)).toBe(true);
    expect(cutOff.every((frame) => !frame.busReady)).toBe(true);
    expect(cutOff.map((frame) => frame.active)).toEqual(cutOff.map(() => live.active));
    expect(cutOff.map((frame) => frame.tps)).toEqual(cutOff.map(() => live.tps));

    const firstLive = frames.find(({ frame, receivedAt }) => receivedAt > resumedAt && !frame.stale);
    console.info(`First live frame ${Math.round((firstLive?.receivedAt ?? resumedAt) - resumedAt)} ms after the proxy resumed.`);
    expect(await readyStatus(base)).toBe(200);
    expect(firstLive?.frame.busReady).toBe(true);
    expect(firstLive?.frame.active).toBe(2);
    expect(hub.stats.resubscriptions).toBe(1);
  });
});
