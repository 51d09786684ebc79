import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { MeteringFrame } from '@metering-hub/shared';

import { waitFor } from '../../helpers/wait.js';
import { hubProcess, type ManagedProcess, redisProcess } from '../../soak/processes.js';
import type { BatchingFleetOptions, BatchingFleetReport, BatchingFleetWindow } from '../load/batching-fleet.js';
import { nextMessage } from '../child-messages.js';
import { metricDelta, round, scrapeMetrics, sleep } from '../measure.js';
import { checkTarget, type Scenario } from '../scenario.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fleetScript = 'test/bench/load/batching-fleet.ts';

// Arrivals of the busiest ten minutes compressed 24 times take 25 s. The
// run stops 11 s later (3 s in a smoke run), and the publishers' closing
// `bye` ends the long streams still in flight.
const SPEED = 24;
// The fleet steps every 10 ms. At the fastest drawn rate, 50 tok/s, a
// token is due every 20 ms, so one token() call carries one new token
// nearly always, and unbatched publishing sends about a message per token.
const STEP_MS = 10;
// Hub CPU is read from this long after the replay starts, in every run.
// A new hub compiles its ingest path while the first messages arrive, a
// cost of its start rather than of its messages, and it would weigh most
// on the run with the least work.
const WARMUP_MS = 2_000;

interface RunResult {
  mode: string;
  report: BatchingFleetReport;
  messages: number;
  messagesPerSecond: number;
  cpuSeconds: number;
  rejected: number;
  /** Stream entries the hub applied. */
  updates: number;
  /**
   * Streams with a TTFT sample at the hub (its histogram's count). NOTE: a
   * stream whose begin and first token reach the hub in one late message
   * gets no sample, so a publisher that falls behind lowers this count
   * without losing the stream; hence it is a figure, not a target.
   */
  streamsWithFirstToken: number;
  /** /stats read once a second from the replay's start. */
  frames: { tps: number; active: number }[];
}

/**
 * The busiest ten minutes of the conv trace replayed twice into a hub
 * process: once through the publisher's batching (a flush every 100 ms)
 * and once unbatched (flushIntervalMs 1 and one stream per message, so each
 * token() call goes out as a message of its own). It compares the messages
 * and the hub CPU of the two runs and checks that their frames agree.
 */
export const batching: Scenario = {
  name: 'batching',
  title: 'Batching pays',
  async run({ smoke, log }) {
    // The smoke run replays the window's first two minutes: as many streams
    // in flight as the full run, for a quarter of the time.
    const windowMs = smoke ? 120_000 : 600_000;
    const runMs = windowMs / SPEED + (smoke ? 3_000 : 11_000);
    const redis = await redisProcess();
    try {
      await redis.start();
      const redisUrl = `redis://127.0.0.1:${redis.port}`;
      const batched = await replay(redisUrl, 'batched', { flushIntervalMs: 100, maxStreamsPerMessage: 1_000 }, windowMs, runMs, log);
      const unbatched = await replay(redisUrl, 'unbatched', { flushIntervalMs: 1, maxStreamsPerMessage: 1 }, windowMs, runMs, log);
      const idleCpuSeconds = await idleCpu(redisUrl, runMs, log);

      const messageRatio = unbatched.messages / batched.messages;
      const cpuRatio = unbatched.cpuSeconds / batched.cpuSeconds;
      const cpuRatioAboveIdle = (unbatched.cpuSeconds - idleCpuSeconds) / (batched.cpuSeconds - idleCpuSeconds);
      const idleShare = idleCpuSeconds / batched.cpuSeconds;
      const updateRatio = unbatched.updates / batched.updates;
      const agreement = compareFrames(batched.frames, unbatched.frames);
      const figures = [batched, unbatched].flatMap((result) => [
        { name: `${result.mode}: messages received by the hub`, value: result.messages, unit: '' },
        { name: `${result.mode}: messages per second`, value: Math.round(result.messagesPerSecond), unit: 'msg/s' },
        { name: `${result.mode}: token() and reasoning() calls`, value: result.report.tokenCalls, unit: '' },
        { name: `${result.mode}: stream updates applied by the hub`, value: result.updates, unit: '' },
        { name: `${result.mode}: hub CPU`, value: round(result.cpuSeconds, 2), unit: 's' },
        { name: `${result.mode}: streams with a first token at the hub`, value: result.streamsWithFirstToken, unit: '' },
        { name: `${result.mode}: messages rejected`, value: result.rejected, unit: '' },
      ]);
      figures.push(
        { name: 'mean |tps difference| between the runs, per second', value: round(agreement.meanTpsDifference, 2), unit: 'tok/s' },
        { name: 'mean |active difference| / mean active', value: round(agreement.relativeActiveDifference, 3), unit: '' },
        { name: 'idle hub (no fleet): hub CPU over the same time', value: round(idleCpuSeconds, 2), unit: 's' },
        { name: 'idle hub CPU / batched hub CPU', value: round(idleShare, 2), unit: '' },
        { name: 'hub CPU above idle, unbatched / batched', value: round(cpuRatioAboveIdle, 1), unit: '' },
        { name: 'stream updates, unbatched / batched', value: round(updateRatio, 1), unit: '' },
      );
      return {
        figures,
        targets: [
          checkTarget('messages, unbatched / batched', round(messageRatio, 1), '>=', 20),
          checkTarget('hub CPU, unbatched / batched', round(cpuRatio, 1), '>=', 10, '', cpuRatio < 10
            ? `batching removes the cost per message but not the cost per stream update (JSON parsing and metering each entry), and a stream at 40 tok/s changes in nearly every 100 ms flush, so the batched run still applies 1/${round(updateRatio, 1)} of the updates; an idle hub's fixed cost over the same time is ${Math.round(idleShare * 100)}% of the batched run, and above it batching saves ${round(cpuRatioAboveIdle, 1)} times`
            : undefined),
          checkTarget('mean |tps difference| between the runs', round(agreement.meanTpsDifference, 2), '<=', 1, 'tok/s'),
          checkTarget('mean |active difference| / mean active', round(agreement.relativeActiveDifference, 3), '<=', 0.05),
        ],
      };
    } finally {
      await redis.stop();
    }
  },
};

async function replay(
  redisUrl: string,
  mode: string,
  publishing: Pick<BatchingFleetOptions, 'flushIntervalMs' | 'maxStreamsPerMessage'>,
  windowMs: number,
  runMs: number,
  log: (line: string) => void,
): Promise<RunResult> {
  const { hub, base } = await startHub(`hub-${mode}`, redisUrl, log);
  let fleet: ChildProcess | undefined;
  try {

    const options: BatchingFleetOptions = { redisUrl, ...publishing, speed: SPEED, windowMs, runMs, stepMs: STEP_MS };
    fleet = startFleet(options, log);
    const done = nextMessage<BatchingFleetReport>(fleet, 'done', 'The fleet');
    const window = await nextMessage<BatchingFleetWindow>(fleet, 'window', 'The fleet');
    log(`${mode}: ${window.requests} requests from ${Math.round(window.startMs / 1000)} s into the ${window.source} trace, ${SPEED}x, ${Math.round(runMs / 1000)} s`);

    const before = await scrapeMetrics(base);
    const reader = readStatsEverySecond(base, mode, log);
    await sleep(WARMUP_MS);
    const warm = await scrapeMetrics(base);
    const report = await done;
    reader.stop();

    // Messages still in Redis or the socket count toward this run.
    await waitFor(async () => (await scrapeMetrics(base)).metrics.get('metering_messages_received_total') === report.messagesSent, {
      what: `the hub to receive all ${report.messagesSent} messages`,
      deadlineMs: 60_000,
      pollMs: 200,
    });
    const after = await scrapeMetrics(base);
    const delta = (name: string) => metricDelta(before, after, name);
    const messages = delta('metering_messages_received_total');
    log(`${mode}: ${report.streamsStarted} streams, ${report.tokenCalls} token calls, ${report.messagesSent} messages sent, ${report.publishFailures} publish failures`);
    return {
      mode,
      report,
      messages,
      messagesPerSecond: messages / (runMs / 1_000),
      cpuSeconds: metricDelta(warm, after, 'process_cpu_seconds_total'),
      rejected: delta('metering_messages_rejected_total'),
      updates: delta('metering_updates_received_total'),
      streamsWithFirstToken: delta('metering_time_to_first_token_seconds_count'),
      frames: reader.frames,
    };
  } finally {
    fleet?.kill('SIGKILL');
    await hub.stop();
  }
}

// The hub's CPU over `runMs` with no fleet and the same /stats reader: the
// fixed cost both runs pay, which bounds the CPU ratio however little the
// batched messages cost.
async function idleCpu(redisUrl: string, runMs: number, log: (line: string) => void): Promise<number> {
  const { hub, base } = await startHub('hub-idle', redisUrl, log);
  try {
    const reader = readStatsEverySecond(base, 'idle', log);
    await sleep(WARMUP_MS);
    const before = await scrapeMetrics(base);
    await sleep(runMs - WARMUP_MS);
    reader.stop();
    const after = await scrapeMetrics(base);
    const cpuSeconds = metricDelta(before, after, 'process_cpu_seconds_total');
    log(`idle: ${round(cpuSeconds, 2)} s of hub CPU in ${Math.round((runMs - WARMUP_MS) / 1000)} s`);
    return cpuSeconds;
  } finally {
    await hub.stop();
  }
}

async function startHub(name: string, redisUrl: string, log: (line: string) => void): Promise<{ hub: ManagedProcess; base: string }> {
  const hub = await hubProcess(name, redisUrl, log);
  await hub.start();
  const base = `http://127.0.0.1:${hub.port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { what: 'the hub to subscribe' });
  return { hub, base };
}

// Reads /stats once a second until stopped.
function readStatsEverySecond(base: string, mode: string, log: (line: string) => void) {
  const frames: RunResult['frames'] = [];
  const timer = setInterval(() => {
    fetch(`${base}/stats`).then((response) => response.json()).then((frame: MeteringFrame) => {
      frames.push({ tps: frame.tps, active: frame.active });
    }, (error: unknown) => log(`${mode}: reading /stats failed: ${String(error)}`));
  }, 1_000);
  return { frames, stop: () => clearInterval(timer) };
}

// Compares the frames of two runs second by second, over the seconds both
// have. Batching delays an update by up to one flush interval, so the runs
// agree closely but not exactly.
function compareFrames(a: RunResult['frames'], b: RunResult['frames']) {
  const seconds = Math.min(a.length, b.length);
  let tpsDifference = 0;
  let activeDifference = 0;
  let active = 0;
  for (let index = 0; index < seconds; index++) {
    const first = a[index];
    const second = b[index];
    if (!first || !second) continue;
    tpsDifference += Math.abs(first.tps - second.tps);
    activeDifference += Math.abs(first.active - second.active);
    active += (first.active + second.active) / 2;
  }
  return { meanTpsDifference: tpsDifference / seconds, relativeActiveDifference: activeDifference / active };
}

function startFleet(options: BatchingFleetOptions, log: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', fleetScript, JSON.stringify(options)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const forward = (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') log(`fleet: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}
