import { Meter } from '../meter/meter.js';

/**
 * One event of a timed trace: `[t, op, ...args]`, `t` in seconds from the
 * start. This is the trace format of the reference meter's replay script:
 *
 *     [t, "begin", id]              a stream starts
 *     [t, "token", id, running]     running output-token count of stream id
 *     [t, "reasoning", id, running] running reasoning-token count
 *     [t, "end", id]                the stream ends
 *     [t, "stats"]                  take a snapshot
 *     [t, "interval"]               ask for the ticker interval in seconds
 */
export type TraceEvent =
  | [t: number, op: 'begin' | 'end', id: string]
  | [t: number, op: 'token' | 'reasoning', id: string, running: number]
  | [t: number, op: 'stats' | 'interval'];

/** One `[t, result]` pair per "stats" or "interval" event, in trace order. */
export type TraceResult = [t: number, result: TraceSnapshot | number];

/** The figures the reference meter reports. */
export interface TraceSnapshot {
  tps: number;
  high: number;
  low: number;
  active: number;
}

export class TraceError extends Error {
  override readonly name = 'TraceError';
  readonly code = 'INVALID_TRACE';
}

// The reference replay starts its monotonic clock at 1000 s. Rates are
// differences of clock readings, so the same origin gives the same floats.
const CLOCK_ORIGIN = 1000;

/** Runs a trace through a fresh meter on the trace's own clock. */
export function replayTrace(events: unknown): TraceResult[] {
  if (!Array.isArray(events)) {
    throw new TraceError('Invalid trace: expected a JSON array of [t, op, ...args] events.');
  }

  let clock = CLOCK_ORIGIN;
  const meter = new Meter({ now: () => clock });
  const results: TraceResult[] = [];

  let previousT = 0;
  events.forEach((event: unknown, index) => {
    const [t, op, id, running] = checkEvent(event, index);
    // The HIGH/LOW window assumes readings in time order, as the trace
    // format promises.
    if (t < previousT) {
      throw new TraceError(`Invalid trace event ${index}: t=${t} is before the previous event's t=${previousT}; events must be in order of t.`);
    }
    previousT = t;
    clock = CLOCK_ORIGIN + t;

    switch (op) {
      case 'begin':
        meter.begin(id);
        break;
      case 'token':
        meter.recordOutput(id, running);
        break;
      case 'reasoning':
        meter.recordReasoning(id, running);
        break;
      case 'end':
        meter.end(id);
        break;
      case 'stats': {
        const { tps, high, low, active } = meter.snapshot();
        results.push([t, { tps, high, low, active }]);
        break;
      }
      case 'interval':
        results.push([t, meter.interval()]);
        break;
    }
  });

  return results;
}

const OPS_WITH_ID = new Set(['begin', 'end', 'token', 'reasoning']);
const OPS_WITHOUT_ID = new Set(['stats', 'interval']);

function checkEvent(event: unknown, index: number): [number, string, string, number] {
  const at = `event ${index}`;
  if (!Array.isArray(event) || event.length < 2) {
    throw new TraceError(`Invalid trace ${at}: expected [t, op, ...args], got ${preview(event)}.`);
  }

  const [t, op, id, running] = event as unknown[];
  // The reference clock reads 0 at t = -1000, the value it uses for "no
  // token yet", so negative times would not replay as the reference does.
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
    throw new TraceError(`Invalid trace ${at}: t must be a number of seconds from 0 up, got ${preview(t)}.`);
  }
  if (typeof op !== 'string' || !(OPS_WITH_ID.has(op) || OPS_WITHOUT_ID.has(op))) {
    throw new TraceError(`Unknown op ${preview(op)} at t=${t}: expected begin, token, reasoning, end, stats or interval.`);
  }
  if (OPS_WITHOUT_ID.has(op)) {
    return [t, op, '', 0];
  }
  if (typeof id !== 'string') {
    throw new TraceError(`Invalid trace ${at}: "${op}" needs a string stream id, got ${preview(id)}.`);
  }
  if (op !== 'token' && op !== 'reasoning') {
    return [t, op, id, 0];
  }
  // NOTE: JSON.parse rounds an integer that a double cannot hold (an odd
  // one above 2^53), which Python's int() keeps exact, so such a count
  // replays differently from the reference. Token counts of real streams
  // are far below; parsing counts as BigInt would remove the gap.
  if (typeof running !== 'number' || !Number.isFinite(running)) {
    throw new TraceError(`Invalid trace ${at}: "${op}" needs a running token count, got ${preview(running)}.`);
  }
  // The reference converts counts with int(), which truncates toward zero.
  return [t, op, id, Math.trunc(running)];
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
