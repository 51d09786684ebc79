// Edge cases of the meter, written by hand. generate-traces.ts writes each
// one to traces/NAME.json, and record-expected.ts adds the reference output.
// A description states what the trace probes. The recorded output, not the
// description, is what the test compares against.
import type { TraceEvent } from '../../server/src/replay/trace.js';

export interface TraceCase {
  /** File name without extension. */
  name: string;
  description: string;
  events: TraceEvent[];
}

const TWO_POW_53 = 2 ** 53;

function progress(
  id: string,
  points: Array<[t: number, running: number]>,
  op: 'token' | 'reasoning' = 'token',
): TraceEvent[] {
  return points.map(([t, running]): TraceEvent => [t, op, id, running]);
}

// One stream alone: `first` tokens at `start` and `total` tokens `seconds`
// later, so its rate is total / seconds. It ends right after the snapshot.
function isolatedStream(id: string, start: number, seconds: number, total: number, first = 1): TraceEvent[] {
  const last = start + seconds;
  return [
    [start, 'begin', id],
    [start, 'token', id, first],
    [last, 'token', id, total],
    [last, 'stats'],
    [last, 'end', id],
  ];
}

// Back-to-back isolated streams, one per [total, seconds] pair.
function isolatedStreams(prefix: string, rates: Array<[total: number, seconds: number]>): TraceEvent[] {
  const events: TraceEvent[] = [];
  let start = 0;
  rates.forEach(([total, seconds], index) => {
    events.push(...isolatedStream(`${prefix}${index}`, start, seconds, total));
    start += seconds + 1;
  });
  return events;
}

function statsAndInterval(...times: number[]): TraceEvent[] {
  return times.flatMap((t): TraceEvent[] => [
    [t, 'stats'],
    [t, 'interval'],
  ]);
}

function highLowExpiry(): TraceEvent[] {
  // h reads 20 tok/s alone at t=10. Then l (2 tok/s) and m (1 tok/s) overlap,
  // so the reading at t=50 is 1.5. After that only l runs, at exactly 2 tok/s,
  // with a token every 30 s to stay fresh.
  const events: TraceEvent[] = [
    [0, 'begin', 'h'],
    [0, 'token', 'h', 1],
    [10, 'token', 'h', 200],
    [10, 'stats'],
    [11, 'end', 'h'],
    [20, 'begin', 'l'],
    [20, 'token', 'l', 0],
    [40, 'begin', 'm'],
    [40, 'token', 'm', 0],
    [50, 'token', 'm', 10],
  ];
  for (let t = 30; t <= 3700; t += 30) events.push([t, 'token', 'l', 2 * (t - 20)]);
  events.push([30, 'stats'], [50, 'token', 'l', 60], [50, 'stats'], [51, 'end', 'm']);
  for (let t = 600; t <= 3600; t += 600) events.push([t, 'stats']);
  events.push(...statsAndInterval(3609.9, 3610, 3610.1, 3649.9, 3650, 3650.1), [3700, 'stats']);
  return events;
}

function highLowExpiryFractional(): TraceEvent[] {
  // The same shape with HIGH (30) read at t=10.1 and LOW (2.5) at t=50.3.
  // These times have no exact binary value, so `ts > now - 3600` is decided
  // by float subtraction.
  const events: TraceEvent[] = [
    [0.1, 'begin', 'h'],
    [0.1, 'token', 'h', 1],
    [10.1, 'token', 'h', 300],
    [10.1, 'stats'],
    [10.2, 'end', 'h'],
    [20.3, 'begin', 'l'],
    [20.3, 'token', 'l', 0],
    [40.3, 'begin', 'm'],
    [40.3, 'token', 'm', 0],
    [50.3, 'token', 'l', 90],
    [50.3, 'token', 'm', 20],
    [50.3, 'stats'],
    [50.4, 'end', 'm'],
  ];
  for (let step = 1; step <= 124; step++) {
    events.push([50.3 + 30 * step, 'token', 'l', 90 + 90 * step]);
  }
  events.push(...statsAndInterval(3610, 3610.1, 3610.1000000000004, 3610.2));
  events.push(...statsAndInterval(3650.2, 3650.3, 3650.3000000000004, 3650.4));
  return events;
}

function manyStatsOneInstant(): TraceEvent[] {
  const events: TraceEvent[] = [
    [0, 'begin', 'a'],
    [0, 'token', 'a', 1],
  ];
  for (let i = 0; i < 30; i++) events.push([5, 'stats']);
  // Tokens between snapshots at the same instant change the reading.
  for (let i = 1; i <= 10; i++) {
    events.push([5, 'token', 'a', 10 * i], [5, 'stats'], [5, 'interval']);
  }
  events.push(...statsAndInterval(3604.99, 3605, 3605, 3605.01));
  return events;
}

function floatTimeChains(): TraceEvent[] {
  // t is accumulated by repeated += 0.1 (0.30000000000000004, ...), as a
  // ticker that adds its period to a float clock would produce.
  const events: TraceEvent[] = [[0, 'begin', 'a']];
  let t = 0;
  let running = 0;
  for (let step = 1; step <= 300; step++) {
    t += 0.1;
    running += 3;
    events.push([t, 'token', 'a', running]);
    if (step === 2) events.push([t, 'begin', 'b'], [t, 'token', 'b', 1]);
    if (step === 3) events.push([t, 'token', 'b', 4]);
    if (step % 25 === 0) events.push([t, 'stats']);
  }
  const lastToken = t;
  let probe = lastToken;
  for (let step = 0; step < 600; step++) probe += 0.1;
  events.push(...statsAndInterval(lastToken + 59.9, lastToken + 60, probe, lastToken + 60.1));
  return events;
}

function tickerIntervalSwitch(): TraceEvent[] {
  // A ticker as the hub runs it: a snapshot, then the next tick after the
  // interval the meter returns. The last token is at t=30, so ticks stay 1 s
  // apart through t=90 and then become 10 s apart.
  const events: TraceEvent[] = [[0, 'begin', 'a']];
  for (let t = 0; t <= 30; t += 3) events.push([t, 'token', 'a', 1 + 7 * t]);
  for (let t = 1; t <= 95; t += 1) events.push(...statsAndInterval(t));
  for (let t = 100; t <= 200; t += 10) events.push(...statsAndInterval(t));
  return events;
}

const cases: TraceCase[] = [
  {
    name: 'empty-meter',
    description: 'Snapshots and intervals before any stream: all figures 0, active 0, idle interval 10 s.',
    events: [[0, 'stats'], [0, 'interval'], [5, 'stats'], [5, 'interval']],
  },
  {
    name: 'one-token-stream',
    description:
      'A stream with a single token has no rate: it counts in active, the reading stays 0 and no HIGH or LOW ' +
      'is recorded. The token at t=0.5 makes the interval 1 s until t=60.5, and the stream is dropped just after.',
    events: [
      [0, 'begin', 'a'],
      [0.5, 'token', 'a', 1],
      ...statsAndInterval(1, 30, 60.5, 60.6),
    ],
  },
  {
    name: 'tokens-at-one-instant',
    description:
      'Every token of a stream at one instant leaves its rate undefined (no division by a zero span). ' +
      'A later token defines it.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[5, 1], [5, 2], [5, 3], [5, 10]]),
      [5, 'reasoning', 'a', 4],
      ...statsAndInterval(5, 6),
      [7, 'token', 'a', 20],
      ...statsAndInterval(7),
    ],
  },
  {
    name: 'second-stream-without-rate',
    description:
      'Stream b has one token while a runs: b counts in active but is left out of the mean, so the reading ' +
      'is not halved and no false LOW is recorded. b gets a rate with its second token at t=12.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 10], [1, 20], [2, 30], [3, 40], [4, 50], [5, 60], [6, 70], [7, 80], [8, 90]]),
      [9, 'stats'],
      [10, 'begin', 'b'],
      [10, 'token', 'a', 110],
      [10.5, 'token', 'b', 1],
      ...statsAndInterval(10.5, 11),
      [12, 'token', 'b', 5],
      [12, 'token', 'a', 130],
      ...statsAndInterval(12, 13),
    ],
  },
  {
    name: 'begin-without-token-stale',
    description:
      'A stream that never receives a token is dropped once it is more than 60 s old: a begun at 0 is still ' +
      'active at 59.9 and 60 and gone at 60.1. b begun at 0.5 is kept at 60.5 and gone at 60.6. ' +
      'Tokenless streams never make the interval 1 s.',
    events: [
      [0, 'begin', 'a'],
      [0.5, 'begin', 'b'],
      ...statsAndInterval(1, 59.9, 60, 60.1, 60.5, 60.6),
    ],
  },
  {
    name: 'begin-without-token-fractional',
    description:
      'Tokenless streams begun at 0.1, 0.2 and 0.3, probed 60 s later and just before and after that: ' +
      'these times have no exact binary value, so the float subtraction on the 1000 s clock origin ' +
      'decides the staleness test.',
    events: [
      [0.1, 'begin', 'a'],
      [0.2, 'begin', 'b'],
      [0.30000000000000004, 'begin', 'c'],
      ...statsAndInterval(60.09999999999999, 60.1, 60.2, 60.3, 60.300000000000004, 60.30000000000001),
    ],
  },
  {
    name: 'stale-boundary-after-token',
    description:
      'Last token at t=10: at t=70 the stream is 60 s quiet and kept (interval 1 s), and at 70.000000001 it is ' +
      'past the stale window, the interval is 10 s and the snapshot drops it. HIGH and LOW survive the drop.',
    events: [
      [0, 'begin', 'a'],
      [0, 'token', 'a', 1],
      [10, 'token', 'a', 101],
      ...statsAndInterval(10, 69.999999999, 70),
      [70.000000001, 'interval'],
      [70.000000001, 'stats'],
      [70.000000001, 'interval'],
      [70.000000001, 'token', 'a', 500],
      ...statsAndInterval(71),
    ],
  },
  {
    name: 'stale-stream-revived',
    description:
      'Staleness is only acted on by a snapshot. Stream a goes 95 s quiet with no snapshot in between, ' +
      'so its next token keeps it and its rate spans the gap. The snapshot at t=165.5 drops both a and b, ' +
      'so their later tokens are ignored.',
    events: [
      [0, 'begin', 'a'],
      [0, 'token', 'a', 1],
      [5, 'token', 'a', 51],
      [100, 'token', 'a', 60],
      ...statsAndInterval(100),
      [101, 'begin', 'b'],
      [101, 'token', 'b', 1],
      [105, 'token', 'b', 41],
      [105, 'stats'],
      [165.5, 'interval'],
      [165.5, 'stats'],
      [166, 'token', 'b', 50],
      [166, 'token', 'a', 70],
      ...statsAndInterval(167),
    ],
  },
  {
    name: 'stale-while-others-active',
    description:
      'Three streams, one goes quiet: it is dropped 60 s after its last token while the other two keep ' +
      'the mean and the interval.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      [0, 'begin', 'c'],
      ...progress('a', [[0, 1], [10, 51]]),
      ...progress('b', [[0, 1], [10, 101], [40, 301], [69, 500], [75, 560]]),
      ...progress('c', [[0, 1], [10, 11], [40, 41], [69, 70], [75, 76]]),
      ...statsAndInterval(10, 40, 69, 70, 70.5, 71, 75),
    ],
  },
  {
    name: 'end-unknown-stream',
    description: 'Ending a stream that was never begun, or ending one twice, changes nothing.',
    events: [
      [0, 'end', 'ghost'],
      [0, 'stats'],
      [1, 'begin', 'a'],
      ...progress('a', [[1, 1], [3, 21]]),
      [3, 'end', 'ghost'],
      ...statsAndInterval(3),
      [4, 'end', 'a'],
      [4, 'end', 'a'],
      [4, 'end', ''],
      ...statsAndInterval(4),
    ],
  },
  {
    name: 'token-for-unknown-stream',
    description:
      'Tokens for a stream that was never begun, or has ended, are ignored: they neither create the stream ' +
      'nor set its first-token time once it begins.',
    events: [
      [1, 'token', 'ghost', 5],
      [1.5, 'reasoning', 'ghost', 7],
      ...statsAndInterval(2),
      [3, 'begin', 'ghost'],
      [4, 'token', 'ghost', 10],
      ...statsAndInterval(4),
      [6, 'token', 'ghost', 30],
      ...statsAndInterval(6),
      [7, 'end', 'ghost'],
      [8, 'token', 'ghost', 100],
      [8, 'reasoning', 'ghost', 100],
      ...statsAndInterval(8),
    ],
  },
  {
    name: 'rebegin-keeps-position',
    description:
      'A begin for an id that exists resets the stream but keeps its place in begin order. The rates ' +
      '1, 1 and 2^53 sum to 2^53 + 2 in that order but to 2^53 if the re-begun stream moved last, ' +
      'so the mean shows the order.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      [0, 'begin', 'c'],
      [0, 'token', 'a', 1],
      [0, 'token', 'b', 1],
      [0, 'token', 'c', 1],
      [1, 'token', 'a', 1],
      [1, 'token', 'b', 1],
      [1, 'token', 'c', TWO_POW_53],
      [1, 'stats'],
      [2, 'begin', 'a'],
      [2, 'stats'],
      [2, 'token', 'a', 1],
      [3, 'token', 'a', 1],
      [3, 'stats'],
    ],
  },
  {
    name: 'end-then-begin-moves-last',
    description:
      'Ending a stream and beginning the same id again puts it last in begin order, unlike a re-begin. ' +
      'With rates 1, 1 and 2^53 that changes the float sum and so the mean.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      [0, 'begin', 'c'],
      [0, 'token', 'a', 1],
      [0, 'token', 'b', 1],
      [0, 'token', 'c', 1],
      [1, 'token', 'a', 1],
      [1, 'token', 'b', 1],
      [1, 'token', 'c', TWO_POW_53],
      [1, 'stats'],
      [2, 'end', 'a'],
      [2, 'begin', 'a'],
      [2, 'token', 'a', 1],
      [3, 'token', 'a', 1],
      [3, 'stats'],
    ],
  },
  {
    name: 'object-prototype-ids',
    description:
      'Ids that name Object.prototype members are ordinary streams: a token or end for one of them before ' +
      'it begins is ignored, and each keeps its own counts.',
    events: [
      [0, 'token', '__proto__', 5],
      [0, 'token', 'constructor', 5],
      [0, 'reasoning', 'hasOwnProperty', 5],
      [0, 'end', 'toString'],
      ...statsAndInterval(0),
      [1, 'begin', '__proto__'],
      [1, 'begin', 'constructor'],
      [1, 'begin', 'toString'],
      [1, 'begin', 'hasOwnProperty'],
      [1, 'begin', 'valueOf'],
      [1, 'begin', 'prototype'],
      ...progress('__proto__', [[1, 1], [3, 11]]),
      ...progress('constructor', [[1, 1], [3, 21]]),
      ...progress('toString', [[1, 1], [3, 31]]),
      ...progress('hasOwnProperty', [[1, 1], [3, 41]], 'reasoning'),
      ...progress('valueOf', [[2, 1]]),
      ...statsAndInterval(3),
      [4, 'end', '__proto__'],
      [4, 'end', 'hasOwnProperty'],
      ...statsAndInterval(4),
      [5, 'token', '__proto__', 99],
      ...statsAndInterval(5),
    ],
  },
  {
    name: 'empty-string-id',
    description: 'The empty string is a valid id, distinct from a single space.',
    events: [
      [0, 'token', '', 3],
      ...statsAndInterval(0),
      [1, 'begin', ''],
      [1, 'begin', ' '],
      ...progress('', [[1, 1], [5, 21]]),
      ...progress(' ', [[1, 1], [5, 41]]),
      ...statsAndInterval(5),
      [6, 'end', ''],
      ...statsAndInterval(6),
    ],
  },
  {
    name: 'unicode-ids',
    description:
      'Ids are compared as exact strings: CJK, emoji, NUL, a lone surrogate, and NFC "\u00e9" versus ' +
      'NFD "e\u0301" are all distinct streams.',
    events: [
      [0, 'begin', '流式'],
      [0, 'begin', '🚀'],
      [0, 'begin', '\u00e9'],
      [0, 'begin', 'e\u0301'],
      [0, 'begin', '\u0000'],
      [0, 'begin', '\ud800'],
      [0, 'begin', 'Ａ'],
      ...progress('流式', [[0, 1], [2, 11]]),
      ...progress('🚀', [[0, 1], [2, 21]]),
      ...progress('\u00e9', [[0, 1], [2, 31]]),
      ...progress('e\u0301', [[0, 1], [2, 41]]),
      ...progress('\u0000', [[0, 1], [2, 51]]),
      ...progress('\ud800', [[0, 1], [2, 61]]),
      ...statsAndInterval(2),
      [3, 'end', 'e\u0301'],
      [3, 'end', '🚀'],
      [3, 'token', '\ud801', 5],
      ...statsAndInterval(3),
    ],
  },
  {
    name: 'reasoning-only-stream',
    description:
      'A stream with only reasoning tokens has a rate from them, makes the interval 1 s and goes stale ' +
      '60 s after its last reasoning token.',
    events: [
      [0, 'begin', 'r'],
      ...progress('r', [[0, 2], [1, 12], [2, 25], [4, 40]], 'reasoning'),
      ...statsAndInterval(1, 2, 4, 64, 64.5),
    ],
  },
  {
    name: 'output-plus-reasoning',
    description:
      'The rate counts output plus reasoning tokens over the span from the first token of either kind to ' +
      'the latest one. Each kind keeps its own running count.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      ...progress('a', [[1, 5], [2, 15], [3, 30]], 'reasoning'),
      ...progress('a', [[3, 1], [4, 11], [5, 21]]),
      ...progress('b', [[1, 3], [2, 6]]),
      ...progress('b', [[2, 40], [3, 50]], 'reasoning'),
      ...statsAndInterval(3, 5),
      [6, 'reasoning', 'a', 31],
      [6, 'token', 'b', 7],
      ...statsAndInterval(6),
    ],
  },
  {
    name: 'running-counts-decrease',
    description:
      'Running counts are assigned, not accumulated: a lower count lowers the rate, 0 gives a defined rate ' +
      'of 0, and a negative count gives a negative reading. Readings at or below 0 are not kept.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 10], [1, 100]]),
      ...statsAndInterval(1),
      [2, 'token', 'a', 40],
      [2, 'stats'],
      [2, 'reasoning', 'a', 60],
      [2, 'stats'],
      [3, 'reasoning', 'a', 0],
      [3, 'token', 'a', 0],
      ...statsAndInterval(3),
      [4, 'token', 'a', -30],
      ...statsAndInterval(4),
    ],
  },
  {
    name: 'negative-mean-rounds-to-negative-zero',
    description:
      'A small negative mean rounds to -0.0 as Python prints it, and a mean of exactly 0 from rates 1 and -1 ' +
      'stays 0.0.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 5], [25, -1]]),
      ...statsAndInterval(25),
      [25, 'begin', 'b'],
      [25, 'begin', 'c'],
      ...progress('b', [[25, 1], [26, 1]]),
      ...progress('c', [[25, 1], [26, -1]]),
      [26, 'end', 'a'],
      ...statsAndInterval(26),
    ],
  },
  {
    name: 'zero-count-defined-rate',
    description:
      'Two tokens with a running count of 0 at different times give a defined rate of 0, which is averaged ' +
      'in, unlike the undefined rate of a single token.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      ...progress('a', [[0, 1], [2, 21]]),
      [1, 'token', 'b', 0],
      ...statsAndInterval(2),
      [3, 'token', 'b', 0],
      [3, 'token', 'a', 31],
      ...statsAndInterval(3),
    ],
  },
  {
    name: 'fractional-running-counts',
    description: 'Running counts that are not integers are truncated toward zero, as int() does.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 1.9], [2, 7.9]]),
      ...statsAndInterval(2),
      [3, 'reasoning', 'a', 2.5],
      ...statsAndInterval(3),
      [4, 'token', 'a', -0.5],
      [4, 'reasoning', 'a', 0.99],
      ...statsAndInterval(4),
    ],
  },
  {
    name: 'readings-below-one',
    description:
      'Readings under 1 tok/s are reported but never become HIGH or LOW, even 0.96, which rounds to 1.0. ' +
      'A reading of exactly 1.0 does count.',
    events: isolatedStreams('s', [
      [1, 2],
      [24, 25],
      [4, 4],
      [49, 50],
      [9, 10],
      [199, 200],
    ]),
  },
  {
    name: 'high-low-expire-after-an-hour',
    description:
      'A reading is kept while its time is after now - 3600 s: HIGH 20 from t=10 is still there at 3609.9 ' +
      'and gone at 3610, and LOW 1.5 from t=50 is gone at 3650.',
    events: highLowExpiry(),
  },
  {
    name: 'high-low-expire-fractional',
    description:
      'HIGH from t=10.1 and LOW from t=50.3 probed around 3600 s later, where float subtraction on the ' +
      '1000 s clock origin decides whether a reading is still in the window.',
    events: highLowExpiryFractional(),
  },
  {
    name: 'interval-around-stale-boundary',
    description:
      'The interval is 1 s while a stream received a token within the last 60 s, and 10 s otherwise. ' +
      'It is probed at 64.9, 65 and 65.1 s after a token at 5 s. An interval request drops nothing, and ' +
      'a tokenless stream alone never makes the interval 1 s.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'idle'],
      ...progress('a', [[0, 1], [5, 11]]),
      [5, 'interval'],
      [64.9, 'interval'],
      [65, 'interval'],
      [65.1, 'interval'],
      [65.1, 'stats'],
      [65.1, 'interval'],
      [66, 'begin', 'late'],
      [66, 'interval'],
      [66, 'token', 'late', 1],
      [66, 'interval'],
      [126, 'interval'],
      [126.1, 'interval'],
      [126.1, 'stats'],
    ],
  },
  {
    name: 'ticker-interval-switch',
    description:
      'Snapshot and interval every tick, 1 s apart while tokens are fresh and 10 s apart once the last token ' +
      'is more than 60 s old, as the hub ticker runs.',
    events: tickerIntervalSwitch(),
  },
  {
    name: 'many-stats-one-instant',
    description:
      'Forty snapshots at one instant each add a reading, some after tokens at that same instant. All of them ' +
      'expire together 3600 s later.',
    events: manyStatsOneInstant(),
  },
  {
    name: 'rounding-quarter-ties',
    description:
      'Rates exactly halfway between tenths (x.25 and x.75 are exact in binary) round half to even, as ' +
      "Python's round(x, 1) does: 1.25 to 1.2, 1.75 to 1.8, 0.25 to 0.2, 2.25 to 2.2.",
    events: isolatedStreams('q', [
      [5, 4],
      [7, 4],
      [9, 4],
      [11, 4],
      [1, 4],
      [3, 4],
      [41, 4],
      [43, 4],
      [13, 4],
      [15, 4],
      [33, 8],
    ]),
  },
  {
    name: 'rounding-twentieths',
    description:
      'Rates such as 1.05, 1.15 and 1.45 have no exact binary value, so whether the nearest double lies ' +
      'above or below the tie decides the rounding: 1.05 rounds up to 1.1, 1.15 down to 1.1, 2.05 down to 2.0.',
    events: isolatedStreams('t', [
      [21, 20],
      [23, 20],
      [27, 20],
      [29, 20],
      [41, 20],
      [1, 20],
      [3, 20],
      [7, 20],
      [9, 20],
      [201, 20],
      [261, 20],
      [1001, 200],
    ]),
  },
  {
    name: 'rounding-mean-ties',
    description:
      'Means that land on a tie: (1 + 1.5) / 2 = 1.25, (2 + 2.5) / 2 = 2.25 and (1 + 1 + 1.75) / 3 = 1.25.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      ...progress('a', [[0, 1], [2, 2]]),
      ...progress('b', [[0, 1], [2, 3]]),
      ...statsAndInterval(2),
      [3, 'end', 'a'],
      [3, 'end', 'b'],
      [4, 'begin', 'c'],
      [4, 'begin', 'd'],
      ...progress('c', [[4, 1], [6, 4]]),
      ...progress('d', [[4, 1], [6, 5]]),
      ...statsAndInterval(6),
      [7, 'end', 'c'],
      [7, 'end', 'd'],
      [8, 'begin', 'e'],
      [8, 'begin', 'f'],
      [8, 'begin', 'g'],
      ...progress('e', [[8, 1], [12, 4]]),
      ...progress('f', [[8, 1], [12, 4]]),
      ...progress('g', [[8, 1], [12, 7]]),
      ...statsAndInterval(12),
    ],
  },
  {
    name: 'float-time-chains',
    description:
      'Times accumulated by repeated += 0.1 (0.30000000000000004 and so on), including the 60 s stale ' +
      'boundary after the last token, probed both by direct addition and by the accumulated chain.',
    events: floatTimeChains(),
  },
  // NOTE: counts that a double cannot hold, such as odd integers above 2^53,
  // are left out. JSON.parse rounds them and Python's int() keeps them exact, so on
  // [0, 1], [1, 2^53 + 1] replayTrace reads 9007199254740992 tok/s and the
  // reference 9007199254740994.
  {
    name: 'counts-near-two-pow-53',
    description:
      'Counts near 2^53, where output + reasoning is rounded to a double: 2^53 - 1 + 2 rounds to 2^53 and ' +
      '2^53 + 3 to 2^53 + 4. Every count is an exact double, because JSON.parse and int() disagree on ' +
      'integers that a double cannot hold.',
    events: [
      [0, 'begin', 'a'],
      [0, 'begin', 'b'],
      ...progress('a', [[0, 1], [1, TWO_POW_53 - 1]]),
      ...statsAndInterval(1),
      [1, 'reasoning', 'a', 1],
      [1, 'stats'],
      [1, 'reasoning', 'a', 2],
      [1, 'stats'],
      [2, 'token', 'a', TWO_POW_53],
      [2, 'reasoning', 'a', 3],
      [2, 'stats'],
      ...progress('b', [[0.5, 1], [3, TWO_POW_53 + 2]]),
      [3, 'reasoning', 'b', TWO_POW_53 - 1],
      ...statsAndInterval(3),
    ],
  },
  {
    name: 'huge-counts-and-rates',
    description:
      'Counts of 1e21 and 2^70 and rates up to about 1e300 tok/s stay finite and are rounded like any other ' +
      'reading, so HIGH becomes huge and LOW stays small.',
    events: [
      [0, 'begin', 'small'],
      ...progress('small', [[0, 1], [4, 8]]),
      [0, 'begin', 'big'],
      ...progress('big', [[0, 1], [1, 1e21]]),
      ...statsAndInterval(1),
      [1, 'reasoning', 'big', 2 ** 70],
      [1, 'stats'],
      [2, 'end', 'big'],
      [2, 'begin', 'vast'],
      ...progress('vast', [[2, 1], [3, 1e300]]),
      ...statsAndInterval(4),
    ],
  },
  {
    name: 'tiny-token-spans',
    description:
      'Two tokens 1e-9 s apart give a rate near 2e9 tok/s, and 2^53 tokens over 1e-12 s one near 4e27. ' +
      'Tokens 4e-14 s apart at t=5 fall on the same double once the 1000 s clock origin is added, so that ' +
      'rate stays undefined.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 1], [1e-9, 2]]),
      ...statsAndInterval(1e-9),
      [5, 'begin', 'b'],
      ...progress('b', [[5, 1], [5.00000000000004, 2]]),
      ...statsAndInterval(5.00000000000004),
      [6, 'begin', 'c'],
      ...progress('c', [[6, 1], [6.000000000001, TWO_POW_53]]),
      ...statsAndInterval(6.000000000001),
    ],
  },
  {
    name: 'ended-stream-keeps-extrema',
    description:
      'Ending every stream leaves HIGH and LOW from the last hour in place while the reading and active ' +
      'drop to 0. A new stream later adds to the same window.',
    events: [
      [0, 'begin', 'a'],
      ...progress('a', [[0, 1], [2, 61]]),
      ...statsAndInterval(2),
      [3, 'end', 'a'],
      ...statsAndInterval(3, 100, 1000),
      [1000, 'begin', 'b'],
      ...progress('b', [[1000, 1], [1002, 5]]),
      ...statsAndInterval(1002, 3602, 3603),
    ],
  },
];

// The cases interleave the events of several streams by time. The sort is
// stable, so events at one instant keep the order they are written in.
export const handWrittenTraces: TraceCase[] = cases.map((traceCase) => ({
  ...traceCase,
  events: [...traceCase.events].sort((a, b) => a[0] - b[0]),
}));
