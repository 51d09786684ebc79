import { randomUUID } from 'node:crypto';

import type { Logger } from '@metering-hub/shared';
import { LogThrottle, quitOrDisconnect } from '@metering-hub/shared';
import { Redis } from 'ioredis';

// How long a hub starting up waits for Redis before it gives up on the
// stored readings until its next reconnect.
const LOAD_CONNECT_TIMEOUT_MS = 3_000;

/** A meter reading as stored: wall-clock time, ms since the epoch, and value. */
export interface StoredReading {
  wallMs: number;
  value: number;
}

/** Store of the readings behind HIGH and LOW, which outlives a hub process. */
export interface ReadingStore {
  add(reading: StoredReading): void;
  /** Readings taken after `sinceWallMs`, by any hub on the same key. */
  load(sinceWallMs: number): Promise<StoredReading[]>;
  close(): Promise<void>;
}

export interface RedisReadingStoreOptions {
  url: string;
  /** Sorted-set key, shared by the hubs of one channel. */
  key: string;
  /** How long a reading counts, ms; older ones are trimmed on each add. */
  windowMs: number;
  logger: Logger;
}

/**
 * Readings in a Redis sorted set scored by wall-clock time, trimmed to the
 * window on every add and expiring with it, so the set stays bounded. Each
 * hub tags its members with its own id, so two hubs on one key keep both
 * series and HIGH/LOW come from their union.
 *
 * NOTE: a reading taken while Redis is down is kept in the hub's memory
 * only, so a hub restarted after such an outage reports HIGH and LOW
 * without it. Retrying the adds once Redis is back would remove that gap.
 */
export class RedisReadingStore implements ReadingStore {
  private readonly options: RedisReadingStoreOptions;
  private readonly client: Redis;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private readonly hubId = randomUUID().slice(0, 8);

  constructor(options: RedisReadingStoreOptions) {
    this.options = options;
    this.log = options.logger.child({ module: 'reading-store' });
    // Commands fail at once while Redis is down instead of queueing.
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      commandTimeout: 2_000,
      disconnectTimeout: 100,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
    });
    this.client.on('error', (error: Error) => {
      if (this.throttle.admit(`error:${error.message}`) !== undefined) {
        this.log.warn({ err: { name: error.name, message: error.message } }, 'Reading store connection error');
      }
    });
  }

  add({ wallMs, value }: StoredReading): void {
    if (this.client.status !== 'ready') return;
    const { key, windowMs } = this.options;
    this.client.multi()
      .zadd(key, wallMs, `${this.hubId}:${wallMs}:${value}`)
      .zremrangebyscore(key, '-inf', wallMs - windowMs)
      .pexpire(key, windowMs + 60_000)
      .exec()
      .catch((error: unknown) => {
        if (this.throttle.admit('add') !== undefined) {
          this.log.warn({ err: { message: (error as Error).message }, key }, 'Storing a reading failed; HIGH/LOW after a restart may miss it');
        }
      });
  }

  async load(sinceWallMs: number): Promise<StoredReading[]> {
    await this.connected(LOAD_CONNECT_TIMEOUT_MS);
    const members = await this.client.zrangebyscore(this.options.key, `(${sinceWallMs}`, '+inf');
    return members.flatMap((member) => {
      const [, wallText, valueText] = member.split(':');
      const wallMs = Number(wallText);
      const value = Number(valueText);
      return Number.isFinite(wallMs) && Number.isFinite(value) ? [{ wallMs, value }] : [];
    });
  }

  // Resolves once the connection is ready, or after the timeout, when the
  // command that follows fails with ioredis's own error.
  private async connected(timeoutMs: number): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.client.once('ready', done);
    });
  }

  async close(): Promise<void> {
    await quitOrDisconnect(this.client, this.log);
  }
}
