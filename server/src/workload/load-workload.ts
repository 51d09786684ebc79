import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadConvTrace } from './conv-trace.js';
import { checkInteger } from './options-check.js';
import type { WorkloadRequest } from './request.js';
import { syntheticConvTrace } from './synthetic-trace.js';

// This module sits in server/src/workload/, three levels below the root.
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Default path of conv.csv, in the data folder beside the repository. */
export const DEFAULT_CONV_TRACE_PATH = resolve(
  REPOSITORY_ROOT,
  '../shared/data/azure-llm-2023/conv.csv',
);

export interface LoadWorkloadOptions {
  /** Path of conv.csv. @default DEFAULT_CONV_TRACE_PATH */
  dataPath?: string;
  /** Seed of the synthetic workload used when the file is absent. @default 0 */
  seed?: number;
}

/** A workload and where it came from. */
export interface Workload {
  requests: WorkloadRequest[];
  source: 'conv.csv' | 'synthetic';
  /** Absolute path of the file read, set when `source` is 'conv.csv'. */
  path?: string;
}

/**
 * Loads the conv trace, or generates a synthetic one of the same shape when
 * the file does not exist. A file that exists but cannot be read or parsed
 * rejects, because replaying a different workload from the one named would
 * hide the problem.
 */
export async function loadWorkload(options: LoadWorkloadOptions = {}): Promise<Workload> {
  const seed = options.seed ?? 0;
  checkInteger('seed', seed, Number.MIN_SAFE_INTEGER);

  const path = resolve(options.dataPath ?? DEFAULT_CONV_TRACE_PATH);
  try {
    return { requests: await loadConvTrace(path), source: 'conv.csv', path };
  } catch (error) {
    if (!isFileNotFound(error)) throw error;
  }
  return { requests: syntheticConvTrace({ seed }), source: 'synthetic' };
}

function isFileNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
