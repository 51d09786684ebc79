import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  type Bus,
  createRootLogger,
  DEFAULT_CHANNEL,
  DEFAULT_MAX_MESSAGE_BYTES,
  type Logger,
  type MeteringFrame,
  RedisBus,
} from '@metering-hub/shared';

import { Ingest, type IngestStats } from '../ingest/ingest.js';
import { Meter, meterDefaults } from '../meter/meter.js';
import { createHttpHandler } from './http-routes.js';
import { SocketTransport } from './socket-transport.js';
import { type Scheduler, Ticker } from './ticker.js';

export interface HubOptions {
  /** Bus to subscribe on. Left open on close. Give this or `redisUrl`. */
  bus?: Bus;
  /** Redis to subscribe on; the hub opens and closes the connection. */
  redisUrl?: string;
  /** Channel of node updates. @default 'metering:updates' */
  channel?: string;
  /** HTTP port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Largest update message accepted, in bytes. @default 1_048_576 */
  maxMessageBytes?: number;
  /** Root logger; each module logs through a child. @default a pino logger at LOG_LEVEL */
  logger?: Logger;
  /** Monotonic clock in ms for staleness and the window. @default performance.now */
  now?: () => number;
  /** Wall clock in ms since the epoch, for the frame's `at` only. @default Date.now */
  wallClock?: () => number;
  /** Timer functions of the ticker. @default the global ones */
  scheduler?: Scheduler;
}

/** Counters of a running hub. */
export interface HubStats {
  ingest: IngestStats;
  ticks: number;
  /** JSON encodings of frames by the hub itself, at most one per tick. */
  frameEncodings: number;
}

/**
 * The metering hub: subscribes to node updates, feeds the meter, takes one
 * snapshot per tick and pushes it to every dashboard.
 */
export class Hub {
  readonly stats: HubStats;

  private readonly bus: Bus;
  private readonly ownsBus: boolean;
  private readonly channel: string;
  private readonly port: number;
  private readonly host: string;
  private readonly log: Logger;
  private readonly wallClock: () => number;
  private readonly meter: Meter;
  private readonly ingest: Ingest;
  private readonly ticker: Ticker;
  private readonly activeIntervalMs: number;
  private readonly httpServer: HttpServer;
  private readonly sockets: SocketTransport;
  private frame: MeteringFrame;
  // Encoded on first use after each tick, then shared by every reader.
  private frameJson: string | undefined;
  private readonly frameListeners = new Set<(frame: MeteringFrame) => void>();
  private stopReadyWatch: (() => void) | undefined;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;

  constructor(options: HubOptions = {}) {
    const root = options.logger ?? createRootLogger();
    this.log = root.child({ module: 'hub' });
    if ((options.bus === undefined) === (options.redisUrl === undefined)) {
      throw new TypeError('Invalid hub options: pass exactly one of bus and redisUrl.');
    }

    this.ownsBus = !options.bus;
    this.bus = options.bus ?? new RedisBus({ url: options.redisUrl, logger: root.child({ module: 'redis' }) });
    this.channel = options.channel ?? DEFAULT_CHANNEL;
    this.port = options.port ?? 3000;
    this.host = options.host ?? '127.0.0.1';
    this.wallClock = options.wallClock ?? Date.now;

    const now = options.now ?? (() => performance.now());
    this.meter = new Meter({ now: () => now() / 1000 });
    this.ingest = new Ingest({
      meter: this.meter,
      logger: root,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    });
    this.stats = { ingest: this.ingest.stats, ticks: 0, frameEncodings: 0 };

    this.frame = { tps: 0, high: 0, low: 0, active: 0, at: this.wallClock() };

    this.httpServer = createServer(createHttpHandler({
      latestFrameJson: () => this.latestFrameJson(),
      isReady: () => this.bus.isReady(),
    }));
    this.sockets = new SocketTransport({
      httpServer: this.httpServer,
      logger: root,
      latestFrame: () => this.frame,
    });
    this.ticker = new Ticker({
      onTick: () => this.tick(),
      nextDelayMs: () => this.meter.interval() * 1000,
      scheduler: options.scheduler,
      now,
    });
    this.activeIntervalMs = meterDefaults.activeIntervalSeconds * 1000;
  }

  /**
   * Listens, starts the ticker and subscribes. Resolves once listening. The
   * subscription completes whenever the bus can be reached, so a hub whose
   * Redis is down starts anyway and reports not ready on /readyz.
   */
  async listen(): Promise<AddressInfo> {
    if (this.state !== 'new') throw new Error(`Cannot listen: the hub is ${this.state}.`);
    this.state = 'listening';

    await new Promise<void>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(this.port, this.host, () => {
        this.httpServer.off('error', reject);
        resolve();
      });
    });

    this.stopReadyWatch = this.bus.onReadyChange((ready) => {
      this.log.info({ ready, channel: this.channel }, ready ? 'Subscribed to node updates' : 'Lost the subscription to node updates');
    });
    this.bus.subscribe(this.channel, (message) => this.onMessage(message)).catch((error: unknown) => {
      this.log.error({ err: error, channel: this.channel }, 'Subscribing to node updates failed');
    });

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
    return this.frame;
  }

  /** Returns the frame of the latest tick as JSON, encoded at most once per tick. */
  latestFrameJson(): string {
    if (this.frameJson === undefined) {
      this.frameJson = JSON.stringify(this.frame);
      this.stats.frameEncodings += 1;
    }
    return this.frameJson;
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

  /** Number of connected Socket.IO clients. */
  get clientCount(): number {
    return this.sockets.clientCount;
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
    this.state = 'closing';
    this.ticker.stop();
    this.frameListeners.clear();
    this.stopReadyWatch?.();

    const listening = this.httpServer.listening;
    if (listening) {
      await this.sockets.close();
      this.httpServer.closeAllConnections();
    }
    if (this.ownsBus) await this.bus.close();

    this.state = 'closed';
    this.log.info({ ticks: this.stats.ticks }, 'Hub closed');
  }

  private onMessage(message: string): void {
    this.ingest.handle(message);
    // While idle the next tick may be up to the idle interval away; a
    // message that made a stream active brings it forward.
    if (this.ticker.pendingDelayMs > this.activeIntervalMs) this.ticker.reschedule();
  }

  private tick(): void {
    try {
      const snapshot = this.meter.snapshot();
      this.frame = { ...snapshot, at: this.wallClock() };
      this.frameJson = undefined;
      this.stats.ticks += 1;
      this.sockets.broadcast(this.frame);
      for (const listener of this.frameListeners) listener(this.frame);
      this.log.debug(this.frame, 'Tick');
    } catch (error) {
      this.log.error({ err: error }, 'Tick failed; the next tick is scheduled all the same');
    }
  }
}
