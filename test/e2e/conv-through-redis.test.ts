// Ten minutes of the conv trace through the whole product: simulated chat
// nodes publish through a real Redis server, the hub meters and
// broadcasts, and a socket.io-client in the metering room receives the
// frames. Time is virtual, so the ten minutes run as fast as the pipeline
// allows, and the same token timeline is fed to an offline meter to give
// the frames the hub should have sent.
import { Hub, Meter, type Snapshot, streamKey } from '@metering-hub/server';
import { createPublisher, type Publisher } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { DEFAULT_MODEL_MIX, FleetReplay, loadWorkload } from '../../server/src/workload/index.js';
import { silentLogger } from '../helpers/logger.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';

const REPLAY_MS = 10 * 60_000;
const FLUSH_MS = 100;
const NODES = 4;
// Node clocks start at an epoch time, as a real node's would.
const NODE_EPOCH_MS = 1_700_000_000_000;

const redisServer = useRedisServer();

describe('conv trace end to end', () => {
  it('delivers the frames of the offline meter through Redis and Socket.IO', async () => {
    const workload = await loadWorkload({ seed: 1 });
    const requests = workload.requests.filter((request) => request.arrivalMs < REPLAY_MS);
    let simMs = 0;

    const scheduler = new ManualScheduler(() => simMs);
    const hub = new Hub({
      redisUrl: redisServer().url,
      port: 0,
      logger: silentLogger,
      scheduler,
      now: () => simMs,
      wallClock: () => NODE_EPOCH_MS + simMs,
    });
    const { port } = await hub.listen();
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe' });
    const dashboard = await connectDashboard(port);

    const publishers: Publisher[] = Array.from({ length: NODES }, (_, index) => createPublisher({
      nodeId: `node-${index + 1}`,
      redis: redisServer().url,
      flushIntervalMs: 3_600_000,
      now: () => NODE_EPOCH_MS + simMs,
      logger: silentLogger,
    }));
    await waitFor(() => publishers.every((publisher) => publisher.ready), { what: 'publishers to connect' });

    // The offline meter gets each publisher call as it is made, timed on
    // the same clocks, with no Redis, hub or ingest in between.
    const offline = new Meter({ now: () => simMs / 1000 });
    const fleet = new FleetReplay({
      requests,
      publishers,
      seed: 1,
      models: DEFAULT_MODEL_MIX,
      onEvent: (event) => {
        const node = `node-${event.publisherIndex + 1}`;
        const key = streamKey(node, event.id);
        const tokenAt = (NODE_EPOCH_MS + event.atMs) / 1000;
        if (event.type === 'begin') offline.begin(key, { node, model: event.model });
        if (event.type === 'token') offline.recordOutput(key, event.running, tokenAt);
        if (event.type === 'reasoning') offline.recordReasoning(key, event.running, tokenAt);
        if (event.type === 'end') offline.end(key);
      },
    });

    const expected: Snapshot[] = [];
    let sent = 0;
    while (simMs < REPLAY_MS) {
      simMs += FLUSH_MS;
      fleet.advanceTo(simMs);
      await Promise.all(publishers.map((publisher) => publisher.flush()));
      sent = publishers.reduce((sum, publisher) => sum + publisher.stats.messagesSent, 0);
      await waitFor(() => hub.stats.ingest.messagesReceived === sent, { what: `${sent} messages at the hub`, pollMs: 0 });

      if (scheduler.dueAt <= simMs) {
        scheduler.fire();
        expected.push(offline.snapshot());
        await waitFor(() => dashboard.frames.length === expected.length, { what: `frame ${expected.length}`, pollMs: 0 });
      }
    }

    const accepted = hub.stats.ingest.messagesAccepted;
    await Promise.all(publishers.map((publisher) => publisher.close()));
    dashboard.socket.disconnect();
    await hub.close();

    expect(fleet.started).toBe(requests.length);
    expect(requests.length).toBeGreaterThan(1_000);
    expect(accepted).toBe(sent);
    expect(expected.length).toBeGreaterThanOrEqual(590);
    expect(dashboard.frames).toHaveLength(expected.length);

    const fields = ['tps', 'high', 'low', 'total', 'outTps', 'reasoningTps'] as const;
    const worst = Object.fromEntries(fields.map((field) => [field, 0])) as Record<(typeof fields)[number], number>;
    const activeMismatches: string[] = [];
    dashboard.frames.forEach((frame, index) => {
      const want = expected[index] as Snapshot;
      for (const field of fields) worst[field] = Math.max(worst[field], Math.abs(frame[field] - want[field]));
      if (frame.active !== want.active) activeMismatches.push(`frame ${index}: ${frame.active} != ${want.active}`);
    });
    for (const field of fields) {
      expect(worst[field], field).toBeLessThanOrEqual(0.1 + 1e-9);
    }
    expect(activeMismatches).toEqual([]);
    console.info(`conv end to end: ${dashboard.frames.length} frames, ${requests.length} streams, largest differences ${JSON.stringify(worst)}`);
    // The replay must have exercised the meter, not compared zeros.
    expect(Math.max(...dashboard.frames.map((frame) => frame.active))).toBeGreaterThan(10);
    expect(Math.max(...dashboard.frames.map((frame) => frame.tps))).toBeGreaterThan(10);
    expect(Math.max(...dashboard.frames.map((frame) => frame.reasoningTps))).toBeGreaterThan(1);
    expect(dashboard.frames.at(-1)?.models.map((model) => model.key).sort()).toEqual(['deepseek-r1', 'llama-3.1-70b', 'qwen-2.5-32b']);
  });
});
