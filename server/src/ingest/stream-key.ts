/**
 * Key of a stream in the hub: node id and stream id together. The length
 * prefix keeps keys unique whatever characters the ids contain.
 */
export function streamKey(node: string, id: string): string {
  return `${node.length}:${node}${id}`;
}

/**
 * The keys of the streams seen so far, looked up by node and stream id.
 *
 * Building a key by concatenation on every update costs a new string,
 * which each map it is looked up in flattens and hashes again. In an
 * in-process loop over ingest messages, that was about 300 ns of the 1.2 µs
 * an update took.
 * A key looked up here is the same string object the meter's map contains,
 * whose hash V8 has cached, so only the stream id is hashed.
 *
 * `forget` drops the keys of streams that ended. Streams that went without
 * an end (evicted, expired, or of a node that vanished) are dropped by a
 * sweep once the cache contains more than twice the meter's streams. The sweep costs one meter lookup per cached key, and it runs only
 * after as many new keys as there were, so its cost per key stays constant.
 */
export class StreamKeys {
  private readonly byNode = new Map<string, Map<string, string>>();
  private cached = 0;

  /**
   * @param held whether the meter still contains a key.
   * @param heldCount how many streams the meter contains.
   */
  constructor(
    private readonly held: (key: string) => boolean,
    private readonly heldCount: () => number,
  ) {}

  /** Number of keys cached. */
  get size(): number {
    return this.cached;
  }

  key(node: string, id: string): string {
    let ids = this.byNode.get(node);
    const known = ids?.get(id);
    if (known !== undefined) return known;

    if (this.cached >= 2 * this.heldCount() + SWEEP_SLACK) {
      this.sweep();
      ids = this.byNode.get(node);
    }
    if (!ids) {
      ids = new Map();
      this.byNode.set(node, ids);
    }
    const key = streamKey(node, id);
    ids.set(id, key);
    this.cached += 1;
    return key;
  }

  forget(node: string, id: string): void {
    const ids = this.byNode.get(node);
    if (!ids?.delete(id)) return;
    this.cached -= 1;
    if (ids.size === 0) this.byNode.delete(node);
  }

  forgetNode(node: string): void {
    const ids = this.byNode.get(node);
    if (!ids) return;
    this.cached -= ids.size;
    this.byNode.delete(node);
  }

  private sweep(): void {
    for (const [node, ids] of this.byNode) {
      for (const [id, key] of ids) {
        if (this.held(key)) continue;
        ids.delete(id);
        this.cached -= 1;
      }
      if (ids.size === 0) this.byNode.delete(node);
    }
  }
}

// Keys cached beyond twice the held streams before a sweep, so a hub with
// few streams does not sweep on every new one.
const SWEEP_SLACK = 1_024;
