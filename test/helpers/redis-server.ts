import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

import { waitFor } from './wait.js';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops the server; it can be started again on the same port. */
  stop(): Promise<void>;
  /** Starts the server again after `stop()`. */
  start(): Promise<void>;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a private `redis-server` on a free port of 127.0.0.1, keeping
 * nothing on disk. The caller stops it with `stop()`.
 */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const passwordAt = extraArgs.indexOf('--requirepass');
  const password = passwordAt >= 0 ? extraArgs[passwordAt + 1] : undefined;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--loglevel', 'warning',
      ...extraArgs,
    ], { stdio: 'ignore' });
    const spawned = child;
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', (error) => reject(new Error(`Cannot start redis-server: ${error.message}. Install it (apt-get install redis-server) or run bash .ci/run.`)));
    });
    await Promise.race([failed, waitFor(() => pingRedis(port, password), { what: `redis-server on port ${port}` })]);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}

/**
 * Starts a Redis server before the tests of the calling file and stops it
 * after them. Returns a getter for use inside the tests.
 */
export function useRedisServer(): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('The Redis server has not started: call useRedisServer() at the top of a test file.');
    return server;
  };
}

/** Returns whether a Redis server on 127.0.0.1 answers PING, trying once. */
export async function pingRedis(port: number, password?: string): Promise<boolean> {
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
