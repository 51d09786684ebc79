import { request } from 'node:http';

import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();

interface ServerSentEvent {
  id?: string;
  event?: string;
  data?: string;
}

function openEventStream(base: string) {
  const controller = new AbortController();
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  const response = fetch(`${base}/events`, { signal: controller.signal }).then(async (res) => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: ServerSentEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            const [field, ...rest] = line.split(': ');
            if (field === 'id' || field === 'event' || field === 'data') event[field] = rest.join(': ');
          }
          if (event.data !== undefined) events.push(event);
        }
      }
    })();
    return res;
  });
  return { response, events, comments, close: () => controller.abort() };
}

describe('Server-Sent Events at /events', () => {
  it('sends headers that stop proxy buffering', async () => {
    const { base } = await startHub();
    const stream = openEventStream(base);
    const response = await stream.response;

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    stream.close();
  });

  it('answers HEAD without a stream', async () => {
    const { base, hub } = await startHub();
    const response = await fetch(`${base}/events`, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await response.text()).toBe('');
    expect(hub.clientCounts().sse).toBe(0);
  });

  it('sends the latest frame on connect and each tick with an id', async () => {
    const { hub, base, publish, scheduler } = await startHub();
    const stream = openEventStream(base);
    await waitFor(() => stream.events.length === 1, { what: 'the frame on connect' });

    await publish('n1', [streamEntry('a', { out: 11, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();
    await waitFor(() => stream.events.length === 2, { what: 'the tick frame' });

    expect(stream.events[0]?.event).toBe('metering');
    expect(stream.events[1]?.event).toBe('metering');
    expect(Number(stream.events[1]?.id)).toBeGreaterThan(Number(stream.events[0]?.id));
    expect(JSON.parse(stream.events[1]?.data ?? '')).toEqual(hub.latestFrame());
    stream.close();
  });

  it('sends the latest frame again on reconnect', async () => {
    const { hub, base, publish, scheduler } = await startHub();
    await publish('n1', [streamEntry('a', { out: 11, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();
    const first = openEventStream(base);
    await waitFor(() => first.events.length === 1, { what: 'the first connection' });
    first.close();

    const second = openEventStream(base);
    await waitFor(() => second.events.length === 1, { what: 'the reconnection' });

    expect(JSON.parse(second.events[0]?.data ?? '')).toEqual(hub.latestFrame());
    second.close();
  });

  it('writes a heartbeat comment while idle', async () => {
    const { base } = await startHub({ sseHeartbeatMs: 20 });
    const stream = openEventStream(base);

    await waitFor(() => stream.comments.length >= 2, { what: 'two heartbeats' });
    expect(stream.comments[0]).toBe(': keep-alive');
    stream.close();
  });

  it('skips frames for a client that stops reading, then drops it', async () => {
    const { hub, port, publish, scheduler } = await startHub({
      backpressure: { maxBufferedBytes: 16_384, maxBehindMs: 300 },
    });
    for (let node = 1; node <= 60; node++) {
      await publish(`node-${node}`, [streamEntry('s', { out: node, firstAt: 0, lastAt: 1_000 })]);
    }
    const stalled = request({ host: '127.0.0.1', port, path: '/events' });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      stalled.once('response', resolve);
      stalled.end();
    });
    response.pause();
    await waitFor(() => hub.clientCounts().sse === 1, { what: 'the stream to open' });

    let ticks = 0;
    while (hub.clientCounts().sse === 1 && ticks < 20_000) {
      scheduler.fire();
      ticks += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect(hub.clientCounts().sse).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/metering_frames_skipped_total\{transport="sse"\} [1-9]/);
    expect(metrics).toContain('metering_clients_dropped_total{transport="sse",reason="slow"} 1');
    response.destroy();
  });
});
