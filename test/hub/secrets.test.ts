import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Hub } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

import { captureLogger } from '../helpers/logger.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'correct-horse-battery-staple';
const WRONG_PASSWORD = 'wrong-horse-9f3b2c';

describe('secrets in logs', () => {
  it('never logs a Redis password from a failed AUTH', async () => {
    const redis = await startRedisServer(['--requirepass', PASSWORD]);
    const { logger, lines } = captureLogger();
    const hub = new Hub({ redisUrl: `redis://default:${WRONG_PASSWORD}@127.0.0.1:${redis.port}`, port: 0, logger });
    try {
      await hub.listen();
      await waitFor(() => lines().some((line) => line.msg === 'Redis connection error'), { what: 'the AUTH failure in the log' });
    } finally {
      await hub.close();
      await redis.stop();
    }

    const text = JSON.stringify(lines());
    expect(text).toContain('WRONGPASS');
    expect(text).not.toContain(WRONG_PASSWORD);
  });

  it('keeps the password out of the hub output', async () => {
    const redis = await startRedisServer(['--requirepass', PASSWORD]);
    // node itself, not pnpm start: pnpm would not pass SIGTERM on, and the
    // hub would outlive the test.
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(await freePort()), LOG_LEVEL: 'debug', REDIS_URL: `redis://default:${WRONG_PASSWORD}@127.0.0.1:${redis.port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      await waitFor(() => output.includes('WRONGPASS'), { what: 'the AUTH failure in the output', deadlineMs: 60_000 });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await redis.stop();
    }

    expect(output).not.toContain(WRONG_PASSWORD);
  });
});
