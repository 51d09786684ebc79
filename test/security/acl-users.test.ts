import { randomBytes } from 'node:crypto';

import { Hub } from '@metering-hub/server';
import { createPublisher, type MeteringFrame, type Publisher } from '@metering-hub/shared';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { type AclUser, aclLog, deniedObject, documentedRules, grants, userArguments } from './fixtures/acl-rules.js';

const CHANNEL = 'metering:updates';
const READINGS_KEY = `${CHANNEL}:readings`;
const ADMIN_PASSWORD = `admin-${randomBytes(8).toString('hex')}`;
// Characters that a URL must percent-encode, to check that ioredis decodes
// the credentials of REDIS_URL as docs/security.md states.
const PASSWORDS: Record<AclUser, string> = {
  node: `n@de:/%?#-${randomBytes(8).toString('hex')}`,
  hub: `h@b:/%?#-${randomBytes(8).toString('hex')}`,
};
const RULES: Record<AclUser, string[]> = {
  node: documentedRules('node', PASSWORDS.node),
  hub: documentedRules('hub', PASSWORDS.hub),
};

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  // The default user keeps a password and serves as the administrator.
  redis = await startRedisServer([
    '--requirepass', ADMIN_PASSWORD,
    ...userArguments('node', RULES.node),
    ...userArguments('hub', RULES.hub),
  ]);
  admin = new Redis({ host: '127.0.0.1', port: redis.port, password: ADMIN_PASSWORD });
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

function redisUrl(user: AclUser): string {
  return `redis://${user}:${encodeURIComponent(PASSWORDS[user])}@127.0.0.1:${redis.port}`;
}

// Clients opened by a test, closed after it.
const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

function connectAs(user: AclUser): Redis {
  const client = new Redis({ host: '127.0.0.1', port: redis.port, username: user, password: PASSWORDS[user], maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A hub and a node, both logged in as the documented users. */
interface Deployment {
  hub: Hub;
  base: string;
  publisher: Publisher;
  close(): Promise<void>;
}

async function startDeployment(nodeId: string): Promise<Deployment> {
  // PINGs every 50 ms, so that the health check runs within the test.
  const hub = new Hub({ redisUrl: redisUrl('hub'), port: 0, logger: silentLogger, redisHealthCheckMs: 50 });
  const { port } = await hub.listen();
  const publisher = createPublisher({ nodeId, redis: redisUrl('node'), flushIntervalMs: 20, logger: silentLogger });

  let tokens = 0;
  publisher.begin('stream-1', { model: 'test-model' });
  const timer = setInterval(() => {
    tokens += 5;
    publisher.token('stream-1', tokens);
  }, 50);

  return {
    hub,
    base: `http://127.0.0.1:${port}`,
    publisher,
    async close() {
      clearInterval(timer);
      await publisher.close();
      await hub.close();
    },
  };
}

async function applyRules(user: AclUser, rules: string[]): Promise<void> {
  await admin.call('ACL', 'SETUSER', user, ...rules);
}

describe('ACL users from docs/security.md', () => {
  it('meter a stream end to end', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    await admin.del(READINGS_KEY);
    await admin.config('RESETSTAT');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const deployment = await startDeployment('acl-node');
    try {
      await waitFor(() => deployment.hub.isReady(), { what: 'the hub to subscribe as user hub' });
      await waitFor(async () => {
        const frame = await (await fetch(`${deployment.base}/stats`)).json() as MeteringFrame;
        return frame.nodes.some((node) => node.key === 'acl-node' && node.active === 1);
      }, { what: "the node's stream in /stats" });
      await waitFor(async () => (await admin.zcard(READINGS_KEY)) > 0, { what: `readings in ${READINGS_KEY}` });
      await waitFor(async () => /cmdstat_ping:calls=\d+/.test(await admin.info('commandstats')), { what: "a health-check PING of the hub's subscriber" });
    } finally {
      await deployment.close();
      warn.mockRestore();
    }

    // Nothing was denied, from connect to QUIT, and ioredis's ready check
    // did not have to be skipped.
    expect(await aclLog(admin)).toEqual([]);
    expect(warn.mock.calls.flat().join('\n')).not.toContain('Skipping the ready check');
  });

  it('limit node to publishing', async () => {
    const node = connectAs('node');

    await expect(node.subscribe(CHANNEL)).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('node').zrange(READINGS_KEY, 0, -1)).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('node').get('any-key')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('node').publish('some:other:channel', 'x')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('node').keys('*')).rejects.toThrow(/^NOPERM/);
    expect(await connectAs('node').publish(CHANNEL, '{}')).toBeTypeOf('number');
  });

  it('limit hub to subscribing and readings', async () => {
    await expect(connectAs('hub').publish(CHANNEL, '{}')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').subscribe('some:other:channel')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').get('any-key')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').zadd('some:other:key', 1, 'x')).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').del(READINGS_KEY)).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').flushall()).rejects.toThrow(/^NOPERM/);
    await expect(connectAs('hub').config('GET', '*')).rejects.toThrow(/^NOPERM/);
    expect(await connectAs('hub').zrangebyscore(READINGS_KEY, '-inf', '+inf')).toBeInstanceOf(Array);
  });

  it('reject a wrong password', async () => {
    const client = new Redis({ host: '127.0.0.1', port: redis.port, username: 'hub', password: 'not-the-password', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    clients.push(client);
    // connect() rejects with "Connection is closed", so the AUTH reply is
    // read from the error event.
    const failure = new Promise<Error>((resolve) => client.once('error', resolve));
    client.connect().catch(() => {});

    expect((await failure).message).toMatch(/^WRONGPASS/);
  });
});

// Each grant of the documented rules is dropped in turn. Redis must then
// deny what it granted while a hub and a node run, so no rule is surplus.
describe('every documented ACL rule', () => {
  afterEach(async () => {
    await applyRules('node', RULES.node);
    await applyRules('hub', RULES.hub);
  });

  const cases = (['node', 'hub'] as const).flatMap((user) => grants(RULES[user]).map((grant) => ({ user, grant })));

  it.each(cases)('is needed: $user $grant', async ({ user, grant }) => {
    await applyRules(user, RULES[user].filter((rule) => rule !== grant));
    await admin.call('ACL', 'LOG', 'RESET');
    const expected = { username: user, ...deniedObject(grant) };
    // ioredis warns on the console when INFO is denied, which is expected here.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const deployment = await startDeployment(`without-${grant}`);
    try {
      await waitFor(async () => (await aclLog(admin)).some((denial) => denial.username === expected.username
        && denial.reason === expected.reason
        && denial.object === expected.object), { what: `ACL LOG to show ${user} denied ${expected.reason} ${expected.object}` });
    } finally {
      await deployment.close();
      warn.mockRestore();
    }

    const denials = await aclLog(admin);
    expect(denials.length).toBeGreaterThan(0);
    expect(denials.every((denial) => denial.username === user)).toBe(true);
  });
});
