import { describe, expect, it } from 'vitest';

import { ExtremaWindow } from '../../server/src/meter/extrema-window.js';
import { Meter } from '../../server/src/meter/meter.js';

function meterAt(start = 1000) {
  const clock = { now: start };
  const meter = new Meter({ now: () => clock.now });
  return { clock, meter };
}

describe('Meter', () => {
  it('accepts any string as a stream id', () => {
    const { clock, meter } = meterAt();
    const ids = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '\u0000'];
    for (const id of ids) meter.begin(id);
    for (const id of ids) meter.recordOutput(id, 1);
    clock.now += 2;
    for (const id of ids) meter.recordOutput(id, 21);

    const snapshot = meter.snapshot();

    expect(snapshot.active).toBe(ids.length);
    expect(snapshot.tps).toBe(10.5);
    expect(meter.has('__proto__')).toBe(true);
    expect(meter.has('valueOf')).toBe(false);
  });

  it('ignores tokens of unknown streams', () => {
    const { meter } = meterAt();
    expect(meter.recordOutput('nobody', 5)).toBe(false);
    expect(meter.snapshot().active).toBe(0);
  });

  it('leaves undefined rates out of the mean', () => {
    const { clock, meter } = meterAt();
    meter.begin('a');
    meter.recordOutput('a', 1);
    clock.now += 1;
    meter.recordOutput('a', 21);
    meter.begin('b');
    meter.recordOutput('b', 1);

    expect(meter.snapshot()).toMatchObject({ tps: 21, high: 21, low: 21, active: 2, total: 21 });
  });

  it('times rates on the node clock and staleness on its own', () => {
    const { clock, meter } = meterAt();
    meter.begin('a');
    // The node's clock is a day ahead: only its differences matter.
    meter.recordProgress('a', { output: 50, reasoning: 50, firstTokenAt: 90_000, lastTokenAt: 90_004 });

    expect(meter.snapshot().tps).toBe(25);

    clock.now += 60;
    expect(meter.snapshot().active).toBe(1);
    clock.now += 0.001;
    expect(meter.snapshot().active).toBe(0);
  });

  it('does not count a repeated update as a new token', () => {
    const { clock, meter } = meterAt();
    const progress = { output: 10, reasoning: 0, firstTokenAt: 5, lastTokenAt: 6 };
    meter.begin('a');
    meter.recordProgress('a', progress);
    clock.now += 50;
    meter.recordProgress('a', progress);
    clock.now += 11;

    expect(meter.snapshot().active).toBe(0);
  });

  it('switches to the idle interval after the stale window', () => {
    const { clock, meter } = meterAt();
    expect(meter.interval()).toBe(10);
    meter.begin('a');
    expect(meter.interval()).toBe(10);
    meter.recordOutput('a', 1);
    expect(meter.interval()).toBe(1);
    clock.now += 60;
    expect(meter.interval()).toBe(1);
    clock.now += 0.5;
    expect(meter.interval()).toBe(10);
  });

  it('keeps HIGH and LOW memory within the window', () => {
    const { clock, meter } = meterAt();
    // A falling rate is the worst case for the maximum deque: every reading
    // could still become the maximum once the ones before it expire.
    meter.begin('a');
    meter.recordOutput('a', 1);
    const extrema = (meter as unknown as { extrema: ExtremaWindow }).extrema;
    let largest = 0;
    for (let second = 1; second <= 3 * 3600; second++) {
      clock.now += 1;
      meter.recordOutput('a', 1_000_000);
      meter.snapshot();
      largest = Math.max(largest, extrema.size);
    }

    // Two deques of at most one reading per second of the window each.
    expect(largest).toBeLessThanOrEqual(2 * 3600);
    expect(extrema.readings().length).toBeLessThanOrEqual(3600);
  });
});

describe('Meter.endNode', () => {
  it('ends the streams of one node label only', () => {
    const { meter } = meterAt();
    meter.begin('a1', { node: 'a' });
    meter.begin('a2', { node: 'a' });
    meter.begin('b1', { node: 'b' });
    meter.begin('x');
    meter.end('a2');

    expect(meter.endNode('a')).toBe(1);
    expect([...meter.ids()]).toEqual(['b1', 'x']);
    expect(meter.endNode('a')).toBe(0);
  });

  it('forgets a re-begun stream under its old node', () => {
    const { meter } = meterAt();
    meter.begin('s', { node: 'a' });
    meter.begin('s', { node: 'b' });

    expect(meter.endNode('a')).toBe(0);
    expect(meter.endNode('b')).toBe(1);
  });
});

describe('ExtremaWindow', () => {
  it('tracks the max and min of a sliding window', () => {
    const window = new ExtremaWindow();
    const values = [5, 3, 8, 1, 9, 2, 7, 4, 6, 0.5];
    values.forEach((value, at) => window.push(at, value));

    for (let cutoff = -1; cutoff < values.length - 1; cutoff++) {
      window.evictUpTo(cutoff);
      const kept = values.slice(cutoff + 1);
      expect(window.max()).toBe(Math.max(...kept));
      expect(window.min()).toBe(Math.min(...kept));
    }
  });

  it('is empty after everything expires', () => {
    const window = new ExtremaWindow();
    window.push(1, 2);
    window.evictUpTo(1);
    expect(window.max()).toBeUndefined();
    expect(window.min()).toBeUndefined();
    expect(window.size).toBe(0);
  });
});
