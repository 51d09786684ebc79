// Runs the hub alone: subscribes to REDIS_URL and serves dashboards on
// PORT. Every setting comes from the environment (see config.ts).
import { createRootLogger } from '@metering-hub/shared';

import { ConfigError, readConfig } from './config.js';
import { explainStartError } from './start-errors.js';
import { Hub } from './hub/hub.js';
import { onShutdownSignal } from './shutdown.js';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createRootLogger(config.logLevel);
  const hub = new Hub({
    redisUrl: config.redisUrl,
    port: config.port,
    host: config.host,
    channel: config.channel,
    maxMessageBytes: config.maxMessageBytes,
    access: { token: config.token, allowedOrigins: config.allowedOrigins },
    logger,
  });

  onShutdownSignal(logger, () => hub.close());
  try {
    await hub.listen();
  } catch (error) {
    // The Redis connections opened with the hub would keep a process that
    // cannot serve alive. Closing them lets it exit for its supervisor.
    await hub.close();
    throw error;
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`hub: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const explained = explainStartError(error);
  process.stderr.write(`hub: ${explained ?? `failed to start: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exitCode = 1;
});
