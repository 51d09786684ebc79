import type { MeteringFrame } from '@metering-hub/shared';

import type { Snapshot } from '../meter/meter.js';
import { topGroups } from '../meter/rate-tally.js';
import type { TtftFigures } from '../meter/ttft-window.js';

/** Nodes and models listed by name in a frame; the rest are summed. */
export const FRAME_GROUP_LIMIT = 50;

export interface FrameParts {
  snapshot: Snapshot;
  ttft: TtftFigures;
  /** Wall-clock time, ms since the epoch. */
  at: number;
  busReady: boolean;
}

/** Builds a tick's frame from the meter's snapshot. */
export function buildFrame({ snapshot, ttft, at, busReady }: FrameParts): MeteringFrame {
  return {
    tps: snapshot.tps,
    high: snapshot.high,
    low: snapshot.low,
    active: snapshot.active,
    at,
    total: snapshot.total,
    outTps: snapshot.outTps,
    reasoningTps: snapshot.reasoningTps,
    ttft,
    nodes: topGroups(snapshot.nodes, FRAME_GROUP_LIMIT),
    models: topGroups(snapshot.models, FRAME_GROUP_LIMIT),
    busReady,
    stale: !busReady,
  };
}

/** Returns the frame served before the first tick. */
export function emptyFrame(at: number): MeteringFrame {
  return {
    tps: 0,
    high: 0,
    low: 0,
    active: 0,
    at,
    total: 0,
    outTps: 0,
    reasoningTps: 0,
    ttft: { p50: 0, p95: 0, samples: 0 },
    nodes: [],
    models: [],
    busReady: false,
    stale: true,
  };
}
