import { connect } from 'node:net';

import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();

function openWebSocket(url: string, options: { autoPong?: boolean } = {}) {
  const socket = new WebSocket(url, options);
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return { socket, messages, opened, closed };
}

describe('plain WebSocket at /ws', () => {
  it('sends the latest frame on connect and one per tick', async () => {
    const { hub, port, publish, scheduler } = await startHub();
    const client = openWebSocket(`ws://127.0.0.1:${port}/ws`);
    await client.opened;
    await waitFor(() => client.messages.length === 1, { what: 'the frame on connect' });

    await publish('n1', [streamEntry('a', { out: 11, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();
    await waitFor(() => client.messages.length === 2, { what: 'the tick frame' });

    expect(client.messages[0]?.type).toBe('metering');
    expect(client.messages[1]).toEqual({ type: 'metering', ...hub.latestFrame() });
    client.socket.close();
  });

  it('drops a peer that stops answering pings', async () => {
    const { hub, port } = await startHub({ wsHeartbeatMs: 50 });
    const client = openWebSocket(`ws://127.0.0.1:${port}/ws`, { autoPong: false });
    await client.opened;
    expect(hub.clientCounts().ws).toBe(1);

    await waitFor(() => hub.clientCounts().ws === 0, { what: 'the dead peer to be dropped' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('metering_clients_dropped_total{transport="ws",reason="dead"} 1');
  });

  it('refuses upgrades on other paths', async () => {
    const { port } = await startHub();
    const client = openWebSocket(`ws://127.0.0.1:${port}/elsewhere`);
    await expect(client.opened).rejects.toThrow(/404/);
  });

  it('skips frames for a client that stops reading, then drops it', async () => {
    const { hub, port, publish, scheduler } = await startHub({
      backpressure: { maxBufferedBytes: 16_384, maxBehindMs: 300 },
    });
    // Sixty nodes make a frame of a few kilobytes.
    for (let node = 1; node <= 60; node++) {
      await publish(`node-${node}`, [streamEntry('s', { out: node, firstAt: 0, lastAt: 1_000 })]);
    }
    const healthy = openWebSocket(`ws://127.0.0.1:${port}/ws`);
    await healthy.opened;
    const stalled = await openStalledWebSocket(port);

    let ticks = 0;
    while (hub.clientCounts().ws === 2 && ticks < 20_000) {
      scheduler.fire();
      ticks += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => healthy.messages.length === ticks + 1, { what: 'every frame at the healthy client' });

    expect(hub.clientCounts().ws).toBe(1);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/metering_frames_skipped_total\{transport="ws"\} [1-9]/);
    expect(metrics).toContain('metering_clients_dropped_total{transport="ws",reason="slow"} 1');
    stalled.destroy();
    healthy.socket.close();
  });
});

// Completes the WebSocket handshake on a raw socket, then stops reading.
async function openStalledWebSocket(port: number) {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write([
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n'));
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}
