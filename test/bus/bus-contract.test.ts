import { type Bus, BusError, MemoryBus, RedisBus } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { startRedisServer, useRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const redisServer = useRedisServer();

interface BusPair {
  publisher: Bus;
  subscriber: Bus;
  close(): Promise<void>;
}

// The same suite runs over every bus, so the hub and the publisher can
// rely on one behaviour whichever transport carries the messages.
const backends: [string, () => BusPair][] = [
  ['in-process bus', () => {
    const bus = new MemoryBus();
    return { publisher: bus, subscriber: bus, close: () => bus.close() };
  }],
  ['Redis bus', () => {
    const publisher = new RedisBus({ url: redisServer().url, logger: silentLogger });
    const subscriber = new RedisBus({ url: redisServer().url, logger: silentLogger });
    return {
      publisher,
      subscriber,
      close: async () => {
        await publisher.close();
        await subscriber.close();
      },
    };
  }],
];

async function publishWhenReady(bus: Bus, channel: string, message: string): Promise<void> {
  await waitFor(async () => {
    try {
      await bus.publish(channel, message);
      return true;
    } catch (error) {
      if (error instanceof BusError && error.code === 'BUS_NOT_READY') return false;
      throw error;
    }
  }, { what: 'the bus to accept a message' });
}

describe.each(backends)('%s', (_name, open) => {
  it('delivers messages in publish order', async () => {
    const { publisher, subscriber, close } = open();
    const received: string[] = [];
    await subscriber.subscribe('orders', (message) => received.push(message));

    await publishWhenReady(publisher, 'orders', 'first');
    for (let i = 2; i <= 200; i++) await publisher.publish('orders', `m${i}`);
    await waitFor(() => received.length === 200, { what: '200 messages' });

    expect(received[0]).toBe('first');
    expect(received.slice(1)).toEqual(Array.from({ length: 199 }, (_, i) => `m${i + 2}`));
    await close();
  });

  it('keeps channels apart', async () => {
    const { publisher, subscriber, close } = open();
    const a: string[] = [];
    const b: string[] = [];
    await subscriber.subscribe('a', (message) => a.push(message));
    await subscriber.subscribe('b', (message) => b.push(message));

    await publishWhenReady(publisher, 'a', 'to a');
    await publisher.publish('b', 'to b');
    await waitFor(() => a.length === 1 && b.length === 1, { what: 'one message per channel' });

    expect(a).toEqual(['to a']);
    expect(b).toEqual(['to b']);
    await close();
  });

  it('carries any text unchanged', async () => {
    const { publisher, subscriber, close } = open();
    const received: string[] = [];
    await subscriber.subscribe('text', (message) => received.push(message));
    const text = `{"emoji":"\u{1F600}","nul":"\u0000","long":"${'x'.repeat(100_000)}"}`;

    await publishWhenReady(publisher, 'text', text);
    await waitFor(() => received.length === 1, { what: 'the message' });

    expect(received[0]).toBe(text);
    await close();
  });

  it('reports ready while subscribed', async () => {
    const { subscriber, close } = open();
    await subscriber.subscribe('ready', () => {});
    expect(subscriber.isReady()).toBe(true);
    await close();
    expect(subscriber.isReady()).toBe(false);
  });

  it('rejects publish after close', async () => {
    const { publisher, close } = open();
    await close();
    await expect(publisher.publish('closed', 'x')).rejects.toMatchObject({ name: 'BusError', code: 'BUS_CLOSED' });
  });
});

describe('Redis bus while Redis is down', () => {
  it('rejects publish at once and recovers', async () => {
    const down = await startRedisServer();
    const bus = new RedisBus({ url: down.url, logger: silentLogger });
    const subscriber = new RedisBus({ url: down.url, logger: silentLogger });
    const received: string[] = [];
    await subscriber.subscribe('recover', (message) => received.push(message));
    await publishWhenReady(bus, 'recover', 'before');
    await waitFor(() => received.length === 1, { what: 'the first message' });

    await down.stop();
    await waitFor(() => !subscriber.isReady(), { what: 'the subscriber to notice' });
    await expect(bus.publish('recover', 'while down')).rejects.toMatchObject({ code: 'BUS_NOT_READY' });

    await down.start();
    await waitFor(() => subscriber.isReady(), { what: 'the subscriber to resubscribe' });
    await publishWhenReady(bus, 'recover', 'after');
    await waitFor(() => received.length === 2, { what: 'the message after the restart' });

    expect(received).toEqual(['before', 'after']);
    await bus.close();
    await subscriber.close();
    await down.stop();
  });
});
