import type { Meter } from '../meter/meter.js';

/** Label of the cap a stream was evicted under, stable for counters and logs. */
export type EvictReason = 'node_limit' | 'total_limit';

export const EVICT_REASONS: readonly EvictReason[] = ['node_limit', 'total_limit'];

/**
 * Caps on the streams the meter holds, per node and in total. Making room
 * for a new stream ends the oldest one, so a node that floods the hub with
 * stream ids costs a bounded amount of memory.
 */
export class StreamCaps {
  // Iterator over every stream in the order they began. Map iterators are
  // live: they skip entries deleted since and reach entries added since.
  // Every entry before its position was evicted through it, so its next
  // entry is always the oldest stream left.
  private oldest: Iterator<string> | undefined;

  constructor(
    private readonly meter: Meter,
    private readonly maxStreamsPerNode: number,
    private readonly maxStreams: number,
  ) {}

  /**
   * Ends the oldest streams, of the node first and then of all, until one
   * more stream of `node` fits under both caps. Calls `onEvicted` once per
   * stream ended.
   */
  makeRoom(node: string, onEvicted: (reason: EvictReason) => void): void {
    // NOTE: meter.evictOldest starts a new Set iterator on each call, which
    // walks the node's deleted entries (V8 keeps them until it rebuilds the
    // table), so one eviction costs up to O(maxStreamsPerNode). A cursor
    // kept by the meter would make it O(1).
    while (this.meter.nodeSize(node) >= this.maxStreamsPerNode) {
      if (this.meter.evictOldest(node) === undefined) break;
      onEvicted('node_limit');
    }

    while (this.meter.size >= this.maxStreams) {
      if (!this.evictOldestOfAll()) break;
      onEvicted('total_limit');
    }
  }

  /**
   * Drops the iterator; call it after each message. Each message then pays
   * one walk over deleted entries, and eviction stays correct even if
   * meter.ids() ever returned a copy rather than a live iterator.
   */
  release(): void {
    this.oldest = undefined;
  }

  // meter.evictOldest() without a node starts a new iterator per call, and
  // each one walks every entry deleted since V8 last rebuilt the Map, so
  // the cost per eviction grows with maxStreams. One iterator per message
  // walks those entries once.
  private evictOldestOfAll(): boolean {
    if (this.endNextOldest()) return true;

    // A finished iterator stays finished, even for streams added later.
    this.oldest = undefined;
    return this.endNextOldest();
  }

  private endNextOldest(): boolean {
    this.oldest ??= this.meter.ids();
    for (let next = this.oldest.next(); !next.done; next = this.oldest.next()) {
      if (this.meter.end(next.value)) return true;
    }
    return false;
  }
}
