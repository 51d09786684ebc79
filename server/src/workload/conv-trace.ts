import { readFile } from 'node:fs/promises';

import type { WorkloadRequest } from './request.js';

/** A conv.csv file that cannot be read as a trace, with where it failed. */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  readonly code = 'INVALID_CONV_TRACE';

  constructor(
    readonly path: string,
    /** 1-based line of the file, the header being line 1. */
    readonly line: number,
    problem: string,
  ) {
    super(`Invalid conv trace ${path}, line ${line}: ${problem}`);
  }
}

const TIMESTAMP_COLUMN = 'TIMESTAMP';
const OUTPUT_COLUMN = 'GeneratedTokens';

// Timestamps look like `2023-11-16 18:15:46.6805900`. The trace gives no
// time zone, so they are read as UTC, which has no daylight-saving jumps.
const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** An arrival split so that sub-millisecond digits survive subtraction. */
interface Timestamp {
  wholeSecondsMs: number;
  fractionMs: number;
}

/**
 * Reads a conv.csv of the Azure LLM inference trace, which has a header
 * naming TIMESTAMP and GeneratedTokens and then one request per line.
 * Arrivals are returned in ms from the earliest one, sorted by arrival.
 * Fields are split on commas because the trace quotes none.
 *
 * @throws TraceFormatError naming the file and line of the first bad row,
 *   or when the file has no header or no rows.
 * @throws the `fs` error (code ENOENT and so on) when the file cannot be read.
 */
export async function loadConvTrace(path: string): Promise<WorkloadRequest[]> {
  const text = await readFile(path, 'utf8');
  return parseConvTrace(text, path);
}

function parseConvTrace(text: string, path: string): WorkloadRequest[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const columns = readHeader(lines[0] ?? '', path);

  const rows: { arrival: Timestamp; outputTokens: number }[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    rows.push(parseRow(line, index + 1, columns, path));
  }
  if (rows.length === 0) {
    throw new TraceFormatError(path, lines.length, 'the file has a header but no requests.');
  }

  return toRequests(rows);
}

interface Columns {
  count: number;
  timestamp: number;
  outputTokens: number;
}

function readHeader(header: string, path: string): Columns {
  const names = header.split(',').map((name) => name.trim());
  const timestamp = names.indexOf(TIMESTAMP_COLUMN);
  const outputTokens = names.indexOf(OUTPUT_COLUMN);
  if (timestamp < 0 || outputTokens < 0) {
    throw new TraceFormatError(
      path,
      1,
      `expected a header with ${TIMESTAMP_COLUMN} and ${OUTPUT_COLUMN} columns, got ${preview(header)}.`,
    );
  }
  return { count: names.length, timestamp, outputTokens };
}

function parseRow(
  line: string,
  lineNumber: number,
  columns: Columns,
  path: string,
): { arrival: Timestamp; outputTokens: number } {
  const fields = line.split(',');
  if (fields.length !== columns.count) {
    throw new TraceFormatError(
      path,
      lineNumber,
      `expected ${columns.count} fields, got ${fields.length} in ${preview(line)}.`,
    );
  }

  const timestampText = (fields[columns.timestamp] ?? '').trim();
  const arrival = parseTimestamp(timestampText);
  if (!arrival) {
    throw new TraceFormatError(
      path,
      lineNumber,
      `invalid ${TIMESTAMP_COLUMN} ${preview(timestampText)}, expected YYYY-MM-DD hh:mm:ss.fffffff.`,
    );
  }

  const outputText = (fields[columns.outputTokens] ?? '').trim();
  const outputTokens = /^\d+$/.test(outputText) ? Number(outputText) : Number.NaN;
  if (!Number.isSafeInteger(outputTokens)) {
    throw new TraceFormatError(
      path,
      lineNumber,
      `invalid ${OUTPUT_COLUMN} ${preview(outputText)}, expected a whole number of tokens.`,
    );
  }

  return { arrival, outputTokens };
}

function parseTimestamp(text: string): Timestamp | undefined {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) return undefined;

  // The pattern matched, so all six parts are digits. The NaN defaults only
  // satisfy the index checks and would fail the round trip below.
  const [year = NaN, month = NaN, day = NaN, hour = NaN, minute = NaN, second = NaN] = match
    .slice(1, 7)
    .map(Number);
  const fraction = match[7] ?? '';

  const wholeSecondsMs = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2023-02-30 over into March, so read the parts back.
  const date = new Date(wholeSecondsMs);
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!valid) return undefined;

  return { wholeSecondsMs, fractionMs: fraction === '' ? 0 : Number(`0.${fraction}`) * 1_000 };
}

function toRequests(rows: { arrival: Timestamp; outputTokens: number }[]): WorkloadRequest[] {
  const first = rows.reduce((earliest, row) =>
    compareTimestamps(row.arrival, earliest.arrival) < 0 ? row : earliest,
  ).arrival;

  const requests = rows.map((row) => ({
    arrivalMs:
      row.arrival.wholeSecondsMs - first.wholeSecondsMs +
      (row.arrival.fractionMs - first.fractionMs),
    outputTokens: row.outputTokens,
  }));
  // Array.prototype.sort is stable, so equal arrivals keep file order.
  return requests.sort((a, b) => a.arrivalMs - b.arrivalMs);
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.wholeSecondsMs - b.wholeSecondsMs || a.fractionMs - b.fractionMs;
}

function preview(text: string): string {
  const quoted = JSON.stringify(text);
  return quoted.length > 80 ? `${quoted.slice(0, 77)}..."` : quoted;
}
