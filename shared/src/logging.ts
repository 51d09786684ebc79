import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that pino replaces with `[redacted]`. ioredis attaches the failed
 * command to its errors, and for AUTH its arguments are the user name and
 * password.
 */
export const REDACTED_LOG_PATHS = [
  'err.command.args',
  'err.previousErrors[*].command.args',
  'err.lastNodeError.command.args',
  'password',
  'token',
];

/**
 * Creates the root logger: JSON lines on standard output (or the given
 * destination) at `LOG_LEVEL`, default `info`, with secrets redacted.
 * Modules take `logger.child({ module })` from it.
 */
export function createRootLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options = { level, base: { pid: process.pid }, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Lets a repeated event through once per period per key, and counts what it
 * held back, so a flood of one fault writes one log line per period.
 */
export class LogThrottle {
  private readonly lastLoggedAt = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly periodMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Returns the number of events held back since the last one let through,
   * or `undefined` when this one should be held back too.
   */
  admit(key: string): number | undefined {
    const now = this.now();
    const last = this.lastLoggedAt.get(key);
    if (last !== undefined && now - last < this.periodMs) {
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return undefined;
    }

    const heldBack = this.suppressed.get(key) ?? 0;
    this.lastLoggedAt.set(key, now);
    this.suppressed.delete(key);
    return heldBack;
  }
}
