import { Hub } from '@metering-hub/server';
import { type Bus, createPublisher, MemoryBus, type MeteringFrame, RedisBus } from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { PacedStreams, steady } from './paced-streams.js';

const redisServer = useRedisServer();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Publishes on Redis and, for each message Redis accepted, on an
 * in-process bus too, so a hub on that bus receives every message a hub on
 * Redis could have received, and never loses its subscription.
 */
class MirroredBus implements Bus {
  constructor(private readonly redis: RedisBus, private readonly mirror: MemoryBus) {}

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(channel, message);
    await this.mirror.publish(channel, message);
  }

  subscribe(): Promise<void> {
    return Promise.reject(new Error('MirroredBus only publishes.'));
  }

  isReady(): boolean {
    return this.redis.isReady();
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    return this.redis.onReadyChange(listener);
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}

/** Resolves with the hub's next frame. */
function nextFrame(hub: Hub): Promise<MeteringFrame> {
  return new Promise((resolve) => {
    const remove = hub.onFrame((frame) => {
      remove();
      resolve(frame);
    });
  });
}

describe('Redis restarted mid-stream', () => {
  it('resubscribes with counts intact', async () => {
    const redis = redisServer();
    const hub = new Hub({ redisUrl: redis.url, port: 0, logger: silentLogger });
    await hub.listen();
    cleanups.push(() => hub.close());
    const mirror = new MemoryBus();
    const reference = new Hub({ bus: mirror, port: 0, logger: silentLogger });
    await reference.listen();
    cleanups.push(async () => {
      await reference.close();
      await mirror.close();
    });

    const frames: { frame: MeteringFrame; receivedAt: number }[] = [];
    hub.onFrame((frame) => frames.push({ frame, receivedAt: performance.now() }));
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe' });

    const streams = new PacedStreams();
    const bus = new MirroredBus(new RedisBus({ url: redis.url, logger: silentLogger }), mirror);
    const publisher = createPublisher({ nodeId: 'chat-1', bus, flushIntervalMs: 20, logger: silentLogger, now: () => streams.clock.now });
    cleanups.push(() => bus.close());
    cleanups.push(() => publisher.close());
    cleanups.push(() => streams.stop());
    await waitFor(() => publisher.ready, { what: 'the publisher to connect' });

    streams.begin(publisher, 'slow', steady(20));
    streams.begin(publisher, 'medium', steady(50));
    streams.begin(publisher, 'fast', steady(90));
    streams.run();
    await waitFor(() => hub.latestFrame().active === 3 && hub.latestFrame().tps > 0, { what: 'three streams with rates on the hub' });

    // SIGKILL, then a new server on the same port with an empty dataset.
    await redis.stop();
    await waitFor(() => !hub.isReady(), { what: 'the hub to see Redis go away' });
    await redis.start();
    const backAt = performance.now();

    await waitFor(() => hub.isReady(), { what: 'the hub to resubscribe', deadlineMs: 30_000 });
    await waitFor(() => frames.some(({ frame, receivedAt }) => receivedAt > backAt && !frame.stale), {
      what: 'a live frame after the restart',
      deadlineMs: 30_000,
    });
    const firstLive = frames.find(({ frame, receivedAt }) => receivedAt > backAt && !frame.stale);
    console.info(`First live frame ${Math.round((firstLive?.receivedAt ?? backAt) - backAt)} ms after Redis was back.`);

    // Both hubs take one more update of every stream, then tick.
    streams.stop();
    const receivedBefore = hub.stats.ingest.messagesReceived;
    const referenceBefore = reference.stats.ingest.messagesReceived;
    streams.step();
    await publisher.flush();
    await waitFor(() => hub.stats.ingest.messagesReceived > receivedBefore, { what: 'the hub to receive the last update' });
    await waitFor(() => reference.stats.ingest.messagesReceived > referenceBefore, { what: 'the reference hub to receive the last update' });
    const [after, expected] = await Promise.all([nextFrame(hub), nextFrame(reference)]);

    expect(after.active).toBe(3);
    expect(after.tps).toBe(53.3);
    expect(after.active).toBe(expected.active);
    expect(Math.abs(after.tps - expected.tps)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(after.total - expected.total)).toBeLessThanOrEqual(0.1);
    expect(after.stale).toBe(false);
    expect(hub.stats.ingest.ignored.count_regressed).toBe(0);
    expect(hub.stats.resubscriptions).toBe(1);
    const outOfRange = frames.filter(({ frame }) => frame.tps < 0 || frame.tps > 90).map(({ frame }) => frame.tps);
    expect(outOfRange).toEqual([]);
  });
});
