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
import { nodePrefix, streamKey } from './stream-key.js';

export interface IngestOptions {
  meter: Meter;
  logger: Logger;
  /** Largest message accepted, in bytes. @default 1_048_576 */
  maxMessageBytes?: number;
}

/** Entries ignored inside an accepted message, by reason. */
export type IgnoreReason = 'count_regressed' | 'ended_unknown';

export interface IngestStats {
  messagesReceived: number;
  messagesAccepted: number;
  /** Stream entries applied to the meter. */
  updatesApplied: number;
  /** Streams met for the first time with tokens already counted. */
  streamsAdopted: number;
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
    rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Record<RejectReason, number>,
    ignored: { count_regressed: 0, ended_unknown: 0 },
  };

  private readonly meter: Meter;
  private readonly log: Logger;
  private readonly maxMessageBytes: number;
  private readonly throttle = new LogThrottle();

  constructor(options: IngestOptions) {
    this.meter = options.meter;
    this.log = options.logger.child({ module: 'ingest' });
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Decodes and applies one raw message. Never throws. */
  handle(raw: string): void {
    this.stats.messagesReceived += 1;
    const result = decodeUpdateMessage(raw, this.maxMessageBytes);
    if (!result.ok) {
      this.stats.rejected[result.reason] += 1;
      this.warnOnce(result.reason, { reason: result.reason, detail: result.detail, bytes: raw.length }, 'Update message rejected');
      return;
    }

    this.stats.messagesAccepted += 1;
    this.apply(result.message);
  }

  /** Applies a message that passed decoding. */
  apply(message: UpdateMessage): void {
    for (const entry of message.streams) {
      this.applyEntry(message.node, entry);
    }
    if (message.bye) this.endNode(message.node);
  }

  private applyEntry(node: string, entry: StreamUpdate): void {
    const key = streamKey(node, entry.id);
    const known = this.meter.has(key);

    if (entry.ended) {
      if (!known) this.stats.ignored.ended_unknown += 1;
      this.meter.end(key);
      return;
    }

    if (!known) {
      // An unknown stream is either new or one a restarted hub missed the
      // start of; either way its totals are the whole truth, so adopt it.
      this.meter.begin(key);
      if (entry.out + entry.reasoning > 0) this.stats.streamsAdopted += 1;
    } else {
      const held = this.meter.progress(key);
      if (held && (entry.out < held.output || entry.reasoning < held.reasoning)) {
        this.stats.ignored.count_regressed += 1;
        this.warnOnce('count_regressed', { node, stream: entry.id }, 'Stream update ignored: a running count went down');
        return;
      }
    }

    this.meter.recordProgress(key, {
      output: entry.out,
      reasoning: entry.reasoning,
      firstTokenAt: entry.firstAt === null ? undefined : entry.firstAt / 1000,
      lastTokenAt: entry.lastAt === null ? undefined : entry.lastAt / 1000,
    });
    this.stats.updatesApplied += 1;
  }

  private endNode(node: string): void {
    const prefix = nodePrefix(node);
    const keys = [...this.meter.ids()].filter((key) => key.startsWith(prefix));
    for (const key of keys) this.meter.end(key);
    this.log.info({ node, streamsEnded: keys.length }, 'Node said bye; its streams are ended');
  }

  private warnOnce(key: string, fields: object, message: string): void {
    const heldBack = this.throttle.admit(key);
    if (heldBack !== undefined) this.log.warn({ ...fields, heldBack }, message);
  }
}
