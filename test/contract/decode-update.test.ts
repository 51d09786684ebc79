import { readFileSync } from 'node:fs';

import { decodeUpdateMessage, jsonSchemaText } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

const stream = {
  id: 's-42',
  model: 'llama-3-70b',
  beganAt: 1_764_842_000_000.0,
  firstAt: 1_764_842_000_450.2,
  lastAt: 1_764_842_005_600.2,
  out: 120,
  reasoning: 30,
  ended: false,
};
const valid = { v: 1, node: 'chat-1', streams: [stream] };

function withStream(changes: Record<string, unknown>): string {
  return JSON.stringify({ ...valid, streams: [{ ...stream, ...changes }] });
}

describe('decodeUpdateMessage', () => {
  it('accepts the documented example', () => {
    const result = decodeUpdateMessage(JSON.stringify(valid));
    expect(result).toEqual({ ok: true, message: valid });
  });

  it('accepts a bye with no streams', () => {
    expect(decodeUpdateMessage('{"v":1,"node":"n","streams":[],"bye":true}').ok).toBe(true);
  });

  it.each([
    ['not JSON', 'hello', 'invalid_json'],
    ['truncated JSON', JSON.stringify(valid).slice(0, 40), 'invalid_json'],
    ['a JSON array', '[1,2]', 'invalid_schema'],
    ['JSON null', 'null', 'invalid_schema'],
    ['an unknown version', JSON.stringify({ ...valid, v: 2 }), 'invalid_schema'],
    ['an unknown member', JSON.stringify({ ...valid, extra: 1 }), 'invalid_schema'],
    ['a __proto__ member', JSON.stringify(valid).replace('{"v":1', '{"__proto__":{"x":1},"v":1'), 'invalid_schema'],
    ['an empty node id', JSON.stringify({ ...valid, node: '' }), 'invalid_schema'],
    ['the summary key as node id', JSON.stringify({ ...valid, node: '(other)' }), 'invalid_schema'],
    ['the summary key as model', withStream({ model: '(other)' }), 'invalid_schema'],
    ['a node id of 129 characters', JSON.stringify({ ...valid, node: 'n'.repeat(129) }), 'invalid_schema'],
    ['an empty stream id', withStream({ id: '' }), 'invalid_schema'],
    ['a stream id of 257 characters', withStream({ id: 'x'.repeat(257) }), 'invalid_schema'],
    ['a count as a string', withStream({ out: '12' }), 'invalid_schema'],
    ['a NaN-like string', withStream({ out: 'NaN' }), 'invalid_schema'],
    ['1e309', withStream({ out: 1 }).replace('"out":1', '"out":1e309'), 'invalid_schema'],
    ['a negative count', withStream({ reasoning: -1 }), 'invalid_schema'],
    ['a fractional count', withStream({ out: 1.5 }), 'invalid_schema'],
    ['a count past 2^53', withStream({ out: 2 ** 53 }), 'invalid_schema'],
    ['a timestamp of Infinity', withStream({ lastAt: 1 }).replace('"lastAt":1', '"lastAt":1e999'), 'invalid_schema'],
    ['ended as a string', withStream({ ended: 'false' }), 'invalid_schema'],
    ['firstAt after lastAt', withStream({ firstAt: 2, lastAt: 1 }), 'invalid_timing'],
    ['lastAt without firstAt', withStream({ firstAt: null }), 'invalid_timing'],
    ['tokens without timestamps', withStream({ firstAt: null, lastAt: null }), 'invalid_timing'],
    ['a repeated stream id', JSON.stringify({ ...valid, streams: [stream, stream] }), 'duplicate_stream'],
  ])('rejects %s', (_case, raw, reason) => {
    const result = decodeUpdateMessage(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.detail.length).toBeGreaterThan(0);
    }
  });

  it('rejects an oversized message before parsing it', () => {
    const huge = `{"v":1,"node":"n","streams":[],"pad":"${'x'.repeat(5_000_000)}"}`;
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parsed += 1;
      return parse(...args);
    };
    try {
      const result = decodeUpdateMessage(huge, 1_048_576);
      expect(result).toMatchObject({ ok: false, reason: 'too_large' });
      expect(parsed).toBe(0);
    } finally {
      JSON.parse = parse;
    }
  });
});

describe('update-message.schema.json', () => {
  it('matches the schema the hub checks', () => {
    const file = readFileSync(new URL('../../shared/update-message.schema.json', import.meta.url), 'utf8');
    // Regenerate with `pnpm -s schema` after changing the TypeBox schema.
    expect(file).toBe(jsonSchemaText());
  });
});
