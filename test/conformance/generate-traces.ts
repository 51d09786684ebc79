// Writes the hand-written traces and the seeded random traces to
// traces/NAME.json, without expected output:
//
//     npx tsx test/conformance/generate-traces.ts
//
// A file whose description and events are unchanged is left alone, so its
// recorded output survives. Any other file is rewritten without `expected`,
// and record-expected.ts must run on it before the tests pass again.
// The output depends only on the seeds below, not on the machine or the date.
import { existsSync, mkdirSync } from 'node:fs';

import type { TraceEvent } from '../../server/src/replay/trace.js';
import { handWrittenTraces, type TraceCase } from './hand-written-traces.js';
import {
  formatTraceFile,
  readTraceFile,
  traceFilePath,
  tracesDirectory,
  writeTraceFile,
} from './trace-file.js';

/** Seeded PRNG (mulberry32): 32-bit state, uniform floats in [0, 1). */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

type Ticker =
  /** A tick every `periodSeconds`, each emitting stats and interval with the given probabilities. */
  | { kind: 'fixed'; periodSeconds: number; statsProbability: number; intervalProbability: number }
  /** The hub's ticker: stats and interval each tick, the next 1 s later while tokens are fresh, else 10 s. */
  | { kind: 'adaptive' };

interface RandomTraceConfig {
  name: string;
  seed: number;
  durationSeconds: number;
  /** Mean stream begins per minute outside idle gaps and bursts. */
  beginsPerMinute: number;
  maxConcurrentStreams: number;
  /** Mean bursts per hour. A burst begins 5 to 25 streams within one second. */
  burstsPerHour: number;
  /** Share of the trace spent in idle gaps, when no stream begins. */
  idleFraction: number;
  /** Range of the seconds between two progress reports of one stream. */
  reportSeconds: [min: number, max: number];
  /** Mean seconds of a stream's output phase. */
  meanOutputSeconds: number;
  ticker: Ticker;
  /** First tick, in seconds. Ticks are then accumulated by float addition. */
  tickerStart: number;
  /** Round event times to milliseconds, or keep the raw random doubles. */
  timeResolution: 'ms' | 'float';
}

interface TimedEvent {
  event: TraceEvent;
  order: number;
}

/** A trace under construction: events in any order, sorted stably by time at the end. */
class TraceBuilder {
  private readonly events: TimedEvent[] = [];
  readonly tokenTimes: number[] = [];

  constructor(
    private readonly durationSeconds: number,
    private readonly timeResolution: 'ms' | 'float',
  ) {}

  time(t: number): number {
    return this.timeResolution === 'ms' ? Math.round(t * 1000) / 1000 : t;
  }

  add(event: TraceEvent): void {
    if (event[0] > this.durationSeconds) return;
    if (event[1] === 'token' || event[1] === 'reasoning') this.tokenTimes.push(event[0]);
    this.events.push({ event, order: this.events.length });
  }

  sortedEvents(): TraceEvent[] {
    const sorted = [...this.events].sort((a, b) => a.event[0] - b.event[0] || a.order - b.order);
    return sorted.map(({ event }) => event);
  }
}

/** Seconds during which a stream is held by the meter, used to cap concurrency. */
interface Lifetime {
  begin: number;
  release: number;
}

const STALE_SECONDS = 60;

// Emits one stream's events starting at `begin` and returns when the meter
// releases it: at its end, or one stale window after its last activity.
function emitStream(
  random: Random,
  trace: TraceBuilder,
  config: RandomTraceConfig,
  id: string,
  begin: number,
): Lifetime {
  const at = (t: number) => trace.time(t);
  trace.add([at(begin), 'begin', id]);

  const roll = random.next();
  let last = begin;
  let ended = false;

  const finish = (endProbability: number, maxDelay: number) => {
    if (random.chance(endProbability)) {
      last = at(last + random.uniform(0, maxDelay));
      trace.add([last, 'end', id]);
      ended = true;
      if (random.chance(0.04)) {
        // A late progress report for a stream that has already ended.
        trace.add([at(last + random.uniform(0, 5)), 'token', id, random.integer(1, 5000)]);
      }
    }
  };

  if (roll < 0.08) {
    // Never receives a token.
    finish(0.5, 90);
  } else if (roll < 0.13) {
    // One token only.
    last = at(begin + random.uniform(0.05, 4));
    trace.add([last, 'token', id, random.integer(1, 40)]);
    finish(0.6, 80);
  } else if (roll < 0.17) {
    // Every token at one instant.
    last = at(begin + random.uniform(0.05, 4));
    let running = 0;
    for (let i = random.integer(2, 6); i > 0; i--) {
      running += random.integer(1, 50);
      trace.add([last, 'token', id, running]);
    }
    finish(0.7, 30);
  } else {
    last = emitTokens(random, trace, config, id, begin);
    finish(0.85, 1);
  }

  return { begin, release: ended ? last : last + STALE_SECONDS };
}

// Emits the progress reports of a stream with tokens: an optional reasoning
// phase, then output, with occasional stalls, re-begins and count drops.
// Returns the time of the last report.
function emitTokens(
  random: Random,
  trace: TraceBuilder,
  config: RandomTraceConfig,
  id: string,
  begin: number,
): number {
  const at = (t: number) => trace.time(t);
  const [minReport, maxReport] = config.reportSeconds;
  const reportSeconds = random.uniform(minReport, maxReport);
  let t = begin + random.uniform(0.05, 4);
  let reasoning = 0;
  let output = 0;

  if (random.chance(0.35)) {
    const rate = random.uniform(10, 150);
    const phaseEnd = t + random.uniform(1, 40);
    const phaseStart = t;
    reasoning = random.integer(1, 20);
    while (t < phaseEnd) {
      trace.add([at(t), 'reasoning', id, reasoning]);
      t += reportSeconds * random.uniform(0.5, 1.5);
      reasoning = Math.floor(rate * (t - phaseStart)) + 1;
    }
  }

  const rate = random.uniform(2, 120);
  const phaseSeconds = Math.min(random.exponential(config.meanOutputSeconds), 600);
  const phaseStart = t;
  const phaseEnd = t + phaseSeconds;
  const stallAt = random.chance(0.06) ? random.uniform(phaseStart, phaseEnd) : Infinity;
  const rebeginAt = random.chance(0.03) ? random.uniform(phaseStart, phaseEnd) : Infinity;
  const dropAt = random.chance(0.03) ? random.uniform(phaseStart, phaseEnd) : Infinity;
  const lateReasoning = reasoning > 0 && random.chance(0.15);
  let stalled = 0;
  let rebegun = false;
  let dropped = false;
  let last = t;

  output = random.integer(1, 10);
  while (t <= phaseEnd + stalled) {
    last = at(t);
    if (!rebegun && t - stalled >= rebeginAt) {
      // A begin for an id that is still streaming resets it in place.
      trace.add([last, 'begin', id]);
      rebegun = true;
    }
    let running = output;
    if (!dropped && t - stalled >= dropAt) {
      running = Math.floor(output * random.uniform(0, 0.9));
      dropped = true;
    }
    trace.add([last, 'token', id, running]);
    if (lateReasoning && random.chance(0.3)) {
      reasoning += random.integer(1, 30);
      trace.add([last, 'reasoning', id, reasoning]);
    }

    t += reportSeconds * random.uniform(0.5, 1.5);
    if (stalled === 0 && t >= stallAt) {
      // A stall that may or may not outlast the stale window.
      stalled = random.uniform(30, 200);
      t += stalled;
    }
    output = Math.floor(rate * (t - phaseStart - stalled)) + 1;
  }
  return last;
}

function emitTicker(random: Random, trace: TraceBuilder, config: RandomTraceConfig): void {
  const tokenTimes = [...trace.tokenTimes].sort((a, b) => a - b);
  let t = config.tickerStart;
  while (t <= config.durationSeconds) {
    const { ticker } = config;
    if (ticker.kind === 'fixed') {
      if (random.chance(ticker.statsProbability)) trace.add([t, 'stats']);
      if (random.chance(ticker.intervalProbability)) trace.add([t, 'interval']);
      t += ticker.periodSeconds;
    } else {
      trace.add([t, 'stats']);
      trace.add([t, 'interval']);
      // The hub's ticker calls the meter's interval() here. This approximation
      // counts every token event, including ones for unknown streams. It only
      // shapes the trace, because the expected output comes from the reference.
      t += hasTokenWithin(tokenTimes, t - STALE_SECONDS, t) ? 1 : 10;
    }
  }
}

function hasTokenWithin(sortedTimes: number[], from: number, to: number): boolean {
  let low = 0;
  let high = sortedTimes.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sortedTimes[middle] as number) < from) low = middle + 1;
    else high = middle;
  }
  return low < sortedTimes.length && (sortedTimes[low] as number) <= to;
}

function idleGaps(random: Random, config: RandomTraceConfig): Array<[start: number, end: number]> {
  const gaps: Array<[number, number]> = [];
  let idleLeft = config.idleFraction * config.durationSeconds;
  while (idleLeft > 30) {
    const length = Math.min(idleLeft, random.uniform(120, 1500));
    const start = random.uniform(0, config.durationSeconds - length);
    gaps.push([start, start + length]);
    idleLeft -= length;
  }
  return gaps.sort((a, b) => a[0] - b[0]);
}

function generateRandomTrace(config: RandomTraceConfig): TraceEvent[] {
  const random = new Random(config.seed);
  const trace = new TraceBuilder(config.durationSeconds, config.timeResolution);
  const gaps = idleGaps(random, config);
  const lifetimes: Lifetime[] = [];
  const recentIds: string[] = [];
  let nextId = 0;

  const beginStream = (begin: number) => {
    const heldStreams = lifetimes.filter(
      (lifetime) => lifetime.begin <= begin && begin < lifetime.release,
    ).length;
    if (heldStreams >= config.maxConcurrentStreams) return;

    // Sometimes the id of a recent stream comes back, whether that stream
    // has ended or is still running (then the begin resets it in place).
    const reused = recentIds.length > 0 && random.chance(0.04);
    const id = reused
      ? (recentIds.splice(random.integer(0, recentIds.length - 1), 1)[0] as string)
      : `s${nextId++}`;
    lifetimes.push(emitStream(random, trace, config, id, begin));
    recentIds.push(id);
    if (recentIds.length > 20) recentIds.shift();
  };

  const arrivals: number[] = [];
  for (let t = random.exponential(60 / config.beginsPerMinute); t < config.durationSeconds; ) {
    const gap = gaps.find(([start, end]) => start <= t && t < end);
    if (gap) {
      t = gap[1];
      continue;
    }
    arrivals.push(t);
    t += random.exponential(60 / config.beginsPerMinute);
  }
  const burstCount = Math.round((config.burstsPerHour * config.durationSeconds) / 3600);
  for (let i = 0; i < burstCount; i++) {
    const start = random.uniform(0, config.durationSeconds);
    for (let n = random.integer(5, 25); n > 0; n--) arrivals.push(start + random.uniform(0, 1));
  }

  for (const begin of arrivals.sort((a, b) => a - b)) beginStream(trace.time(begin));
  emitTicker(random, trace, config);
  return trace.sortedEvents();
}

const fixedEverySecond = (statsProbability: number, intervalProbability: number): Ticker => ({
  kind: 'fixed',
  periodSeconds: 1,
  statsProbability,
  intervalProbability,
});
const fixedEveryTenSeconds: Ticker = {
  kind: 'fixed',
  periodSeconds: 10,
  statsProbability: 1,
  intervalProbability: 1,
};
const adaptive: Ticker = { kind: 'adaptive' };

const base = {
  burstsPerHour: 4,
  idleFraction: 0,
  reportSeconds: [1, 3] as [number, number],
  meanOutputSeconds: 40,
  tickerStart: 1,
  timeResolution: 'ms' as const,
};

// Short traces are busy and ticked every second. Long ones (over an hour, so
// HIGH and LOW expire) report more sparsely so each file stays small.
const randomTraceConfigs: Array<RandomTraceConfig & { summary: string }> = [
  {
    ...base, name: 'random-01-busy-short', seed: 101, durationSeconds: 600, beginsPerMinute: 20,
    maxConcurrentStreams: 40, burstsPerHour: 30, ticker: fixedEverySecond(1, 0.3),
    summary: 'busy 600 s, stats every 1 s',
  },
  {
    ...base, name: 'random-02-busy-short', seed: 202, durationSeconds: 900, beginsPerMinute: 10,
    maxConcurrentStreams: 40, burstsPerHour: 20, ticker: fixedEverySecond(0.6, 0.2), timeResolution: 'float',
    summary: 'busy 900 s, raw float times, 1 s ticks with 60% of the stats kept',
  },
  {
    ...base, name: 'random-03-at-concurrency-cap', seed: 303, durationSeconds: 700, beginsPerMinute: 40,
    maxConcurrentStreams: 40, burstsPerHour: 40, reportSeconds: [2, 5], meanOutputSeconds: 90,
    ticker: fixedEverySecond(0.5, 0.2), summary: 'up to 40 concurrent streams, 700 s',
  },
  {
    ...base, name: 'random-04-stalls-adaptive', seed: 404, durationSeconds: 1500, beginsPerMinute: 3,
    maxConcurrentStreams: 10, idleFraction: 0.4, ticker: adaptive,
    summary: 'sparse 1500 s with idle gaps, hub ticker',
  },
  {
    ...base, name: 'random-05-long-ticker-10s', seed: 505, durationSeconds: 4200, beginsPerMinute: 3,
    maxConcurrentStreams: 20, reportSeconds: [2, 6], idleFraction: 0.2, ticker: fixedEveryTenSeconds,
    summary: '4200 s, stats and interval every 10 s',
  },
  {
    ...base, name: 'random-06-long-ticker-10s', seed: 606, durationSeconds: 5400, beginsPerMinute: 2,
    maxConcurrentStreams: 30, reportSeconds: [3, 8], idleFraction: 0.3, burstsPerHour: 6,
    ticker: fixedEveryTenSeconds, summary: '5400 s, stats and interval every 10 s, bursts',
  },
  {
    ...base, name: 'random-07-long-ticker-10s', seed: 707, durationSeconds: 7000, beginsPerMinute: 1.5,
    maxConcurrentStreams: 40, reportSeconds: [3, 8], idleFraction: 0.35, ticker: fixedEveryTenSeconds,
    tickerStart: 0.37, summary: '7000 s, stats every 10 s from t=0.37 on a float clock',
  },
  {
    ...base, name: 'random-08-long-sampled-1s', seed: 808, durationSeconds: 4500, beginsPerMinute: 2,
    maxConcurrentStreams: 25, reportSeconds: [2, 6], idleFraction: 0.25, ticker: fixedEverySecond(0.1, 0.05),
    summary: '4500 s, 1 s ticks with a tenth of the stats kept',
  },
  {
    ...base, name: 'random-09-long-sampled-1s', seed: 909, durationSeconds: 6000, beginsPerMinute: 1.2,
    maxConcurrentStreams: 15, reportSeconds: [3, 8], idleFraction: 0.3, ticker: fixedEverySecond(0.08, 0.04),
    timeResolution: 'float', summary: '6000 s, raw float times, sampled 1 s ticks',
  },
  {
    ...base, name: 'random-10-long-adaptive', seed: 1010, durationSeconds: 4800, beginsPerMinute: 0.5,
    maxConcurrentStreams: 12, reportSeconds: [4, 10], idleFraction: 0.8, ticker: adaptive,
    summary: '4800 s, mostly idle, hub ticker',
  },
  {
    ...base, name: 'random-11-long-adaptive', seed: 1111, durationSeconds: 6500, beginsPerMinute: 0.4,
    maxConcurrentStreams: 20, reportSeconds: [5, 10], idleFraction: 0.85, burstsPerHour: 2, ticker: adaptive,
    tickerStart: 0.5, summary: '6500 s, mostly idle with bursts, hub ticker',
  },
  {
    ...base, name: 'random-12-short-reports', seed: 1212, durationSeconds: 400, beginsPerMinute: 10,
    maxConcurrentStreams: 30, reportSeconds: [0.1, 0.6], meanOutputSeconds: 15,
    ticker: fixedEverySecond(1, 1), summary: '400 s, frequent progress reports',
  },
  {
    ...base, name: 'random-13-bursts', seed: 1313, durationSeconds: 1200, beginsPerMinute: 2,
    maxConcurrentStreams: 40, burstsPerHour: 60, reportSeconds: [2, 5], ticker: fixedEverySecond(0.5, 0.5),
    summary: '1200 s of bursts of begins',
  },
  {
    ...base, name: 'random-14-long-ticker-10s-float', seed: 1414, durationSeconds: 4000, beginsPerMinute: 2.5,
    maxConcurrentStreams: 40, reportSeconds: [2, 6], idleFraction: 0.15, burstsPerHour: 8,
    ticker: fixedEveryTenSeconds, timeResolution: 'float', tickerStart: 0.1,
    summary: '4000 s, raw float times, 10 s ticks from t=0.1',
  },
  {
    ...base, name: 'random-15-long-sampled-1s', seed: 1515, durationSeconds: 6800, beginsPerMinute: 1,
    maxConcurrentStreams: 40, reportSeconds: [4, 10], meanOutputSeconds: 80, idleFraction: 0.4,
    burstsPerHour: 5, ticker: fixedEverySecond(0.06, 0.03),
    summary: '6800 s, long streams, sampled 1 s ticks',
  },
  {
    ...base, name: 'random-16-medium-adaptive', seed: 1616, durationSeconds: 2400, beginsPerMinute: 3,
    maxConcurrentStreams: 25, reportSeconds: [3, 7], idleFraction: 0.6, ticker: adaptive,
    summary: '2400 s, hub ticker, half idle',
  },
  {
    ...base, name: 'random-17-ticker-10s-busy', seed: 1717, durationSeconds: 3000, beginsPerMinute: 8,
    maxConcurrentStreams: 40, reportSeconds: [4, 9], burstsPerHour: 10, ticker: fixedEveryTenSeconds,
    summary: '3000 s busy, 10 s ticks',
  },
  {
    ...base, name: 'random-18-long-mixed', seed: 1818, durationSeconds: 5000, beginsPerMinute: 1.5,
    maxConcurrentStreams: 30, reportSeconds: [3, 7], idleFraction: 0.3, ticker: fixedEverySecond(0.1, 0.1),
    tickerStart: 0.25, summary: '5000 s, sampled 1 s ticks from t=0.25',
  },
  {
    ...base, name: 'random-19-short-float', seed: 1919, durationSeconds: 500, beginsPerMinute: 12,
    maxConcurrentStreams: 20, reportSeconds: [0.3, 1.5], meanOutputSeconds: 20,
    ticker: fixedEverySecond(1, 0.5), timeResolution: 'float', tickerStart: 0.7,
    summary: '500 s, raw float times, 1 s ticks from t=0.7',
  },
  {
    ...base, name: 'random-20-long-ticker-10s', seed: 2020, durationSeconds: 6200, beginsPerMinute: 1.2,
    maxConcurrentStreams: 40, reportSeconds: [4, 9], idleFraction: 0.3, burstsPerHour: 4,
    ticker: fixedEveryTenSeconds, summary: '6200 s, 10 s ticks',
  },
  {
    ...base, name: 'random-21-many-short-streams', seed: 2121, durationSeconds: 800, beginsPerMinute: 30,
    maxConcurrentStreams: 40, meanOutputSeconds: 8, reportSeconds: [0.5, 2],
    ticker: fixedEverySecond(0.7, 0.3), summary: '800 s of many short streams',
  },
  {
    ...base, name: 'random-22-long-adaptive-busy', seed: 2222, durationSeconds: 3900, beginsPerMinute: 1.2,
    maxConcurrentStreams: 15, reportSeconds: [4, 9], idleFraction: 0.75, burstsPerHour: 4, ticker: adaptive,
    summary: '3900 s, hub ticker',
  },
];

function describeRandomTrace(config: RandomTraceConfig & { summary: string }): string {
  return (
    `Seeded random trace (seed ${config.seed}): ${config.summary}. Up to ${config.maxConcurrentStreams} ` +
    'concurrent streams with reasoning, tokenless and one-token streams, stalls past the stale window, ' +
    're-begins, reused ids and late tokens.'
  );
}

function writeCase({ name, description, events }: TraceCase): 'unchanged' | 'written' {
  checkTimeOrder(name, events);
  if (existsSync(traceFilePath(name))) {
    const existing = readTraceFile(name);
    const sameEvents = JSON.stringify(existing.events) === JSON.stringify(events);
    if (sameEvents && existing.description === description) return 'unchanged';
  }
  writeTraceFile(name, formatTraceFile(description, events));
  return 'written';
}

function checkTimeOrder(name: string, events: readonly TraceEvent[]): void {
  events.forEach((event, index) => {
    const previous = events[index - 1];
    if (previous && event[0] < previous[0]) {
      throw new Error(`Trace ${name}: event ${index} at t=${event[0]} comes before t=${previous[0]}.`);
    }
  });
}

function main(): void {
  mkdirSync(tracesDirectory, { recursive: true });
  const cases: TraceCase[] = [
    ...handWrittenTraces,
    ...randomTraceConfigs.map((config) => ({
      name: config.name,
      description: describeRandomTrace(config),
      events: generateRandomTrace(config),
    })),
  ];

  const names = new Set<string>();
  for (const traceCase of cases) {
    if (names.has(traceCase.name)) throw new Error(`Duplicate trace name ${traceCase.name}.`);
    names.add(traceCase.name);
    const outcome = writeCase(traceCase);
    console.log(`${outcome.padEnd(9)} ${traceCase.name} (${traceCase.events.length} events)`);
  }
}

main();
