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
import { streamKey } from './stream-key.js';

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
   * Called for each stream whose first token the hub learns of, with its
   * time to first token and how long ago (ms, node clock) that token came.
   */
  onFirstToken?: (ttftMs: number, agoMs: number) => void;
}

// A stream adopted mid-flight counts toward TTFT only if its first token
// is this recent; older ones are outside any window worth reporting.
const ADOPTED_TTFT_MAX_AGE_MS = 60_000;

/** Entries ignored inside an accepted message, by reason. */
export type IgnoreReason = 'count_regressed' | 'ended_unknown' | 'implausible_rate';

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
    rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Record<RejectReason, number>,
    ignored: { count_regressed: 0, ended_unknown: 0, implausible_rate: 0 },
  };

  private readonly meter: Meter;
  private readonly log: Logger;
  private readonly maxMessageBytes: number;
  private readonly throttle = new LogThrottle();
  private readonly onFirstToken: (ttftMs: number, agoMs: number) => void;
  private readonly maxStreamRate: number;

  constructor(options: IngestOptions) {
    this.maxStreamRate = options.maxStreamRate ?? 100_000;
    this.onFirstToken = options.onFirstToken ?? (() => {});
    this.meter = options.meter;
    this.log = options.logger.child({ module: 'ingest' });
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
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
      this.warnOnce(result.reason, { reason: result.reason, detail: result.detail, bytes: raw.length }, 'Update message rejected');
      return false;
    }

    this.stats.messagesAccepted += 1;
    return this.apply(result.message);
  }

  /** Applies a message that passed decoding, as `handle` does. */
  apply(message: UpdateMessage): boolean {
    let carriedTokens = false;
    for (const entry of message.streams) {
      this.applyEntry(message.node, entry);
      if (!entry.ended && entry.lastAt !== null) carriedTokens = true;
    }
    if (message.bye) this.endNode(message.node);
    return carriedTokens;
  }

  private applyEntry(node: string, entry: StreamUpdate): void {
    const key = streamKey(node, entry.id);
    const known = this.meter.has(key);

    if (entry.ended) {
      if (!known) this.stats.ignored.ended_unknown += 1;
      this.meter.end(key);
      return;
    }

    if (this.impliesTooHighRate(entry)) {
      this.stats.ignored.implausible_rate += 1;
      this.warnOnce('implausible_rate', { node, stream: entry.id, maxStreamRate: this.maxStreamRate }, 'Stream update ignored: its rate is implausibly high');
      return;
    }

    const held = known ? this.meter.progress(key) : undefined;
    if (!known) {
      // An unknown stream is either new or one a restarted hub missed the
      // start of; either way its totals are the whole truth, so adopt it.
      this.meter.begin(key, entry.model === undefined ? { node } : { node, model: entry.model });
      if (entry.out + entry.reasoning > 0) this.stats.streamsAdopted += 1;
    } else if (held && (entry.out < held.output || entry.reasoning < held.reasoning)) {
      this.stats.ignored.count_regressed += 1;
      this.warnOnce('count_regressed', { node, stream: entry.id }, 'Stream update ignored: a running count went down');
      return;
    }

    if (entry.firstAt !== null && entry.lastAt !== null && held?.firstTokenAt === undefined) {
      const agoMs = entry.lastAt - entry.firstAt;
      if (known || agoMs <= ADOPTED_TTFT_MAX_AGE_MS) this.onFirstToken(entry.firstAt - entry.beganAt, agoMs);
    }

    this.meter.recordProgress(key, {
      output: entry.out,
      reasoning: entry.reasoning,
      firstTokenAt: entry.firstAt === null ? undefined : entry.firstAt / 1000,
      lastTokenAt: entry.lastAt === null ? undefined : entry.lastAt / 1000,
    });
    this.stats.updatesApplied += 1;
  }

  private impliesTooHighRate(entry: StreamUpdate): boolean {
    if (entry.firstAt === null || entry.lastAt === null || entry.lastAt <= entry.firstAt) return false;
    const seconds = (entry.lastAt - entry.firstAt) / 1000;
    return (entry.out + entry.reasoning) / seconds > this.maxStreamRate;
  }

  private endNode(node: string): void {
    const ended = this.meter.endNode(node);
    this.stats.byes += 1;
    this.log.debug({ node, streamsEnded: ended }, 'Node said bye; its streams are ended');
  }

  private warnOnce(key: string, fields: object, message: string): void {
    const heldBack = this.throttle.admit(key);
    if (heldBack !== undefined) this.log.warn({ ...fields, heldBack }, message);
  }
}
