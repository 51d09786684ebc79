import { createPublisher, decodeUpdateMessage, type PublisherOptions } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { captureLogger, silentLogger } from '../helpers/logger.js';
import { SwitchableBus } from '../helpers/switchable-bus.js';

function publisherOn(bus: SwitchableBus, options: Partial<PublisherOptions> = {}) {
  const clock = { now: 1_764_842_000_000 };
  const publisher = createPublisher({
    nodeId: 'chat-1',
    bus,
    // Long enough that only the test's own flush() calls send.
    flushIntervalMs: 3_600_000,
    now: () => clock.now,
    logger: silentLogger,
    ...options,
  });
  return { publisher, clock };
}

describe('publisher batching', () => {
  it('sends every change of every stream in one message per flush', async () => {
    const bus = new SwitchableBus();
    const { publisher, clock } = publisherOn(bus);
    publisher.begin('s-1', { model: 'llama-3-70b' });
    publisher.begin('s-2');
    for (let n = 1; n <= 500; n++) {
      clock.now += 1;
      publisher.token('s-1', n);
      publisher.reasoning('s-2', n * 2);
    }

    await publisher.flush();

    expect(bus.sent).toHaveLength(1);
    const [message] = bus.messages();
    expect(message?.node).toBe('chat-1');
    expect(message?.streams).toEqual([
      { id: 's-1', model: 'llama-3-70b', beganAt: 1_764_842_000_000, firstAt: 1_764_842_000_001, lastAt: 1_764_842_000_500, out: 500, reasoning: 0, ended: false },
      { id: 's-2', beganAt: 1_764_842_000_000, firstAt: 1_764_842_000_001, lastAt: 1_764_842_000_500, out: 0, reasoning: 1000, ended: false },
    ]);
    await publisher.close();
  });

  it('sends only the streams that changed', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.begin('a');
    publisher.begin('b');
    await publisher.flush();
    publisher.token('b', 3);
    await publisher.flush();
    await publisher.flush();

    expect(bus.messages().map((message) => message.streams.map((stream) => stream.id))).toEqual([['a', 'b'], ['b']]);
    await publisher.close();
  });

  it('publishes messages the hub accepts', async () => {
    const bus = new SwitchableBus();
    const { publisher, clock } = publisherOn(bus);
    publisher.begin('__proto__');
    clock.now += 450;
    publisher.token('__proto__', 1);
    publisher.end('__proto__');
    await publisher.close();

    for (const { message } of bus.sent) {
      expect(decodeUpdateMessage(message).ok).toBe(true);
    }
  });

  it('flushes on its interval', async () => {
    const bus = new SwitchableBus();
    const publisher = createPublisher({ nodeId: 'n', bus, flushIntervalMs: 5, logger: silentLogger });
    publisher.begin('a');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (bus.sent.length > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });

    expect(bus.messages()[0]?.streams[0]?.id).toBe('a');
    await publisher.close();
  });

  it('splits a flush with many streams into bounded messages', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus, { maxStreamsPerMessage: 100 });
    for (let i = 0; i < 250; i++) publisher.begin(`s-${i}`);
    await publisher.flush();

    expect(bus.messages().map((message) => message.streams.length)).toEqual([100, 100, 50]);
    await publisher.close();
  });

  it('sends bye with the last state on close', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.begin('a');
    publisher.token('a', 7);
    await publisher.close();

    const messages = bus.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.bye).toBe(true);
    expect(messages[0]?.streams[0]?.out).toBe(7);
  });
});

describe('publisher while the bus is down', () => {
  it('keeps only the latest state per stream and sends it once back', async () => {
    const bus = new SwitchableBus();
    const { publisher, clock } = publisherOn(bus);
    publisher.begin('a');
    await publisher.flush();
    bus.setUp(false);

    for (let n = 1; n <= 10_000; n++) {
      clock.now += 1;
      publisher.token('a', n);
      if (n % 100 === 0) await publisher.flush();
    }
    publisher.begin('b');
    publisher.end('b');

    expect(publisher.stats.pending).toBe(2);
    expect(bus.sent).toHaveLength(1);

    bus.setUp(true);
    await publisher.flush();

    expect(bus.sent).toHaveLength(2);
    const last = bus.messages()[1];
    expect(last?.streams).toHaveLength(2);
    expect(last?.streams[0]).toMatchObject({ id: 'a', out: 10_000 });
    expect(last?.streams[1]).toMatchObject({ id: 'b', ended: true });
    expect(publisher.stats.pending).toBe(0);
    await publisher.close();
  });

  it('resends a batch whose publish failed', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.begin('a');
    // Ready by its flag but failing on publish: the race of a dropping link.
    bus.up = false;
    const isReady = bus.isReady.bind(bus);
    bus.isReady = () => true;
    await publisher.flush();
    expect(publisher.stats.publishFailures).toBe(1);

    bus.up = true;
    bus.isReady = isReady;
    await publisher.flush();
    expect(bus.messages()[0]?.streams[0]?.id).toBe('a');
    await publisher.close();
  });
});

describe('publisher input', () => {
  it('never throws on bad calls and logs each kind once', async () => {
    const bus = new SwitchableBus();
    const { logger, lines } = captureLogger();
    const { publisher } = publisherOn(bus, { logger });

    const badCalls: (() => void)[] = [
      () => publisher.token('a', Number.NaN),
      () => publisher.token('a', -1),
      () => publisher.token('a', 1.5),
      () => publisher.token('a', 2 ** 53),
      () => publisher.begin(''),
      () => publisher.begin('x'.repeat(257)),
      () => publisher.begin(42 as unknown as string),
      () => publisher.end('never-begun'),
    ];
    for (const call of badCalls) {
      expect(call).not.toThrow();
      expect(call).not.toThrow();
    }

    expect(publisher.stats.callsIgnored).toBe(badCalls.length * 2);
    const warnings = lines().filter((line) => line.msg === 'Publisher call ignored');
    expect(warnings.length).toBeLessThan(badCalls.length * 2);
    await publisher.close();
  });

  it('ignores a running count that goes down', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.token('a', 10);
    publisher.token('a', 4);
    await publisher.flush();

    expect(bus.messages()[0]?.streams[0]?.out).toBe(10);
    expect(publisher.stats.callsIgnored).toBe(1);
    await publisher.close();
  });

  it('starts a stream on a token without begin', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.token('late', 3);
    await publisher.flush();

    expect(bus.messages()[0]?.streams[0]).toMatchObject({ id: 'late', out: 3 });
    await publisher.close();
  });

  it('bounds the streams it holds', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus, { maxStreams: 10 });
    for (let i = 0; i < 100; i++) publisher.begin(`s-${i}`);
    await publisher.flush();

    expect(bus.messages()[0]?.streams).toHaveLength(10);
    expect(publisher.stats.callsIgnored).toBe(90);
    await publisher.close();
  });

  it('rejects invalid options with the name and value', () => {
    const bus = new SwitchableBus();
    expect(() => createPublisher({ nodeId: '', bus })).toThrow('Invalid nodeId "": expected a string of 1-128 characters.');
    expect(() => createPublisher({ nodeId: 'n', bus, flushIntervalMs: 0 })).toThrow('Invalid flushIntervalMs 0: expected an integer of at least 1.');
    expect(() => createPublisher({ nodeId: 'n' })).toThrow('pass exactly one of redis (client or URL) and bus');
  });
});

describe('publisher edge cases', () => {
  it('ends a sent stream before an id is begun again', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    publisher.begin('chat-1');
    publisher.token('chat-1', 400);
    await publisher.flush();

    publisher.end('chat-1');
    publisher.begin('chat-1');
    publisher.token('chat-1', 3);
    await publisher.flush();

    const [, ended, renewed] = bus.messages();
    expect(ended?.streams).toEqual([expect.objectContaining({ id: 'chat-1', out: 400, ended: true })]);
    expect(renewed?.streams).toEqual([expect.objectContaining({ id: 'chat-1', out: 3, ended: false })]);
    await publisher.close();
  });

  it('keeps every message within the size limit', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus, { maxMessageBytes: 20_000 });
    // Control characters are escaped as \u00XX, six characters each.
    for (let i = 0; i < 200; i++) publisher.begin(`${'\u0001'.repeat(250)}${i}`);
    await publisher.flush();

    expect(bus.sent.length).toBeGreaterThan(1);
    for (const { message } of bus.sent) {
      expect(message.length).toBeLessThanOrEqual(20_000);
      expect(decodeUpdateMessage(message, 20_000).ok).toBe(true);
    }
    expect(bus.messages().flatMap((message) => message.streams)).toHaveLength(200);
    await publisher.close();
  });

  it('never throws on odd arguments', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus);
    const hostile = { toString: () => { throw new Error('no'); } };

    expect(() => publisher.begin('a', null as unknown as { model?: string })).not.toThrow();
    expect(() => publisher.begin(hostile as unknown as string)).not.toThrow();
    expect(() => publisher.token(hostile as unknown as string, 1)).not.toThrow();
    expect(() => publisher.begin('b', { model: hostile } as unknown as { model?: string })).not.toThrow();
    await publisher.close();
  });

  it('waits for the bus on close to send the last state', async () => {
    const bus = new SwitchableBus();
    const { publisher } = publisherOn(bus, { closeTimeoutMs: 10_000 });
    publisher.begin('a');
    bus.setUp(false);

    const closing = publisher.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bus.sent).toHaveLength(0);
    bus.setUp(true);
    await closing;

    expect(bus.messages()).toEqual([expect.objectContaining({ bye: true, streams: [expect.objectContaining({ id: 'a' })] })]);
  });
});
