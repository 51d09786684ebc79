import type { Publisher } from '@metering-hub/shared';

import type { FleetEvent } from './fleet-event.js';
import { modelFor, splitTokens, type WorkloadModel } from './model-mix.js';
import { checkPositive, WorkloadOptionsError } from './options-check.js';
import { checkRequests, type WorkloadRequest } from './request.js';
import {
  lastTokenAtMs,
  runningOutputAt,
  type StreamTiming,
  TokenTimingModel,
  type TokenTimingOptions,
} from './token-timing.js';

export interface FleetReplayOptions {
  /** Requests to replay, one stream each, in any order. */
  requests: readonly WorkloadRequest[];
  /**
   * Chat nodes to stream on. Request `i` goes to `publishers[i % length]`.
   * Round robin by position keeps the nodes' loads within one stream of
   * each other and gives every request the same node on each replay.
   */
  publishers: readonly Publisher[];
  /** Token timing of the streams. @default tokenTimingDefaults */
  timing?: TokenTimingOptions;
  /**
   * Factor by which arrivals are compressed. With 60, an hour of arrivals
   * takes a minute. Token timing is not scaled, so each stream keeps a
   * realistic rate and more streams overlap.
   * @default 1
   */
  speed?: number;
  /** Seed of the per-stream rate draws. @default 0 */
  seed?: number;
  /**
   * Models the streams are labelled with, drawn per request by weight.
   * Without any, streams carry no model label and no reasoning tokens.
   * @default []
   */
  models?: readonly WorkloadModel[];
  /** Prefix of stream ids. Request `i` streams as `${idPrefix}${i}`. @default 'r-' */
  idPrefix?: string;
  /**
   * Called with every publisher call, right after it is made. It must not
   * throw: an exception leaves `advanceTo` midway and the replay unusable.
   * @default none
   */
  onEvent?: (event: FleetEvent) => void;
}

interface InFlightStream {
  id: string;
  publisher: Publisher;
  publisherIndex: number;
  startMs: number;
  endMs: number;
  timing: StreamTiming;
  sent: number;
  reasoningShare: number;
}

/**
 * Replays a workload over a fleet of publishers on a simulated clock. Each
 * `advanceTo` starts the requests that are due, reports the token counts
 * that changed and ends the streams that have all their tokens. A step costs
 * time in proportion to the streams in flight, with no timers per stream.
 */
export class FleetReplay {
  private readonly requests: readonly WorkloadRequest[];
  private readonly publishers: readonly Publisher[];
  private readonly model: TokenTimingModel;
  private readonly speed: number;
  private readonly idPrefix: string;
  private readonly models: readonly WorkloadModel[];
  private readonly seed: number;
  private readonly onEvent: ((event: FleetEvent) => void) | undefined;
  /** Request indexes by arrival, ties in request order. */
  private readonly arrivalOrder: number[];
  private inFlightStreams: InFlightStream[] = [];
  private nextArrival = 0;
  private simMs = 0;
  private endedCount = 0;

  constructor(options: FleetReplayOptions) {
    checkFleetOptions(options);
    // A copy, so that later changes to the caller's array cannot reorder a replay.
    this.requests = options.requests.map(({ arrivalMs, outputTokens }) => ({
      arrivalMs,
      outputTokens,
    }));
    this.publishers = options.publishers;
    this.model = new TokenTimingModel(options.timing, options.seed ?? 0);
    this.speed = options.speed ?? 1;
    this.idPrefix = options.idPrefix ?? 'r-';
    this.models = options.models ?? [];
    this.seed = options.seed ?? 0;
    this.onEvent = options.onEvent;
    this.arrivalOrder = this.requests
      .map((_, index) => index)
      .sort((a, b) => this.arrivalAt(a) - this.arrivalAt(b) || a - b);
  }

  /** Requests started so far. */
  get started(): number {
    return this.nextArrival;
  }

  /** Streams ended so far. */
  get ended(): number {
    return this.endedCount;
  }

  /** Streams started and not yet ended. */
  get inFlight(): number {
    return this.inFlightStreams.length;
  }

  /** True once every request has started and ended. */
  get done(): boolean {
    return this.endedCount === this.requests.length;
  }

  /** Sim time of the latest step, in ms. */
  get nowMs(): number {
    return this.simMs;
  }

  /**
   * Moves the sim clock to `simMs` (ms since the replay began) and makes
   * the publisher calls due by then. A stream starts at its compressed
   * arrival time, so a long step still times its tokens from that instant.
   *
   * @throws WorkloadOptionsError when `simMs` is not finite or goes back.
   */
  advanceTo(simMs: number): void {
    if (!Number.isFinite(simMs) || simMs < this.simMs) {
      throw new WorkloadOptionsError(
        `Invalid simMs ${simMs}: expected a finite time of at least ${this.simMs} ms, the previous step.`,
      );
    }
    this.simMs = simMs;
    this.startDue();
    this.stepInFlight();
  }

  private arrivalAt(index: number): number {
    return (this.requests[index]?.arrivalMs ?? 0) / this.speed;
  }

  private startDue(): void {
    while (this.nextArrival < this.arrivalOrder.length) {
      const index = this.arrivalOrder[this.nextArrival] ?? 0;
      const startMs = this.arrivalAt(index);
      if (startMs > this.simMs) return;

      this.nextArrival += 1;
      this.begin(index, startMs);
    }
  }

  private begin(index: number, startMs: number): void {
    const publisherIndex = index % this.publishers.length;
    const publisher = this.publishers[publisherIndex];
    const request = this.requests[index];
    if (!publisher || !request) return;

    const timing = this.model.timingFor(index, request.outputTokens);
    const id = `${this.idPrefix}${index}`;
    const endMs = startMs + lastTokenAtMs(timing);
    const model = modelFor(this.models, this.seed, index);
    const reasoningShare = model?.reasoningShare ?? 0;
    this.inFlightStreams.push({ id, publisher, publisherIndex, startMs, endMs, timing, sent: 0, reasoningShare });

    publisher.begin(id, model ? { model: model.name } : {});
    this.onEvent?.({ type: 'begin', atMs: this.simMs, id, publisherIndex, ...(model ? { model: model.name } : {}) });
  }

  private stepInFlight(): void {
    // Compacts the array in place: streams still running move down over
    // those that ended, so a step allocates nothing.
    let runningCount = 0;
    for (const stream of this.inFlightStreams) {
      this.sendProgress(stream);
      if (this.simMs >= stream.endMs) {
        this.end(stream);
      } else {
        this.inFlightStreams[runningCount] = stream;
        runningCount += 1;
      }
    }
    this.inFlightStreams.length = runningCount;
  }

  private sendProgress(stream: InFlightStream): void {
    const running = runningOutputAt(stream.timing, this.simMs - stream.startMs);
    if (running <= stream.sent) return;

    const before = splitTokens(stream.sent, stream.timing.outputTokens, stream.reasoningShare);
    const after = splitTokens(running, stream.timing.outputTokens, stream.reasoningShare);
    stream.sent = running;
    if (after.reasoning > before.reasoning) {
      stream.publisher.reasoning(stream.id, after.reasoning);
      this.emit(stream, 'reasoning', after.reasoning);
    }
    if (after.output > before.output) {
      stream.publisher.token(stream.id, after.output);
      this.emit(stream, 'token', after.output);
    }
  }

  private emit(stream: InFlightStream, type: 'token' | 'reasoning', running: number): void {
    this.onEvent?.({ type, atMs: this.simMs, id: stream.id, publisherIndex: stream.publisherIndex, running });
  }

  private end(stream: InFlightStream): void {
    this.endedCount += 1;
    stream.publisher.end(stream.id);
    this.onEvent?.({
      type: 'end',
      atMs: this.simMs,
      id: stream.id,
      publisherIndex: stream.publisherIndex,
    });
  }
}

function checkFleetOptions(options: FleetReplayOptions): void {
  checkRequests(options.requests);
  if (options.publishers.length === 0) {
    throw new WorkloadOptionsError('Invalid publishers []: expected at least one publisher.');
  }
  if (options.speed !== undefined) checkPositive('speed', options.speed);
}
