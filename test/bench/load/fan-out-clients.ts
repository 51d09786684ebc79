// Dashboard clients for the fan-out and connection-memory scenarios, in a
// child process apart from the server they load:
//
//     node --import tsx test/bench/load/fan-out-clients.ts KIND PORT COUNT
//
// KIND is socket.io, ws (the hub's /ws), sse or bare (a plain WebSocket at
// `/`). Latency is the receipt time minus the frame's `at`, both from
// Date.now() on the same machine, so it includes the time a frame waits in
// this process behind the frames of other clients.
import { get } from 'node:http';

import { WebSocket } from 'ws';

import type { ClientReport } from './fan-out-protocol.js';

const [kind, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (!['socket.io', 'ws', 'sse', 'bare'].includes(kind ?? '') || !Number.isInteger(port) || !Number.isInteger(count)) {
  process.stderr.write(`Invalid arguments ${JSON.stringify(process.argv.slice(2))}: expected KIND PORT COUNT with KIND socket.io, ws, sse or bare.\n`);
  process.exit(2);
}

// Connections opened at once; more would overflow the server's accept
// backlog and leave SYNs to be retried a second later.
const CONNECT_CONCURRENCY = 200;
// Latencies are counted in 1 ms buckets up to a minute.
const latencyCounts = new Uint32Array(60_001);
let frames = 0;
let recording = false;
let connected = 0;
let failed = 0;
const closers: (() => void)[] = [];

function record(at: number): void {
  if (!recording) return;
  frames += 1;
  latencyCounts[Math.min(latencyCounts.length - 1, Math.max(0, Date.now() - at))]! += 1;
}

// Reads `at` from the JSON text without parsing the whole frame, so the
// client side adds as little delay as it can to what it measures.
function atOf(text: string): number {
  const start = text.indexOf('"at":');
  return start < 0 ? Number.NaN : Number.parseInt(text.slice(start + 5, start + 25), 10);
}

function openWebSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    socket.on('open', () => resolve(true));
    socket.on('error', () => resolve(false));
    socket.on('message', (data) => record(atOf(String(data))));
    closers.push(() => socket.terminate());
  });
}

// Speaks Socket.IO's wire protocol (Engine.IO 4 over a WebSocket) with the
// least work, as the ws and SSE clients do. Here one process receives
// 10,000 copies of each frame, where each browser decodes only its own.
// socket.io-client would decode every copy before the next, a queue of the
// load process that grows with the clients and is not the hub's. The test
// suite runs the real client against the hub.
//
//   hub: 0{...}                     open              client: 40
//   hub: 40{"sid":...}              namespace joined  client: 420["subscribe","metering"]
//   hub: 430[{...}]                 acknowledgement
//   hub: 42["metering",{...}]       a frame
//   hub: 2                          ping              client: 3
function openSocketIo(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('42')) record(atOf(text));
      else if (text === '2') socket.send('3');
      else if (text.startsWith('40')) socket.send('420["subscribe","metering"]');
      else if (text.startsWith('0')) socket.send('40');
      else if (text.startsWith('430')) resolve(true);
      else if (text.startsWith('44')) resolve(false);
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    closers.push(() => socket.terminate());
  });
}

function openEventStream(): Promise<boolean> {
  return new Promise((resolve) => {
    // agent: false gives each stream a connection of its own, as each
    // browser tab's EventSource has.
    const request = get({ host: '127.0.0.1', port, path: '/events', agent: false }, (response) => {
      resolve(response.statusCode === 200);
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.includes('\nevent: metering\n')) record(atOf(event));
        }
      });
    });
    request.on('error', () => resolve(false));
    closers.push(() => request.destroy());
  });
}

function open(): Promise<boolean> {
  if (kind === 'socket.io') return openSocketIo();
  if (kind === 'sse') return openEventStream();
  return openWebSocket(kind === 'ws' ? '/ws' : '/');
}

function percentile(fraction: number): number {
  const rank = Math.ceil(fraction * frames);
  let seen = 0;
  for (let ms = 0; ms < latencyCounts.length; ms++) {
    seen += latencyCounts[ms]!;
    if (seen >= rank && rank > 0) return ms;
  }
  return Number.NaN;
}

function report(): ClientReport {
  let maxMs = Number.NaN;
  for (let ms = latencyCounts.length - 1; ms >= 0; ms--) {
    if (latencyCounts[ms]! > 0) {
      maxMs = ms;
      break;
    }
  }
  return { connected, failed, frames, p50Ms: percentile(0.5), p99Ms: percentile(0.99), maxMs };
}

process.on('message', (message: { id: number; type: 'record' | 'report' | 'stop' }) => {
  if (message.type === 'stop') {
    for (const close of closers) close();
    process.exit(0);
  }
  if (message.type === 'record') {
    latencyCounts.fill(0);
    frames = 0;
    recording = true;
  }
  if (message.type === 'report') recording = false;
  process.send?.({ id: message.id, ...report() });
});
process.on('disconnect', () => process.exit(0));

let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    next += 1;
    if (await open()) connected += 1;
    else failed += 1;
  }
}
await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, () => worker()));
process.send?.({ type: 'connected', connected, failed });
