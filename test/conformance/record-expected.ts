// Records the expected output of each trace under traces/ by running the
// reference meter's replay script (Python) on its events:
//
//     npx tsx test/conformance/record-expected.ts --reference DIR [NAME ...]
//
// DIR is the directory that contains the reference replay.py and its meter
// modules. The script runs `python3 replay.py` there, with the events on
// standard input, and stores its stdout as the trace's `expected`, keeping
// Python's own number formatting. Without NAME arguments every trace is
// recorded again. Only this script needs Python. The tests read the stored
// data and never run it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { formatTraceFile, listTraceNames, readTraceFile, writeTraceFile } from './trace-file.js';

const usage = 'Usage: npx tsx test/conformance/record-expected.ts --reference DIR [NAME ...]';

// CPython 3.12 made sum() of floats compensated (Neumaier summation). The
// reference meter averages the stream rates with sum(), and the TypeScript
// meter adds them left to right as CPython 3.11 and earlier did, so outputs
// recorded on 3.12 or later can differ in the last bit of a mean.
const MAX_PYTHON_MINOR = 11;

function runPython(args: string[], cwd: string, input?: string) {
  const result = spawnSync('python3', args, {
    cwd,
    input,
    encoding: 'utf8',
    // Trace ids may be any Unicode, so do not leave stdin decoding to the locale.
    env: { ...process.env, PYTHONUTF8: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new Error(`Failed to run python3 in ${cwd}: ${result.error.message}`);
  }
  return result;
}

function pythonVersion(referenceDirectory: string): string {
  const script = 'import sys; print(".".join(map(str, sys.version_info[:3])))';
  const result = runPython(['-c', script], referenceDirectory);
  const version = result.stdout.trim();
  const minor = Number(version.split('.')[1]);
  if (result.status !== 0 || !version.startsWith('3.')) {
    throw new Error(`python3 did not report a Python 3 version (got "${version}", ${result.stderr.trim()}).`);
  }
  if (minor > MAX_PYTHON_MINOR) {
    throw new Error(
      `python3 is ${version}, whose sum() of floats is compensated. ` +
        `Record with CPython 3.${MAX_PYTHON_MINOR} or earlier so the means are summed left to right.`,
    );
  }
  return version;
}

function recordTrace(name: string, referenceDirectory: string, recordedWith: string): number {
  const trace = readTraceFile(name);
  const input = JSON.stringify(trace.events);
  const result = runPython(['replay.py', '--meter', 'intended'], referenceDirectory, input);
  if (result.status !== 0) {
    throw new Error(`replay.py failed on trace ${name} (exit ${result.status}): ${result.stderr.trim()}`);
  }

  const text = result.stdout.trim();
  const expected: unknown = JSON.parse(text);
  if (!Array.isArray(expected)) {
    throw new Error(`replay.py printed something other than a JSON array for trace ${name}.`);
  }

  writeTraceFile(name, formatTraceFile(trace.description, trace.events, { text, recordedWith }));
  return expected.length;
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { reference: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const referenceDirectory = values.reference;
  if (!referenceDirectory || !existsSync(join(referenceDirectory, 'replay.py'))) {
    throw new Error(`Missing --reference DIR: the directory that contains replay.py.\n${usage}`);
  }

  const version = pythonVersion(referenceDirectory);
  const recordedWith = `CPython ${version}, replay.py --meter intended`;
  const names = positionals.length > 0 ? positionals : listTraceNames();
  for (const name of names) {
    const count = recordTrace(name, referenceDirectory, recordedWith);
    console.log(`recorded ${name} (${count} results)`);
  }
}

try {
  main();
} catch (error) {
  console.error(`record-expected: ${(error as Error).message}`);
  process.exitCode = 1;
}
