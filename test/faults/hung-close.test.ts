import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { freePort, pingRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { type ExitStatus, type HubProcess, useHubProcesses } from './hub-process.js';
import { readyStatus } from './http.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const closeFixture = fileURLToPath(new URL('./fixtures/close-on-frozen-redis.ts', import.meta.url));
const startHub = useHubProcesses();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Starts a redis-server of this test's own, because freezing it with
 * SIGSTOP needs its process, which the shared helper keeps private.
 */
async function startFreezableRedis(): Promise<{ process: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--loglevel', 'warning',
  ], { stdio: 'ignore' });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  });

  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => pingRedis(port), { what: `redis-server on port ${port}` });
  return { process: child, url };
}

/** Freezes Redis under a subscribed hub process, then sends it SIGTERM. */
async function terminateWithFrozenRedis(): Promise<{ hub: HubProcess; status: ExitStatus }> {
  const redis = await startFreezableRedis();
  const hub = await startHub({ redisUrl: redis.url });
  await waitFor(async () => (await readyStatus(hub.base)) === 200, { what: 'the hub to subscribe' });

  // Frozen, not dead: its sockets stay open and no command gets a reply.
  redis.process.kill('SIGSTOP');
  const signalledAt = performance.now();
  hub.child.kill('SIGTERM');
  const status = await hub.exited;
  console.info(`Hub exited with code ${status.code} ${Math.round(performance.now() - signalledAt)} ms after SIGTERM.`);
  return { hub, status };
}

describe('SIGTERM while Redis is frozen', () => {
  it('still ends the hub process', async () => {
    const { hub, status } = await terminateWithFrozenRedis();

    expect([0, 1]).toContain(status.code);
    const outcome = status.code === 0 ? 'Hub closed' : 'Shutdown did not finish in time';
    expect(hub.logsStartingWith(outcome)).toHaveLength(1);
    expect(hub.logsStartingWith('Shutting down')).toHaveLength(1);
  });

  it('logs that Redis did not answer', async () => {
    const { hub } = await terminateWithFrozenRedis();

    // The close waits on Redis, so a warning should name Redis as the
    // reason the shutdown was slow or cut off.
    const afterSignal = hub.logs().slice(hub.logs().findIndex((line) => line.msg === 'Shutting down') + 1);
    const redisWarnings = afterSignal.filter((line) => Number(line.level) >= 40 && /redis|reading store/i.test(`${line.msg} ${line.module ?? ''}`));
    const messagesAfterSignal = afterSignal.map((line) => line.msg).join(' | ');
    expect(redisWarnings.length, `log lines after the signal: ${messagesAfterSignal}`).toBeGreaterThan(0);
  });

  it('releases every socket on close', async () => {
    const redis = await startFreezableRedis();
    const child = spawn(process.execPath, ['--import', 'tsx', closeFixture], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redis.url, LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    await waitFor(() => stdout.includes('{"ready":true}') || child.exitCode !== null, { what: 'the fixture hub to subscribe', deadlineMs: 60_000 });
    redis.process.kill('SIGSTOP');
    child.stdin.end('close\n');
    const exitCode = await exited;

    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { resources?: string[] };
    // A closed hub keeps no socket or timer open, even when Redis never
    // replied to its QUIT.
    expect(report.resources).toEqual([]);
  });
});
