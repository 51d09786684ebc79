import { randomBytes } from 'node:crypto';

import { createPublisher } from '@metering-hub/shared';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { silentLogger } from '../helpers/logger.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { documentedRules, userArguments } from './fixtures/acl-rules.js';
import { useHubProcesses } from './fixtures/hub-process.js';

// Random per run, so a match in the output cannot be a coincidence, and
// with characters a URL must percent-encode, so both forms are searched.
const HUB_PASSWORD = `hub@pw/${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `wrong@pw/${randomBytes(12).toString('hex')}`;
const NODE_PASSWORD = randomBytes(12).toString('hex');
const HUB_TOKEN = `hub-token-${randomBytes(16).toString('hex')}`;
const WRONG_TOKEN = `wrong-token-${randomBytes(16).toString('hex')}`;
const SECRETS = { HUB_PASSWORD, WRONG_PASSWORD, HUB_TOKEN, WRONG_TOKEN };

const startHub = useHubProcesses();
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer([
    '--requirepass', randomBytes(12).toString('hex'),
    ...userArguments('hub', documentedRules('hub', HUB_PASSWORD)),
    ...userArguments('node', documentedRules('node', NODE_PASSWORD)),
  ]);
});

afterAll(async () => {
  await redis?.stop();
});

function hubUrl(password: string): string {
  return `redis://hub:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;
}

/** Opens a WebSocket and returns the HTTP status of the upgrade: 101 or the refusal. */
function webSocketStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('error', reject);
  });
}

/** Connects a Socket.IO client and returns 'connected' or the connect_error message. */
function socketIoOutcome(port: number, options: { auth?: { token: string }; query?: { token: string } }): Promise<string> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.emit('subscribe', 'metering', () => {
        socket.close();
        resolve('connected');
      });
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve(error.message);
    });
  });
}

/** Reads the first event of an SSE stream, closes it and returns the HTTP status. */
async function eventStreamStatus(url: string): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  if (response.ok && response.body) {
    const reader = response.body.getReader();
    await reader.read();
  }
  controller.abort();
  return response.status;
}

/**
 * Sends the right and the wrong token over every transport and returns the
 * status or outcome of each, by request.
 */
async function presentTokens(port: number): Promise<Record<string, number | string>> {
  const base = `http://127.0.0.1:${port}`;
  const status = async (path: string, headers: Record<string, string> = {}) => (await fetch(`${base}${path}`, { headers })).status;
  return {
    'stats, right header': await status('/stats', { authorization: `Bearer ${HUB_TOKEN}` }),
    'stats, wrong header': await status('/stats', { authorization: `Bearer ${WRONG_TOKEN}` }),
    'stats, right query': await status(`/stats?token=${HUB_TOKEN}`),
    'stats, wrong query': await status(`/stats?token=${WRONG_TOKEN}`),
    'page, right query': await status(`/?token=${HUB_TOKEN}`),
    'page, wrong query': await status(`/?token=${WRONG_TOKEN}`),
    'metrics, wrong header': await status('/metrics', { authorization: `Bearer ${WRONG_TOKEN}` }),
    'events, right query': await eventStreamStatus(`${base}/events?token=${HUB_TOKEN}`),
    'events, wrong query': await eventStreamStatus(`${base}/events?token=${WRONG_TOKEN}`),
    'ws, right query': await webSocketStatus(`ws://127.0.0.1:${port}/ws?token=${HUB_TOKEN}`),
    'ws, wrong query': await webSocketStatus(`ws://127.0.0.1:${port}/ws?token=${WRONG_TOKEN}`),
    'ws, right header': await webSocketStatus(`ws://127.0.0.1:${port}/ws`, { authorization: `Bearer ${HUB_TOKEN}` }),
    'ws, wrong header': await webSocketStatus(`ws://127.0.0.1:${port}/ws`, { authorization: `Bearer ${WRONG_TOKEN}` }),
    'socket.io, right auth': await socketIoOutcome(port, { auth: { token: HUB_TOKEN } }),
    'socket.io, wrong auth': await socketIoOutcome(port, { auth: { token: WRONG_TOKEN } }),
    'socket.io, wrong query': await socketIoOutcome(port, { query: { token: WRONG_TOKEN } }),
  };
}

const EXPECTED_OUTCOMES = {
  'stats, right header': 200,
  'stats, wrong header': 401,
  'stats, right query': 200,
  'stats, wrong query': 401,
  'page, right query': 200,
  'page, wrong query': 401,
  'metrics, wrong header': 401,
  'events, right query': 200,
  'events, wrong query': 401,
  'ws, right query': 101,
  'ws, wrong query': 401,
  'ws, right header': 101,
  'ws, wrong header': 401,
  'socket.io, right auth': 'connected',
  'socket.io, wrong auth': 'The token is not valid for this hub.',
  'socket.io, wrong query': 'The token is not valid for this hub.',
};

/** Returns the names of the secrets found in the text, raw or percent-encoded. */
function secretsIn(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, secret]) => text.includes(secret) || text.includes(encodeURIComponent(secret)))
    .map(([name]) => name);
}

describe('hub logs at debug level', () => {
  it('omit secrets after failed AUTH', async () => {
    const hub = startHub({ REDIS_URL: hubUrl(WRONG_PASSWORD), HUB_TOKEN, LOG_LEVEL: 'debug' });
    const port = await hub.port();
    await waitFor(() => hub.output().includes('WRONGPASS'), { what: 'the failed AUTH in the log' });

    const outcomes = await presentTokens(port);
    expect(await hub.stop()).toBe(0);

    expect(outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(hub.output()).toContain('"Hub closed"');
    expect(secretsIn(hub.output())).toEqual([]);
  });

  it('omit secrets while metering and reconnecting', async () => {
    const hub = startHub({ REDIS_URL: hubUrl(HUB_PASSWORD), HUB_TOKEN, LOG_LEVEL: 'debug' });
    const port = await hub.port();
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    await waitFor(ready, { what: '/readyz 200 with the right password' });
    const publisher = createPublisher({ nodeId: 'secrets-node', redis: `redis://node:${NODE_PASSWORD}@127.0.0.1:${redis.port}`, flushIntervalMs: 20, logger: silentLogger });
    publisher.begin('stream-1');
    publisher.token('stream-1', 5);

    let outcomes: Record<string, number | string>;
    try {
      await waitFor(() => hub.output().includes('"active":1'), { what: 'a tick with the stream in the debug log' });
      outcomes = await presentTokens(port);

      // A reconnect sends AUTH again, and logs the connection errors.
      await redis.stop();
      await waitFor(async () => !(await ready()), { what: '/readyz 503 while Redis is down' });
      await redis.start();
      await waitFor(ready, { what: '/readyz 200 after Redis is back' });
    } finally {
      await publisher.close();
    }
    expect(await hub.stop()).toBe(0);

    expect(outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(hub.output()).toContain('"Redis reconnecting"');
    expect(secretsIn(hub.output())).toEqual([]);
  });
});
