// `pnpm soak:clients`: runs a hub process for ten minutes (or --minutes N)
// under slow, dead and abusive dashboards and prints its memory over time,
// beside the frames a healthy dashboard got against the ticks the hub sent.
//
//     pnpm soak:clients [--minutes 10]
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

import { createPublisher } from '@metering-hub/shared';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

import { PausableProxy } from '../helpers/pausable-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { hubProcess, redisProcess } from './processes.js';

const { values } = parseArgs({ options: { minutes: { type: 'string' } } });
const minutes = Number(values.minutes ?? 10);
if (!(minutes > 0)) {
  process.stderr.write('soak:clients: --minutes must be a positive number.\n');
  process.exit(2);
}
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);

const redis = await redisProcess();
await redis.start();
const redisUrl = `redis://127.0.0.1:${redis.port}`;
const hub = await hubProcess('hub', redisUrl, log);
await hub.start();
const base = `http://127.0.0.1:${hub.port}`;

// Four nodes with steady streams keep the hub ticking at 1 s.
const publisher = createPublisher({ nodeId: 'node-1', redis: redisUrl, logger: pino({ level: 'silent' }) });
await waitFor(() => publisher.ready, { what: 'the publisher to connect' });
let count = 0;
const streams = setInterval(() => {
  count += 4;
  for (let stream = 0; stream < 20; stream++) publisher.token(`s-${stream}`, count);
}, 100);

const healthy = new WebSocket(`ws://127.0.0.1:${hub.port}/ws`);
let healthyFrames = 0;
healthy.on('message', () => (healthyFrames += 1));
await new Promise((resolve) => healthy.once('open', resolve));

const abusers = startAbusers(hub.port);
const samples: string[] = ['minute  rss MiB  heap MiB  clients  frames at healthy  hub frames sent (ws)'];
const sample = async (minute: number) => {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? Number.NaN);
  const wsSent = Number(/metering_frames_sent_total\{transport="ws"\} (\S+)/.exec(metrics)?.[1] ?? Number.NaN);
  const clients = [...metrics.matchAll(/^metering_clients\{transport="[^"]+"\} (\S+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  samples.push([
    String(minute).padStart(6),
    (read('process_resident_memory_bytes') / 1_048_576).toFixed(0).padStart(8),
    (read('nodejs_heap_size_used_bytes') / 1_048_576).toFixed(1).padStart(9),
    String(clients).padStart(8),
    String(healthyFrames).padStart(18),
    String(wsSent).padStart(21),
  ].join('  '));
  log(samples.at(-1) ?? '');
};

await sample(0);
for (let minute = 1; minute <= minutes; minute++) {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  await sample(minute);
}

clearInterval(streams);
await abusers.stop();
healthy.close();
await publisher.close();
const metrics = await (await fetch(`${base}/metrics`)).text();
const dropped = [...metrics.matchAll(/^metering_clients_dropped_total\{[^}]*\} \S+$/gm)].map((match) => match[0]);
const ignored = [...metrics.matchAll(/^metering_client_events_ignored_total\{[^}]*\} \S+$/gm)].map((match) => match[0]);
await hub.stop('SIGTERM');
await redis.stop('SIGTERM');
process.stdout.write(`\n${samples.join('\n')}\n\n${[...dropped, ...ignored].join('\n')}\n`);
process.stdout.write(`connections opened by the abusers: ${abusers.connections()}\n`);

// Every few seconds: a dashboard that stops reading, one whose network path
// freezes, ten connect-and-drop clients and events the hub does not expect.
function startAbusers(port: number) {
  const held: Socket[] = [];
  let connections = 0;
  let stopped = false;

  const round = async () => {
    const stalled = connect(port, '127.0.0.1', () => {
      stalled.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      stalled.pause();
    });
    stalled.on('error', () => {});
    held.push(stalled);

    const proxy = await PausableProxy.start(port);
    const vanishing = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    vanishing.on('error', () => {});
    vanishing.once('open', () => proxy.pause());
    setTimeout(() => void proxy.close(), 90_000).unref();

    for (let i = 0; i < 10; i++) {
      const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
      socket.on('connect', () => {
        socket.emit('publish', { junk: i });
        socket.emit('subscribe', 'metering');
        socket.close();
      });
      socket.on('connect_error', () => socket.close());
    }
    connections += 12;
    // The hub drops stalled sockets itself; the oldest are let go here too.
    while (held.length > 20) held.shift()?.destroy();
  };

  const timer = setInterval(() => {
    if (!stopped) void round();
  }, 3_000);
  return {
    connections: () => connections,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const socket of held) socket.destroy();
    },
  };
}
