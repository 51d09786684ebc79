import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';

const startHub = useHubs();

describe('frame fields', () => {
  it('reports the mean, the total and the output/reasoning split', async () => {
    const { hub, publish, scheduler } = await startHub();
    await publish('n1', [
      streamEntry('a', { out: 30, reasoning: 10, beganAt: 0, firstAt: 500, lastAt: 2_500 }),
      streamEntry('b', { out: 10, beganAt: 0, firstAt: 1_000, lastAt: 2_000 }),
    ]);
    scheduler.fire();

    // a: 20 tok/s (15 output + 5 reasoning); b: 10 tok/s output.
    expect(hub.latestFrame()).toMatchObject({ tps: 15, total: 30, outTps: 12.5, reasoningTps: 2.5, active: 2 });
  });

  it('reports TTFT percentiles of recent first tokens', async () => {
    const { hub, publish, scheduler, clock } = await startHub();
    const ttfts = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000];
    await publish('n1', ttfts.map((ttft, index) => streamEntry(`s${index}`, { beganAt: 10_000, firstAt: 10_000 + ttft, lastAt: 10_000 + ttft, out: 1 })));
    scheduler.fire();

    expect(hub.latestFrame().ttft).toEqual({ p50: 500, p95: 1_000, samples: 10 });

    clock.now += 61_000;
    scheduler.fire();
    expect(hub.latestFrame().ttft).toEqual({ p50: 0, p95: 0, samples: 0 });
  });

  it('breaks figures down by node and model', async () => {
    const { hub, publish, scheduler } = await startHub();
    await publish('n1', [
      streamEntry('a', { model: 'llama', out: 20, firstAt: 0, lastAt: 1_000 }),
      streamEntry('b', { model: 'qwen', out: 40, firstAt: 0, lastAt: 1_000 }),
    ]);
    await publish('n2', [streamEntry('a', { model: 'llama', out: 60, firstAt: 0, lastAt: 1_000 })]);
    scheduler.fire();

    const frame = hub.latestFrame();
    expect(frame.nodes).toEqual([
      { key: 'n1', tps: 30, total: 60, active: 2 },
      { key: 'n2', tps: 60, total: 60, active: 1 },
    ]);
    expect(frame.models).toEqual([
      { key: 'llama', tps: 40, total: 80, active: 2 },
      { key: 'qwen', tps: 40, total: 40, active: 1 },
    ]);
  });

  it('lists the 50 busiest nodes and sums the rest', async () => {
    const { hub, publish, scheduler } = await startHub();
    for (let node = 1; node <= 60; node++) {
      await publish(`node-${node}`, [streamEntry('s', { out: node, firstAt: 0, lastAt: 1_000 })]);
    }
    scheduler.fire();

    const { nodes } = hub.latestFrame();
    expect(nodes).toHaveLength(51);
    expect(nodes[0]).toEqual({ key: 'node-60', tps: 60, total: 60, active: 1 });
    expect(nodes[49]?.key).toBe('node-11');
    // Nodes 1-10 sum to 55 tok/s over ten streams.
    expect(nodes[50]).toEqual({ key: '(other)', tps: 5.5, total: 55, active: 10, other: true });
  });

  it('says when the bus is not ready', async () => {
    const { hub, bus, scheduler } = await startHub();
    scheduler.fire();
    expect(hub.latestFrame().busReady).toBe(true);

    await bus.close();
    scheduler.fire();
    expect(hub.latestFrame().busReady).toBe(false);
  });
});
