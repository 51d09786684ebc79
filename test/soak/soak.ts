// `pnpm soak`: plays the whole conv hour, accelerated, through a Redis
// server into two hubs with ten dashboards, while it kills and restarts
// Redis twice and one hub once. It prints the frames each dashboard got,
// the gaps between them, the largest difference from a meter fed the same
// timeline in this process, and the hubs' peak memory.
//
//     pnpm soak [--speed 12] [--nodes 4]
import { parseArgs } from 'node:util';

import { Meter, streamKey } from '@metering-hub/server';
import { createPublisher } from '@metering-hub/shared';
import { pino } from 'pino';

import { DEFAULT_MODEL_MIX, FleetReplay, loadWorkload, runFleetRealtime } from '../../server/src/workload/index.js';
import { waitFor } from '../helpers/wait.js';
import { type DashboardKind, SoakDashboard } from './dashboards.js';
import { hubProcess, type ManagedProcess, redisProcess } from './processes.js';
import { summarize } from './summary.js';

const { values } = parseArgs({ options: { speed: { type: 'string' }, nodes: { type: 'string' } } });
const speed = Number(values.speed ?? 12);
const nodes = Number(values.nodes ?? 4);
if (!(speed > 0) || !Number.isInteger(nodes) || nodes < 1) {
  process.stderr.write('soak: --speed must be a positive number and --nodes a positive integer.\n');
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
const logger = pino({ level: 'silent' });

const redis = await redisProcess();
const redisUrl = `redis://127.0.0.1:${redis.port}`;
const hubs = [await hubProcess('hub-a', redisUrl, log), await hubProcess('hub-b', redisUrl, log)] as const;
await redis.start();
for (const hub of hubs) await hub.start();
log(`Redis on ${redis.port}, hubs on ${hubs[0].port} and ${hubs[1].port}`);

const kinds: DashboardKind[] = ['socket.io', 'socket.io', 'ws', 'ws', 'sse'];
const dashboards = hubs.flatMap((hub) => kinds.map((kind) => ({ hub: hub.name, dashboard: new SoakDashboard(kind, hub.port) })));
for (const { dashboard } of dashboards) dashboard.start();

// The offline meter gets each publisher call as it is made, on the
// publishers' own clock, with no Redis or hub in between.
const offline = new Meter();
const wallSeconds = () => (performance.timeOrigin + performance.now()) / 1000;
const workload = await loadWorkload({ seed: 1 });
const publishers = Array.from({ length: nodes }, (_, index) =>
  createPublisher({ nodeId: `node-${index + 1}`, redis: redisUrl, logger }));
await waitFor(() => publishers.every((publisher) => publisher.ready), { what: 'publishers to connect' });
const fleet = new FleetReplay({
  requests: workload.requests,
  publishers,
  speed,
  seed: 1,
  models: DEFAULT_MODEL_MIX,
  onEvent: (event) => {
    const node = `node-${event.publisherIndex + 1}`;
    const key = streamKey(node, event.id);
    if (event.type === 'begin') offline.begin(key, { node, model: event.model });
    if (event.type === 'token') offline.recordOutput(key, event.running, wallSeconds());
    if (event.type === 'reasoning') offline.recordReasoning(key, event.running, wallSeconds());
    if (event.type === 'end') offline.end(key);
  },
});

// Offline readings ten times a second, so each frame meets one taken
// within 50 ms of its tick (matched by wall-clock time, as the hubs run on
// this machine's clock).
const reference: { at: number; wallAt: number; tps: number; active: number }[] = [];
const referenceTicker = setInterval(() => {
  const { tps, active } = offline.snapshot();
  reference.push({ at: performance.now(), wallAt: Date.now(), tps, active });
}, 100);

const durationMs = (workload.requests.at(-1)?.arrivalMs ?? 0) / speed;
const faults: { name: string; startedAt: number; endedAt: number }[] = [];
const fault = async (name: string, down: () => Promise<unknown>, downMs: number, up: () => Promise<void>) => {
  const startedAt = performance.now();
  log(`Fault: ${name}`);
  await down();
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await up();
  faults.push({ name, startedAt, endedAt: performance.now() });
  log(`Fault over: ${name}`);
};
const schedule = [
  { at: 0.25, run: () => fault('Redis killed', () => redis.stop('SIGKILL'), 5_000, () => redis.start()) },
  { at: 0.5, run: () => fault('hub-a killed', () => hubs[0].stop('SIGKILL'), 3_000, () => hubs[0].start()) },
  { at: 0.75, run: () => fault('Redis killed again', () => redis.stop('SIGKILL'), 5_000, () => redis.start()) },
];

log(`Replaying ${workload.requests.length} requests (${workload.source}) at ${speed}x: about ${Math.round(durationMs / 1000)} s`);
const startedAt = performance.now();
const run = runFleetRealtime(fleet);
const progress = setInterval(() => {
  log(`replay ${Math.round(((performance.now() - startedAt) * speed) / 60_000)} min: ${fleet.started} streams started, ${fleet.inFlight} in flight`);
}, 30_000);
for (const step of schedule) {
  const due = startedAt + step.at * durationMs;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  await step.run();
}
await run.finished;
clearInterval(progress);
clearInterval(referenceTicker);

await Promise.all(publishers.map((publisher) => publisher.close()));
for (const { dashboard } of dashboards) dashboard.stop();
const peaks = [...hubs, redis].map((process: ManagedProcess) => ({ name: process.name, peakRss: process.peakRss() }));
for (const hub of hubs) await hub.stop('SIGTERM');
await redis.stop('SIGTERM');

process.stdout.write(`\n${summarize({ dashboards, reference, faults, peaks, startedAt })}\n`);
