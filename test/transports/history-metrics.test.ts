import { History } from '@metering-hub/server';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();

describe('GET /history', () => {
  it('returns the frames of the hour, oldest first', async () => {
    const { base, publish, scheduler, clock } = await startHub();
    await publish('n1', [streamEntry('a', { out: 1, firstAt: 0, lastAt: 0 })]);
    for (let second = 1; second <= 5; second++) {
      clock.now += 1_000;
      await publish('n1', [streamEntry('a', { out: 1 + second * 10, firstAt: 0, lastAt: second * 1_000 })]);
      scheduler.fire();
    }

    const points = await (await fetch(`${base}/history`)).json() as { at: number; tps: number; total: number }[];

    // 41 / 4 s is 10.25, which rounds to even: 10.2.
    expect(points.map((point) => point.tps)).toEqual([0, 11, 10.5, 10.3, 10.2, 10.2]);
    expect(points.map((point) => point.at)).toEqual([0, 1, 2, 3, 4, 5].map((second) => 1_764_842_005_000 + second * 1_000));
  });

  it('keeps an hour and returns at most 720 points', () => {
    const history = new History();
    for (let second = 0; second < 3 * 3600; second++) {
      history.add(second * 1_000, { at: second * 1_000, tps: 2, total: second });
    }

    const points = history.downsampled();
    expect(history.size).toBe(3600);
    expect(points.length).toBeLessThanOrEqual(720);
    expect(points.length).toBeGreaterThanOrEqual(700);
    expect(points.at(-1)?.at).toBe((3 * 3600 - 1) * 1_000);
    expect(points[0]?.at).toBeGreaterThan(2 * 3600 * 1_000);
    expect(points.every((point) => point.tps === 2)).toBe(true);
    const totals = points.map((point) => point.total);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
  });
});

describe('GET /metrics', () => {
  it('exposes figures, counters and default metrics in the text format', async () => {
    const { base, publish, scheduler } = await startHub();
    await publish('n1', [streamEntry('a', { model: 'llama', out: 20, beganAt: 0, firstAt: 400, lastAt: 1_400 })]);
    await publish('n1', [streamEntry('b', { out: 1 })]).catch(() => {});
    await publish('n1', [{ id: '' }]);
    scheduler.fire();

    const response = await fetch(`${base}/metrics`);
    const text = await response.text();

    expect(response.headers.get('content-type')).toContain('text/plain');
    for (const line of [
      'metering_mean_stream_rate_tokens_per_second 20',
      'metering_total_rate_tokens_per_second 20',
      'metering_active_streams 1',
      'metering_group_total_rate_tokens_per_second{group="node",key="n1"} 20',
      'metering_group_total_rate_tokens_per_second{group="model",key="llama"} 20',
      'metering_messages_received_total 3',
      'metering_messages_rejected_total{reason="invalid_timing"} 1',
      'metering_messages_rejected_total{reason="invalid_schema"} 1',
      'metering_updates_received_total 1',
      'metering_time_to_first_token_seconds_bucket{le="0.5"} 1',
      'metering_time_to_first_token_seconds_count 1',
      'metering_redis_reconnects_total 0',
      'metering_clients{transport="ws"} 0',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('counts frames sent per transport', async () => {
    const { base, port, scheduler } = await startHub();
    const dashboard = await connectDashboard(port);
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => socket.once('message', resolve));

    scheduler.fire();
    await waitFor(() => dashboard.frames.length === 1, { what: 'the Socket.IO frame' });
    const text = await (await fetch(`${base}/metrics`)).text();

    expect(text).toContain('metering_frames_sent_total{transport="socket.io"} 1');
    expect(text).toContain('metering_frames_sent_total{transport="ws"} 1');
    expect(text).toContain('metering_clients{transport="socket.io"} 1');
    dashboard.socket.disconnect();
    socket.close();
  });
});

describe('slice rooms', () => {
  it('sends a node room and a model room their own figures', async () => {
    const { port, publish, scheduler } = await startHub();
    await publish('n1', [
      streamEntry('a', { model: 'llama', out: 20, firstAt: 0, lastAt: 1_000 }),
      streamEntry('b', { model: 'qwen', out: 40, firstAt: 0, lastAt: 1_000 }),
    ]);
    await publish('n2', [streamEntry('a', { model: 'llama', out: 60, firstAt: 0, lastAt: 1_000 })]);
    const nodeRoom = await connectDashboard(port, 'metering:node:n1');
    const modelRoom = await connectDashboard(port, 'metering:model:llama');
    const received = { node: [] as unknown[], model: [] as unknown[] };
    nodeRoom.socket.on('metering:slice', (slice) => received.node.push(slice));
    modelRoom.socket.on('metering:slice', (slice) => received.model.push(slice));

    scheduler.fire();
    await waitFor(() => received.node.length === 1 && received.model.length === 1, { what: 'one slice per room' });

    expect(received.node[0]).toMatchObject({ scope: 'node', key: 'n1', tps: 30, total: 60, active: 2 });
    expect(received.model[0]).toMatchObject({ scope: 'model', key: 'llama', tps: 40, total: 80, active: 2 });
    expect(nodeRoom.frames).toEqual([]);
    expect(modelRoom.frames).toEqual([]);
    nodeRoom.socket.disconnect();
    modelRoom.socket.disconnect();
  });

  it('acknowledges a slice subscription with the latest slice', async () => {
    const { port, publish, scheduler } = await startHub();
    await publish('n1', [streamEntry('a', { out: 20, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();

    const known = await connectDashboard(port, 'metering:node:n1');
    const unknown = await connectDashboard(port, 'metering:node:nobody');
    const invalid = await connectDashboard(port, 'metering:node:');

    expect(known.reply).toMatchObject({ scope: 'node', key: 'n1', tps: 20, active: 1 });
    expect(unknown.reply).toMatchObject({ scope: 'node', key: 'nobody', tps: 0, active: 0 });
    expect(invalid.reply).toMatchObject({ error: { code: 'UNKNOWN_ROOM' } });
    for (const client of [known, unknown, invalid]) client.socket.disconnect();
  });
});

describe('frame encoding', () => {
  it('encodes one JSON per tick for every transport and client', async () => {
    const { hub, port, base, scheduler } = await startHub();
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connectDashboard(port)));
    const webSockets = await Promise.all(Array.from({ length: 10 }, async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const messages: string[] = [];
      socket.on('message', (data) => messages.push(String(data)));
      await new Promise((resolve) => socket.once('open', resolve));
      return { socket, messages };
    }));
    const streams = Array.from({ length: 10 }, () => new AbortController());
    await Promise.all(streams.map((controller) => fetch(`${base}/events`, { signal: controller.signal })));
    await waitFor(() => hub.clientCounts().sse === 10, { what: 'ten event streams' });

    const stringify = vi.spyOn(JSON, 'stringify');
    const encodingsBefore = hub.stats.frameEncodings;
    let calls: unknown[][] = [];
    try {
      scheduler.fire();
      await waitFor(() => sockets.every((client) => client.frames.length === 1), { what: 'Socket.IO frames' });
      await waitFor(() => webSockets.every((client) => client.messages.length === 2), { what: 'WebSocket frames' });
      calls = [...stringify.mock.calls];
    } finally {
      stringify.mockRestore();
    }

    // One encoding by the hub for ws and SSE, one by Socket.IO's broadcast.
    const frameEncodings = calls.filter(([value]) => isFrame(value) || (Array.isArray(value) && value.some(isFrame)));
    expect(frameEncodings).toHaveLength(2);
    expect(hub.stats.frameEncodings - encodingsBefore).toBe(1);

    for (const client of sockets) client.socket.disconnect();
    for (const client of webSockets) client.socket.close();
    for (const controller of streams) controller.abort();
  });
});

function isFrame(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'tps' in value && 'busReady' in value;
}
