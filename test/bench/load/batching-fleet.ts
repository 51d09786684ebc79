// Fleet of the batching benchmark, run as a child process:
//
//     node --import tsx test/bench/load/batching-fleet.ts '{"redisUrl": ..., ...}'
//
// Replays the busiest 10 minutes of arrivals of the conv trace through four
// publishers on Redis, arrivals compressed by `speed` and token timing
// real. It sends { type: 'window', ... } once the workload is loaded and
// { type: 'done', ...BatchingFleetReport } after closing the publishers,
// then exits.
import { createPublisher, type Publisher } from '@metering-hub/shared';

import { DEFAULT_MODEL_MIX, FleetReplay, loadWorkload, runFleetRealtime } from '../../../server/src/workload/index.js';

/** Settings, passed as JSON in argv[2]. */
export interface BatchingFleetOptions {
  redisUrl: string;
  /** Publisher flush interval, ms. */
  flushIntervalMs: number;
  /** Streams per message. With 1, every changed stream goes out as a message of its own. */
  maxStreamsPerMessage: number;
  speed: number;
  /** Ms of trace arrivals replayed, from the start of the busiest window. */
  windowMs: number;
  /** Real ms after which the replay stops and the publishers close, ending every stream. */
  runMs: number;
  /** Real ms between fleet steps. */
  stepMs: number;
}

/** The replayed window, sent before the replay starts. */
export interface BatchingFleetWindow {
  source: string;
  /** Start of the busiest window, ms from the start of the trace. */
  startMs: number;
  requests: number;
}

/** What the fleet did, sent after it closed its publishers. */
export interface BatchingFleetReport {
  /** token() and reasoning() calls made. */
  tokenCalls: number;
  streamsStarted: number;
  /** Messages the publishers sent, the closing ones included. */
  messagesSent: number;
  publishFailures: number;
}

const BUSIEST_WINDOW_MS = 600_000;

const options = JSON.parse(process.argv[2] ?? '') as BatchingFleetOptions;
const workload = await loadWorkload({ seed: 1 });
const arrivals = workload.requests.map((request) => request.arrivalMs).sort((a, b) => a - b);

// Two pointers over the sorted arrivals: the window starting at each
// arrival, and the one with the most arrivals in it.
let startMs = 0;
let busiest = 0;
let end = 0;
for (let begin = 0; begin < arrivals.length; begin++) {
  const from = arrivals[begin] ?? 0;
  while (end < arrivals.length && (arrivals[end] ?? 0) < from + BUSIEST_WINDOW_MS) end += 1;
  if (end - begin > busiest) {
    busiest = end - begin;
    startMs = from;
  }
}
const requests = workload.requests
  .filter((request) => request.arrivalMs >= startMs && request.arrivalMs < startMs + options.windowMs)
  .map((request) => ({ arrivalMs: request.arrivalMs - startMs, outputTokens: request.outputTokens }));
const window: BatchingFleetWindow = { source: workload.source, startMs, requests: requests.length };
process.send?.({ type: 'window', ...window });

const publishers: Publisher[] = Array.from({ length: 4 }, (_, index) => createPublisher({
  nodeId: `node-${index + 1}`,
  redis: options.redisUrl,
  flushIntervalMs: options.flushIntervalMs,
  maxStreamsPerMessage: options.maxStreamsPerMessage,
}));
while (!publishers.every((publisher) => publisher.ready)) await new Promise((resolve) => setTimeout(resolve, 20));

let tokenCalls = 0;
const fleet = new FleetReplay({
  requests,
  publishers,
  speed: options.speed,
  seed: 1,
  models: DEFAULT_MODEL_MIX,
  onEvent: (event) => {
    if (event.type === 'token' || event.type === 'reasoning') tokenCalls += 1;
  },
});
const run = runFleetRealtime(fleet, { stepMs: options.stepMs });
const cut = setTimeout(() => run.stop(), options.runMs);
await run.finished;
clearTimeout(cut);

await Promise.all(publishers.map((publisher) => publisher.close()));
const report: BatchingFleetReport = {
  tokenCalls,
  streamsStarted: fleet.started,
  messagesSent: publishers.reduce((sum, publisher) => sum + publisher.stats.messagesSent, 0),
  publishFailures: publishers.reduce((sum, publisher) => sum + publisher.stats.publishFailures, 0),
};
process.send?.({ type: 'done', ...report });
process.disconnect?.();
