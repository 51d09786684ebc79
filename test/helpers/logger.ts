import { Writable } from 'node:stream';

import { pino, type Logger } from 'pino';

export interface CapturedLogger {
  logger: Logger;
  /** Log lines written so far, parsed. */
  lines: () => Record<string, unknown>[];
}

/** A pino logger that keeps its lines in memory for assertions. */
export function captureLogger(level = 'debug'): CapturedLogger {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level }, sink);
  const lines = () => chunks
    .join('')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

/** A logger that writes nothing. */
export const silentLogger: Logger = pino({ level: 'silent' });
