import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import {
  type Bus,
  createRootLogger,
  DEFAULT_CHANNEL,
  DEFAULT_MAX_MESSAGE_BYTES,
  type Logger,
  type MeteringFrame,
  RedisBus,
  type SliceFrame,
} from '@metering-hub/shared';

import { Ingest, type IngestOptions, type IngestStats } from '../ingest/ingest.js';
import { Meter, meterDefaults } from '../meter/meter.js';
import { groupFigures, type RateTally } from '../meter/rate-tally.js';
import { TtftWindow } from '../meter/ttft-window.js';
import { AccessControl, type AccessOptions } from './access.js';
import type { BackpressureOptions } from './backpressure.js';
import { EncodedFrame } from './encoded-frame.js';
import { buildFrame, emptyFrame } from './frame-builder.js';
import { History } from './history.js';
import { createHttpHandler, requestPath, type RouteHandler, send, sendJson } from './http-routes.js';
import { HubMetrics } from './metrics.js';
import { type ReadingStore, RedisReadingStore } from './reading-store.js';
import { SocketTransport } from './socket-transport.js';
import { SseTransport } from './sse-transport.js';
import { staticRoutes } from './static-files.js';
import { type Scheduler, Ticker } from './ticker.js';
import type { FrameTransport, TransportName } from './transport.js';
import { WsTransport } from './ws-transport.js';

export interface HubOptions {
  /** Bus to subscribe on. Left open on close. Give this or `redisUrl`. */
  bus?: Bus;
  /** Redis to subscribe on; the hub opens and closes the connection. */
  redisUrl?: string;
  /**
   * Ms between PINGs on the Redis subscriber, which reveal a connection
   * gone silent; 0 turns them off. With `redisUrl` only. @default 5_000
   */
  redisHealthCheckMs?: number;
  /** Ms a PING may take before the subscriber reconnects. @default 3_000 */
  redisHealthTimeoutMs?: number;
  /** Channel of node updates. @default 'metering:updates' */
  channel?: string;
  /** HTTP port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Largest update message accepted, in bytes. @default 1_048_576 */
  maxMessageBytes?: number;
  /** Bounds on what nodes may send: stream caps, rate and duration limits. */
  ingest?: Omit<IngestOptions, 'meter' | 'logger' | 'onFirstToken' | 'maxMessageBytes'>;
  /** Limits for dashboards that stop reading (ws and SSE). */
  backpressure?: BackpressureOptions;
  /** Ms between WebSocket pings; an unanswered ping drops the client. @default 30_000 */
  wsHeartbeatMs?: number;
  /** Ms between SSE comment lines. @default 15_000 */
  sseHeartbeatMs?: number;
  /** Root logger; each module logs through a child. @default a pino logger at LOG_LEVEL */
  logger?: Logger;
  /** Monotonic clock in ms for staleness and the window. @default performance.now */
  now?: () => number;
  /** Wall clock in ms since the epoch, for the frame's `at` only. @default Date.now */
  wallClock?: () => number;
  /** Timer functions of the ticker. @default the global ones */
  scheduler?: Scheduler;
  /** Token and allowed origins for dashboards. @default open, same origin only */
  access?: AccessOptions;
  /**
   * Store in which the readings behind HIGH and LOW outlive the process,
   * so a restarted hub reports the same extremes. @default a Redis sorted set
   * `<channel>:readings` when `redisUrl` is given, none otherwise
   */
  readingStore?: ReadingStore | false;
}

/** Counters of a running hub. */
export interface HubStats {
  ingest: IngestStats;
  ticks: number;
  /** JSON encodings of frames by the hub, at most one per tick. */
  frameEncodings: number;
  /** Times the hub subscribed again after losing the bus. */
  resubscriptions: number;
  /** Readings loaded from the store at start. */
  readingsRestored: number;
}

// Path of the plain WebSocket; every other upgrade but Socket.IO's is refused.
const WS_PATH = '/ws';
// Paths that carry no figures, open even when a token is set: health
// checks and the page's static assets.
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/dashboard.js', '/dashboard.css', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']);

/**
 * The metering hub: subscribes to node updates, feeds the meter, takes one
 * snapshot per tick and pushes it to every dashboard, over Socket.IO, a
 * plain WebSocket and Server-Sent Events.
 */
export class Hub {
  readonly stats: HubStats;

  private readonly bus: Bus;
  private readonly ownsBus: boolean;
  private readonly channel: string;
  private readonly port: number;
  private readonly host: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly wallClock: () => number;
  private readonly meter: Meter;
  private readonly ttft = new TtftWindow();
  private readonly ingest: Ingest;
  private readonly history = new History();
  private readonly metrics: HubMetrics;
  private readonly ticker: Ticker;
  private readonly httpServer: HttpServer;
  private readonly sockets: SocketTransport;
  private readonly ws: WsTransport;
  private readonly sse: SseTransport;
  private readonly activeIntervalMs = meterDefaults.activeIntervalSeconds * 1000;
  private readonly frameListeners = new Set<(frame: MeteringFrame) => void>();
  private readonly access: AccessControl;
  private readonly store: ReadingStore | undefined;
  private readingsLoaded = false;
  private busDownSince: number | undefined;
  private latest: EncodedFrame;
  private groups: { node: ReadonlyMap<string, RateTally>; model: ReadonlyMap<string, RateTally> };
  private historyJson: string | undefined;
  private stopReadyWatch: (() => void) | undefined;
  private everReady = false;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;
  private listening: Promise<unknown> | undefined;

  constructor(options: HubOptions = {}) {
    const root = options.logger ?? createRootLogger();
    this.log = root.child({ module: 'hub' });
    if ((options.bus === undefined) === (options.redisUrl === undefined)) {
      throw new TypeError('Invalid hub options: pass exactly one of bus and redisUrl.');
    }

    this.ownsBus = !options.bus;
    this.bus = options.bus ?? new RedisBus({
      url: options.redisUrl,
      logger: root.child({ module: 'redis' }),
      healthCheckMs: options.redisHealthCheckMs,
      healthTimeoutMs: options.redisHealthTimeoutMs,
    });
    this.channel = options.channel ?? DEFAULT_CHANNEL;
    this.port = options.port ?? 3000;
    this.host = options.host ?? '127.0.0.1';
    this.now = options.now ?? (() => performance.now());
    this.wallClock = options.wallClock ?? Date.now;
    this.meter = new Meter({ now: () => this.now() / 1000 });
    this.ingest = new Ingest({
      ...options.ingest,
      meter: this.meter,
      logger: root,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      onFirstToken: (ttftMs, agoMs) => this.onFirstToken(ttftMs, agoMs),
    });
    this.stats = { ingest: this.ingest.stats, ticks: 0, frameEncodings: 0, resubscriptions: 0, readingsRestored: 0 };
    this.access = new AccessControl(options.access);
    this.store = options.readingStore === false
      ? undefined
      : options.readingStore ?? (options.redisUrl === undefined ? undefined : new RedisReadingStore({
        url: options.redisUrl,
        key: `${this.channel}:readings`,
        windowMs: meterDefaults.windowSeconds * 1000,
        logger: root,
      }));
    this.latest = this.encode(emptyFrame(this.wallClock()));
    this.groups = { node: new Map(), model: new Map() };

    const transportEvents = {
      onSent: (transport: TransportName, count: number) => this.metrics.countSent(transport, count),
      onSkipped: (transport: TransportName, count: number) => this.metrics.countSkipped(transport, count),
      onDropped: (transport: TransportName, reason: 'slow' | 'dead') => this.metrics.countDropped(transport, reason),
      onIgnoredEvent: (transport: TransportName) => this.metrics.countIgnoredEvent(transport),
    };
    this.metrics = new HubMetrics({
      ingest: this.ingest.stats,
      clients: () => ({ 'socket.io': this.sockets.clientCount(), ws: this.ws.clientCount(), sse: this.sse.clientCount() }),
      redisReconnects: () => this.stats.resubscriptions,
    });

    this.httpServer = createServer(createHttpHandler({
      routes: this.routes(),
      publicPaths: PUBLIC_PATHS,
      access: this.access,
      onError: (error) => this.log.error({ err: error }, 'HTTP route failed'),
    }));
    this.httpServer.on('upgrade', (request, socket, head) => this.onUpgrade(request, socket, head));
    this.sockets = new SocketTransport({
      httpServer: this.httpServer,
      logger: root,
      latestFrame: () => this.latest.frame,
      slice: (scope, key) => this.slice(scope, key),
      access: this.access,
      ...transportEvents,
    });
    this.ws = new WsTransport({
      logger: root,
      latestFrame: () => this.latest,
      heartbeatMs: options.wsHeartbeatMs,
      ...options.backpressure,
      ...transportEvents,
    });
    this.sse = new SseTransport({
      logger: root,
      latestFrame: () => this.latest,
      heartbeatMs: options.sseHeartbeatMs,
      ...options.backpressure,
      ...transportEvents,
    });

    this.ticker = new Ticker({
      onTick: () => this.tick(),
      nextDelayMs: () => this.meter.interval() * 1000,
      scheduler: options.scheduler,
      now: this.now,
    });
  }

  /**
   * Listens, starts the ticker and subscribes. Resolves once listening. The
   * subscription completes whenever the bus can be reached, so a hub whose
   * Redis is down starts anyway and reports not ready on /readyz.
   */
  listen(): Promise<AddressInfo> {
    if (this.state !== 'new') return Promise.reject(new Error(`Cannot listen: the hub is ${this.state}.`));
    this.state = 'listening';
    const listening = this.start();
    this.listening = listening.catch(() => {});
    return listening;
  }

  private async start(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(this.port, this.host, () => {
        this.httpServer.off('error', reject);
        resolve();
      });
    });

    this.stopReadyWatch = this.bus.onReadyChange((ready) => this.onReadyChange(ready));
    this.bus.subscribe(this.channel, (message) => this.onMessage(message)).catch((error: unknown) => {
      this.log.error({ err: error, channel: this.channel }, 'Subscribing to node updates failed');
    });

    // Stored readings merge into the window whenever they arrive, so the
    // hub serves at once rather than wait for Redis.
    void this.loadReadings();
    this.ticker.start();
    const address = this.address();
    this.log.info({ host: address.address, port: address.port, channel: this.channel }, 'Hub listening');
    return address;
  }

  address(): AddressInfo {
    return this.httpServer.address() as AddressInfo;
  }

  /** Returns the frame of the latest tick. */
  latestFrame(): MeteringFrame {
    return this.latest.frame;
  }

  /**
   * Calls the listener with every frame, after the dashboards got it.
   * Returns a function that removes the listener.
   */
  onFrame(listener: (frame: MeteringFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  isReady(): boolean {
    return this.bus.isReady();
  }

  /** Dashboards connected now, by transport. */
  clientCounts(): Record<TransportName, number> {
    return { 'socket.io': this.sockets.clientCount(), ws: this.ws.clientCount(), sse: this.sse.clientCount() };
  }

  /**
   * Stops the ticker, disconnects every client, closes the HTTP server and
   * the Redis connection the hub opened. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // A close that arrives while listen() is under way waits for it, so
    // the server it opens is closed too.
    await this.listening;
    const wasListening = this.state === 'listening';
    this.state = 'closing';
    this.ticker.stop();
    this.stopReadyWatch?.();

    // Stop taking clients, then send the ones connected a last frame, so
    // dashboards show the figures at shutdown rather than a second old.
    if (wasListening) {
      this.httpServer.close();
      this.tick();
    }
    this.frameListeners.clear();

    await this.ws.close();
    await this.sse.close();
    if (wasListening) await this.sockets.close();
    await Promise.all([this.ownsBus ? this.bus.close() : undefined, this.store?.close()]);

    this.state = 'closed';
    this.log.info({ ticks: this.stats.ticks }, 'Hub closed');
  }

  private routes(): Record<string, RouteHandler> {
    return {
      '/healthz': (_request, response) => sendJson(response, 200, '{"status":"ok"}'),
      '/readyz': (_request, response) => {
        const ready = this.bus.isReady();
        sendJson(response, ready ? 200 : 503, JSON.stringify({ ready, bus: ready ? 'subscribed' : 'not subscribed' }));
      },
      '/stats': (_request, response) => sendJson(response, 200, this.latest.json),
      '/history': (_request, response) => {
        this.historyJson ??= JSON.stringify(this.history.downsampled());
        sendJson(response, 200, this.historyJson);
      },
      '/metrics': async (_request, response) => {
        send(response, 200, this.metrics.registry.contentType, await this.metrics.registry.metrics());
      },
      '/events': (request, response) => this.sse.handle(request, response),
      ...staticRoutes(),
    };
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = requestPath(request);
    if (path === WS_PATH) {
      const denial = this.access.check(request);
      if (denial) {
        const body = JSON.stringify({ error: { code: denial.code, message: denial.message } });
        const statusText = denial.status === 401 ? 'Unauthorized' : 'Forbidden';
        socket.end(`HTTP/1.1 ${denial.status} ${statusText}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
        return;
      }
      this.ws.handleUpgrade(request, socket, head);
    } else if (!path.startsWith('/socket.io/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
  }

  private onReadyChange(ready: boolean): void {
    if (ready && this.everReady) this.stats.resubscriptions += 1;
    if (ready) this.everReady = true;
    if (!ready) {
      this.busDownSince ??= this.now();
    } else if (this.busDownSince !== undefined) {
      // Streams could not report during the outage; they are judged stale
      // on the time they could, not on the hub's lost minutes.
      this.meter.shiftQuietTimes((this.now() - this.busDownSince) / 1000);
      this.busDownSince = undefined;
    }
    if (ready && !this.readingsLoaded) void this.loadReadings();
    if (ready) {
      this.log.info({ channel: this.channel }, 'Subscribed to node updates');
    } else {
      // Redis gives no reason when it closes a subscriber. Besides a Redis
      // restart or a network fault, it closes one whose unread output passes
      // client-output-buffer-limit pubsub (32 MB by default): a single huge
      // message or a backlog the hub did not keep up with.
      this.log.warn({ channel: this.channel }, 'Lost the subscription to node updates (Redis restart, network fault, or Redis closing a subscriber over its pubsub output buffer limit)');
    }
    // Dashboards learn of the change with the next frame, which could
    // otherwise be up to an idle interval away.
    if (this.state === 'listening') this.ticker.tickSoon();
  }

  private onMessage(message: string): void {
    const carriedTokens = this.ingest.handle(message);
    // While idle the next tick may be up to the idle interval away; a
    // message with tokens brings it forward. Asking the meter scans the
    // streams, so messages without tokens do not ask.
    if (carriedTokens && this.ticker.pendingDelayMs > this.activeIntervalMs) this.ticker.reschedule();
  }

  private onFirstToken(ttftMs: number, agoMs: number): void {
    this.ttft.record((this.now() - agoMs) / 1000, ttftMs);
    if (ttftMs >= 0) this.metrics.observeTtft(ttftMs / 1000);
  }

  private slice(scope: SliceFrame['scope'], key: string): SliceFrame {
    const tally = this.groups[scope].get(key);
    const figures = tally ? groupFigures(key, tally) : { key, tps: 0, total: 0, active: 0 };
    return { scope, key, tps: figures.tps, total: figures.total, active: figures.active, at: this.latest.frame.at };
  }

  private encode(frame: MeteringFrame): EncodedFrame {
    return new EncodedFrame(frame, this.stats.ticks, () => {
      this.stats.frameEncodings += 1;
    });
  }

  private tick(): void {
    try {
      this.stats.ticks += 1;
      const frame = this.busDownSince === undefined ? this.measure() : this.repeatStale();
      this.latest = this.encode(frame);
      this.history.add(this.now(), { at: frame.at, tps: frame.tps, total: frame.total });
      this.historyJson = undefined;

      for (const transport of this.transports()) transport.broadcast(this.latest);
      this.metrics.observeFrame(this.latest);
      for (const listener of this.frameListeners) listener(frame);
      this.log.debug({ tps: frame.tps, active: frame.active }, 'Tick');
    } catch (error) {
      this.log.error({ err: error }, 'Tick failed; the next tick is scheduled all the same');
    }
  }

  // Takes the tick's reading from the meter and keeps it in the store.
  private measure(): MeteringFrame {
    const snapshot = this.meter.snapshot();
    const frame = buildFrame({
      snapshot,
      ttft: this.ttft.figures(this.now() / 1000),
      at: this.wallClock(),
      busReady: this.bus.isReady(),
    });
    this.groups = { node: snapshot.nodes, model: snapshot.models };
    if (snapshot.reading !== undefined) this.store?.add({ wallMs: frame.at, value: snapshot.reading });
    return frame;
  }

  // While the hub receives nothing from the nodes, a snapshot would show
  // every stream going idle. So the last figures are sent again, marked
  // stale, and no reading is taken.
  private repeatStale(): MeteringFrame {
    return { ...this.latest.frame, at: this.wallClock(), busReady: false, stale: true };
  }

  // Loads the readings of the window from the store, once; a failure is
  // retried when the bus is next ready.
  private async loadReadings(): Promise<void> {
    if (!this.store || this.readingsLoaded) return;
    this.readingsLoaded = true;
    const windowMs = meterDefaults.windowSeconds * 1000;
    const wallNow = this.wallClock();
    try {
      const stored = await this.store.load(wallNow - windowMs);
      const monotonicNow = this.now();
      this.stats.readingsRestored = this.meter.restoreReadings(stored.map(({ wallMs, value }) => ({
        at: (monotonicNow - (wallNow - wallMs)) / 1000,
        value,
      })));
      this.log.info({ readings: this.stats.readingsRestored }, 'Readings of the last hour restored');
      if (this.state === 'listening') this.ticker.tickSoon();
    } catch (error) {
      this.readingsLoaded = false;
      this.log.warn({ err: { message: (error as Error).message } }, 'Loading stored readings failed; HIGH and LOW start from this process');
    }
  }

  private transports(): FrameTransport[] {
    return [this.sockets, this.ws, this.sse];
  }
}
