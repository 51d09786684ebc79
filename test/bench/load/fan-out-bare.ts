// The baseline of the fan-out scenario: a bare `ws` server that sends one
// pre-encoded buffer per second to every client, in a child process of its
// own. Argument: the frame size in bytes, so its frame matches the hub's.
//
//     node --import tsx test/bench/load/fan-out-bare.ts 420
import { WebSocketServer } from 'ws';

import type { BareReport } from './fan-out-protocol.js';

const frameBytes = Number(process.argv[2] ?? 400);
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const sendMs: number[] = [];
const busyMs: number[] = [];

// Each tick encodes one frame, carrying `at` as the hub's does and padded
// to the hub's size, then times only the loop that sends it.
const ticker = setInterval(() => {
  const head = `{"type":"metering","at":${Date.now()},"pad":"`;
  const frame = Buffer.from(`${head}${'x'.repeat(Math.max(0, frameBytes - head.length - 2))}"}`);
  const started = performance.now();
  for (const client of server.clients) {
    if (client.readyState === client.OPEN) client.send(frame, { binary: false });
  }
  const ended = performance.now();
  sendMs.push(ended - started);
  setImmediate(() => busyMs.push(performance.now() - ended));
}, 1_000);

server.on('listening', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`Expected a TCP address, got ${address}.`);
  process.send?.({ type: 'ready', port: address.port });
});

process.on('message', (message: { id: number; type: 'report' | 'reset' | 'stop' }) => {
  if (message.type === 'stop') {
    clearInterval(ticker);
    for (const client of server.clients) client.terminate();
    server.close(() => process.exit(0));
    return;
  }
  if (message.type === 'reset') {
    sendMs.length = 0;
    busyMs.length = 0;
  }
  const report: BareReport = { sendMs: [...sendMs], busyMs: [...busyMs], clients: server.clients.size };
  process.send?.({ id: message.id, ...report });
});
process.on('disconnect', () => process.exit(0));
