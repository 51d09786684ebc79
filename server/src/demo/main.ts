// `pnpm demo`: the hub with a simulated fleet of chat nodes replaying an
// hour of real LLM chat traffic, on Redis when REDIS_URL is set and on an
// in-process bus otherwise. Prints one line per frame.
import { createRootLogger } from '@metering-hub/shared';
import { pino } from 'pino';

import { ConfigError, readConfig, readOptionalRedisUrl } from '../config.js';
import { explainStartError } from '../start-errors.js';
import { DEMO_USAGE, DemoOptionsError, parseDemoOptions } from './demo-options.js';
import { runDemo } from './run-demo.js';

async function main(): Promise<void> {
  const redisUrl = readOptionalRedisUrl();
  const config = readConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const options = parseDemoOptions(process.argv.slice(2), config.port);
  if (options.help) {
    process.stdout.write(DEMO_USAGE);
    return;
  }
  if (options.noHub && !redisUrl) {
    throw new DemoOptionsError('--no-hub needs REDIS_URL: the nodes publish there for hubs in other processes.');
  }

  // Logs go to standard error, so the frame lines on standard output stay
  // readable and can be piped on their own.
  const logger = createRootLogger(config.logLevel, pino.destination(2));
  // A reader that goes away (`pnpm demo | head`) ends the output, not the
  // process with an unhandled EPIPE.
  let outputOpen = true;
  process.stdout.on('error', () => {
    outputOpen = false;
  });
  const print = (line: string) => {
    if (outputOpen) process.stdout.write(`${line}\n`);
  };
  await runDemo({ options, config, redisUrl, logger, print });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DemoOptionsError) {
    process.stderr.write(`demo: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const explained = explainStartError(error);
  process.stderr.write(`demo: ${explained ?? `failed: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exitCode = 1;
});
