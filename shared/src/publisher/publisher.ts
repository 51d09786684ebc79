import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { type Bus, BusError } from '../bus/bus.js';
import { RedisBus } from '../bus/redis-bus.js';
import { createRootLogger, LogThrottle } from '../logging.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../contract/decode-update.js';
import { DEFAULT_CHANNEL, type StreamUpdate } from '../contract/update-message.js';
import { encodeBatches } from './message-batches.js';

export interface PublisherOptions {
  /** Node id, 1-128 characters, unique in the fleet. */
  nodeId: string;
  /** Redis to publish on: an ioredis client (left open on close) or a URL. */
  redis?: Redis | string;
  /** A bus to publish on instead of Redis, such as the in-process bus. */
  bus?: Bus;
  /** Channel to publish on. @default 'metering:updates' */
  channel?: string;
  /** Milliseconds between flushes; each flush sends at most one message. @default 100 */
  flushIntervalMs?: number;
  /**
   * Maximum streams in one message. A flush with more changed streams sends
   * several messages, so none grows past what a hub accepts. @default 1_000
   */
  maxStreamsPerMessage?: number;
  /**
   * Maximum message length, in characters, matching the hub's
   * MAX_MESSAGE_BYTES. A flush past it sends several messages.
   * @default 1_048_576
   */
  maxMessageBytes?: number;
  /**
   * Ms `close()` waits for the bus to come up, when it is down, before it
   * gives up on sending the last state. @default 2_000
   */
  closeTimeoutMs?: number;
  /**
   * Maximum streams held, live or ended but not yet sent. `begin` past it is
   * dropped and logged, so memory stays bounded. @default 100_000
   */
  maxStreams?: number;
  /** Node clock in ms since the epoch. @default performance.timeOrigin + performance.now() */
  now?: () => number;
  /** Logger; the publisher logs through a child of it. @default a pino logger at LOG_LEVEL */
  logger?: Logger;
}

const defaults = {
  channel: DEFAULT_CHANNEL,
  flushIntervalMs: 100,
  maxStreamsPerMessage: 1_000,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  closeTimeoutMs: 2_000,
  maxStreams: 100_000,
};

/** Counters a node can export or log. */
export interface PublisherStats {
  messagesSent: number;
  publishFailures: number;
  /** Calls ignored because their arguments were invalid or over a limit. */
  callsIgnored: number;
  /** Streams whose latest state waits to be sent. */
  pending: number;
}

/** The calls a chat node makes while it streams model output. None of them throws. */
export interface Publisher {
  /** Starts a stream. The model label is optional. */
  begin(id: string, info?: { model?: string }): void;
  /** Records the running count of output tokens, timed now. */
  token(id: string, runningOutput: number): void;
  /** Records the running count of reasoning tokens, timed now. */
  reasoning(id: string, runningReasoning: number): void;
  /** Ends a stream. */
  end(id: string): void;
  /** Sends what changed since the last flush now. Never rejects. */
  flush(): Promise<void>;
  /** Sends the last state with `bye`, stops the timer, releases connections. */
  close(): Promise<void>;
  /** Whether the bus accepts messages now; while false, flushes keep the state. */
  readonly ready: boolean;
  readonly stats: Readonly<PublisherStats>;
}

interface StreamState extends StreamUpdate {}

/** Creates the publisher a chat node uses to report its streams to the hubs. */
export function createPublisher(options: PublisherOptions): Publisher {
  return new BatchingPublisher(options);
}

export class PublisherConfigError extends Error {
  override readonly name = 'PublisherConfigError';
  readonly code = 'INVALID_PUBLISHER_OPTIONS';
}

class BatchingPublisher implements Publisher {
  private readonly nodeId: string;
  private readonly bus: Bus;
  private readonly ownsBus: boolean;
  private readonly channel: string;
  private readonly limits: { maxStreams: number; maxChars: number };
  private readonly closeTimeoutMs: number;
  private readonly maxStreams: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private readonly streams = new Map<string, StreamState>();
  private readonly dirty = new Set<string>();
  // Streams already published, so an id begun again is ended first.
  private readonly published = new WeakSet<StreamState>();
  // Ends of streams whose id was begun again before the end was sent.
  private replacedEnds: StreamState[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly counters = { messagesSent: 0, publishFailures: 0, callsIgnored: 0 };

  constructor(options: PublisherOptions) {
    checkOptions(options);
    this.nodeId = options.nodeId;
    this.channel = options.channel ?? defaults.channel;
    this.limits = {
      maxStreams: options.maxStreamsPerMessage ?? defaults.maxStreamsPerMessage,
      maxChars: options.maxMessageBytes ?? defaults.maxMessageBytes,
    };
    this.closeTimeoutMs = options.closeTimeoutMs ?? defaults.closeTimeoutMs;
    this.maxStreams = options.maxStreams ?? defaults.maxStreams;
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.log = (options.logger ?? createRootLogger()).child({ module: 'publisher', node: this.nodeId });

    this.ownsBus = !options.bus;
    this.bus = options.bus ?? new RedisBus({
      ...(typeof options.redis === 'string' ? { url: options.redis } : { client: options.redis }),
      logger: this.log,
    });

    const interval = options.flushIntervalMs ?? defaults.flushIntervalMs;
    this.timer = setInterval(() => void this.flush(), interval);
    // A publisher alone must not keep a chat server's process alive.
    this.timer.unref();
  }

  get ready(): boolean {
    return !this.closed && this.bus.isReady();
  }

  get stats(): PublisherStats {
    return { ...this.counters, pending: this.dirty.size };
  }

  begin(id: string, info?: { model?: string }): void {
    this.guard('begin', () => this.startStream(id, info));
  }

  token(id: string, runningOutput: number): void {
    this.guard('token', () => this.record('token', id, 'out', runningOutput));
  }

  reasoning(id: string, runningReasoning: number): void {
    this.guard('reasoning', () => this.record('reasoning', id, 'reasoning', runningReasoning));
  }

  end(id: string): void {
    this.guard('end', () => this.endStream(id));
  }

  flush(): Promise<void> {
    // One flush at a time keeps messages in order on the wire.
    this.flushing ??= this.sendDirty().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);

    await this.flushing;
    await this.waitForBus(this.closeTimeoutMs);
    await this.sendDirty(true);
    if (this.ownsBus) await this.bus.close();
  }

  private startStream(id: string, info: { model?: string } | undefined): void {
    if (!this.acceptId('begin', id)) return;
    const existing = this.streams.get(id);
    if (!existing && this.streams.size >= this.maxStreams) {
      this.ignore('begin', 'too many streams held', { id, maxStreams: this.maxStreams });
      return;
    }
    if (existing && this.published.has(existing)) {
      // The hubs know the old stream, so it ends before the new one begins.
      // The end goes in an earlier message because an id may appear only
      // once per message.
      existing.ended = true;
      this.replacedEnds.push(existing);
    }

    const label = info?.model;
    const model = typeof label === 'string' && label.length >= 1 && label.length <= 128 ? label : undefined;
    this.streams.set(id, {
      id,
      ...(model ? { model } : {}),
      beganAt: this.now(),
      firstAt: null,
      lastAt: null,
      out: 0,
      reasoning: 0,
      ended: false,
    });
    this.dirty.add(id);
  }

  private endStream(id: string): void {
    const stream = this.streams.get(id);
    if (!stream || stream.ended) {
      this.ignore('end', 'unknown or ended stream', { id });
      return;
    }
    stream.ended = true;
    this.dirty.add(id);
  }

  private record(call: string, id: string, field: 'out' | 'reasoning', running: number): void {
    if (!this.acceptId(call, id)) return;
    if (!Number.isSafeInteger(running) || running < 0) {
      this.ignore(call, 'count is not a non-negative integer', { id, running });
      return;
    }

    let stream = this.streams.get(id);
    if (!stream) {
      // A token for a stream that was never begun starts it, so a missed
      // begin() costs nothing but the time before the first token.
      this.begin(id);
      stream = this.streams.get(id);
      if (!stream) return;
    }
    if (stream.ended) {
      this.ignore(call, 'stream already ended', { id });
      return;
    }
    if (running < stream[field]) {
      this.ignore(call, 'running count went down', { id, running, held: stream[field] });
      return;
    }

    const now = this.now();
    stream[field] = running;
    stream.firstAt ??= now;
    stream.lastAt = now;
    this.dirty.add(id);
  }

  private async sendDirty(bye = false): Promise<void> {
    if (this.dirty.size === 0 && this.replacedEnds.length === 0 && !bye) return;
    if (!this.bus.isReady() && !bye) return;

    const replaced = this.replacedEnds;
    this.replacedEnds = [];
    const current = [...this.dirty].flatMap((id) => this.streams.get(id) ?? []);
    this.dirty.clear();
    const batches = [
      ...(replaced.length > 0 ? encodeBatches(this.nodeId, replaced, this.limits) : []).map((batch) => ({ ...batch, replaced: true })),
      ...encodeBatches(this.nodeId, current, this.limits, bye).map((batch) => ({ ...batch, replaced: false })),
    ];

    for (const [index, batch] of batches.entries()) {
      try {
        await this.bus.publish(this.channel, batch.text);
        this.counters.messagesSent += 1;
        if (!batch.replaced) this.markPublished(batch.entries);
      } catch (error) {
        this.keepUnsent(batches.slice(index));
        this.reportPublishFailure(error, bye);
        return;
      }
    }
  }

  // Unsent streams keep their latest state, so the next flush after the
  // bus is back sends it once; nothing accumulates meanwhile.
  private keepUnsent(unsent: { entries: StreamState[]; replaced: boolean }[]): void {
    const replaced = unsent.filter((batch) => batch.replaced).flatMap((batch) => batch.entries);
    this.replacedEnds = [...replaced, ...this.replacedEnds];
    for (const batch of unsent) {
      if (batch.replaced) continue;
      for (const stream of batch.entries) {
        if (this.streams.get(stream.id) === stream) this.dirty.add(stream.id);
      }
    }
  }

  private reportPublishFailure(error: unknown, bye: boolean): void {
    this.counters.publishFailures += 1;
    const failure = describeFailure(error);
    if (bye) {
      this.log.warn({ ...failure, unsent: this.dirty.size }, 'Final publish on close failed; the hubs drop these streams once they go stale');
      return;
    }
    const heldBack = this.throttle.admit('publish');
    if (heldBack !== undefined) {
      this.log.warn({ ...failure, heldBack, pending: this.dirty.size }, 'Publish failed; the latest state is kept for the next flush');
    }
  }

  private markPublished(streams: StreamState[]): void {
    for (const stream of streams) {
      this.published.add(stream);
      // An ended stream is forgotten once sent, unless it was begun again.
      if (stream.ended && this.streams.get(stream.id) === stream && !this.dirty.has(stream.id)) {
        this.streams.delete(stream.id);
      }
    }
  }

  private async waitForBus(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.bus.isReady() && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  // Public calls never throw into the chat server, whatever they are given.
  private guard(call: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.ignore(call, 'unexpected error', { err: error });
    }
  }

  private acceptId(call: string, id: unknown): id is string {
    if (this.closed) {
      this.ignore(call, 'publisher is closed', {});
      return false;
    }
    if (typeof id !== 'string' || id.length < 1 || id.length > 256) {
      const shown = typeof id === 'string' ? id.slice(0, 300) : `a value of type ${typeof id}`;
      this.ignore(call, 'stream id must be a string of 1-256 characters', { id: shown });
      return false;
    }
    return true;
  }

  private ignore(call: string, reason: string, fields: object): void {
    this.counters.callsIgnored += 1;
    const heldBack = this.throttle.admit(`${call}:${reason}`);
    if (heldBack !== undefined) {
      this.log.warn({ ...fields, call, reason, heldBack }, 'Publisher call ignored');
    }
  }
}

function checkOptions(options: PublisherOptions): void {
  const { nodeId, redis, bus, flushIntervalMs, maxStreamsPerMessage, maxStreams } = options;
  if (typeof nodeId !== 'string' || nodeId.length < 1 || nodeId.length > 128) {
    throw new PublisherConfigError(`Invalid nodeId ${JSON.stringify(nodeId)}: expected a string of 1-128 characters.`);
  }
  if ((redis === undefined) === (bus === undefined)) {
    throw new PublisherConfigError('Invalid publisher options: pass exactly one of redis (client or URL) and bus.');
  }
  for (const [name, value, min] of [
    ['flushIntervalMs', flushIntervalMs, 1],
    ['maxStreamsPerMessage', maxStreamsPerMessage, 1],
    ['maxStreams', maxStreams, 1],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new PublisherConfigError(`Invalid ${name} ${JSON.stringify(value)}: expected an integer of at least ${min}.`);
    }
  }
}

// A bus error is an expected state (Redis down, a refused publish). Its
// code and message are the whole story, and a stack would only fill the log.
function describeFailure(error: unknown): { code: string; reason: string } | { err: unknown } {
  return error instanceof BusError ? { code: error.code, reason: error.message } : { err: error };
}
