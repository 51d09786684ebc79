import { ExtremaWindow } from './extrema-window.js';
import { RateTally } from './rate-tally.js';
import { roundTenth } from './round.js';

export interface MeterOptions {
  /**
   * Monotonic clock in seconds. Staleness, the window and the ticker
   * interval are judged on it.
   * @default () => performance.now() / 1000
   */
  now?: () => number;
  /**
   * Seconds without a token after which a stream is dropped; a stream that
   * never received a token is dropped this long after it began.
   * @default 60
   */
  staleSeconds?: number;
  /** Seconds a reading counts toward HIGH and LOW. @default 3600 */
  windowSeconds?: number;
  /** Lowest reading, in tokens per second, that HIGH and LOW consider. @default 1 */
  extremaFloor?: number;
  /** Ticker interval in seconds while a stream is active. @default 1 */
  activeIntervalSeconds?: number;
  /** Ticker interval in seconds while no stream is active. @default 10 */
  idleIntervalSeconds?: number;
}

export const meterDefaults: Required<Omit<MeterOptions, 'now'>> = {
  staleSeconds: 60,
  windowSeconds: 3600,
  extremaFloor: 1,
  activeIntervalSeconds: 1,
  idleIntervalSeconds: 10,
};

/** A meter reading: figures in tokens per second, rounded to one decimal. */
export interface Snapshot {
  /** Mean of the per-stream rates of the streams whose rate is defined. */
  tps: number;
  /** Highest reading of the window at or above the floor, 0 without one. */
  high: number;
  /** Lowest reading of the window at or above the floor, 0 without one. */
  low: number;
  /** Streams not ended and not stale, including those with no rate yet. */
  active: number;
  /** Sum of the defined per-stream rates: what the fleet delivers. */
  total: number;
  /** Output-token part of `tps`. */
  outTps: number;
  /** Reasoning-token part of `tps`. */
  reasoningTps: number;
  /** Unrounded sums per node label, for breakdowns. */
  nodes: ReadonlyMap<string, RateTally>;
  /** Unrounded sums per model label; streams without a model are left out. */
  models: ReadonlyMap<string, RateTally>;
  /** The unrounded reading this snapshot added to the window, if any. */
  reading: number | undefined;
}

/** Labels of a stream, for the per-node and per-model breakdowns. */
export interface StreamLabels {
  node?: string;
  model?: string;
}

/** Token progress of one stream as its node reports it. */
export interface StreamProgress {
  output: number;
  reasoning: number;
  /** First token, on the rate clock (seconds), or undefined before it. */
  firstTokenAt: number | undefined;
  /** Latest token, on the rate clock (seconds). */
  lastTokenAt: number | undefined;
}

interface StreamState {
  output: number;
  reasoning: number;
  // Rate clock: the clock of the node that timed the tokens. Only the
  // difference of these two is used, so it may be another machine's clock.
  firstTokenAt: number | undefined;
  lastTokenAt: number;
  // Meter clock: when the stream began and when its latest token arrived.
  begunAt: number;
  lastHeardAt: number;
  labels: StreamLabels | undefined;
}

/**
 * Throughput meter of concurrent token streams.
 *
 * A stream's rate is its output plus reasoning tokens divided by the time
 * from its first to its latest token. The reading is the mean of the rates
 * that are defined (a stream with one token, or with every token at one
 * instant, has none yet but still counts as active). Readings above 0 are
 * kept for the window, and HIGH and LOW are the extremes of those at or
 * above the floor. Floats are added in the order the streams began, the
 * order in which the reference meter sums them, so results match it to the
 * last bit before rounding.
 */
export class Meter {
  private readonly options: Required<Omit<MeterOptions, 'now'>>;
  private readonly now: () => number;
  private readonly streams = new Map<string, StreamState>();
  // Ids of the streams of each node label, so a node's streams end without
  // a scan of every stream.
  private readonly idsByNode = new Map<string, Set<string>>();
  private extrema = new ExtremaWindow();

  constructor(options: MeterOptions = {}) {
    this.options = { ...meterDefaults, ...stripUndefined(options) };
    this.now = options.now ?? (() => performance.now() / 1000);
  }

  /** Starts (or restarts) a stream with no tokens. */
  begin(id: string, labels?: StreamLabels): void {
    const now = this.now();
    this.unindex(id);
    if (labels?.node !== undefined) {
      let ids = this.idsByNode.get(labels.node);
      if (!ids) {
        ids = new Set();
        this.idsByNode.set(labels.node, ids);
      }
      ids.add(id);
    }
    this.streams.set(id, {
      output: 0,
      reasoning: 0,
      firstTokenAt: undefined,
      lastTokenAt: 0,
      begunAt: now,
      lastHeardAt: now,
      labels,
    });
  }

  /**
   * Records the running output-token count of a stream, timed `tokenAt` on
   * the rate clock. Returns false, changing nothing, for an unknown stream.
   */
  recordOutput(id: string, running: number, tokenAt = this.now()): boolean {
    const stream = this.markToken(id, tokenAt);
    if (stream) stream.output = running;
    return stream !== undefined;
  }

  /** Records the running reasoning-token count, as `recordOutput` does. */
  recordReasoning(id: string, running: number, tokenAt = this.now()): boolean {
    const stream = this.markToken(id, tokenAt);
    if (stream) stream.reasoning = running;
    return stream !== undefined;
  }

  /**
   * Replaces the progress of a known stream with what its node reports,
   * timed on the node's clock. New tokens count as heard now. Returns false
   * for an unknown stream.
   */
  recordProgress(id: string, progress: StreamProgress): boolean {
    const stream = this.streams.get(id);
    if (!stream) return false;

    const hasNewTokens =
      progress.output + progress.reasoning > stream.output + stream.reasoning ||
      progress.lastTokenAt !== undefined && progress.lastTokenAt !== stream.lastTokenAt;
    stream.output = progress.output;
    stream.reasoning = progress.reasoning;
    stream.firstTokenAt = progress.firstTokenAt;
    stream.lastTokenAt = progress.lastTokenAt ?? 0;
    if (hasNewTokens) stream.lastHeardAt = this.now();
    return true;
  }

  /** Ends a stream. Returns false if it was not known. */
  end(id: string): boolean {
    this.unindex(id);
    return this.streams.delete(id);
  }

  /** Ends every stream labeled with the node. Returns how many ended. */
  endNode(node: string): number {
    const ids = this.idsByNode.get(node);
    if (!ids) return 0;
    this.idsByNode.delete(node);
    for (const id of ids) this.streams.delete(id);
    return ids.size;
  }

  has(id: string): boolean {
    return this.streams.has(id);
  }

  /**
   * Returns the counts held for a stream without copying them, or undefined
   * for an unknown stream: the ingest path reads them once per update.
   */
  peek(id: string): Readonly<{ output: number; reasoning: number; firstTokenAt: number | undefined }> | undefined {
    return this.streams.get(id);
  }

  /** Running totals of a stream, or undefined for an unknown stream. */
  progress(id: string): StreamProgress | undefined {
    const stream = this.streams.get(id);
    if (!stream) return undefined;
    return {
      output: stream.output,
      reasoning: stream.reasoning,
      firstTokenAt: stream.firstTokenAt,
      lastTokenAt: stream.firstTokenAt === undefined ? undefined : stream.lastTokenAt,
    };
  }

  /** Number of streams held with the node label. */
  nodeSize(node: string): number {
    return this.idsByNode.get(node)?.size ?? 0;
  }

  /**
   * Ends the stream that began first, of one node label or of all, to make
   * room under a cap. Returns its id, or undefined when there is none.
   */
  evictOldest(node?: string): string | undefined {
    const candidates = node === undefined ? this.streams.keys() : this.idsByNode.get(node)?.values();
    const oldest = candidates?.next();
    if (!oldest || oldest.done) return undefined;
    this.end(oldest.value);
    return oldest.value;
  }

  /**
   * Moves every stream's meter-clock times forward by `seconds`, as if that
   * time had not passed. A hub cut off from its nodes calls it for the
   * outage, so streams are judged stale on what they sent, not on what the
   * hub could not receive.
   */
  shiftQuietTimes(seconds: number): void {
    for (const stream of this.streams.values()) {
      stream.begunAt += seconds;
      stream.lastHeardAt += seconds;
    }
  }

  /** Readings that can still become HIGH or LOW, oldest first. */
  readings(): { at: number; value: number }[] {
    return this.extrema.readings();
  }

  /**
   * Adds readings taken before this meter existed (by a hub before its
   * restart, or by another hub), timed on this meter's clock. Readings
   * outside the window or under the floor are skipped. Returns how many
   * were added.
   */
  restoreReadings(readings: readonly { at: number; value: number }[]): number {
    const cutoff = this.now() - this.options.windowSeconds;
    const kept = readings.filter(({ at, value }) =>
      at > cutoff && Number.isFinite(value) && value >= this.options.extremaFloor);

    // The deques need readings in time order, so the window is rebuilt
    // from the merged list; this runs once per start, not per tick.
    const merged = [...this.extrema.readings(), ...kept].sort((a, b) => a.at - b.at);
    this.extrema = new ExtremaWindow();
    for (const { at, value } of merged) this.extrema.push(at, value);
    return kept.length;
  }

  /** Number of streams held, stale ones included until the next snapshot. */
  get size(): number {
    return this.streams.size;
  }

  /** Ids of the streams held, in the order they began. */
  ids(): IterableIterator<string> {
    return this.streams.keys();
  }

  /**
   * Returns the ticker interval in seconds: the active interval while a
   * stream received a token within the stale window, the idle one otherwise.
   */
  interval(): number {
    const now = this.now();
    for (const stream of this.streams.values()) {
      if (stream.firstTokenAt !== undefined &&
          now - stream.lastHeardAt <= this.options.staleSeconds) {
        return this.options.activeIntervalSeconds;
      }
    }
    return this.options.idleIntervalSeconds;
  }

  /**
   * Takes a reading: drops stale streams, computes the mean rate, keeps the
   * reading in the window when it is above 0, and returns the figures.
   * Call it once per tick, because every call adds a reading.
   */
  snapshot(): Snapshot {
    const now = this.now();
    const { fleet, nodes, models } = this.tally(now);
    const tps = fleet.mean();

    this.extrema.evictUpTo(now - this.options.windowSeconds);
    // An infinite rate (tokens over a duration that underflows) is not kept:
    // it would stand as HIGH for the whole window.
    const keep = tps >= this.options.extremaFloor && Number.isFinite(tps);
    if (keep) {
      // Readings under the floor never become HIGH or LOW, so keeping them
      // would only cost memory.
      this.extrema.push(now, tps);
    }

    return {
      tps: roundTenth(tps),
      high: roundTenth(this.extrema.max() ?? 0),
      low: roundTenth(this.extrema.min() ?? 0),
      active: this.streams.size,
      total: roundTenth(fleet.rateSum),
      outTps: roundTenth(fleet.rated === 0 ? 0 : fleet.outputRateSum / fleet.rated),
      reasoningTps: roundTenth(fleet.rated === 0 ? 0 : fleet.reasoningRateSum / fleet.rated),
      nodes,
      models,
      reading: keep ? tps : undefined,
    };
  }

  private unindex(id: string): void {
    const node = this.streams.get(id)?.labels?.node;
    if (node === undefined) return;
    const ids = this.idsByNode.get(node);
    ids?.delete(id);
    if (ids?.size === 0) this.idsByNode.delete(node);
  }

  private markToken(id: string, tokenAt: number): StreamState | undefined {
    const stream = this.streams.get(id);
    if (!stream) return undefined;

    if (stream.firstTokenAt === undefined) stream.firstTokenAt = tokenAt;
    stream.lastTokenAt = tokenAt;
    stream.lastHeardAt = this.now();
    return stream;
  }

  // Drops stale streams and sums the rates of the others, for the fleet
  // and per label, in one pass.
  private tally(now: number) {
    const { staleSeconds } = this.options;
    const fleet = new RateTally();
    const nodes = new Map<string, RateTally>();
    const models = new Map<string, RateTally>();

    for (const [id, stream] of this.streams) {
      const quietSince = stream.firstTokenAt === undefined ? stream.begunAt : stream.lastHeardAt;
      if (now - quietSince > staleSeconds) {
        this.unindex(id);
        this.streams.delete(id);
        continue;
      }

      fleet.active += 1;
      const node = stream.labels?.node === undefined ? undefined : tallyFor(nodes, stream.labels.node);
      const model = stream.labels?.model === undefined ? undefined : tallyFor(models, stream.labels.model);
      if (node) node.active += 1;
      if (model) model.active += 1;

      const first = stream.firstTokenAt;
      if (first !== undefined && stream.lastTokenAt > first) {
        const seconds = stream.lastTokenAt - first;
        addRate(fleet, stream, seconds);
        if (node) addRate(node, stream, seconds);
        if (model) addRate(model, stream, seconds);
      }
    }

    return { fleet, nodes, models };
  }
}

function tallyFor(groups: Map<string, RateTally>, key: string): RateTally {
  let tally = groups.get(key);
  if (!tally) {
    tally = new RateTally();
    groups.set(key, tally);
  }
  return tally;
}

// The rate is the same expression the reference meter evaluates, so the
// fleet's sum matches it to the last bit.
function addRate(tally: RateTally, stream: StreamState, seconds: number): void {
  tally.rateSum += (stream.output + stream.reasoning) / seconds;
  tally.outputRateSum += stream.output / seconds;
  tally.reasoningRateSum += stream.reasoning / seconds;
  tally.rated += 1;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}
