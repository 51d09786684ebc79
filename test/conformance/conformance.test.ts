// Conformance of the TypeScript meter with the reference meter. Each file in
// traces/ contains a trace and the reference replay's output for it, recorded
// by record-expected.ts, and both replayTrace and the `pnpm -s replay` CLI must
// reproduce that output exactly. toEqual treats Python's 1.0 and JavaScript's
// 1 as the same number but distinguishes -0 from 0.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { replayTrace } from '../../server/src/replay/trace.js';
import { listTraceNames, readTraceFile, type TraceFile } from './trace-file.js';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const traces: TraceFile[] = listTraceNames().map((name) => readTraceFile(name));

// tsx compiles the CLI on start, which can take seconds on a cold cache.
const CLI_TIMEOUT_MS = 60_000;

interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

function runReplayCli(input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['-s', 'replay'], { cwd: repositoryRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.end(input);
  });
}

function findTrace(name: string): TraceFile {
  const trace = traces.find((candidate) => candidate.name === name);
  if (!trace) throw new Error(`Trace ${name} not found in test/conformance/traces.`);
  return trace;
}

describe('replayTrace against reference output', () => {
  it('has at least 40 traces', () => {
    expect(traces.length).toBeGreaterThanOrEqual(40);
  });

  for (const trace of traces) {
    it(trace.name, () => {
      expect(trace.expected, 'expected output missing: run record-expected.ts').toBeDefined();
      const resultEvents = trace.events.filter((event) => {
        const op = Array.isArray(event) ? event[1] : undefined;
        return op === 'stats' || op === 'interval';
      });
      expect(trace.expected).toHaveLength(resultEvents.length);

      expect(replayTrace(trace.events)).toEqual(trace.expected);
    });
  }
});

describe('replay CLI', () => {
  // A hand-written trace, one with non-ASCII ids on stdin, and a long random one.
  const cliTraceNames = ['rounding-quarter-ties', 'unicode-ids', 'random-07-long-ticker-10s'];

  for (const name of cliTraceNames) {
    it(
      `prints reference output for ${name}`,
      async () => {
        const trace = findTrace(name);
        const result = await runReplayCli(JSON.stringify(trace.events));

        expect(result.stderr).toBe('');
        expect(result.exitCode).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual(trace.expected);
      },
      CLI_TIMEOUT_MS,
    );
  }

  it(
    'rejects an unknown op',
    async () => {
      const trace = [[0, 'begin', 'a'], [1.5, 'pause', 'a'], [2, 'stats']];
      const result = await runReplayCli(JSON.stringify(trace));

      expect(result.exitCode).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/unknown op "pause"/i);
      expect(result.stderr).toContain('t=1.5');
      // A clear message, not a stack trace.
      expect(result.stderr).not.toMatch(/^\s+at /m);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'rejects input that is not JSON',
    async () => {
      const result = await runReplayCli('[[0, "begin", "a"], [1, "stats"');

      expect(result.exitCode).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/not JSON/i);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    },
    CLI_TIMEOUT_MS,
  );
});
