// Reads and writes the trace files under traces/. Each file is a JSON object:
//
//   description   what the trace probes
//   recordedWith  the Python version and reference meter that produced expected
//   events        the trace, one [t, op, ...args] event per line
//   expected      the reference replay's output, one [t, result] pair per line
//
// `expected` keeps the reference's own JSON text (1.0, 1e+300, -0.0) and only
// gains line breaks, so a re-recording shows up as a readable diff.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const tracesDirectory = fileURLToPath(new URL('./traces/', import.meta.url));

export interface TraceFile {
  name: string;
  description: string;
  recordedWith: string | undefined;
  events: unknown[];
  /** Undefined until record-expected.ts has run on the trace. */
  expected: unknown[] | undefined;
}

/** Lists trace names (file names without `.json`), sorted. */
export function listTraceNames(directory = tracesDirectory): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

export function traceFilePath(name: string, directory = tracesDirectory): string {
  return join(directory, `${name}.json`);
}

export function readTraceFile(name: string, directory = tracesDirectory): TraceFile {
  const path = traceFilePath(name, directory);
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(`Invalid trace file ${path}: expected a JSON object.`);
  }

  const { description, recordedWith, events, expected } = parsed as Record<string, unknown>;
  if (typeof description !== 'string') {
    throw new Error(`Invalid trace file ${path}: "description" must be a string.`);
  }
  if (!Array.isArray(events)) {
    throw new Error(`Invalid trace file ${path}: "events" must be an array.`);
  }
  if (expected !== undefined && !Array.isArray(expected)) {
    throw new Error(`Invalid trace file ${path}: "expected" must be an array when present.`);
  }
  if (recordedWith !== undefined && typeof recordedWith !== 'string') {
    throw new Error(`Invalid trace file ${path}: "recordedWith" must be a string when present.`);
  }

  return { name, description, recordedWith, events, expected };
}

/**
 * Formats a trace file. `expected.text` is the reference replay's stdout,
 * kept token for token. Without `expected` the file has no expected output
 * yet, and the conformance test fails on it until it is recorded.
 */
export function formatTraceFile(
  description: string,
  events: readonly unknown[],
  expected?: { text: string; recordedWith: string },
): string {
  const lines = ['{', `  "description": ${JSON.stringify(description)},`];
  if (expected) {
    lines.push(`  "recordedWith": ${JSON.stringify(expected.recordedWith)},`);
  }

  const eventLines = events.map((event) => `    ${JSON.stringify(event)}`);
  lines.push(`  "events": ${formatArray(eventLines, expected !== undefined)}`);

  if (expected) {
    const resultLines = splitTopLevelArray(expected.text).map((item) => `    ${item}`);
    lines.push(`  "expected": ${formatArray(resultLines, false)}`);
  }

  lines.push('}', '');
  return lines.join('\n');
}

export function writeTraceFile(name: string, text: string, directory = tracesDirectory): void {
  writeFileSync(traceFilePath(name, directory), text);
}

function formatArray(itemLines: string[], trailingComma: boolean): string {
  const close = trailingComma ? '],' : ']';
  if (itemLines.length === 0) return `[${close}`;
  return `[\n${itemLines.join(',\n')}\n  ${close}`;
}

/**
 * Splits the text of a JSON array into the texts of its elements, unchanged.
 * Throws if the text is not a JSON array.
 */
export function splitTopLevelArray(text: string): string[] {
  const trimmed = text.trim();
  if (!Array.isArray(JSON.parse(trimmed))) {
    throw new Error(`Invalid replay output: expected a JSON array, got ${trimmed.slice(0, 80)}`);
  }

  const items: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 1;
  for (let i = 1; i < trimmed.length - 1; i++) {
    const char = trimmed[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '[' || char === '{') depth += 1;
    else if (char === ']' || char === '}') depth -= 1;
    else if (char === ',' && depth === 0) {
      items.push(trimmed.slice(start, i).trim());
      start = i + 1;
    }
  }

  const last = trimmed.slice(start, -1).trim();
  if (last !== '') items.push(last);
  return items;
}
