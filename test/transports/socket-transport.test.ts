import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();

// A full collection on demand, without starting the test process with
// --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('Socket.IO transport', () => {
  it('frees each opening request', async () => {
    const { hub, port, publish, scheduler } = await startHub();
    // The requests that open each connection, seen before Socket.IO's.
    const requests: WeakRef<IncomingMessage>[] = [];
    const httpServer = (hub as unknown as { httpServer: import('node:http').Server }).httpServer;
    const remember = (request: IncomingMessage) => requests.push(new WeakRef(request));
    httpServer.prependListener('upgrade', remember);
    httpServer.prependListener('request', remember);

    const direct = await Promise.all(Array.from({ length: 5 }, () => connectDashboard(port)));
    // Browsers start with HTTP long-polling and upgrade to a WebSocket.
    const upgraded = io(`http://127.0.0.1:${port}`, { reconnection: false, forceNew: true });
    await new Promise<void>((resolve) => upgraded.io.engine.once('upgrade', () => resolve()));
    expect(await upgraded.timeout(10_000).emitWithAck('subscribe', 'metering')).toHaveProperty('tps');
    expect(requests.length).toBeGreaterThanOrEqual(7);

    await waitFor(() => {
      collectGarbage();
      return requests.every((request) => request.deref() === undefined);
    }, { what: 'every opening request to be collected' });

    await publish('n1', [streamEntry('a', { out: 11, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();
    await waitFor(() => direct.every((dashboard) => dashboard.frames.length === 1), { what: 'a frame on every dashboard' });
    expect(hub.clientCounts()['socket.io']).toBe(6);

    const disconnected = [...direct.map((dashboard) => dashboard.socket), upgraded]
      .map((socket) => new Promise<void>((resolve) => socket.once('disconnect', () => resolve())));
    await hub.close();
    await Promise.all(disconnected);
  });

  it('sends every room of one client each tick', async () => {
    const { port, publish, scheduler } = await startHub();
    await publish('chat-1', [streamEntry('a', { model: 'llama', out: 20, firstAt: 0, lastAt: 1_000 })]);
    const client = await connectDashboard(port, 'metering');
    const slices: { scope: string; key: string }[] = [];
    client.socket.on('metering:slice', (slice) => slices.push(slice));
    await client.socket.emitWithAck('subscribe', 'metering:node:chat-1');
    await client.socket.emitWithAck('subscribe', 'metering:model:llama');

    for (let tick = 1; tick <= 3; tick++) {
      scheduler.fire();
      await waitFor(() => client.frames.length === tick && slices.length === 2 * tick, { what: `every event of tick ${tick}` });
    }
    expect(slices.filter((slice) => slice.scope === 'node')).toHaveLength(3);
    expect(slices.filter((slice) => slice.scope === 'model')).toHaveLength(3);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('metering_frames_sent_total{transport="socket.io"} 9');
    client.socket.disconnect();
  });
});

