import { Ingest, type IngestOptions, Meter, streamKey } from '@metering-hub/server';

import { captureLogger } from '../helpers/logger.js';

export interface DirectIngest {
  ingest: Ingest;
  meter: Meter;
  /** Monotonic clock of the meter, ms; tests move it. */
  clock: { now: number };
  /** Times to first token passed to `onFirstToken`, in ms. */
  ttfts: number[];
  /** Log lines written so far, parsed. */
  lines: () => Record<string, unknown>[];
  /** Encodes a node message and hands it to `ingest.handle`. */
  send(node: string, streams: object[], extra?: object): boolean;
}

/**
 * Returns an Ingest on its own Meter with a manual clock and a captured
 * logger, for tests that need neither a bus nor a ticker.
 */
export function directIngest(options: Partial<Omit<IngestOptions, 'meter' | 'logger'>> = {}): DirectIngest {
  const clock = { now: 5_000 };
  const meter = new Meter({ now: () => clock.now / 1000 });
  const { logger, lines } = captureLogger();
  const ttfts: number[] = [];
  const ingest = new Ingest({
    meter,
    logger,
    onFirstToken: (ttftMs) => ttfts.push(ttftMs),
    ...options,
  });

  const send = (node: string, streams: object[], extra: object = {}) =>
    ingest.handle(JSON.stringify({ v: 1, node, streams, ...extra }));
  return { ingest, meter, clock, ttfts, lines, send };
}

/** Meter keys of `count` streams of one node, `s<from>` onward. */
export function streamKeys(node: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, offset) => streamKey(node, `s${from + offset}`));
}

/** Log lines of the `ingest` module with the given reason. */
export function linesWithReason(lines: Record<string, unknown>[], reason: string): Record<string, unknown>[] {
  return lines.filter((line) => line.module === 'ingest' && line.reason === reason);
}
