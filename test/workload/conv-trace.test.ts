import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CONV_OUTPUT_TOKEN_QUANTILES,
  CONV_REQUEST_COUNT,
  CONV_SPAN_MS,
  DEFAULT_CONV_TRACE_PATH,
  loadConvTrace,
  TraceFormatError,
} from '../../server/src/workload/index.js';
import { createTempDir, type TempDir } from './temp-dir.js';

const HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

let temp: TempDir;
beforeAll(async () => {
  temp = await createTempDir();
});
afterAll(async () => {
  await temp.cleanup();
});

async function writeCsv(name: string, lines: string[], eol = '\r\n'): Promise<string> {
  return temp.write(name, lines.join(eol));
}

async function loadError(path: string): Promise<TraceFormatError> {
  const error: unknown = await loadConvTrace(path).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(TraceFormatError);
  return error as TraceFormatError;
}

describe('loadConvTrace', () => {
  it('reads arrivals relative to the first row', async () => {
    const path = await writeCsv('small.csv', [
      HEADER,
      '2023-11-16 18:15:46.6805900,374,44',
      '2023-11-16 18:15:50.9951690,396,109',
      '2023-11-16 18:16:01.0000000,91,7',
    ]);

    const requests = await loadConvTrace(path);

    expect(requests).toHaveLength(3);
    expect(requests[0]).toEqual({ arrivalMs: 0, outputTokens: 44 });
    expect(requests[1]?.arrivalMs).toBeCloseTo(4_314.579, 6);
    expect(requests[1]?.outputTokens).toBe(109);
    expect(requests[2]?.arrivalMs).toBeCloseTo(14_319.41, 6);
  });

  it('keeps sub-millisecond digits', async () => {
    const path = await writeCsv('fraction.csv', [
      HEADER,
      '2023-11-16 18:15:46.0000001,1,1',
      '2023-11-16 18:15:46.0000009,1,1',
    ]);

    const requests = await loadConvTrace(path);

    expect(requests[1]?.arrivalMs).toBeCloseTo(0.000_8, 9);
  });

  it('sorts rows by arrival', async () => {
    const path = await writeCsv('unsorted.csv', [
      HEADER,
      '2023-11-16 18:00:02.0000000,1,20',
      '2023-11-16 18:00:00.5000000,1,10',
      '2023-11-16 18:00:01.0000000,1,30',
    ]);

    const requests = await loadConvTrace(path);

    expect(requests.map((request) => request.arrivalMs)).toEqual([0, 500, 1_500]);
    expect(requests.map((request) => request.outputTokens)).toEqual([10, 30, 20]);
  });

  it('crosses midnight and accepts LF and a trailing newline', async () => {
    const path = await writeCsv(
      'midnight.csv',
      [HEADER, '2023-11-16 23:59:59.5,1,5', '2023-11-17 00:00:00.25,1,6', ''],
      '\n',
    );

    const requests = await loadConvTrace(path);

    expect(requests.map((request) => request.arrivalMs)).toEqual([0, 750]);
  });

  it('finds columns by header name', async () => {
    const path = await writeCsv('reordered.csv', [
      'GeneratedTokens,TIMESTAMP',
      '12,2023-11-16 18:00:00.0000000',
      '34,2023-11-16 18:00:01.0000000',
    ]);

    const requests = await loadConvTrace(path);

    expect(requests).toEqual([
      { arrivalMs: 0, outputTokens: 12 },
      { arrivalMs: 1_000, outputTokens: 34 },
    ]);
  });

  it('rejects a malformed row naming file and line', async () => {
    const path = await writeCsv('bad-tokens.csv', [
      HEADER,
      '2023-11-16 18:15:46.6805900,374,44',
      '2023-11-16 18:15:50.9951690,396,many',
    ]);

    const error = await loadError(path);

    expect(error.message).toBe(
      `Invalid conv trace ${path}, line 3: invalid GeneratedTokens "many", expected a whole number of tokens.`,
    );
    expect(error.path).toBe(path);
    expect(error.line).toBe(3);
    expect(error.code).toBe('INVALID_CONV_TRACE');
  });

  it.each([
    ['wrong field count', '2023-11-16 18:15:46.6805900,44', 'expected 3 fields, got 2'],
    ['impossible date', '2023-02-30 18:15:46.0,1,44', 'invalid TIMESTAMP "2023-02-30 18:15:46.0"'],
    ['missing time', '2023-11-16,1,44', 'invalid TIMESTAMP "2023-11-16"'],
    ['negative tokens', '2023-11-16 18:15:46.0,1,-4', 'invalid GeneratedTokens "-4"'],
    ['fractional tokens', '2023-11-16 18:15:46.0,1,4.5', 'invalid GeneratedTokens "4.5"'],
  ])('rejects %s', async (name, row, problem) => {
    const path = await writeCsv(`${name.replaceAll(' ', '-')}.csv`, [
      HEADER,
      '2023-11-16 18:15:40.0,1,10',
      row,
    ]);

    const error = await loadError(path);

    expect(error.message).toContain(`${path}, line 3: ${problem}`);
  });

  it('rejects a file without the expected header', async () => {
    const path = await writeCsv('no-header.csv', ['2023-11-16 18:15:46.0,1,44']);

    const error = await loadError(path);

    expect(error.line).toBe(1);
    expect(error.message).toContain('expected a header with TIMESTAMP and GeneratedTokens');
  });

  it('rejects a file with no requests', async () => {
    const path = await writeCsv('header-only.csv', [HEADER, '']);

    const error = await loadError(path);

    expect(error.message).toContain('the file has a header but no requests');
  });

  it('rejects a missing file with ENOENT', async () => {
    const missing = `${temp.path}/absent.csv`;

    await expect(loadConvTrace(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

const hasRealTrace = existsSync(DEFAULT_CONV_TRACE_PATH);

describe('real conv.csv', () => {
  it.skipIf(!hasRealTrace)('spans about 58 minutes', async () => {
    const requests = await loadConvTrace(DEFAULT_CONV_TRACE_PATH);
    const lastArrivalMs = requests.at(-1)?.arrivalMs ?? 0;
    const sortedTokens = requests.map((request) => request.outputTokens).sort((a, b) => a - b);

    expect(requests).toHaveLength(19_366);
    expect(requests[0]?.arrivalMs).toBe(0);
    expect(lastArrivalMs / 60_000).toBeGreaterThan(57.5);
    expect(lastArrivalMs / 60_000).toBeLessThan(59);
    expect(sortedTokens[0]).toBe(7);
    expect(sortedTokens.at(-1)).toBe(1_000);
    expect(sortedTokens[Math.floor(sortedTokens.length / 2)]).toBe(129);
  });

  it.skipIf(!hasRealTrace)('matches the stored statistics', async () => {
    const requests = await loadConvTrace(DEFAULT_CONV_TRACE_PATH);
    const sortedTokens = requests.map((request) => request.outputTokens).sort((a, b) => a - b);

    expect(requests).toHaveLength(CONV_REQUEST_COUNT);
    expect(Math.round(requests.at(-1)?.arrivalMs ?? 0)).toBe(CONV_SPAN_MS);
    for (const [probability, tokens] of CONV_OUTPUT_TOKEN_QUANTILES) {
      expect(quantile(sortedTokens, probability), `p${probability * 100}`).toBe(tokens);
    }
  });
});

/** Interpolates linearly between order statistics, as the stored table does. */
function quantile(sorted: number[], probability: number): number {
  const position = (sorted.length - 1) * probability;
  const lower = sorted[Math.floor(position)] ?? Number.NaN;
  const upper = sorted[Math.ceil(position)] ?? Number.NaN;
  return lower + (upper - lower) * (position - Math.floor(position));
}
