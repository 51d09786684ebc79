import { formatFrameLine } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

const frame = {
  tps: 40.9, high: 53, low: 40.1, active: 43, at: Date.UTC(2026, 11, 4, 16, 12, 37), total: 1758.7, outTps: 35, reasoningTps: 5.9,
  ttft: { p50: 500, p95: 510, samples: 12 }, nodes: [], models: [], busReady: true, stale: false,
};

describe('demo frame line', () => {
  it('prints the figures in fixed columns', () => {
    expect(formatFrameLine(frame, 179_000)).toBe('16:12:37  replay 00:02:59  tps    40.9  high    53.0  low    40.1  active    43');
  });

  it('marks stale frames and bus down', () => {
    expect(formatFrameLine({ ...frame, busReady: false, stale: true }, 0)).toMatch(/active {4}43 {2}STALE: no updates from the bus, last figures repeated$/);
    expect(formatFrameLine({ ...frame, busReady: false }, 0)).toMatch(/ {2}bus not ready$/);
  });
});
