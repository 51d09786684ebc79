import { describe, expect, it } from 'vitest';

import {
  type FleetEvent,
  FleetReplay,
  type FleetReplayOptions,
  lastTokenAtMs,
  TokenTimingModel,
  type WorkloadRequest,
  WorkloadOptionsError,
} from '../../server/src/workload/index.js';
import { createPublishers, type PublisherCall } from '../helpers/recording-publisher.js';

/** 50 ms a token, first token 100 ms after the start, no spread. */
const fixedTiming = { ttftMs: 100, tokensPerSecond: 20, rateSpread: 0 };

function createFleet(
  requests: WorkloadRequest[],
  options: Partial<FleetReplayOptions> = {},
): { fleet: FleetReplay; events: FleetEvent[] } {
  const events: FleetEvent[] = [];
  const fleet = new FleetReplay({
    requests,
    publishers: createPublishers(1),
    timing: fixedTiming,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { fleet, events };
}

/** Advances in steps of `stepMs` until the fleet is done, with a bound. */
function runToEnd(fleet: FleetReplay, stepMs: number, maxMs = 10_000_000): void {
  for (let simMs = fleet.nowMs; !fleet.done; simMs += stepMs) {
    if (simMs > maxMs) throw new Error(`fleet not done by ${maxMs} ms`);
    fleet.advanceTo(simMs);
  }
}

function callsById(calls: PublisherCall[]): Map<string, PublisherCall[]> {
  const byId = new Map<string, PublisherCall[]>();
  for (const call of calls) {
    const list = byId.get(call.id) ?? [];
    list.push(call);
    byId.set(call.id, list);
  }
  return byId;
}

describe('FleetReplay', () => {
  it('counts starts, ends and streams in flight', () => {
    const { fleet } = createFleet([
      { arrivalMs: 0, outputTokens: 3 },
      { arrivalMs: 1_000, outputTokens: 1 },
    ]);

    expect(fleet.started).toBe(0);
    expect(fleet.done).toBe(false);

    fleet.advanceTo(0);
    expect(fleet.started).toBe(1);
    expect(fleet.inFlight).toBe(1);

    fleet.advanceTo(200);
    expect(fleet.ended).toBe(1);
    expect(fleet.inFlight).toBe(0);

    fleet.advanceTo(1_000);
    expect(fleet.started).toBe(2);
    expect(fleet.inFlight).toBe(1);
    expect(fleet.done).toBe(false);

    fleet.advanceTo(1_100);
    expect(fleet.ended).toBe(2);
    expect(fleet.inFlight).toBe(0);
    expect(fleet.done).toBe(true);
  });

  it('reports each stream on time', () => {
    const publishers = createPublishers(1);
    const { fleet } = createFleet([{ arrivalMs: 0, outputTokens: 3 }], { publishers });

    for (const simMs of [0, 99, 100, 149, 150, 200, 250]) fleet.advanceTo(simMs);

    expect(publishers[0]?.calls).toEqual([
      { method: 'begin', id: 'r-0' },
      { method: 'token', id: 'r-0', running: 1 },
      { method: 'token', id: 'r-0', running: 2 },
      { method: 'token', id: 'r-0', running: 3 },
      { method: 'end', id: 'r-0' },
    ]);
  });

  it('records the timeline with sim times', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 0, outputTokens: 2 }]);

    for (const simMs of [0, 120, 150]) fleet.advanceTo(simMs);

    expect(events).toEqual([
      { type: 'begin', atMs: 0, id: 'r-0', publisherIndex: 0 },
      { type: 'token', atMs: 120, id: 'r-0', publisherIndex: 0, running: 1 },
      { type: 'token', atMs: 150, id: 'r-0', publisherIndex: 0, running: 2 },
      { type: 'end', atMs: 150, id: 'r-0', publisherIndex: 0 },
    ]);
  });

  it('compresses arrivals but not tokens', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 10_000, outputTokens: 2 }], {
      speed: 10,
    });

    fleet.advanceTo(999);
    expect(fleet.started).toBe(0);

    fleet.advanceTo(1_000);
    expect(fleet.started).toBe(1);

    fleet.advanceTo(1_149);
    expect(fleet.ended).toBe(0);

    fleet.advanceTo(1_150);
    expect(fleet.ended).toBe(1);
    expect(events.map((event) => [event.type, event.atMs])).toEqual([
      ['begin', 1_000],
      ['token', 1_149],
      ['token', 1_150],
      ['end', 1_150],
    ]);
  });

  it('times tokens from the arrival, not the step', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 0, outputTokens: 100 }]);

    fleet.advanceTo(1_000);

    expect(events.map((event) => event.type)).toEqual(['begin', 'token']);
    expect(events[1]).toMatchObject({ running: 19 });
  });

  it('runs a whole stream in one long step', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 5, outputTokens: 40 }]);

    fleet.advanceTo(60_000);

    expect(fleet.done).toBe(true);
    expect(events.map((event) => event.type)).toEqual(['begin', 'token', 'end']);
    expect(events[1]).toMatchObject({ running: 40 });
  });

  it('ends a stream with no output after the ttft', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 0, outputTokens: 0 }]);

    fleet.advanceTo(99);
    expect(fleet.ended).toBe(0);

    fleet.advanceTo(100);
    expect(events.map((event) => event.type)).toEqual(['begin', 'end']);
  });

  it('assigns requests to publishers round robin', () => {
    const publishers = createPublishers(3);
    const requests = Array.from({ length: 10 }, (_, i) => ({
      arrivalMs: (10 - i) * 100,
      outputTokens: 5,
    }));
    const fleet = new FleetReplay({ requests, publishers, timing: fixedTiming });

    runToEnd(fleet, 50);

    expect(publishers.map((publisher) => publisher.begunIds().sort())).toEqual([
      ['r-0', 'r-3', 'r-6', 'r-9'],
      ['r-1', 'r-4', 'r-7'],
      ['r-2', 'r-5', 'r-8'],
    ]);
  });

  it('starts requests in arrival order', () => {
    const requests = [
      { arrivalMs: 300, outputTokens: 1 },
      { arrivalMs: 100, outputTokens: 1 },
      { arrivalMs: 100, outputTokens: 1 },
      { arrivalMs: 0, outputTokens: 1 },
    ];
    const { fleet, events } = createFleet(requests);

    runToEnd(fleet, 10);

    const begun = events.filter((event) => event.type === 'begin').map((event) => event.id);
    expect(begun).toEqual(['r-3', 'r-1', 'r-2', 'r-0']);
  });

  it('streams every request to its full length', () => {
    const model = new TokenTimingModel({}, 8);
    const requests = Array.from({ length: 300 }, (_, i) => ({
      arrivalMs: i * 37,
      outputTokens: 1 + ((i * 53) % 400),
    }));
    const publishers = createPublishers(4);
    const fleet = new FleetReplay({ requests, publishers, seed: 8, speed: 3 });

    runToEnd(fleet, 50);

    expect(fleet.started).toBe(300);
    expect(fleet.ended).toBe(300);
    const calls = publishers.flatMap((publisher) => publisher.calls);
    const byId = callsById(calls);
    expect(byId.size).toBe(300);
    requests.forEach((request, index) => {
      const streamCalls = byId.get(`r-${index}`) ?? [];
      const counts = streamCalls.flatMap((call) => ('running' in call ? [call.running] : []));
      const increasing = counts.every((count, i) => i === 0 || count > (counts[i - 1] ?? 0));
      const methods = streamCalls.map((call) => call.method);
      expect(methods.filter((method) => method === 'begin'), `r-${index} begins`).toHaveLength(1);
      expect(methods.filter((method) => method === 'end'), `r-${index} ends`).toHaveLength(1);
      expect(streamCalls[0]?.method, `r-${index} first call`).toBe('begin');
      expect(streamCalls.at(-1)?.method, `r-${index} last call`).toBe('end');
      expect(increasing, `r-${index} counts ${counts.join(',')}`).toBe(true);
      expect(counts.at(-1), `r-${index} final count`).toBe(request.outputTokens);
    });
    const lastTokens = requests.map(
      (request, i) => request.arrivalMs / 3 + lastTokenAtMs(model.timingFor(i, request.outputTokens)),
    );
    const slowest = Math.max(...lastTokens);
    expect(fleet.nowMs).toBeGreaterThanOrEqual(slowest);
    expect(fleet.nowMs).toBeLessThan(slowest + 50);
  });

  it('uses the id prefix', () => {
    const { fleet, events } = createFleet([{ arrivalMs: 0, outputTokens: 1 }], {
      idPrefix: 'node-a/',
    });

    fleet.advanceTo(0);

    expect(events[0]?.id).toBe('node-a/0');
  });

  it('is done at once with no requests', () => {
    const { fleet } = createFleet([]);

    expect(fleet.done).toBe(true);
  });

  it('rejects a step back in time', () => {
    const { fleet } = createFleet([{ arrivalMs: 0, outputTokens: 1 }]);
    fleet.advanceTo(500);

    expect(() => fleet.advanceTo(499)).toThrow(
      'Invalid simMs 499: expected a finite time of at least 500 ms, the previous step.',
    );
  });

  it.each([
    [{ publishers: [] }, 'Invalid publishers []: expected at least one publisher.'],
    [{ speed: 0 }, 'Invalid speed 0: expected a finite number above 0.'],
    [
      { requests: [{ arrivalMs: -1, outputTokens: 1 }] },
      'Invalid requests[0].arrivalMs -1: expected a finite number of ms, 0 or more.',
    ],
    [
      { requests: [{ arrivalMs: 0, outputTokens: 1.5 }] },
      'Invalid requests[0].outputTokens 1.5: expected an integer, 0 or more.',
    ],
  ])('rejects options %j', (options, message) => {
    const create = () => createFleet([{ arrivalMs: 0, outputTokens: 1 }], options);

    expect(create).toThrow(WorkloadOptionsError);
    expect(create).toThrow(message);
  });
});
