// Load generator of the fleet-scale benchmark: simulates `--nodes` chat
// nodes that each keep `--streams-per-node` streams in flight and publish
// them to Redis every `--flush-ms`. A stream that reaches its length ends,
// and a new one takes its place, so the number in flight stays constant.
//
//     node --import tsx test/bench/load/fleet-scale-nodes.ts \
//       --redis redis://127.0.0.1:6379 --first-node 0 --nodes 500
//
// It prints one JSON line `{"ready":true}` once connected and, after
// SIGTERM or SIGINT, one JSON line of counters before it exits.
//
// `--mode publisher` (the default) runs one real `createPublisher` per node,
// all sharing one ioredis connection. `--mode raw` builds each node's
// message by hand and publishes it with ioredis, for when the publisher
// cannot keep up and the hub is what is measured.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { createPublisher, DEFAULT_CHANNEL, type Publisher } from '@metering-hub/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    redis: { type: 'string' },
    'first-node': { type: 'string', default: '0' },
    nodes: { type: 'string', default: '500' },
    'streams-per-node': { type: 'string', default: '50' },
    'flush-ms': { type: 'string', default: '100' },
    mode: { type: 'string', default: 'publisher' },
  },
});

function integerOption(name: string, value: string | undefined, min: number): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    process.stderr.write(`fleet-scale-nodes: invalid --${name} "${value}": expected an integer of at least ${min}.\n`);
    process.exit(2);
  }
  return parsed;
}

const redisUrl = values.redis;
if (!redisUrl) {
  process.stderr.write('fleet-scale-nodes: missing --redis, the URL of the Redis to publish on.\n');
  process.exit(2);
}
const mode = values.mode;
if (mode !== 'publisher' && mode !== 'raw') {
  process.stderr.write(`fleet-scale-nodes: invalid --mode "${mode}": expected publisher or raw.\n`);
  process.exit(2);
}
const firstNode = integerOption('first-node', values['first-node'], 0);
const nodeCount = integerOption('nodes', values.nodes, 1);
const streamsPerNode = integerOption('streams-per-node', values['streams-per-node'], 1);
const flushMs = integerOption('flush-ms', values['flush-ms'], 1);

const models = ['llama-3.1-70b', 'qwen-2.5-32b', 'deepseek-r1'];
// Output lengths and rates give streams of 4 to 40 s, so several thousand
// streams end and begin every second across the fleet.
const ttftMs = { min: 200, max: 800 };
const tokensPerSecond = { min: 30, max: 50 };
const streamLength = { min: 200, max: 1_200 };
// deepseek-r1 streams send this share of their tokens as reasoning first.
const reasoningShare = 0.4;

interface SimulatedStream {
  id: string;
  model: string;
  beganAt: number;
  firstAt: number;
  rate: number;
  length: number;
  out: number;
  reasoning: number;
}

interface SimulatedNode {
  id: string;
  streams: SimulatedStream[];
  nextStream: number;
  publisher: Publisher | undefined;
}

const nodeClock = () => performance.timeOrigin + performance.now();
const uniform = (range: { min: number; max: number }) => range.min + Math.random() * (range.max - range.min);

function newStream(node: SimulatedNode, now: number): SimulatedStream {
  node.nextStream += 1;
  return {
    id: `s-${node.nextStream}`,
    model: models[node.nextStream % models.length]!,
    beganAt: now,
    firstAt: now + uniform(ttftMs),
    rate: uniform(tokensPerSecond),
    length: Math.round(uniform(streamLength)),
    out: 0,
    reasoning: 0,
  };
}

// Sets the running totals the stream has reached at `now`. Returns true
// once it has all its tokens.
function advance(stream: SimulatedStream, now: number): boolean {
  if (now < stream.firstAt) return false;
  const tokens = Math.min(stream.length, 1 + Math.floor((now - stream.firstAt) / 1000 * stream.rate));
  if (stream.model === 'deepseek-r1') {
    const reasoningLength = Math.round(stream.length * reasoningShare);
    stream.reasoning = Math.min(tokens, reasoningLength);
    stream.out = tokens - stream.reasoning;
  } else {
    stream.out = tokens;
  }
  return tokens >= stream.length;
}

const client = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
await client.connect();
const logger = pino({ level: 'warn' });

const nodes: SimulatedNode[] = [];
const startedAt = nodeClock();
for (let i = 0; i < nodeCount; i++) {
  const node: SimulatedNode = { id: `node-${firstNode + i}`, streams: [], nextStream: 0, publisher: undefined };
  if (mode === 'publisher') {
    node.publisher = createPublisher({ nodeId: node.id, redis: client, flushIntervalMs: flushMs, logger });
  }
  for (let s = 0; s < streamsPerNode; s++) {
    const stream = newStream(node, startedAt);
    // The first streams get a random share of a full length, so they do not
    // all end together and the fleet soon reaches its steady turnover. They
    // start from zero rather than midway, because a publisher times tokens
    // itself and a midway count would arrive as one implausible burst.
    stream.length = Math.max(1, Math.round(stream.length * Math.random()));
    node.streams.push(stream);
    node.publisher?.begin(stream.id, { model: stream.model });
  }
  nodes.push(node);
}

const counters = { messagesSent: 0, streamsEnded: 0, updatesSent: 0 };

// Publisher mode: the driver only records each stream's totals, and every
// publisher sends what changed on its own flush timer.
function driveWithPublisher(node: SimulatedNode, now: number): void {
  const publisher = node.publisher!;
  for (let s = 0; s < node.streams.length; s++) {
    const stream = node.streams[s]!;
    const done = advance(stream, now);
    if (stream.reasoning > 0) publisher.reasoning(stream.id, stream.reasoning);
    if (stream.out > 0) publisher.token(stream.id, stream.out);
    if (done) {
      publisher.end(stream.id);
      counters.streamsEnded += 1;
      const next = newStream(node, now);
      node.streams[s] = next;
      publisher.begin(next.id, { model: next.model });
    }
  }
}

// Raw mode: the whole state of every stream, once per flush, in one message
// per node. A stream that ended is sent once with `ended: true`.
function driveRaw(node: SimulatedNode, now: number): void {
  const parts: string[] = [];
  for (let s = 0; s < node.streams.length; s++) {
    const stream = node.streams[s]!;
    const done = advance(stream, now);
    const started = now >= stream.firstAt;
    const firstAt = started ? stream.firstAt : null;
    const lastAt = started ? now : null;
    parts.push(`{"id":"${stream.id}","model":"${stream.model}","beganAt":${stream.beganAt},"firstAt":${firstAt},`
      + `"lastAt":${lastAt},"out":${stream.out},"reasoning":${stream.reasoning},"ended":${done}}`);
    if (done) {
      counters.streamsEnded += 1;
      node.streams[s] = newStream(node, now);
    }
  }
  counters.updatesSent += parts.length;
  counters.messagesSent += 1;
  void client.publish(DEFAULT_CHANNEL, `{"v":1,"node":"${node.id}","streams":[${parts.join(',')}]}`);
}

// Nodes are split into ten slices driven in turn, so the nodes of one
// process do not all publish in the same instant.
const slices = 10;
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let slice = 0;
const driver = setInterval(() => {
  const now = nodeClock();
  for (let i = slice; i < nodes.length; i += slices) {
    if (mode === 'publisher') driveWithPublisher(nodes[i]!, now);
    else driveRaw(nodes[i]!, now);
  }
  slice = (slice + 1) % slices;
}, flushMs / slices);

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(driver);
  delay.disable();
  // Every node sends `bye` (a publisher with its last state), so the hub
  // ends the node's streams at once instead of waiting 60 s for them to go stale.
  if (mode === 'publisher') {
    await Promise.all(nodes.map((node) => node.publisher!.close()));
    for (const node of nodes) counters.messagesSent += node.publisher!.stats.messagesSent;
  } else {
    await Promise.all(nodes.map((node) => client.publish(DEFAULT_CHANNEL, `{"v":1,"node":"${node.id}","streams":[],"bye":true}`)));
  }
  await client.quit();
  const report = {
    ...counters,
    seconds: (nodeClock() - startedAt) / 1000,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`fleet-scale-nodes: stop failed: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
