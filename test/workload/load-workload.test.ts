import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CONV_REQUEST_COUNT,
  DEFAULT_CONV_TRACE_PATH,
  loadWorkload,
  syntheticConvTrace,
  TraceFormatError,
} from '../../server/src/workload/index.js';
import { createTempDir, type TempDir } from './temp-dir.js';

let temp: TempDir;
beforeAll(async () => {
  temp = await createTempDir();
});
afterAll(async () => {
  await temp.cleanup();
});

describe('loadWorkload', () => {
  it('reads the file at dataPath', async () => {
    const path = await temp.write(
      'conv.csv',
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00.0,1,9\n',
    );

    const workload = await loadWorkload({ dataPath: path });

    expect(workload.source).toBe('conv.csv');
    expect(workload.path).toBe(path);
    expect(workload.requests).toEqual([{ arrivalMs: 0, outputTokens: 9 }]);
  });

  it('falls back to synthetic when the file is absent', async () => {
    const workload = await loadWorkload({ dataPath: join(temp.path, 'absent.csv'), seed: 5 });

    expect(workload.source).toBe('synthetic');
    expect(workload.path).toBeUndefined();
    expect(workload.requests).toHaveLength(CONV_REQUEST_COUNT);
    expect(workload.requests).toEqual(syntheticConvTrace({ seed: 5 }));
  });

  it('rejects a malformed file instead of falling back', async () => {
    const path = await temp.write('broken.csv', 'TIMESTAMP,GeneratedTokens\nyesterday,9\n');

    await expect(loadWorkload({ dataPath: path })).rejects.toBeInstanceOf(TraceFormatError);
  });

  it('rejects a fractional seed', async () => {
    await expect(loadWorkload({ seed: 0.5 })).rejects.toThrow(
      'Invalid seed 0.5: expected an integer of at least',
    );
  });

  it('rejects a path that is a folder', async () => {
    await expect(loadWorkload({ dataPath: temp.path })).rejects.toMatchObject({
      code: 'EISDIR',
    });
  });

  it('defaults to conv.csv beside the repository', () => {
    expect(DEFAULT_CONV_TRACE_PATH.replaceAll('\\', '/')).toMatch(
      /\/shared\/data\/azure-llm-2023\/conv\.csv$/,
    );
  });

  it.skipIf(!existsSync(DEFAULT_CONV_TRACE_PATH))('reads the real trace by default', async () => {
    const workload = await loadWorkload();

    expect(workload.source).toBe('conv.csv');
    expect(workload.path).toBe(DEFAULT_CONV_TRACE_PATH);
    expect(workload.requests).toHaveLength(19_366);
  });
});
