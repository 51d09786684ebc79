import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { useRedisServer } from '../helpers/redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/run-and-close.ts', import.meta.url));

const redisServer = useRedisServer();

describe('Hub.close', () => {
  it('leaves no timer, socket or Redis connection behind', async () => {
    // The fixture runs a hub on Redis with a publisher and a dashboard,
    // closes them, prints what keeps its event loop alive, and must then
    // exit on its own: anything left open would keep it running.
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redisServer().url, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));

    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { framesSeen: number; resources: string[] };
    expect(report.framesSeen).toBeGreaterThan(0);
    expect(report.resources).toEqual([]);
  });
});
