import {
  decodeUpdateMessage,
  DEFAULT_MAX_MESSAGE_BYTES,
  type Logger,
  LogThrottle,
  REJECT_REASONS,
  type RejectReason,
  type StreamUpdate,
  type UpdateMessage,
} from '@metering-hub/shared';

import type { Meter } from '../meter/meter.js';
import { EVICT_REASONS, type EvictReason, StreamCaps } from './stream-caps.js';
import { StreamKeys } from './stream-key.js';

export type { EvictReason } from './stream-caps.js';

export interface IngestOptions {
  meter: Meter;
  logger: Logger;
  /** Largest message accepted, in bytes. @default 1_048_576 */
  maxMessageBytes?: number;
  /**
   * Highest per-stream rate accepted, tokens per second. An update implying
   * more (such as many tokens within a microsecond) is ignored, because one
   * such reading would pin HIGH for an hour. @default 100_000
   */
  maxStreamRate?: number;
  /**
   * Maximum number of streams held for one node. A new stream past it ends
   * that node's oldest stream, so one node flooding stream ids cannot crowd
   * out the others. @default 10_000
   */
  maxStreamsPerNode?: number;
  /**
   * Maximum number of streams held in total. A new stream past it ends the
   * oldest stream of any node. @default 200_000
   */
  maxStreams?: number;
  /**
   * Maximum time from a stream's first to its latest token, ms on the
   * node's clock. An update spanning more is ignored: such a span comes
   * from a timestamp far off, and a rate over it would drag the mean
   * toward 0. @default 86_400_000 (24 h)
   */
  maxStreamDurationMs?: number;
  /**
   * Maximum time, ms on the node's clock, by which `beganAt` may follow
   * `firstAt`. An update past it is ignored because its time to first token
   * would be negative. The margin allows for a node that reads the two
   * times from different clocks. @default 1_000
   */
  maxNegativeTtftMs?: number;
  /**
   * Called for each stream whose first token the hub learns of, with its
   * time to first token and how long ago (ms, node clock) that token came.
   */
  onFirstToken?: (ttftMs: number, agoMs: number) => void;
}

/** Defaults of the optional settings of `IngestOptions`. */
export const ingestDefaults = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxStreamRate: 100_000,
  maxStreamsPerNode: 10_000,
  maxStreams: 200_000,
  maxStreamDurationMs: 86_400_000,
  maxNegativeTtftMs: 1_000,
};

// A stream adopted mid-flight counts toward TTFT only if its first token
// is this recent; older ones are outside any window worth reporting.
const ADOPTED_TTFT_MAX_AGE_MS = 60_000;

/** Entries ignored inside an accepted message, by reason. */
export type IgnoreReason =
  | 'after_end'
  | 'count_regressed'
  | 'ended_unknown'
  | 'implausible_rate'
  | 'implausible_duration'
  | 'negative_ttft';

export const IGNORE_REASONS: readonly IgnoreReason[] = [
  'after_end',
  'count_regressed',
  'ended_unknown',
  'implausible_rate',
  'implausible_duration',
  'negative_ttft',
];

export interface IngestStats {
  messagesReceived: number;
  messagesAccepted: number;
  /** Stream entries applied to the meter. */
  updatesApplied: number;
  /** Streams met for the first time with tokens already counted. */
  streamsAdopted: number;
  /** Messages with `bye`: a node shut down and its streams ended. */
  byes: number;
  rejected: Record<RejectReason, number>;
  ignored: Record<IgnoreReason, number>;
  /** Streams ended to make room for new ones under `maxStreamsPerNode` or `maxStreams`. */
  evicted: number;
  /** `evicted` by the cap that was reached. */
  evictedBy: Record<EvictReason, number>;
}

/**
 * Applies node messages to the meter. Every message is untrusted: it is
 * decoded and checked first, and a rejected one changes nothing.
 *
 * Entries carry running totals, so a lost or repeated message does no harm:
 * the meter takes the latest totals, and a total lower than the one held
 * (a late or reordered message) is ignored.
 */
export class Ingest {
  readonly stats: IngestStats = {
    messagesReceived: 0,
    messagesAccepted: 0,
    updatesApplied: 0,
    streamsAdopted: 0,
    byes: 0,
    rejected: zeroCounts(REJECT_REASONS),
    ignored: zeroCounts(IGNORE_REASONS),
    evicted: 0,
    evictedBy: zeroCounts(EVICT_REASONS),
  };

  private readonly meter: Meter;
  private readonly log: Logger;
  private readonly maxMessageBytes: number;
  private readonly throttle = new LogThrottle();
  private readonly onFirstToken: (ttftMs: number, agoMs: number) => void;
  private readonly maxStreamRate: number;
  private readonly maxStreamsPerNode: number;
  private readonly maxStreams: number;
  private readonly maxStreamDurationMs: number;
  private readonly maxNegativeTtftMs: number;
  private readonly caps: StreamCaps;
  private readonly keys: StreamKeys;
  /**
   * `beganAt` of streams that ended, by key, so that a late or repeated
   * update of one does not bring it back. A stream begun again under the
   * same id has a later `beganAt` and passes. Bounded by `maxStreams`,
   * oldest first out.
   */
  private readonly ended = new Map<string, number>();

  /** @throws RangeError naming the option when a limit is out of range. */
  constructor(options: IngestOptions) {
    this.maxStreamRate = options.maxStreamRate ?? ingestDefaults.maxStreamRate;
    this.maxStreamsPerNode = checkedLimit(options, 'maxStreamsPerNode', { integer: true, min: 1 });
    this.maxStreams = checkedLimit(options, 'maxStreams', { integer: true, min: 1 });
    this.maxStreamDurationMs = checkedLimit(options, 'maxStreamDurationMs', { integer: false, min: 1 });
    this.maxNegativeTtftMs = checkedLimit(options, 'maxNegativeTtftMs', { integer: false, min: 0 });
    this.onFirstToken = options.onFirstToken ?? (() => {});
    this.meter = options.meter;
    this.caps = new StreamCaps(this.meter, this.maxStreamsPerNode, this.maxStreams);
    this.keys = new StreamKeys((key) => this.meter.has(key), () => this.meter.size);
    this.log = options.logger.child({ module: 'ingest' });
    this.maxMessageBytes = options.maxMessageBytes ?? ingestDefaults.maxMessageBytes;
  }

  /**
   * Decodes and applies one raw message. Returns whether it carried tokens
   * of a stream still in flight. Never throws.
   */
  handle(raw: string): boolean {
    this.stats.messagesReceived += 1;
    const result = decodeUpdateMessage(raw, this.maxMessageBytes);
    if (!result.ok) {
      this.stats.rejected[result.reason] += 1;
      this.warnOnce(result.reason, { detail: result.detail, bytes: raw.length }, 'Update message rejected');
      return false;
    }

    this.stats.messagesAccepted += 1;
    return this.apply(result.message);
  }

  /** Applies a message that passed decoding, as `handle` does. */
  apply(message: UpdateMessage): boolean {
    let carriedTokens = false;
    try {
      for (const entry of message.streams) {
        // Only an applied entry counts: one the rules ignored must not cost
        // the hub what a new token does (the tick's pace is asked again).
        if (this.applyEntry(message.node, entry) && entry.lastAt !== null) carriedTokens = true;
      }
    } finally {
      this.caps.release();
    }
    if (message.bye) this.endNode(message.node);
    return carriedTokens;
  }

  /** Returns whether the entry updated a stream in flight. */
  private applyEntry(node: string, entry: StreamUpdate): boolean {
    const key = this.keys.key(node, entry.id);
    const held = this.meter.peek(key);
    const known = held !== undefined;

    if (entry.ended) {
      if (!known) this.stats.ignored.ended_unknown += 1;
      this.meter.end(key);
      this.keys.forget(node, entry.id);
      this.rememberEnd(key, entry.beganAt);
      return false;
    }

    if (!known && this.endedBefore(key, entry.beganAt)) {
      this.stats.ignored.after_end += 1;
      this.warnOnce('after_end', { node, stream: entry.id }, 'Stream update ignored: it came after the stream ended');
      return false;
    }

    if (!this.hasPlausibleTiming(node, entry)) return false;

    if (this.impliesTooHighRate(entry)) {
      this.stats.ignored.implausible_rate += 1;
      this.warnOnce('implausible_rate', { node, stream: entry.id, maxStreamRate: this.maxStreamRate }, 'Stream update ignored: its rate is implausibly high');
      return false;
    }

    if (!known) {
      // An unknown stream is new, or a restarted hub missed its start. Its
      // totals are the whole truth in both cases, so it is adopted.
      this.caps.makeRoom(node, (reason) => this.countEviction(node, reason));
      this.meter.begin(key, entry.model === undefined ? { node } : { node, model: entry.model });
      if (entry.out + entry.reasoning > 0) this.stats.streamsAdopted += 1;
    } else if (held && (entry.out < held.output || entry.reasoning < held.reasoning)) {
      this.stats.ignored.count_regressed += 1;
      this.warnOnce('count_regressed', { node, stream: entry.id }, 'Stream update ignored: a running count went down');
      return false;
    }

    if (entry.firstAt !== null && entry.lastAt !== null && held?.firstTokenAt === undefined) {
      const agoMs = entry.lastAt - entry.firstAt;
      const ttftMs = entry.firstAt - entry.beganAt;
      // A beganAt far before the first token (0, say) would put decades
      // into the TTFT percentiles; such a sample is not taken.
      const plausible = ttftMs >= 0 && ttftMs <= this.maxStreamDurationMs;
      if (plausible && (known || agoMs <= ADOPTED_TTFT_MAX_AGE_MS)) this.onFirstToken(ttftMs, agoMs);
    }

    this.meter.recordProgress(key, {
      output: entry.out,
      reasoning: entry.reasoning,
      firstTokenAt: entry.firstAt === null ? undefined : entry.firstAt / 1000,
      lastTokenAt: entry.lastAt === null ? undefined : entry.lastAt / 1000,
    });
    this.stats.updatesApplied += 1;
    return true;
  }

  private rememberEnd(key: string, beganAt: number): void {
    this.ended.delete(key);
    this.ended.set(key, beganAt);
    if (this.ended.size > this.maxStreams) {
      const oldest = this.ended.keys().next();
      if (!oldest.done) this.ended.delete(oldest.value);
    }
  }

  // True for an update of a stream that has ended. An update with a later
  // beganAt begins the id again, so it clears the record of the end.
  private endedBefore(key: string, beganAt: number): boolean {
    const endedBeganAt = this.ended.get(key);
    if (endedBeganAt === undefined) return false;
    if (beganAt <= endedBeganAt) return true;
    this.ended.delete(key);
    return false;
  }

  // Rates use only differences of one node's clock, so absolute times may
  // be anything, but two differences have sane bounds.
  private hasPlausibleTiming(node: string, entry: StreamUpdate): boolean {
    if (entry.firstAt === null) return true;

    if (entry.lastAt !== null && entry.lastAt - entry.firstAt > this.maxStreamDurationMs) {
      this.stats.ignored.implausible_duration += 1;
      const fields = { node, stream: entry.id, spanMs: entry.lastAt - entry.firstAt, maxStreamDurationMs: this.maxStreamDurationMs };
      this.warnOnce('implausible_duration', fields, 'Stream update ignored: its first and latest tokens are implausibly far apart');
      return false;
    }

    if (entry.beganAt - entry.firstAt > this.maxNegativeTtftMs) {
      this.stats.ignored.negative_ttft += 1;
      const fields = { node, stream: entry.id, beganAt: entry.beganAt, firstAt: entry.firstAt, maxNegativeTtftMs: this.maxNegativeTtftMs };
      this.warnOnce('negative_ttft', fields, 'Stream update ignored: it began after its first token');
      return false;
    }

    return true;
  }

  private countEviction(node: string, reason: EvictReason): void {
    this.stats.evicted += 1;
    this.stats.evictedBy[reason] += 1;
    const limit = reason === 'node_limit'
      ? { maxStreamsPerNode: this.maxStreamsPerNode }
      : { maxStreams: this.maxStreams };
    this.warnOnce(reason, { node, ...limit, evicted: this.stats.evicted }, 'Oldest stream ended to make room for a new one');
  }

  private impliesTooHighRate(entry: StreamUpdate): boolean {
    if (entry.firstAt === null || entry.lastAt === null || entry.lastAt <= entry.firstAt) return false;
    const seconds = (entry.lastAt - entry.firstAt) / 1000;
    return (entry.out + entry.reasoning) / seconds > this.maxStreamRate;
  }

  // NOTE: the streams a bye ends are not remembered as ended, so a late
  // update of one brings it back until it goes stale (60 s). Remembering
  // them would need each stream's beganAt, which the meter does not keep.
  // Storing it beside the key would remove this.
  private endNode(node: string): void {
    const ended = this.meter.endNode(node);
    this.keys.forgetNode(node);
    this.stats.byes += 1;
    this.log.debug({ node, streamsEnded: ended }, 'Node sent bye; its streams ended');
  }

  // Logs at most once a minute per reason; `heldBack` counts the repeats
  // skipped since the previous line.
  private warnOnce(reason: RejectReason | IgnoreReason | EvictReason, fields: object, message: string): void {
    const heldBack = this.throttle.admit(reason);
    if (heldBack !== undefined) this.log.warn({ reason, ...fields, heldBack }, message);
  }
}

function zeroCounts<Reason extends string>(reasons: readonly Reason[]): Record<Reason, number> {
  return Object.fromEntries(reasons.map((reason) => [reason, 0])) as Record<Reason, number>;
}

type Limit = 'maxStreamsPerNode' | 'maxStreams' | 'maxStreamDurationMs' | 'maxNegativeTtftMs';

function checkedLimit(options: IngestOptions, name: Limit, rule: { integer: boolean; min: number }): number {
  const value = options[name] ?? ingestDefaults[name];
  const valid = rule.integer ? Number.isSafeInteger(value) : !Number.isNaN(value);
  if (valid && value >= rule.min) return value;

  const expected = rule.integer ? `an integer of at least ${rule.min}` : `a number of at least ${rule.min}`;
  throw new RangeError(`Invalid ingest option ${name} ${String(value)}: expected ${expected}.`);
}
