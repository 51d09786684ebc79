import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { Meter } from '@metering-hub/server';

import { waitFor } from '../../helpers/wait.js';
import { hubProcess, type ManagedProcess, redisProcess } from '../../soak/processes.js';
import { loopDelayMs, round, scrapeMetrics, sleep } from '../measure.js';
import { checkTarget, type Figure, type Scenario, type TargetCheck } from '../scenario.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const generatorScript = 'test/bench/load/fleet-scale-nodes.ts';

const fleet = { generators: 2, nodesPerGenerator: 500, streamsPerNode: 50, flushMs: 100 };
const streamsInFlight = fleet.generators * fleet.nodesPerGenerator * fleet.streamsPerNode;
const tickSizes = [1_000, 10_000, 50_000];

/**
 * 1,000 simulated chat nodes in separate processes, each flushing its 50
 * streams every 100 ms through a private Redis into one hub process, so the
 * hub meters 50,000 streams in flight. It measures the hub's CPU and
 * event-loop lag over a steady window, and the meter's snapshot cost per
 * tick at 1k, 10k and 50k streams in this process.
 *
 * Environment:
 * - FLEET_SCALE_MODE=publisher: each simulated node runs a real
 *   `createPublisher` instead of the default raw loop, which builds each
 *   node's message by hand and publishes it with ioredis.
 * - HUB_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/dir': the hub writes a
 *   CPU profile there when it exits (see `hubProcess`).
 */
export const fleetScale: Scenario = {
  name: 'fleet-scale',
  title: 'Fleet scale',
  async run({ smoke, log }) {
    const windowSeconds = smoke ? 10 : 30;
    // NOTE: the raw loop is the default because on a 2-core machine two
    // processes of 500 publishers each sent about 12% of the offered messages.
    const mode = process.env.FLEET_SCALE_MODE === 'publisher' ? 'publisher' : 'raw';

    const load = await measureHubUnderLoad({ windowSeconds, mode, log });
    // The tick cost is measured after the processes have stopped, so they
    // do not compete with it for the CPU.
    const ticks = measureTickCosts(smoke);

    const offeredMessages = 1000 / fleet.flushMs * fleet.generators * fleet.nodesPerGenerator;
    const figures: Figure[] = [
      { name: `simulated nodes in ${fleet.generators} processes, ${mode === 'publisher' ? 'one createPublisher each' : 'raw ioredis loop'}`, value: fleet.generators * fleet.nodesPerGenerator, unit: 'nodes' },
      { name: 'steady window', value: windowSeconds, unit: 's' },
      { name: 'messages received by the hub', value: round(load.messagesPerSecond, 0), unit: `msg/s (offered: ${offeredMessages})` },
      { name: 'stream updates applied by the hub', value: round(load.updatesPerSecond, 0), unit: `updates/s (offered: ${1000 / fleet.flushMs * streamsInFlight})` },
      { name: 'messages rejected, updates ignored, streams evicted in the window', value: load.rejectedOrIgnored, unit: '' },
      { name: 'hub Redis reconnects in the window', value: load.reconnects, unit: '' },
      { name: 'hub /stats active, minimum in the window', value: load.activeMin, unit: 'streams' },
      { name: 'hub /stats active, maximum in the window', value: load.activeMax, unit: 'streams' },
      { name: 'hub CPU', value: round(load.cpuCores, 3), unit: 'cores' },
      { name: 'hub event-loop lag p99 in the window', value: round(load.lagP99Ms, 2), unit: 'ms' },
      { name: 'hub event-loop lag max in the window', value: round(load.lagMaxMs, 2), unit: 'ms' },
      ...(Number.isFinite(load.peakRssBytes) ? [{ name: 'hub peak RSS', value: round(load.peakRssBytes / 2 ** 20, 0), unit: 'MiB' }] : []),
      ...load.generatorFigures,
    ];
    for (const tick of ticks) {
      figures.push({ name: `snapshot with ${tick.streams.toLocaleString('en-US')} streams`, value: round(tick.msPerTick, 3), unit: 'ms per tick' });
      figures.push({ name: `snapshot per stream at ${tick.streams.toLocaleString('en-US')}`, value: round(tick.nsPerStream, 1), unit: 'ns' });
    }

    const small = ticks[0]!;
    const large = ticks[ticks.length - 1]!;
    const targets: TargetCheck[] = [
      // The CPU and lag figures speak for the full fleet only when the hub
      // received nearly all the offered messages.
      checkTarget('hub messages received / offered', round(load.messagesPerSecond / offeredMessages, 3), '>=', 0.9),
      checkTarget('hub CPU', round(load.cpuCores, 3), '<', 0.5, 'cores'),
      checkTarget('hub event-loop lag p99', round(load.lagP99Ms, 2), '<', 20, 'ms'),
      checkTarget('snapshot cost per stream, 50k / 1k streams', round(large.nsPerStream / small.nsPerStream, 2), '<=', 1.5),
      // Streams outlive their end only when the hub missed the message that
      // ended them, such as while Redis had dropped it as a slow subscriber.
      checkTarget('hub /stats active minimum / streams in flight', round(load.activeMin / streamsInFlight, 3), '>=', 0.95),
      checkTarget('hub /stats active maximum / streams in flight', round(load.activeMax / streamsInFlight, 3), '<=', 1.05),
    ];
    return { figures, targets };
  },
};

interface LoadResult {
  messagesPerSecond: number;
  updatesPerSecond: number;
  rejectedOrIgnored: number;
  reconnects: number;
  activeMin: number;
  activeMax: number;
  cpuCores: number;
  lagP99Ms: number;
  lagMaxMs: number;
  peakRssBytes: number;
  generatorFigures: Figure[];
}

async function measureHubUnderLoad(options: {
  windowSeconds: number;
  mode: 'publisher' | 'raw';
  log: (line: string) => void;
}): Promise<LoadResult> {
  const { windowSeconds, mode, log } = options;
  const redis = await redisProcess();
  let hub: ManagedProcess | undefined;
  const generators: Generator[] = [];
  try {
    await redis.start();
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    hub = await hubProcess('hub', redisUrl, log);
    await hub.start();
    const hubUrl = `http://127.0.0.1:${hub.port}`;

    for (let g = 0; g < fleet.generators; g++) {
      generators.push(startGenerator(g, redisUrl, mode, log));
    }
    await Promise.all(generators.map((generator) => generator.ready));
    log(`${fleet.generators} generators (${mode}) running; waiting for ${streamsInFlight.toLocaleString('en-US')} streams`);

    await waitFor(async () => (await activeStreams(hubUrl)) >= 0.95 * streamsInFlight, {
      what: `the hub to hold 95% of ${streamsInFlight} streams`,
      deadlineMs: 60_000,
      pollMs: 500,
    });
    // A few seconds more, so the stream turnover has settled as well.
    await sleep(5_000);

    // prom-client (15.x) resets its event-loop delay histogram on every
    // collection, so the lag read at the end covers only the window.
    const before = (await scrapeMetrics(hubUrl)).metrics;
    const startedAt = performance.now();
    let activeMin = Number.POSITIVE_INFINITY;
    let activeMax = 0;
    while (performance.now() - startedAt < windowSeconds * 1000) {
      await sleep(1_000);
      const active = await activeStreams(hubUrl);
      activeMin = Math.min(activeMin, active);
      activeMax = Math.max(activeMax, active);
    }
    const after = (await scrapeMetrics(hubUrl)).metrics;
    const seconds = (performance.now() - startedAt) / 1000;
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    log(`window of ${seconds.toFixed(1)} s measured; stopping`);

    const peakRssBytes = Math.max(...hub.peakRss());
    const reports = await Promise.all(generators.map((generator) => generator.stop()));
    const generatorFigures = reports.map((report, g): Figure => ({
      name: `generator ${g + 1} event-loop delay p99 / max`,
      value: round(report.loopDelayP99Ms, 1),
      unit: `/ ${round(report.loopDelayMaxMs, 1)} ms (CPU ${round(report.cpuSeconds / report.seconds, 2)} cores, ${report.messagesSent} messages, ${report.streamsEnded} streams ended)`,
    }));

    return {
      messagesPerSecond: delta('metering_messages_received_total') / seconds,
      updatesPerSecond: delta('metering_updates_received_total') / seconds,
      rejectedOrIgnored: delta('metering_messages_rejected_total') + delta('metering_updates_ignored_total') + delta('metering_streams_evicted_total'),
      reconnects: delta('metering_redis_reconnects_total'),
      activeMin,
      activeMax,
      cpuCores: delta('process_cpu_seconds_total') / seconds,
      lagP99Ms: loopDelayMs(after.get('nodejs_eventloop_lag_p99_seconds')),
      lagMaxMs: loopDelayMs(after.get('nodejs_eventloop_lag_max_seconds')),
      peakRssBytes,
      generatorFigures,
    };
  } finally {
    await Promise.all(generators.map((generator) => generator.kill()));
    await hub?.stop();
    await redis.stop();
  }
}

interface GeneratorReport {
  seconds: number;
  cpuSeconds: number;
  messagesSent: number;
  streamsEnded: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

interface Generator {
  ready: Promise<void>;
  /** Sends SIGTERM and returns the counters the generator prints on exit. */
  stop(): Promise<GeneratorReport>;
  /** Ends the process if it still runs; for cleanup after a failure. */
  kill(): Promise<void>;
}

function startGenerator(index: number, redisUrl: string, mode: string, log: (line: string) => void): Generator {
  const child = spawn(process.execPath, [
    '--import', 'tsx', generatorScript,
    '--redis', redisUrl,
    '--first-node', String(index * fleet.nodesPerGenerator),
    '--nodes', String(fleet.nodesPerGenerator),
    '--streams-per-node', String(fleet.streamsPerNode),
    '--flush-ms', String(fleet.flushMs),
    '--mode', mode,
  ], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const name = `generator ${index + 1}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') log(`${name}: ${line}`);
  });

  const lines = createInterface({ input: child.stdout! });
  let report: GeneratorReport | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before it was ready.`)));
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as { ready?: boolean } & GeneratorReport;
      if (parsed.ready) resolve();
      else report = parsed;
    });
  });
  // A failure after start is reported by stop(); this keeps it from being unhandled.
  ready.catch(() => undefined);

  return {
    ready,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      if (!report) throw new Error(`${name} exited with code ${child.exitCode} without printing its counters.`);
      return report;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface TickCost {
  streams: number;
  msPerTick: number;
  nsPerStream: number;
}

// Times Meter.snapshot() over many ticks at each size. Rounds interleave
// the sizes and the best of each is kept, so JIT warm-up and a noisy
// neighbour do not fall on one size only.
function measureTickCosts(smoke: boolean): TickCost[] {
  const streamTicksPerRound = smoke ? 2_000_000 : 10_000_000;
  const best = new Map<number, number>(tickSizes.map((size) => [size, Number.POSITIVE_INFINITY]));
  for (let round = 0; round < 5; round++) {
    for (const size of tickSizes) {
      const ticks = Math.max(20, Math.round(streamTicksPerRound / size));
      best.set(size, Math.min(best.get(size)!, timeSnapshots(size, ticks)));
    }
  }
  return tickSizes.map((streams) => {
    const msPerTick = best.get(streams)!;
    return { streams, msPerTick, nsPerStream: msPerTick * 1e6 / streams };
  });
}

// Returns the mean ms per snapshot of a meter holding `size` rated streams
// labeled as the fleet labels them: 50 streams per node, three models.
function timeSnapshots(size: number, ticks: number): number {
  const clock = { now: 1_000 };
  const meter = new Meter({ now: () => clock.now });
  const models = ['llama-3.1-70b', 'qwen-2.5-32b', 'deepseek-r1'];
  for (let i = 0; i < size; i++) {
    const id = `node-${Math.floor(i / fleet.streamsPerNode)}\u0000s-${i}`;
    meter.begin(id, { node: `node-${Math.floor(i / fleet.streamsPerNode)}`, model: models[i % models.length]! });
    meter.recordOutput(id, 1, 0);
    meter.recordOutput(id, 40 + (i % 20), 1);
  }
  // The clock moves by 1 ms per tick, so no stream goes stale during the
  // run and every tick pays for every stream.
  const started = process.hrtime.bigint();
  for (let t = 0; t < ticks; t++) {
    clock.now += 0.001;
    meter.snapshot();
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / ticks;
}

async function activeStreams(hubUrl: string): Promise<number> {
  const frame = JSON.parse(await fetchText(`${hubUrl}/stats`)) as { active?: number };
  return frame.active ?? 0;
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} failed with status ${response.status}.`);
  return response.text();
}
