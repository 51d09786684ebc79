import { Hub } from '@metering-hub/server';
import { MemoryBus, type MeteringFrame, RedisBus } from '@metering-hub/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { useHubs } from '../helpers/hub-fixture.js';
import { silentLogger } from '../helpers/logger.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { SwitchableBus } from '../helpers/switchable-bus.js';
import { freePort } from '../helpers/redis-server.js';
import { connectDashboard, type Dashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const startHub = useHubs();

async function dashboard(port: number, room?: string): Promise<Dashboard> {
  const client = await connectDashboard(port, room);
  cleanups.push(() => void client.socket.disconnect());
  return client;
}

function update(node: string, streams: object[], extra: object = {}): string {
  return JSON.stringify({ v: 1, node, streams, ...extra });
}

function stream(id: string, out: number, firstAt: number | null, lastAt: number | null, ended = false) {
  return { id, beganAt: 0, firstAt, lastAt, out, reasoning: 0, ended };
}

describe('hub over Socket.IO', () => {
  it('acknowledges subscribe with the latest frame', async () => {
    const { hub, port } = await startHub();
    const client = await dashboard(port);

    expect(client.reply).toEqual(hub.latestFrame());
    expect(client.reply).toMatchObject({ tps: 0, high: 0, low: 0, active: 0, at: 1_764_842_005_000, busReady: true });
  });

  it('rejects an unknown room with an error code', async () => {
    const { port } = await startHub();
    const client = await dashboard(port, 'billing');

    expect(client.reply).toMatchObject({ error: { code: 'UNKNOWN_ROOM' } });
  });

  it('sends the room one metering event per tick', async () => {
    const { bus, port, scheduler, clock } = await startHub();
    const member = await dashboard(port);
    const outsider = await dashboard(port, 'nothing');

    await bus.publish('metering:updates', update('n1', [stream('s', 1, 1_000, 1_000)]));
    await waitFor(() => true, { what: 'delivery' });
    await new Promise((resolve) => setImmediate(resolve));
    clock.now += 1_000;
    await bus.publish('metering:updates', update('n1', [stream('s', 41, 1_000, 3_000)]));
    await new Promise((resolve) => setImmediate(resolve));
    scheduler.fire();
    await waitFor(() => member.frames.length === 1, { what: 'the first tick frame' });

    expect(member.frames[0]).toMatchObject({ tps: 20.5, high: 20.5, low: 20.5, active: 1, total: 20.5, at: 1_764_842_006_000 });
    expect(outsider.frames).toEqual([]);
  });

  it('asks the meter for the next tick interval', async () => {
    const { bus, scheduler } = await startHub();
    expect(scheduler.delays).toEqual([10_000]);

    // The first token after an idle spell brings the idle tick forward.
    await bus.publish('metering:updates', update('n1', [stream('s', 1, 1_000, 1_000)]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(scheduler.delays).toEqual([10_000, 1_000]);

    scheduler.fire();
    expect(scheduler.delays).toEqual([10_000, 1_000, 1_000]);
  });

  it('ticks at the idle interval once streams go quiet', async () => {
    const { bus, scheduler, clock } = await startHub();
    await bus.publish('metering:updates', update('n1', [stream('s', 1, 1_000, 1_000)]));
    await new Promise((resolve) => setImmediate(resolve));
    scheduler.fire();

    clock.now += 60_001;
    scheduler.fire();

    expect(scheduler.delays.at(-1)).toBe(10_000);
  });

  it('ticks at once on bus changes', async () => {
    const bus = new SwitchableBus();
    const scheduler = new ManualScheduler();
    const hub = new Hub({ bus, port: 0, logger: silentLogger, scheduler, readingStore: false });
    cleanups.push(() => hub.close());
    await hub.listen();
    expect(scheduler.delays).toEqual([10_000]);

    bus.setUp(false);
    expect(scheduler.delays).toEqual([10_000, 0]);
    scheduler.fire();
    expect(hub.latestFrame()).toMatchObject({ busReady: false, stale: true });

    bus.setUp(true);
    expect(scheduler.delays.at(-1)).toBe(0);
    scheduler.fire();
    expect(hub.latestFrame()).toMatchObject({ busReady: true, stale: false });
    expect(scheduler.delays.at(-1)).toBe(10_000);
  });

  it('encodes each frame once per tick for any number of clients', async () => {
    const { hub, port, scheduler } = await startHub();
    const clients = await Promise.all(Array.from({ length: 25 }, () => dashboard(port)));
    const stringify = vi.spyOn(JSON, 'stringify');

    try {
      for (let tick = 1; tick <= 3; tick++) {
        stringify.mockClear();
        scheduler.fire();
        await waitFor(() => clients.every((client) => client.frames.length === tick), { what: `tick ${tick} at every client` });
        const frameEncodings = stringify.mock.calls.filter(([value]) => containsFrame(value));
        expect(frameEncodings).toHaveLength(1);
      }
    } finally {
      stringify.mockRestore();
    }
    await fetch(`http://127.0.0.1:${port}/stats`);
    await fetch(`http://127.0.0.1:${port}/stats`);
    expect(hub.stats.frameEncodings).toBe(1);
  });
});

function containsFrame(value: unknown): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return candidates.some((item) => typeof item === 'object' && item !== null && 'tps' in item && 'at' in item);
}

describe('hub HTTP routes', () => {
  it('serves the latest frame on /stats', async () => {
    const { hub, port } = await startHub();
    const response = await fetch(`http://127.0.0.1:${port}/stats`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual(hub.latestFrame());
  });

  it('reports health and readiness', async () => {
    const { port } = await startHub();

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);

    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, bus: 'subscribed' });
  });

  it('is not ready while Redis is unreachable', async () => {
    const nothingThere = await freePort();
    const hub = new Hub({ redisUrl: `redis://127.0.0.1:${nothingThere}`, port: 0, logger: silentLogger });
    cleanups.push(() => hub.close());
    const { port } = await hub.listen();

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    const stats = await fetch(`http://127.0.0.1:${port}/stats`);

    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, bus: 'not subscribed' });
    expect(stats.status).toBe(200);
  });

  it('answers unknown paths and methods with error codes', async () => {
    const { port } = await startHub();

    const missing = await fetch(`http://127.0.0.1:${port}/nothing`);
    const post = await fetch(`http://127.0.0.1:${port}/stats`, { method: 'POST' });
    const proto = await fetch(`http://127.0.0.1:${port}/__proto__`);

    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(post.status).toBe(405);
    expect(proto.status).toBe(404);
  });
});

describe('hub ingest', () => {
  it('drops bad messages, counts and logs each kind once, keeps serving', async () => {
    const { captureLogger } = await import('../helpers/logger.js');
    const { logger, lines } = captureLogger();
    const bus = new MemoryBus();
    const scheduler = new ManualScheduler();
    const clock = { now: 5_000 };
    const hub = new Hub({ bus, port: 0, logger, scheduler, now: () => clock.now, maxMessageBytes: 4_096 });
    const { port } = await hub.listen();
    cleanups.push(async () => {
      await hub.close();
      await bus.close();
    });

    const bad = [
      'not json',
      '{"v":1,',
      '"a string"',
      update('n', [{ ...stream('s', 1, 1, 2), out: 'NaN' }]),
      update('n', [{ ...stream('s', 1, 1, 2), out: -3 }]),
      update('n', [{ ...stream('s', 1, 1, 2), out: 2.5 }]),
      update('n', [{ ...stream('x'.repeat(300), 1, 1, 2) }]),
      update('n', [stream('s', 1, 9, 2)]),
      `{"pad":"${'x'.repeat(10_000)}"}`,
    ];
    for (let round = 0; round < 3; round++) {
      for (const message of bad) await bus.publish('metering:updates', message);
    }
    await bus.publish('metering:updates', update('good', [stream('s', 1, 1_000, 1_000)]));
    await bus.publish('metering:updates', update('good', [stream('s', 31, 1_000, 2_000)]));
    await waitFor(() => hub.stats.ingest.messagesReceived === bad.length * 3 + 2, { what: 'every message' });
    scheduler.fire();

    expect(hub.stats.ingest.rejected).toEqual({
      too_large: 3,
      invalid_json: 6,
      invalid_schema: 15,
      invalid_timing: 3,
      duplicate_stream: 0,
    });
    const rejections = lines().filter((line) => line.msg === 'Update message rejected');
    expect(rejections.map((line) => line.reason).sort()).toEqual(['invalid_json', 'invalid_schema', 'invalid_timing', 'too_large']);
    expect(hub.latestFrame()).toMatchObject({ tps: 31, active: 1 });
    const stats = await fetch(`http://127.0.0.1:${port}/stats`);
    expect(stats.status).toBe(200);
  });

  it('takes running totals: lost, repeated and late messages do no harm', async () => {
    const { bus, hub, scheduler } = await startHub();
    const messages = [
      update('n', [stream('s', 1, 1_000, 1_000)]),
      // Two updates lost here; the next carries the whole state.
      update('n', [stream('s', 21, 1_000, 2_000)]),
      update('n', [stream('s', 21, 1_000, 2_000)]),
      update('n', [stream('s', 11, 1_000, 1_500)]),
    ];
    for (const message of messages) await bus.publish('metering:updates', message);
    await waitFor(() => hub.stats.ingest.messagesReceived === 4, { what: 'four messages' });
    scheduler.fire();

    expect(hub.latestFrame()).toMatchObject({ tps: 21, active: 1 });
    expect(hub.stats.ingest.ignored.count_regressed).toBe(1);
  });

  it('keys streams by node and id together', async () => {
    const { bus, hub, scheduler } = await startHub();
    await bus.publish('metering:updates', update('a', [stream('s', 10, 0, 1_000)]));
    await bus.publish('metering:updates', update('b', [stream('s', 30, 0, 1_000)]));
    await bus.publish('metering:updates', update('__proto__', [stream('constructor', 50, 0, 1_000)]));
    await waitFor(() => hub.stats.ingest.messagesReceived === 3, { what: 'three messages' });
    scheduler.fire();

    expect(hub.latestFrame()).toMatchObject({ tps: 30, active: 3 });
  });

  it('adopts streams in flight and ends a node on bye', async () => {
    const { bus, hub, scheduler } = await startHub();
    await bus.publish('metering:updates', update('n', [stream('a', 50, 0, 2_000), stream('b', 20, 0, 1_000)]));
    await bus.publish('metering:updates', update('m', [stream('c', 10, 0, 1_000)]));
    await waitFor(() => hub.stats.ingest.messagesReceived === 2, { what: 'two messages' });
    scheduler.fire();
    const before: MeteringFrame = hub.latestFrame();

    await bus.publish('metering:updates', update('n', [], { bye: true }));
    await waitFor(() => hub.stats.ingest.messagesReceived === 3, { what: 'the bye' });
    scheduler.fire();

    expect(hub.stats.ingest.streamsAdopted).toBe(3);
    expect(before).toMatchObject({ tps: 18.3, active: 3 });
    expect(hub.latestFrame()).toMatchObject({ tps: 10, active: 1 });
  });
});

describe('hub against hostile clients', () => {
  it('answers a path that is not a URL with 404', async () => {
    const { port } = await startHub();
    const { request } = await import('node:http');

    const status = await new Promise<number | undefined>((resolve, reject) => {
      const sent = request({ host: '127.0.0.1', port, path: '//' }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      sent.once('error', reject);
      sent.end();
    });

    expect(status).toBe(404);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('survives a subscribe with an object that cannot be printed', async () => {
    const { port } = await startHub();
    const client = await dashboard(port, 'metering');
    const hostile = { toString: 'not a function' };

    const reply = await client.socket.timeout(5_000).emitWithAck('subscribe', hostile as unknown as string);

    expect(reply).toMatchObject({ error: { code: 'UNKNOWN_ROOM', message: expect.stringContaining('of type object') } });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('ignores an update implying an impossible rate', async () => {
    const { bus, hub, scheduler } = await startHub();
    await bus.publish('metering:updates', update('n', [{ ...stream('a', 5_000_000, 0, 1e-300) }]));
    await bus.publish('metering:updates', update('n', [{ ...stream('b', 9e15, 0, 1) }]));
    await bus.publish('metering:updates', update('n', [stream('c', 41, 0, 1_000)]));
    await waitFor(() => hub.stats.ingest.messagesReceived === 3, { what: 'three messages' });
    scheduler.fire();

    expect(hub.stats.ingest.ignored.implausible_rate).toBe(2);
    expect(hub.latestFrame()).toMatchObject({ tps: 41, high: 41, active: 1 });
  });

  it('closes a server that close() met while listening', async () => {
    const bus = new MemoryBus();
    const hub = new Hub({ bus, port: 0, logger: silentLogger });
    const listening = hub.listen();
    const closing = hub.close();
    const { port } = await listening;
    await closing;

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await bus.close();
  });
});
