// Load generator of the ingest benchmark, run as a child process:
//
//     node --import tsx test/bench/load/ingest-publisher.ts '{"redisUrl": ..., "node": ..., ...}'
//
// Pipelines PUBLISH commands of update messages for a fixed set of streams
// until the parent sends { type: 'stop' } over IPC. It then publishes one
// final message and replies { type: 'stopped', ...IngestPublisherReport }.
//
// Redis acknowledges a PUBLISH once the message sits in each subscriber's
// output buffer, not once the subscriber has read it, so an unpaced
// publisher would grow that buffer until Redis disconnects the subscriber.
// This one pauses while any pub/sub client's output buffer (CLIENT LIST
// omem) is above maxBacklogBytes: the subscriber always has a backlog to
// read, so it runs at its own maximum rate, and no message is dropped.
import { Redis } from 'ioredis';

/** Settings, passed as JSON in argv[2]. */
export interface IngestPublisherOptions {
  redisUrl: string;
  channel: string;
  node: string;
  /** Streams in every message, with ids s-0 … s-(n-1). */
  streamsPerMessage: number;
  /** PUBLISH commands per pipeline. */
  pipelineDepth: number;
  /** Output-buffer bytes of a subscriber above which publishing pauses. */
  maxBacklogBytes: number;
  /** Ms per token in every message but the last. */
  interimMsPerToken: number;
  /**
   * Ms per token in the final message. It differs from the interim value,
   * so the rate the hub shows afterwards tells whether it applied the last
   * message.
   */
  finalMsPerToken: number;
}

/** What the publisher sent, replied to the stop request. */
export interface IngestPublisherReport {
  /** Messages published, the final one included. */
  messages: number;
  /** Running output count of every stream in the final message. */
  finalOut: number;
  /** Ms spent paused because a subscriber's backlog was full. */
  pausedMs: number;
}

// Node-clock time of every stream's first token. Any fixed value works,
// because the hub uses only differences of one node's clock.
const FIRST_TOKEN_AT_MS = 1_700_000_000_000;

/**
 * Encodes one message in which every stream has `out` output tokens and
 * its latest token `out × msPerToken` after the first. The text is built
 * from fixed pieces, so the publisher spends its time publishing.
 */
function encodeIngestMessage(node: string, streams: number, out: number, msPerToken: number): string {
  const lastAt = FIRST_TOKEN_AT_MS + out * msPerToken;
  const tail = `,"firstAt":${FIRST_TOKEN_AT_MS},"lastAt":${lastAt},"out":${out},"reasoning":0,"ended":false}`;
  const entries: string[] = [];
  for (let index = 0; index < streams; index++) {
    entries.push(`{"id":"s-${index}","beganAt":${FIRST_TOKEN_AT_MS - 500}${tail}`);
  }
  return `{"v":1,"node":${JSON.stringify(node)},"streams":[${entries.join(',')}]}`;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as IngestPublisherOptions;
  const publisher = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const monitor = new Redis(options.redisUrl);

  let stopping = false;
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') stopping = true;
  });

  let backlogFull = false;
  const watchBacklog = setInterval(() => {
    monitor.call('CLIENT', 'LIST', 'TYPE', 'pubsub').then((list) => {
      const sizes = [...String(list).matchAll(/ omem=(\d+)/g)].map((match) => Number(match[1]));
      backlogFull = sizes.some((bytes) => bytes > options.maxBacklogBytes);
    }, (error: unknown) => {
      process.stderr.write(`ingest-publisher ${options.node}: CLIENT LIST failed: ${String(error)}\n`);
    });
  }, 10);

  let out = 0;
  let messages = 0;
  let pausedMs = 0;
  while (!stopping) {
    if (backlogFull) {
      const pausedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 2));
      pausedMs += performance.now() - pausedAt;
      continue;
    }
    const pipeline = publisher.pipeline();
    for (let index = 0; index < options.pipelineDepth; index++) {
      out += 1;
      pipeline.publish(options.channel, encodeIngestMessage(options.node, options.streamsPerMessage, out, options.interimMsPerToken));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0] as Error;
    messages += options.pipelineDepth;
  }
  clearInterval(watchBacklog);

  // The final count is above every earlier one, so the hub must apply it.
  out += 1;
  await publisher.publish(options.channel, encodeIngestMessage(options.node, options.streamsPerMessage, out, options.finalMsPerToken));
  messages += 1;

  const report: IngestPublisherReport = { messages, finalOut: out, pausedMs };
  process.send?.({ type: 'stopped', ...report });
  await Promise.all([publisher.quit(), monitor.quit()]);
  process.disconnect?.();
}

main().catch((error: unknown) => {
  process.stderr.write(`ingest-publisher failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
