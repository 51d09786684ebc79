import { connect } from 'node:net';

import { Hub } from '@metering-hub/server';
import { MemoryBus } from '@metering-hub/shared';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { streamEntry } from '../helpers/hub-fixture.js';
import { silentLogger } from '../helpers/logger.js';
import { PausableProxy } from '../helpers/pausable-proxy.js';
import { waitFor } from '../helpers/wait.js';

// Short heartbeats so that dead peers go within the test; production uses 30 s.
const HEARTBEAT_MS = 500;

describe('slow, dead and abusive clients', () => {
  it('drops them while a healthy client gets every frame', async () => {
    const bus = new MemoryBus();
    const hub = new Hub({
      bus,
      port: 0,
      logger: silentLogger,
      wsHeartbeatMs: HEARTBEAT_MS,
      backpressure: { maxBufferedBytes: 8_192, maxBehindMs: 1_000 },
    });
    const { port } = await hub.listen();
    const opened: { close(): void }[] = [];
    try {
      // Sixty nodes keep frames a few kilobytes long and the ticker at 1 s.
      const firstAt = performance.timeOrigin + performance.now();
      const keepActive = setInterval(() => {
        const now = performance.timeOrigin + performance.now();
        for (let node = 1; node <= 60; node++) {
          void bus.publish('metering:updates', JSON.stringify({
            v: 1,
            node: `node-${node}`,
            streams: [streamEntry('s', { out: 1 + Math.round((now - firstAt) / 10), beganAt: firstAt, firstAt, lastAt: now })],
          }));
        }
      }, 200);
      opened.push({ close: () => clearInterval(keepActive) });

      const healthy = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      let healthyFrames = 0;
      healthy.on('message', () => (healthyFrames += 1));
      await new Promise((resolve) => healthy.once('open', resolve));
      opened.push(healthy);
      const ticksAtStart = hub.stats.ticks;
      const framesAtStart = healthyFrames;

      // A dashboard that stops reading.
      const stalled = await stalledWebSocket(port);
      opened.push({ close: () => stalled.destroy() });

      // Sockets that vanish without a close: their network path freezes.
      const proxy = await PausableProxy.start(port);
      opened.push({ close: () => void proxy.close() });
      const vanishing = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
      vanishing.on('error', () => {});
      await new Promise((resolve) => vanishing.once('open', resolve));
      await waitFor(() => hub.clientCounts().ws === 3, { what: 'three WebSocket clients' });
      proxy.pause();

      // A client that connects and disconnects in a tight loop, and one
      // that sends events the hub does not expect.
      for (let round = 0; round < 200; round++) {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('open', resolve));
        socket.send('{"hello":"hub"}');
        socket.terminate();
      }
      for (let round = 0; round < 50; round++) {
        const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.emit('publish', { v: 1, node: 'x', streams: [] });
        socket.emit('subscribe', 'metering:nothing');
        socket.close();
      }

      // The stalled and the vanished clients are dropped; the healthy one stays.
      await waitFor(() => hub.clientCounts().ws === 1, { what: 'the stalled and vanished clients to be dropped', deadlineMs: 30_000 });
      await waitFor(() => hub.stats.ticks - ticksAtStart >= 5, { what: 'five ticks', deadlineMs: 30_000 });
      await waitFor(() => hub.clientCounts()['socket.io'] === 0, { what: 'the Socket.IO loop to leave no client' });
      const ticks = hub.stats.ticks - ticksAtStart;
      await waitFor(() => healthyFrames - framesAtStart >= ticks, { what: 'the healthy client to have every frame' });

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(ticks).toBeGreaterThan(0);
      // A client that stops reading also stops answering pings, so it may
      // go as dead before its buffer marks it slow; two are dropped either way.
      const dropped = [...metrics.matchAll(/metering_clients_dropped_total\{transport="ws",reason="(?:dead|slow)"\} (\d+)/g)]
        .reduce((sum, match) => sum + Number(match[1]), 0);
      expect(dropped).toBe(2);
      expect(metrics).toContain('metering_client_events_ignored_total{transport="ws"} 200');
      expect(metrics).toContain('metering_client_events_ignored_total{transport="socket.io"} 50');
      expect(hub.stats.ingest.messagesReceived % 60).toBe(0);
    } finally {
      for (const resource of opened.reverse()) resource.close();
      await hub.close();
      await bus.close();
    }
  });
});

// Completes the WebSocket handshake on a raw socket, then stops reading.
async function stalledWebSocket(port: number) {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  socket.on('error', () => {});
  return socket;
}
