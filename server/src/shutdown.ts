import type { Logger } from '@metering-hub/shared';

export interface ShutdownOptions {
  /**
   * Ms the close may take. Past it the process exits with code 1, so a
   * hung close (a frozen Redis, a client that never lets go) cannot keep a
   * stopped service running. @default 5_000
   */
  deadlineMs?: number;
}

/**
 * Runs `close` on the first SIGINT or SIGTERM, then lets the process end by
 * itself; a second signal while closing changes nothing.
 */
export function onShutdownSignal(logger: Logger, close: () => Promise<void>, options: ShutdownOptions = {}): void {
  const deadlineMs = options.deadlineMs ?? 5_000;
  let closing = false;

  const handle = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.info({ signal }, 'Already shutting down; signal ignored');
      return;
    }
    closing = true;
    logger.info({ signal, deadlineMs }, 'Shutting down');

    const deadline = setTimeout(() => {
      logger.error({ deadlineMs }, 'Shutdown did not finish in time; exiting');
      logger.flush?.();
      process.exit(1);
    }, deadlineMs);
    deadline.unref();

    close().then(
      () => {
        logger.flush?.();
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        process.exitCode = 1;
      },
    );
  };

  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
