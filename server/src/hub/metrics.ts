import { REJECT_REASONS } from '@metering-hub/shared';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { IngestStats } from '../ingest/ingest.js';
import type { GroupFigures } from '../meter/rate-tally.js';
import type { EncodedFrame } from './encoded-frame.js';
import type { TransportName } from './transport.js';

/** Sources the metrics read at scrape time. */
export interface MetricSources {
  ingest: IngestStats;
  clients: () => Record<TransportName, number>;
  redisReconnects: () => number;
}

const TRANSPORTS: TransportName[] = ['socket.io', 'ws', 'sse'];

/**
 * Interval of the event-loop delay monitor behind the `nodejs_eventloop_lag_*`
 * metrics, in ms. The monitor wakes the process this often: at prom-client's
 * 10 ms that cost half of an idle hub's CPU (0.23 of 0.44 s over 30 s), and
 * 20 ms halves that cost. The lag percentiles still rest on about 3,000
 * samples a minute. Node.js records the whole time between two wake-ups, so
 * an idle hub reports a lag of this interval. The delay is the figure minus it.
 */
export const EVENT_LOOP_SAMPLING_MS = 20;

/**
 * The hub's Prometheus metrics, in a registry of its own so that several
 * hubs in one process (as in tests) do not collide. Counters kept by other
 * modules are read when scraped, so nothing is counted twice on hot paths.
 */
export class HubMetrics {
  readonly registry = new Registry();

  private readonly fleet: Record<'mean' | 'total' | 'high' | 'low', Gauge>;
  private readonly activeStreams: Gauge;
  private readonly groupMean: Gauge<'group' | 'key'>;
  private readonly groupTotal: Gauge<'group' | 'key'>;
  private readonly groupActive: Gauge<'group' | 'key'>;
  private readonly framesSent: Counter<'transport'>;
  private readonly framesSkipped: Counter<'transport'>;
  private readonly clientsDropped: Counter<'transport' | 'reason'>;
  private readonly clientEventsIgnored: Counter<'transport'>;
  private readonly ttft: Histogram;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLING_MS });

    const rate = (name: string, help: string) => new Gauge({ name, help, registers });
    this.fleet = {
      mean: rate('metering_mean_stream_rate_tokens_per_second', 'Mean of the per-stream rates: what one user sees.'),
      total: rate('metering_total_rate_tokens_per_second', 'Sum of the per-stream rates: what the fleet delivers.'),
      high: rate('metering_high_rate_tokens_per_second', 'Highest mean rate of the last 60 minutes at or above 1 tok/s.'),
      low: rate('metering_low_rate_tokens_per_second', 'Lowest mean rate of the last 60 minutes at or above 1 tok/s.'),
    };
    this.activeStreams = new Gauge({ name: 'metering_active_streams', help: 'Streams in flight.', registers });

    // Labels are bounded: the 50 busiest nodes and models and one "(other)".
    const labelNames = ['group', 'key'] as const;
    this.groupMean = new Gauge({ name: 'metering_group_mean_stream_rate_tokens_per_second', help: 'Mean per-stream rate of one node (group="node") or model (group="model").', labelNames, registers });
    this.groupTotal = new Gauge({ name: 'metering_group_total_rate_tokens_per_second', help: 'Total rate of one node or model.', labelNames, registers });
    this.groupActive = new Gauge({ name: 'metering_group_active_streams', help: 'Streams in flight on one node or model.', labelNames, registers });

    this.framesSent = new Counter({ name: 'metering_frames_sent_total', help: 'Frames written to dashboards.', labelNames: ['transport'], registers });
    this.framesSkipped = new Counter({ name: 'metering_frames_skipped_total', help: 'Frames skipped for dashboards that were not reading.', labelNames: ['transport'], registers });
    this.clientsDropped = new Counter({ name: 'metering_clients_dropped_total', help: 'Dashboards disconnected for not reading (slow) or for missing a pong (dead).', labelNames: ['transport', 'reason'], registers });
    this.clientEventsIgnored = new Counter({ name: 'metering_client_events_ignored_total', help: 'Messages and events from dashboards other than subscribing, which are ignored.', labelNames: ['transport'], registers });
    this.ttft = new Histogram({
      name: 'metering_time_to_first_token_seconds',
      help: 'Time from a stream\'s start to its first token, on the node\'s clock.',
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
      registers,
    });
    for (const transport of TRANSPORTS) {
      this.framesSent.inc({ transport }, 0);
      this.framesSkipped.inc({ transport }, 0);
      this.clientEventsIgnored.inc({ transport }, 0);
    }

    this.registerScrapedCounters(sources, registers);
  }

  /** Sets the gauges from a tick's frame. */
  observeFrame({ frame }: EncodedFrame): void {
    this.fleet.mean.set(frame.tps);
    this.fleet.total.set(frame.total);
    this.fleet.high.set(frame.high);
    this.fleet.low.set(frame.low);
    this.activeStreams.set(frame.active);

    // Reset first, so a node that went quiet leaves the series.
    for (const gauge of [this.groupMean, this.groupTotal, this.groupActive]) gauge.reset();
    this.setGroups('node', frame.nodes);
    this.setGroups('model', frame.models);
  }

  observeTtft(seconds: number): void {
    this.ttft.observe(seconds);
  }

  countSent(transport: TransportName, count: number): void {
    this.framesSent.inc({ transport }, count);
  }

  countSkipped(transport: TransportName, count: number): void {
    this.framesSkipped.inc({ transport }, count);
  }

  countDropped(transport: TransportName, reason: 'slow' | 'dead'): void {
    this.clientsDropped.inc({ transport, reason });
  }

  countIgnoredEvent(transport: TransportName): void {
    this.clientEventsIgnored.inc({ transport });
  }

  private setGroups(group: string, figures: GroupFigures[]): void {
    for (const { key, tps, total, active } of figures) {
      this.groupMean.set({ group, key }, tps);
      this.groupTotal.set({ group, key }, total);
      this.groupActive.set({ group, key }, active);
    }
  }

  private registerScrapedCounters(sources: MetricSources, registers: Registry[]): void {
    const { ingest } = sources;
    const scraped = (name: string, help: string, read: () => number) => new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
    scraped('metering_messages_received_total', 'Messages received from nodes.', () => ingest.messagesReceived);
    scraped('metering_updates_received_total', 'Stream updates applied to the meter.', () => ingest.updatesApplied);
    scraped('metering_redis_reconnects_total', 'Times the hub subscribed again after losing Redis.', sources.redisReconnects);

    new Counter({
      name: 'metering_messages_rejected_total',
      help: 'Messages rejected, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const reason of REJECT_REASONS) this.inc({ reason }, ingest.rejected[reason]);
      },
    });
    new Counter({
      name: 'metering_updates_ignored_total',
      help: 'Stream updates ignored inside accepted messages, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(ingest.ignored)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: 'metering_streams_evicted_total',
      help: 'Streams ended to stay under a cap: per node (node_limit) or in total (total_limit).',
      labelNames: ['cap'],
      registers,
      collect() {
        this.reset();
        for (const [cap, count] of Object.entries(ingest.evictedBy)) this.inc({ cap }, count);
      },
    });
    new Gauge({
      name: 'metering_clients',
      help: 'Dashboards connected, by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        const counts = sources.clients();
        for (const transport of TRANSPORTS) this.set({ transport }, counts[transport]);
      },
    });
  }
}
