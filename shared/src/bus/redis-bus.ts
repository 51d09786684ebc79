import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

import { LogThrottle } from '../logging.js';
import { type Bus, BusError, type MessageListener } from './bus.js';
import { Inbox, type InboxOptions } from './inbox.js';

export interface RedisBusOptions {
  /**
   * Redis URL (`redis://`, `rediss://` for TLS, with `user:password@` for
   * ACL users). Ignored when `client` is given.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * An ioredis client to publish on. The bus never closes a client it was
   * given; it opens its own subscriber connection from the client's options.
   */
  client?: Redis;
  /** Extra ioredis options for the connections the bus opens. */
  redisOptions?: RedisOptions;
  /** Logger for connection faults. */
  logger: Logger;
  /**
   * Ms between PINGs on the subscriber connection. A connection that has
   * gone silent without a FIN (a dead peer, a paused proxy) sends no error,
   * so only a missed reply reveals it. 0 turns the check off. @default 5_000
   */
  healthCheckMs?: number;
  /** Ms a PING may take before the subscriber reconnects. @default 3_000 */
  healthTimeoutMs?: number;
  /**
   * Delivery of received messages to listeners, in slices of a few ms with
   * the subscriber socket paused while a backlog waits. See `Inbox`.
   */
  delivery?: InboxOptions;
}

/**
 * Redis pub/sub. Publishing and subscribing use separate connections
 * because a connection in subscriber mode can run nothing else. Each is
 * opened on first use.
 */
export class RedisBus implements Bus {
  private readonly options: RedisBusOptions;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle();
  private readonly readyListeners = new Set<(ready: boolean) => void>();
  private readonly channels = new Map<string, Set<MessageListener>>();
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  private subscribed = false;
  private closed = false;
  private healthTimer: NodeJS.Timeout | undefined;
  private healthProbe = false;
  private readonly inbox: Inbox;

  constructor(options: RedisBusOptions) {
    this.options = options;
    this.log = options.logger;
    this.publisher = options.client;
    this.inbox = new Inbox((channel, message) => this.deliver(channel, message), options.delivery);
  }

  async publish(channel: string, message: string): Promise<void> {
    const client = this.publisherClient();
    // Checked here so that no message waits in ioredis's offline queue,
    // which would grow for as long as Redis stays down.
    if (client.status !== 'ready') {
      throw new BusError('BUS_NOT_READY', `Redis is not connected (status ${client.status}).`);
    }
    try {
      await client.publish(channel, message);
    } catch (error) {
      if ((error as Error).name === 'ReplyError') {
        // Redis replied with an error, such as NOPERM for an ACL user that
        // may not publish on the channel, so retrying will not help.
        throw new BusError('BUS_PUBLISH_REJECTED', `Redis rejected PUBLISH on ${channel}: ${(error as Error).message}`);
      }
      // Otherwise the connection dropped between the check above and the
      // write, before ioredis changed its status, or Redis did not reply.
      throw new BusError('BUS_NOT_READY', `Redis did not take the message: ${(error as Error).message}`);
    }
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    this.assertOpen('subscribe');
    const listeners = this.channels.get(channel) ?? new Set();
    listeners.add(listener);
    this.channels.set(channel, listeners);

    const subscriber = this.subscriberClient();
    if (subscriber.status === 'ready') {
      await subscriber.subscribe(channel);
      this.setSubscribed(true);
    } else {
      await waitForSubscribed(this);
    }
  }

  /**
   * Whether the subscription is in place or, on a bus that has not
   * subscribed, whether publishing can go through. On such a bus the first
   * call opens the publishing connection, so a publisher that checks before
   * its first message does not wait for a connection that was never opened.
   */
  isReady(): boolean {
    if (this.closed) return false;
    if (this.subscriber) return this.subscribed;
    return this.publisherClient().status === 'ready';
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    // Messages read but not yet delivered go the way of those still in the
    // socket: a closed bus delivers nothing more.
    this.inbox.clear();
    this.setSubscribed(false);
    this.readyListeners.clear();

    const own = [this.subscriber];
    if (!this.options.client) own.push(this.publisher);
    await Promise.all(own.map((client) => client && quitOrDisconnect(client, this.log)));
  }

  private publisherClient(): Redis {
    this.assertOpen('publish');
    if (!this.publisher) {
      // A publish that Redis does not acknowledge in time fails, so a frozen
      // server cannot hold a flush (or a close) forever.
      this.publisher = this.connect('publisher', { enableOfflineQueue: false, commandTimeout: 2_000 });
    }
    return this.publisher;
  }

  private subscriberClient(): Redis {
    if (this.subscriber) return this.subscriber;

    // Resubscribing is done here on every `ready`, not by ioredis, so that
    // readiness means "subscribed" and not merely "connected".
    const subscriber = this.connect('subscriber', { autoResubscribe: false });
    subscriber.on('message', (channel: string, message: string) => this.inbox.push(channel, message, subscriber.stream));
    subscriber.on('ready', () => this.resubscribe(subscriber));
    subscriber.on('close', () => this.setSubscribed(false));
    this.subscriber = subscriber;

    const everyMs = this.options.healthCheckMs ?? 5_000;
    if (everyMs > 0) {
      this.healthTimer = setInterval(() => void this.checkHealth(subscriber), everyMs);
      this.healthTimer.unref();
    }
    return subscriber;
  }

  private deliver(channel: string, message: string): void {
    for (const listener of this.channels.get(channel) ?? []) {
      try {
        listener(message);
      } catch (error) {
        // A throwing listener must not stop delivery to the others or of
        // the messages after this one.
        if (this.throttle.admit('listener-error') !== undefined) {
          this.log.error({ err: safeError(error as Error), channel }, 'Bus listener threw; message skipped for it');
        }
      }
    }
  }

  private async checkHealth(subscriber: Redis): Promise<void> {
    if (this.healthProbe || !this.subscribed || subscriber.status !== 'ready') return;
    this.healthProbe = true;

    const timeoutMs = this.options.healthTimeoutMs ?? 3_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([subscriber.ping().catch(() => 'failed'), timedOut]);
    clearTimeout(timer);
    this.healthProbe = false;

    if (outcome === 'timeout' && !this.closed) {
      this.log.warn({ connection: 'subscriber', timeoutMs }, 'Redis PING timed out; reconnecting the subscriber');
      this.setSubscribed(false);
      subscriber.disconnect(true);
    }
  }

  private resubscribe(subscriber: Redis): void {
    const channels = [...this.channels.keys()];
    if (channels.length === 0) return;

    subscriber.subscribe(...channels).then(
      () => this.setSubscribed(true),
      (error: unknown) => this.log.warn({ err: safeError(error as Error), channels }, 'Redis subscribe failed; retrying on the next reconnect'),
    );
  }

  private connect(role: string, extra: RedisOptions): Redis {
    const base = this.options.client?.options ?? {};
    const options: RedisOptions = {
      // Retries at most a second apart, so a hub is back within about a
      // second of Redis; ioredis's default waits up to two.
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
      // A socket whose server froze is destroyed this soon after disconnect
      // instead of ioredis's 2 s, so a close does not outlive its deadline.
      disconnectTimeout: 100,
      ...base,
      ...this.options.redisOptions,
      ...extra,
      lazyConnect: false,
    };
    const client = this.options.client || !this.options.url
      ? new Redis(options)
      : new Redis(this.options.url, options);
    const log = this.log.child({ connection: role });

    let attempts = 0;
    client.on('error', (error: Error) => {
      const heldBack = this.throttle.admit(`${role}:error:${error.message}`);
      if (heldBack !== undefined) log.warn({ err: safeError(error), heldBack }, 'Redis connection error');
    });
    client.on('reconnecting', (delayMs: number) => {
      attempts += 1;
      // Logged once a minute while Redis stays down, with the count.
      if (this.throttle.admit(`${role}:reconnecting`) !== undefined) {
        log.info({ attempts, delayMs }, 'Redis reconnecting');
      }
    });
    client.on('ready', () => {
      log.info({ attempts }, 'Redis connection ready');
      attempts = 0;
    });
    return client;
  }

  private setSubscribed(subscribed: boolean): void {
    if (this.subscribed === subscribed) return;
    this.subscribed = subscribed;
    for (const listener of this.readyListeners) listener(subscribed);
  }

  private assertOpen(action: string): void {
    if (this.closed) {
      throw new BusError('BUS_CLOSED', `Cannot ${action}: the Redis bus is closed.`);
    }
  }
}

// Resolves on the first subscription; while Redis is down this waits, and
// the caller decides whether to wait for it.
function waitForSubscribed(bus: RedisBus): Promise<void> {
  return new Promise((resolve) => {
    const remove = bus.onReadyChange((ready) => {
      if (ready) {
        remove();
        resolve();
      }
    });
  });
}

// ioredis errors can carry the failed command, whose arguments for AUTH
// are the credentials; only the name, code and message are logged.
function safeError(error: Error): { name: string; message: string; code?: string } {
  const code = (error as NodeJS.ErrnoException).code;
  return { name: error.name, message: error.message, ...(code ? { code } : {}) };
}

// How long close() waits for Redis to acknowledge QUIT before it drops the
// connection; a frozen server would otherwise hold the shutdown forever.
const QUIT_TIMEOUT_MS = 1_000;
// How long close() waits for a dropped socket to be released.
const SOCKET_END_TIMEOUT_MS = 500;

/**
 * Closes a connection with QUIT, or drops it when Redis does not reply in
 * time, and resolves once the socket is gone.
 */
export async function quitOrDisconnect(client: Redis, log: Logger): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), QUIT_TIMEOUT_MS);
    });
    // QUIT can fail on a connection that dropped meanwhile; disconnect
    // below releases it all the same.
    const outcome = await Promise.race([client.quit().catch(() => 'failed'), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.warn({ timeoutMs: QUIT_TIMEOUT_MS }, 'Redis did not reply to QUIT; dropping the connection');
    }
  }
  if (client.status === 'end') return;

  // A client between reconnects has no socket, and ioredis then emits no
  // 'end' for it, so the wait is bounded.
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, SOCKET_END_TIMEOUT_MS);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  await ended;
}
