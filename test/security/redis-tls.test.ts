import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { createPublisher, type MeteringFrame } from '@metering-hub/shared';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';
import { documentedRules } from './fixtures/acl-rules.js';
import { useHubProcesses } from './fixtures/hub-process.js';
import { createTlsFiles, missingTlsTools, startTlsRedisServer, type TlsFiles, type TlsRedisServer, TlsUnsupportedError } from './fixtures/tls-redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const READINGS_KEY = 'metering:updates:readings';

const startHub = useHubProcesses();
let files: TlsFiles | undefined;
let redis: TlsRedisServer | undefined;
// Why the TLS tests are skipped here, when they are.
let skipReason = missingTlsTools();

beforeAll(async () => {
  if (skipReason) return;
  files = createTlsFiles();
  try {
    redis = await startTlsRedisServer(files);
  } catch (error) {
    if (!(error instanceof TlsUnsupportedError)) throw error;
    skipReason = `this redis-server has no TLS support: ${error.message}`;
  }
});

afterAll(async () => {
  await redis?.stop();
  files?.remove();
});

/** Returns the TLS server and the test CA, or skips the test when TLS cannot run here. */
function tlsSetup(skip: (note: string) => never): { redis: TlsRedisServer; files: TlsFiles } {
  if (skipReason) skip(skipReason);
  if (!redis || !files) throw new Error('The TLS Redis server did not start. See the error of beforeAll.');
  return { redis, files };
}

async function readStats(port: number): Promise<MeteringFrame> {
  return await (await fetch(`http://127.0.0.1:${port}/stats`)).json() as MeteringFrame;
}

async function readyStatus(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

describe('Redis over TLS', () => {
  it('hub trusts a private CA through NODE_EXTRA_CA_CERTS', async ({ skip }) => {
    const { redis, files } = tlsSetup(skip);
    const admin = redis.client();
    await admin.del(READINGS_KEY);
    const hub = startHub({ REDIS_URL: `rediss://127.0.0.1:${redis.port}`, NODE_EXTRA_CA_CERTS: files.caFile });
    const port = await hub.port();
    // The publisher runs in this process, which does not trust the CA, so
    // it gets an ioredis client with the CA in its TLS options.
    const nodeClient: Redis = redis.client();
    const publisher = createPublisher({ nodeId: 'tls-node', redis: nodeClient, flushIntervalMs: 20, logger: silentLogger });
    let tokens = 0;
    publisher.begin('stream-1');
    const timer = setInterval(() => {
      tokens += 5;
      publisher.token('stream-1', tokens);
    }, 50);

    try {
      await waitFor(async () => (await readyStatus(port)) === 200, { what: '/readyz 200 from the hub over TLS', deadlineMs: 30_000 });
      await waitFor(async () => (await readStats(port)).nodes.some((node) => node.key === 'tls-node' && node.active === 1), { what: "the node's stream in /stats" });
      await waitFor(async () => (await admin.zcard(READINGS_KEY)) > 0, { what: `readings in ${READINGS_KEY} over TLS` });
    } finally {
      clearInterval(timer);
      await publisher.close();
      nodeClient.disconnect();
      admin.disconnect();
    }

    expect(await hub.stop()).toBe(0);
  });

  it('hub without the CA stays unready and logs why', async ({ skip }) => {
    const { redis } = tlsSetup(skip);
    const hub = startHub({ REDIS_URL: `rediss://127.0.0.1:${redis.port}` });
    const port = await hub.port();

    await waitFor(() => hub.output().includes('"Redis connection error"'), { what: 'a Redis connection error in the log' });

    expect(hub.output()).toMatch(/"code":"(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)"/);
    expect(await readyStatus(port)).toBe(503);
  });

  it('ACL users connect with rediss:// URLs', async ({ skip }) => {
    const { redis, files } = tlsSetup(skip);
    const passwords = { node: randomBytes(12).toString('hex'), hub: randomBytes(12).toString('hex') };
    const admin = redis.client();
    await admin.call('ACL', 'SETUSER', 'node', ...documentedRules('node', passwords.node));
    await admin.call('ACL', 'SETUSER', 'hub', ...documentedRules('hub', passwords.hub));
    const hub = startHub({ REDIS_URL: `rediss://hub:${passwords.hub}@127.0.0.1:${redis.port}`, NODE_EXTRA_CA_CERTS: files.caFile });
    const port = await hub.port();
    // A chat node in its own process, trusting the CA the same way.
    const node = spawn(process.execPath, ['--import', 'tsx', 'test/security/fixtures/url-publisher.ts'], {
      cwd: root,
      env: { ...process.env, NODE_ID: 'tls-acl-node', REDIS_URL: `rediss://node:${passwords.node}@127.0.0.1:${redis.port}`, NODE_EXTRA_CA_CERTS: files.caFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let nodeOutput = '';
    node.stdout.on('data', (chunk) => (nodeOutput += chunk));
    node.stderr.on('data', (chunk) => (nodeOutput += chunk));
    const nodeExited = new Promise<number | null>((resolve) => node.once('exit', resolve));

    try {
      await waitFor(async () => (await readyStatus(port)) === 200, { what: '/readyz 200 from the hub as user hub over TLS', deadlineMs: 30_000 });
      await waitFor(async () => (await readStats(port)).nodes.some((entry) => entry.key === 'tls-acl-node' && entry.active === 1), {
        what: "the stream of the node process in /stats",
        deadlineMs: 60_000,
      });
    } finally {
      node.kill('SIGTERM');
      admin.disconnect();
    }

    expect(await nodeExited, nodeOutput).toBe(0);
    expect(await hub.stop()).toBe(0);
  });

  // NOTE: fails until config.ts rejects or lowercases the scheme. It accepts
  // REDISS:// because URL lowercases the protocol, but ioredis 5.11 turns
  // TLS on only for a URL that starts with "rediss://", so the hub connects
  // in plain text and Redis resets the connection.
  it('upper-case REDISS:// is rejected or uses TLS', async ({ skip }) => {
    const { redis, files } = tlsSetup(skip);
    const hub = startHub({ REDIS_URL: `REDISS://127.0.0.1:${redis.port}`, NODE_EXTRA_CA_CERTS: files.caFile });

    const rejectedOrReady = async () => {
      if (hub.exitCode() === 2) return true;
      const port = hub.exitCode() === undefined ? await hub.port().catch(() => undefined) : undefined;
      return port !== undefined && (await readyStatus(port)) === 200;
    };
    try {
      await waitFor(rejectedOrReady, { what: 'the hub to exit with code 2 or to subscribe over TLS', deadlineMs: 15_000 });
    } catch (error) {
      throw new Error(`${(error as Error).message} Hub output:\n${hub.output().split('\n').slice(-5).join('\n')}`);
    }
  });
});
