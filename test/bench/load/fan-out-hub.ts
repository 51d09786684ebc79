// A hub for the fan-out and connection-memory scenarios, run as a child
// process with `--expose-gc` and an IPC channel:
//
//     node --expose-gc --import tsx test/bench/load/fan-out-hub.ts
//
// It runs the product's `Hub` on an in-process bus, with one publisher in
// the same process that keeps a stream active so the hub ticks every
// second. It times each transport's `broadcast` by wrapping the method on
// the running instance, so no product code changes. Requests arrive as IPC
// messages `{ id, type }` and each gets one reply `{ id, ... }`.
import { Hub } from '@metering-hub/server';
import { createPublisher, MemoryBus, type MeteringFrame } from '@metering-hub/shared';

import type { HubReport, HubRequest } from './fan-out-protocol.js';

type Broadcaster = { broadcast(frame: EncodedFrameLike): void };
interface EncodedFrameLike {
  readonly json: string;
  readonly webSocket: Buffer;
}
// Private members of Hub reached by name: the transports and the method
// that wraps each tick's frame, called once per frame build.
interface HubInternals {
  sockets: Broadcaster;
  ws: Broadcaster;
  sse: Broadcaster;
  encode(frame: MeteringFrame): EncodedFrameLike;
}

const bus = new MemoryBus();
const hub = new Hub({ bus, port: 0, host: '127.0.0.1', readingStore: false });
const internals = hub as unknown as HubInternals;

const sendMs: Record<'socket.io' | 'ws' | 'sse', number[]> = { 'socket.io': [], ws: [], sse: [] };
const busyMs: number[] = [];
let frameBuilds = 0;
let frameBytes = 0;

const encode = internals.encode.bind(hub);
internals.encode = (frame) => {
  frameBuilds += 1;
  return encode(frame);
};

for (const [name, transport] of [['socket.io', internals.sockets], ['ws', internals.ws], ['sse', internals.sse]] as const) {
  const broadcast = transport.broadcast.bind(transport);
  transport.broadcast = (frame) => {
    // The encodings are made lazily by whichever transport asks first.
    // Made here, before the clock starts, they stay out of every send time
    // and the hub's encoding counter still counts them once.
    frameBytes = frame.webSocket.length;
    const started = performance.now();
    broadcast(frame);
    sendMs[name].push(performance.now() - started);
  };
}

// Sends also finish work after `broadcast` returns (Socket.IO and stream
// writes queue callbacks); the time until the event loop is free again
// after the frame listeners ran is the whole cost of a tick's fan-out.
hub.onFrame(() => {
  const started = performance.now();
  setImmediate(() => busyMs.push(performance.now() - started));
});

const address = await hub.listen();

// One stream that gets a token every 100 ms keeps the meter active, so
// the hub ticks every second.
const publisher = createPublisher({ nodeId: 'bench-node', bus });
publisher.begin('bench-stream', { model: 'bench-model' });
let tokens = 0;
const feeder = setInterval(() => {
  tokens += 4;
  publisher.token('bench-stream', tokens);
}, 100);

let baseline = { ticks: 0, encodings: 0, builds: 0 };

function report(): HubReport {
  return {
    sendMs: { 'socket.io': [...sendMs['socket.io']], ws: [...sendMs.ws], sse: [...sendMs.sse] },
    busyMs: [...busyMs],
    ticks: hub.stats.ticks - baseline.ticks,
    frameEncodings: hub.stats.frameEncodings - baseline.encodings,
    frameBuilds: frameBuilds - baseline.builds,
    frameBytes,
    clients: hub.clientCounts(),
    heapUsedBytes: process.memoryUsage().heapUsed,
  };
}

function reset(): void {
  for (const samples of [sendMs['socket.io'], sendMs.ws, sendMs.sse, busyMs]) samples.length = 0;
  baseline = { ticks: hub.stats.ticks, encodings: hub.stats.frameEncodings, builds: frameBuilds };
}

async function shutdown(): Promise<void> {
  clearInterval(feeder);
  await publisher.close();
  await hub.close();
  process.exit(0);
}

process.on('message', (message: HubRequest) => {
  if (message.type === 'reset') reset();
  if (message.type === 'gc') {
    // Two passes, so objects freed by finalizers of the first are freed too.
    globalThis.gc?.();
    globalThis.gc?.();
  }
  if (message.type === 'stop') {
    void shutdown();
    return;
  }
  process.send?.({ id: message.id, gc: typeof globalThis.gc === 'function', ...report() });
});
process.on('disconnect', () => void shutdown());
process.send?.({ type: 'ready', port: address.port });
