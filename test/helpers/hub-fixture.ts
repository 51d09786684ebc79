import { Hub, type HubOptions } from '@metering-hub/server';
import { MemoryBus } from '@metering-hub/shared';
import { afterEach } from 'vitest';

import { silentLogger } from './logger.js';
import { ManualScheduler } from './manual-scheduler.js';

export interface HubFixture {
  hub: Hub;
  bus: MemoryBus;
  scheduler: ManualScheduler;
  /** Monotonic clock of the hub, ms; tests move it. */
  clock: { now: number };
  port: number;
  base: string;
  /** Publishes a node message and waits until the hub has taken it. */
  publish(node: string, streams: object[], extra?: object): Promise<void>;
}

/**
 * Returns a function that starts a hub on an in-process bus, with a
 * manual ticker and clock, on a free port of 127.0.0.1. Everything it
 * starts is closed after each test.
 */
export function useHubs(): (options?: Partial<HubOptions>) => Promise<HubFixture> {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return async (options = {}) => {
    const bus = new MemoryBus();
    const clock = { now: 5_000 };
    const scheduler = new ManualScheduler(() => clock.now);
    const hub = new Hub({
      bus,
      port: 0,
      logger: silentLogger,
      scheduler,
      now: () => clock.now,
      wallClock: () => 1_764_842_000_000 + clock.now,
      ...options,
    });
    const { port } = await hub.listen();
    cleanups.push(async () => {
      await hub.close();
      await bus.close();
    });

    const publish = async (node: string, streams: object[], extra: object = {}) => {
      const before = hub.stats.ingest.messagesReceived;
      await bus.publish('metering:updates', JSON.stringify({ v: 1, node, streams, ...extra }));
      while (hub.stats.ingest.messagesReceived === before) await new Promise((resolve) => setImmediate(resolve));
    };
    return { hub, bus, scheduler, clock, port, base: `http://127.0.0.1:${port}`, publish };
  };
}

/** Builds a stream entry of an update message. */
export function streamEntry(id: string, fields: { out?: number; reasoning?: number; beganAt?: number; firstAt?: number | null; lastAt?: number | null; model?: string; ended?: boolean } = {}) {
  const { out = 0, reasoning = 0, beganAt = 0, firstAt = null, lastAt = null, model, ended = false } = fields;
  return { id, ...(model ? { model } : {}), beganAt, firstAt, lastAt, out, reasoning, ended };
}
