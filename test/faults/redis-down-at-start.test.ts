import { setTimeout as delay } from 'node:timers/promises';

import { Hub } from '@metering-hub/server';
import { createPublisher } from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { captureLogger, silentLogger } from '../helpers/logger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { fetchStats, readyStatus } from './http.js';
import { PacedStreams, steady } from './paced-streams.js';

// How long Redis stays down after the hub starts. The default retryStrategy
// of ioredis 5 waits 50 ms more before each retry (up to 2 s), so the
// subscriber retries a dozen times or more in 6 s.
const OUTAGE_MS = 6_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('hub started while Redis is down', () => {
  it('waits for Redis, then meters', async () => {
    // Start and kill a server to learn a port on which Redis can start later.
    const redis: RedisServer = await startRedisServer();
    await redis.stop();
    cleanups.push(() => redis.stop());

    const log = captureLogger('info');
    const hub = new Hub({ redisUrl: redis.url, port: 0, logger: log.logger });
    const { port } = await hub.listen();
    cleanups.push(() => hub.close());
    const base = `http://127.0.0.1:${port}`;

    expect(await readyStatus(base)).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    await delay(OUTAGE_MS);
    expect(await readyStatus(base)).toBe(503);

    await redis.start();
    const restartedAt = performance.now();
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe once Redis is up', deadlineMs: 30_000 });
    console.info(`Subscribed ${Math.round(performance.now() - restartedAt)} ms after Redis started.`);
    expect(await readyStatus(base)).toBe(200);

    // The connection fault is logged, but once per connection and minute
    // rather than once per retry.
    const lines = log.lines();
    const connectionErrors = lines.filter((line) => line.msg === 'Redis connection error' || line.msg === 'Reading store connection error');
    const connectionRefused = connectionErrors.filter((line) => (line.err as { code?: string } | undefined)?.code === 'ECONNREFUSED');
    const subscriberReady = lines.find((line) => line.msg === 'Redis connection ready' && line.connection === 'subscriber');
    const attempts = Number(subscriberReady?.attempts);
    console.info(`Subscriber retries before Redis came up: ${attempts}; connection error lines: ${connectionErrors.length}.`);
    expect(connectionRefused.length).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeGreaterThanOrEqual(8);
    expect(connectionErrors.length).toBeLessThanOrEqual(2);
    expect(lines.filter((line) => line.msg === 'Redis reconnecting' && line.connection === 'subscriber').length).toBe(1);

    const streams = new PacedStreams();
    const publisher = createPublisher({ nodeId: 'late-node', redis: redis.url, flushIntervalMs: 20, logger: silentLogger, now: () => streams.clock.now });
    cleanups.push(() => publisher.close());
    cleanups.push(() => streams.stop());
    await waitFor(() => publisher.ready, { what: 'the publisher to connect' });
    streams.begin(publisher, 'stream-1', steady(40));
    streams.run();

    await waitFor(async () => (await fetchStats(base)).tps === 40, { what: 'a frame with the stream at 40 tok/s' });
    const frame = await fetchStats(base);
    expect(frame.active).toBe(1);
    expect(frame.busReady).toBe(true);
    expect(frame.stale).toBe(false);
  });
});
