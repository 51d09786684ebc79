import { describe, expect, it } from 'vitest';

import { replayTrace } from '../../server/src/replay/trace.js';

describe('replayTrace input checks', () => {
  it.each([
    ['times going back', [[0, 'begin', 'a'], [10, 'stats'], [9, 'stats']], 'events must be in order of t'],
    ['a negative time', [[-1, 'stats']], 't must be a number of seconds from 0 up'],
    ['an unknown op', [[0, 'pause']], 'Unknown op "pause" at t=0'],
    ['a missing id', [[0, 'begin']], '"begin" needs a string stream id'],
    ['a missing count', [[0, 'token', 'a']], '"token" needs a running token count'],
    ['an event that is not an array', [{ t: 0 }], 'expected [t, op, ...args]'],
  ])('rejects %s', (_case, events, message) => {
    expect(() => replayTrace(events)).toThrow(message);
  });

  it('rejects input that is not an array', () => {
    expect(() => replayTrace({ events: [] })).toThrow('expected a JSON array');
  });
});
