import { Hub } from '@metering-hub/server';
import { createPublisher, type MeteringFrame, type Publisher } from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';
import { PacedStreams, steady } from './paced-streams.js';

const redisServer = useRedisServer();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CHANNEL = 'pair:updates';
const WALL_CLOCK_START_MS = 1_764_842_000_000;

interface ManualHub {
  hub: Hub;
  scheduler: ManualScheduler;
  port: number;
}

/** Differences above 0.1 tok/s, or in `active`, as readable lines. */
function frameDifferences(a: MeteringFrame, b: MeteringFrame): string[] {
  const differences: string[] = [];
  for (const field of ['tps', 'high', 'low', 'total'] as const) {
    if (Math.abs(a[field] - b[field]) > 0.1) differences.push(`${field}: ${a[field]} vs ${b[field]}`);
  }
  if (a.active !== b.active) differences.push(`active: ${a.active} vs ${b.active}`);
  return differences;
}

function messagesSent(publishers: Publisher[]): number {
  return publishers.reduce((sum, publisher) => sum + publisher.stats.messagesSent, 0);
}

describe('two hubs on one Redis', () => {
  it('send equal figures every tick', async () => {
    // Both hubs run on one monotonic clock and one wall clock, and tick
    // only when the test fires their schedulers.
    const clock = { now: 10_000 };
    const startHub = async (): Promise<ManualHub> => {
      const scheduler = new ManualScheduler(() => clock.now);
      const hub = new Hub({
        redisUrl: redisServer().url,
        channel: CHANNEL,
        port: 0,
        logger: silentLogger,
        scheduler,
        now: () => clock.now,
        wallClock: () => WALL_CLOCK_START_MS + clock.now,
      });
      const { port } = await hub.listen();
      cleanups.push(() => hub.close());
      return { hub, scheduler, port };
    };
    const first = await startHub();
    const second = await startHub();
    await waitFor(() => first.hub.isReady() && second.hub.isReady(), { what: 'both hubs to subscribe' });

    // The flush interval is long, so messages go out only when the test
    // calls flush().
    const streams = new PacedStreams();
    const publishers: Publisher[] = ['chat-1', 'chat-2'].map((nodeId) => {
      const publisher = createPublisher({
        nodeId,
        redis: redisServer().url,
        channel: CHANNEL,
        flushIntervalMs: 60_000,
        logger: silentLogger,
        now: () => streams.clock.now,
      });
      cleanups.push(() => publisher.close());
      return publisher;
    });
    const [chat1, chat2] = publishers as [Publisher, Publisher];
    await waitFor(() => chat1.ready && chat2.ready, { what: 'the publishers to connect' });

    const dashboard = await connectDashboard(first.port);
    cleanups.push(() => void dashboard.socket.disconnect());

    // Streams come and go, so the mean, HIGH and LOW move over the run.
    const plan: Record<number, () => void> = {
      0: () => streams.begin(chat1, 'a', steady(40)),
      2: () => streams.begin(chat2, 'b', steady(80)),
      4: () => streams.begin(chat1, 'c', steady(10)),
      6: () => streams.end('b'),
      8: () => streams.begin(chat2, 'd', steady(120)),
      10: () => streams.end('a'),
    };
    const mismatches: string[] = [];
    const runTick = async (tick: number) => {
      plan[tick]?.();
      streams.step(1_000);
      clock.now += 1_000;
      const received = [first.hub.stats.ingest.messagesReceived, second.hub.stats.ingest.messagesReceived];
      const sentBefore = messagesSent(publishers);
      await Promise.all(publishers.map((publisher) => publisher.flush()));
      const sent = messagesSent(publishers) - sentBefore;
      await waitFor(
        () => first.hub.stats.ingest.messagesReceived >= received[0]! + sent && second.hub.stats.ingest.messagesReceived >= received[1]! + sent,
        { what: `both hubs to receive the messages of tick ${tick}` },
      );
      first.scheduler.fire();
      second.scheduler.fire();

      const differences = frameDifferences(first.hub.latestFrame(), second.hub.latestFrame());
      if (differences.length > 0) mismatches.push(`tick ${tick}: ${differences.join(', ')}`);
    };

    for (let tick = 0; tick < 14; tick++) await runTick(tick);

    expect(mismatches).toEqual([]);
    const last = first.hub.latestFrame();
    expect(last.high).toBeGreaterThan(last.low);
    expect(last.active).toBe(2);

    // The dashboard moves from the first hub to the second between ticks:
    // the frame on connect and the next tick's frame match what it left.
    await waitFor(() => dashboard.frames.at(-1)?.at === last.at, { what: 'the dashboard to receive the last frame of the first hub' });
    const lastSeenOnFirst = dashboard.frames.at(-1) as MeteringFrame;
    dashboard.socket.disconnect();
    const moved = await connectDashboard(second.port);
    cleanups.push(() => void moved.socket.disconnect());

    expect('tps' in moved.reply).toBe(true);
    expect(frameDifferences(moved.reply as MeteringFrame, lastSeenOnFirst)).toEqual([]);
    await runTick(14);
    await waitFor(() => moved.frames.length > 0, { what: 'the next frame from the second hub' });
    expect(frameDifferences(moved.frames[0] as MeteringFrame, first.hub.latestFrame())).toEqual([]);
    expect(mismatches).toEqual([]);
  });
});
