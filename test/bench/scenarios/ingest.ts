import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Ingest, Meter } from '@metering-hub/server';
import { DEFAULT_CHANNEL, type MeteringFrame } from '@metering-hub/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';

import { waitFor } from '../../helpers/wait.js';
import { hubProcess, type ManagedProcess, redisProcess } from '../../soak/processes.js';
import type { IngestPublisherOptions, IngestPublisherReport } from '../load/ingest-publisher.js';
import { nextMessage } from '../child-messages.js';
import { loopDelayMs, round, scrapeMetrics, sleep } from '../measure.js';
import { checkTarget, type Figure, type Scenario, type TargetCheck } from '../scenario.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const publisherScript = 'test/bench/load/ingest-publisher.ts';
const subscriberScript = 'test/bench/load/ingest-subscriber.ts';

const PUBLISHERS = 2;
const STREAMS_PER_MESSAGE = 100;
const INTERIM_MS_PER_TOKEN = 20;
const FINAL_MS_PER_TOKEN = 25;
// Every stream's last message puts its latest token FINAL_MS_PER_TOKEN ×
// out after its first, so every rate and hence the mean is exactly this.
const EXPECTED_TPS = 1_000 / FINAL_MS_PER_TOKEN;
const EXPECTED_ACTIVE = PUBLISHERS * STREAMS_PER_MESSAGE;
// Publishers pause while a subscriber has more than this waiting in Redis.
// The limit Redis disconnects a subscriber at is raised well past it, to
// cover what the publishers add between two CLIENT LIST checks.
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
const PUBSUB_BUFFER_LIMIT = '256mb';

/**
 * Stream entries per second that the hub decodes, validates and meters,
 * against a bare ioredis subscriber that only counts messages, under the
 * same load on the same Redis. The two run one after the other, each with
 * the whole machine: at the same time they would share the CPU, and the
 * publishers, paced by the slower reader, would cap the faster one.
 */
export const ingest: Scenario = {
  name: 'ingest',
  title: 'Ingest',
  async run({ smoke, log }) {
    const warmupMs = smoke ? 1_000 : 3_000;
    const measureMs = smoke ? 3_000 : 20_000;
    const redis = await redisProcess();
    const started: ManagedProcess[] = [redis];
    const children = new Set<ChildProcess>();
    try {
      await redis.start();
      const redisUrl = `redis://127.0.0.1:${redis.port}`;
      const admin = new Redis(redisUrl);
      await admin.config('SET', 'client-output-buffer-limit', `pubsub ${PUBSUB_BUFFER_LIMIT} ${PUBSUB_BUFFER_LIMIT} 0`);
      await admin.quit();

      log(`bare subscriber: ${PUBLISHERS} publishers, ${STREAMS_PER_MESSAGE} streams per message, ${measureMs / 1000} s measured`);
      const bare = await measureBare(redisUrl, warmupMs, measureMs, children, log);

      log('hub: the same load');
      const hub = await hubProcess('hub', redisUrl, log);
      started.push(hub);
      await hub.start();
      await waitFor(async () => (await fetch(`http://127.0.0.1:${hub.port}/readyz`)).ok, { what: 'the hub to subscribe' });
      const measured = await measureHub(redisUrl, hub.port, warmupMs, measureMs, children, log);

      const ratio = measured.entriesPerSecond / bare.entriesPerSecond;
      const ceiling = measureDecodeCeiling(smoke);
      const parseShare = ceiling.parseEntriesPerSecond / bare.entriesPerSecond;
      // A hub that read the messages as the bare subscriber does and then
      // only ran JSON.parse would spend 1/bare + 1/parse s per entry. This
      // share of the bare rate is therefore the most any hub on JSON and one
      // core could reach, before validating or metering anything.
      const jsonCeiling = 1 / (1 + bare.entriesPerSecond / ceiling.parseEntriesPerSecond);
      const figures: Figure[] = [
        { name: 'bare subscriber', value: Math.round(bare.entriesPerSecond), unit: 'entries/s' },
        { name: 'hub', value: Math.round(measured.entriesPerSecond), unit: 'entries/s' },
        { name: 'hub / bare', value: round(ratio, 3), unit: '' },
        { name: 'publishers paused, bare run', value: round(bare.pausedShare, 2), unit: 'of the time' },
        { name: 'publishers paused, hub run', value: round(measured.pausedShare, 2), unit: 'of the time' },
        { name: 'hub event-loop lag p99 under load', value: round(measured.lagP99Ms, 2), unit: 'ms' },
        { name: 'JSON.parse alone, one core, in this process', value: Math.round(ceiling.parseEntriesPerSecond), unit: 'entries/s' },
        { name: 'decode, validate and meter, one core, in this process', value: Math.round(ceiling.handleEntriesPerSecond), unit: 'entries/s' },
        { name: 'JSON.parse alone / bare subscriber', value: round(parseShare, 3), unit: '' },
        { name: 'read + JSON.parse only / bare subscriber (ceiling for a hub on JSON)', value: round(jsonCeiling, 3), unit: '' },
        { name: 'hub /stats tps after the load', value: measured.frame.tps, unit: 'tok/s' },
        { name: 'hub /stats active after the load', value: measured.frame.active, unit: 'streams' },
      ];
      const targets: TargetCheck[] = [
        checkTarget('hub rate / bare rate', round(ratio, 3), '>=', 0.5, '', ratio < 0.5
          ? `reading the messages as the bare subscriber does plus JSON.parse alone would reach ${round(jsonCeiling, 2)} of the bare rate on one core, before validating and metering; a binary wire format or parsing on more cores would be needed`
          : undefined),
        checkTarget('hub event-loop lag p99 under load', round(measured.lagP99Ms, 2), '<', 20, 'ms'),
        checkTarget('messages lost or rejected by the hub', measured.lostOrRejected, '<=', 0),
        checkTarget(`|/stats tps - ${EXPECTED_TPS}| after the load`, round(Math.abs(measured.frame.tps - EXPECTED_TPS), 3), '<=', 0, 'tok/s'),
        checkTarget(`|/stats active - ${EXPECTED_ACTIVE}| after the load`, Math.abs(measured.frame.active - EXPECTED_ACTIVE), '<=', 0),
      ];
      // A paused share near 0 means the publishers, not the reader, set the
      // pace, so the rate understates what the reader can take.
      if (bare.pausedShare < 0.05) log('NOTE: the publishers rarely paused in the bare run, so the bare rate may be publisher-bound.');
      return { figures, targets };
    } finally {
      for (const child of children) child.kill('SIGKILL');
      for (const process of started.reverse()) await process.stop();
    }
  },
};

// The bare subscriber only splits the Redis protocol; the hub must also
// parse every message's JSON. Timing JSON.parse alone on messages of the
// same shape shows how much of the gap no hub code can close.
function measureDecodeCeiling(smoke: boolean): { parseEntriesPerSecond: number; handleEntriesPerSecond: number } {
  const messages = Array.from({ length: 64 }, (_, variant) => JSON.stringify({
    v: 1,
    node: 'ingest-1',
    streams: Array.from({ length: STREAMS_PER_MESSAGE }, (_, index) => ({
      id: `s-${index}`,
      beganAt: 1_700_000_000_000,
      firstAt: 1_700_000_000_500,
      lastAt: 1_700_000_000_500 + 20 * (100 + variant),
      out: 100 + variant,
      reasoning: 0,
      ended: false,
    })),
  }));
  const rounds = smoke ? 500 : 5_000;
  const entries = rounds * STREAMS_PER_MESSAGE;

  let started = performance.now();
  for (let i = 0; i < rounds; i++) JSON.parse(messages[i % messages.length] as string);
  const parseSeconds = (performance.now() - started) / 1_000;

  const ingest = new Ingest({ meter: new Meter(), logger: pino({ level: 'silent' }) });
  started = performance.now();
  for (let i = 0; i < rounds; i++) ingest.handle(messages[i % messages.length] as string);
  const handleSeconds = (performance.now() - started) / 1_000;

  return { parseEntriesPerSecond: entries / parseSeconds, handleEntriesPerSecond: entries / handleSeconds };
}

interface PhaseResult {
  entriesPerSecond: number;
  /** Share of the measured time the publishers spent paused on a full backlog. */
  pausedShare: number;
}

async function measureBare(
  redisUrl: string,
  warmupMs: number,
  measureMs: number,
  children: Set<ChildProcess>,
  log: (line: string) => void,
): Promise<PhaseResult> {
  const subscriber = startChild(subscriberScript, [redisUrl, DEFAULT_CHANNEL], children, log);
  await nextMessage(subscriber, 'subscribed');
  const publishers = startPublishers(redisUrl, children, log);
  await sleep(warmupMs);

  const count = async () => {
    subscriber.send({ type: 'count' });
    const { messages } = await nextMessage<{ messages: number }>(subscriber, 'count');
    return { messages, at: performance.now() };
  };
  const before = await count();
  await sleep(measureMs);
  const after = await count();

  const reports = await stopPublishers(publishers);
  subscriber.disconnect();
  await exited(subscriber);
  children.delete(subscriber);
  const seconds = (after.at - before.at) / 1_000;
  return {
    entriesPerSecond: ((after.messages - before.messages) * STREAMS_PER_MESSAGE) / seconds,
    pausedShare: pausedShare(reports, warmupMs + measureMs),
  };
}

async function measureHub(
  redisUrl: string,
  port: number,
  warmupMs: number,
  measureMs: number,
  children: Set<ChildProcess>,
  log: (line: string) => void,
): Promise<PhaseResult & { lagP99Ms: number; lostOrRejected: number; frame: MeteringFrame }> {
  const base = `http://127.0.0.1:${port}`;
  const publishers = startPublishers(redisUrl, children, log);
  await sleep(warmupMs);

  // prom-client resets its event-loop delay histogram on every scrape
  // (prom-client 15, lib/metrics/eventLoopLag.js), so the p99 of the second
  // scrape covers exactly the time between the two. Nothing else scrapes.
  const before = await scrapeMetrics(base);
  await sleep(measureMs);
  const after = await scrapeMetrics(base);

  const reports = await stopPublishers(publishers);
  const published = reports.reduce((sum, report) => sum + report.messages, 0);
  // The hub reads its backlog in Redis before the final messages.
  await waitFor(async () => (await scrapeMetrics(base)).metrics.get('metering_messages_received_total') === published, {
    what: `the hub to receive all ${published} messages`,
    deadlineMs: 60_000,
    pollMs: 200,
  });
  const drained = await scrapeMetrics(base);
  const drainedAt = Date.now();
  let frame: MeteringFrame | undefined;
  await waitFor(async () => {
    frame = (await (await fetch(`${base}/stats`)).json()) as MeteringFrame;
    return frame.at > drainedAt;
  }, { what: 'a frame after the last message', deadlineMs: 15_000, pollMs: 100 });
  if (!frame) throw new Error('No frame from /stats after the last message.');

  const seconds = (after.at - before.at) / 1_000;
  const applied = (after.metrics.get('metering_updates_received_total') ?? 0) - (before.metrics.get('metering_updates_received_total') ?? 0);
  const received = drained.metrics.get('metering_messages_received_total') ?? 0;
  const rejected = drained.metrics.get('metering_messages_rejected_total') ?? 0;
  const appliedTotal = drained.metrics.get('metering_updates_received_total') ?? 0;
  log(`hub: ${received} messages received, ${rejected} rejected, ${appliedTotal} entries applied of ${published * STREAMS_PER_MESSAGE} sent`);
  return {
    entriesPerSecond: applied / seconds,
    pausedShare: pausedShare(reports, warmupMs + measureMs),
    lagP99Ms: loopDelayMs(after.metrics.get('nodejs_eventloop_lag_p99_seconds')),
    lostOrRejected: published - received + rejected + (published * STREAMS_PER_MESSAGE - appliedTotal),
    frame,
  };
}

function startPublishers(redisUrl: string, children: Set<ChildProcess>, log: (line: string) => void): ChildProcess[] {
  return Array.from({ length: PUBLISHERS }, (_, index) => {
    const options: IngestPublisherOptions = {
      redisUrl,
      channel: DEFAULT_CHANNEL,
      node: `ingest-${index + 1}`,
      streamsPerMessage: STREAMS_PER_MESSAGE,
      pipelineDepth: 50,
      maxBacklogBytes: MAX_BACKLOG_BYTES,
      interimMsPerToken: INTERIM_MS_PER_TOKEN,
      finalMsPerToken: FINAL_MS_PER_TOKEN,
    };
    return startChild(publisherScript, [JSON.stringify(options)], children, log);
  });
}

async function stopPublishers(publishers: ChildProcess[]): Promise<IngestPublisherReport[]> {
  const reports = publishers.map((publisher) => nextMessage<IngestPublisherReport>(publisher, 'stopped'));
  for (const publisher of publishers) publisher.send({ type: 'stop' });
  const done = await Promise.all(reports);
  await Promise.all(publishers.map(exited));
  return done;
}

function pausedShare(reports: IngestPublisherReport[], runMs: number): number {
  return reports.reduce((sum, report) => sum + report.pausedMs, 0) / reports.length / runMs;
}

// Starts a load script under tsx with an IPC channel, logging its output.
function startChild(script: string, args: string[], children: Set<ChildProcess>, log: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const forward = (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') log(`${script}: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
