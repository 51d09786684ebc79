import type { Logger } from '@metering-hub/shared';

/**
 * Runs `close` on the first SIGINT or SIGTERM, then lets the process end by
 * itself; a second signal while closing changes nothing.
 */
export function onShutdownSignal(logger: Logger, close: () => Promise<void>): void {
  let closing = false;

  const handle = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.info({ signal }, 'Already shutting down; signal ignored');
      return;
    }
    closing = true;
    logger.info({ signal }, 'Shutting down');
    close().catch((error: unknown) => {
      logger.error({ err: error }, 'Shutdown failed');
      process.exitCode = 1;
    });
  };

  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
