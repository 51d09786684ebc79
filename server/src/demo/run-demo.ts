import { existsSync } from 'node:fs';

import { type Bus, createPublisher, type Logger, MemoryBus, type Publisher } from '@metering-hub/shared';

import { type HubConfig, redactUrl } from '../config.js';
import { Hub } from '../hub/hub.js';
import { onShutdownSignal } from '../shutdown.js';
import {
  DEFAULT_CONV_TRACE_PATH,
  DEFAULT_MODEL_MIX,
  FleetReplay,
  loadWorkload,
  runFleetRealtime,
  syntheticConvTrace,
  type Workload,
} from '../workload/index.js';
import { type DemoOptions, DemoOptionsError } from './demo-options.js';
import { formatDuration, formatFrameLine } from './frame-line.js';

export interface RunDemoOptions {
  options: DemoOptions;
  config: HubConfig;
  /** Redis to run on; undefined runs everything on an in-process bus. */
  redisUrl: string | undefined;
  logger: Logger;
  /** Writes one line of terminal output. */
  print: (line: string) => void;
}

// Without a hub of its own, the fleet prints its progress this often.
const FLEET_PROGRESS_MS = 5_000;

/**
 * Runs hub and fleet until the replay ends, its duration is up, or SIGINT
 * or SIGTERM arrives; then closes everything it opened.
 */
export async function runDemo({ options, config, redisUrl, logger, print }: RunDemoOptions): Promise<void> {
  const workload = await loadDemoWorkload(options);
  const bus: Bus | undefined = redisUrl ? undefined : new MemoryBus();
  const hub = options.noHub ? undefined : new Hub({
    ...(bus ? { bus } : { redisUrl }),
    port: options.port,
    host: config.host,
    channel: config.channel,
    access: { token: config.token, allowedOrigins: config.allowedOrigins },
    logger,
  });
  const address = await hub?.listen();

  const publishers: Publisher[] = Array.from({ length: options.nodes }, (_, index) => createPublisher({
    nodeId: `node-${index + 1}`,
    ...(bus ? { bus } : { redis: redisUrl }),
    channel: config.channel,
    logger,
  }));
  const fleet = new FleetReplay({
    requests: workload.requests,
    publishers,
    speed: options.speed,
    seed: options.seed,
    models: DEFAULT_MODEL_MIX,
    timing: { ttftMs: options.ttftMs, tokensPerSecond: options.tokensPerSecond, rateSpread: options.rateSpread },
  });

  printHeader(print, options, workload, redisUrl);
  let replayMs = 0;
  let stopPrintingFrames = () => {};
  if (hub && address) {
    const base = `http://${address.address}:${address.port}`;
    print(`Dashboard: ${base}/`);
    print(`Socket.IO endpoint: ${base} (emit "subscribe" with "metering"); WebSocket ${base.replace('http', 'ws')}/ws; SSE ${base}/events`);
    print(`Latest frame: ${base}/stats`);
    print(formatFrameLine(hub.latestFrame(), replayMs));
    stopPrintingFrames = hub.onFrame((frame) => print(formatFrameLine(frame, replayMs)));
  }

  let nextProgressMs = 0;
  const run = runFleetRealtime({
    advanceTo: (simMs) => {
      replayMs = simMs * options.speed;
      fleet.advanceTo(simMs);
      if (!hub && simMs >= nextProgressMs) {
        nextProgressMs = simMs + FLEET_PROGRESS_MS;
        print(`replay ${formatDuration(replayMs)}  streams started ${fleet.started}, in flight ${fleet.inFlight}`);
      }
    },
    get done() {
      return fleet.done;
    },
  });

  const reason = await waitForStop(options, logger, run.finished);
  run.stop();
  stopPrintingFrames();
  print(`Stopping (${reason}): ${fleet.started} streams started, ${fleet.ended} ended.`);
  await Promise.all(publishers.map((publisher) => publisher.close()));
  await hub?.close();
  await bus?.close();
  if (reason === 'error') process.exitCode = 1;
}

// The default data file may be absent on a user's machine, and then the
// synthetic trace replaces it. A file named with --data must exist.
async function loadDemoWorkload(options: DemoOptions): Promise<Workload> {
  if (options.synthetic) {
    return { requests: syntheticConvTrace({ seed: options.seed }), source: 'synthetic' };
  }
  if (options.dataPath !== undefined && !existsSync(options.dataPath)) {
    throw new DemoOptionsError(`Invalid --data ${JSON.stringify(options.dataPath)}: no such file. Leave --data out to use the default trace or a synthetic one.`);
  }
  return loadWorkload({ dataPath: options.dataPath, seed: options.seed });
}

function printHeader(print: (line: string) => void, options: DemoOptions, workload: Workload, redisUrl: string | undefined): void {
  const source = workload.source === 'conv.csv'
    ? workload.path
    : `a synthetic trace with the conv statistics${options.synthetic ? '' : ` (no file at ${DEFAULT_CONV_TRACE_PATH})`}`;
  const spreadPercent = Math.round(options.rateSpread * 100);
  print(`Workload: ${workload.requests.length} requests from ${source}`);
  print(`Fleet: ${options.nodes} nodes, speed ${options.speed}x, TTFT ${options.ttftMs} ms, ${options.tokensPerSecond} tok/s +-${spreadPercent}% per stream`);
  print(`Models: ${DEFAULT_MODEL_MIX.map((model) => `${model.name} ${Math.round(model.weight * 100)}%${model.reasoningShare > 0 ? ` (${Math.round(model.reasoningShare * 100)}% reasoning)` : ''}`).join(', ')}`);
  print(`Bus: ${redisUrl ? `Redis ${redactUrl(redisUrl)}` : 'in-process (set REDIS_URL to use Redis)'}`);
}

// Resolves with why the demo stops: the replay ended or failed, its
// duration is up, or a signal arrived.
function waitForStop(options: DemoOptions, logger: Logger, finished: Promise<string>): Promise<string> {
  return new Promise<string>((resolve) => {
    onShutdownSignal(logger, async () => resolve('signal'));
    if (options.durationSeconds > 0) {
      setTimeout(() => resolve('duration'), options.durationSeconds * 1000).unref();
    }
    finished.then(resolve, (error: unknown) => {
      logger.error({ err: error }, 'Fleet replay failed');
      resolve('error');
    });
  });
}
