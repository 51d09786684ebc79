import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { readConfig } from '@metering-hub/server';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('readConfig', () => {
  it('has documented defaults', () => {
    expect(readConfig({})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      host: '127.0.0.1',
      channel: 'metering:updates',
      logLevel: 'info',
      maxMessageBytes: 1_048_576,
      token: undefined,
      allowedOrigins: [],
    });
  });

  it('reads every variable', () => {
    const config = readConfig({
      REDIS_URL: 'rediss://hub:secret@cache:6380/2',
      PORT: '0',
      HOST: '0.0.0.0',
      HUB_CHANNEL: 'tenant-a:updates',
      LOG_LEVEL: 'warn',
      MAX_MESSAGE_BYTES: '65536',
      HUB_TOKEN: 's3cret-token-0123456789',
      ALLOWED_ORIGINS: 'https://ops.example.com, http://127.0.0.1:8080',
    });
    expect(config).toEqual({
      redisUrl: 'rediss://hub:secret@cache:6380/2',
      port: 0,
      host: '0.0.0.0',
      channel: 'tenant-a:updates',
      logLevel: 'warn',
      maxMessageBytes: 65_536,
      token: 's3cret-token-0123456789',
      allowedOrigins: ['https://ops.example.com', 'http://127.0.0.1:8080'],
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'Invalid PORT "abc": expected an integer from 0 to 65535.'],
    [{ PORT: '70000' }, 'Invalid PORT "70000": expected an integer from 0 to 65535.'],
    [{ PORT: '-1' }, 'Invalid PORT "-1": expected an integer from 0 to 65535.'],
    [{ PORT: '3000.5' }, 'Invalid PORT "3000.5": expected an integer from 0 to 65535.'],
    [{ REDIS_URL: 'localhost:6379' }, 'Invalid REDIS_URL "localhost:6379": expected a URL such as redis://host:6379'],
    [{ REDIS_URL: 'http://cache:6379' }, 'Invalid REDIS_URL "http://cache:6379"'],
    [{ HUB_CHANNEL: 'has space' }, 'Invalid HUB_CHANNEL "has space": expected 1-256 characters without white space.'],
    [{ LOG_LEVEL: 'loud' }, 'Invalid LOG_LEVEL "loud": expected one of fatal, error, warn, info, debug, trace, silent.'],
    [{ MAX_MESSAGE_BYTES: '10' }, 'Invalid MAX_MESSAGE_BYTES "10": expected an integer from 1024 to 67108864.'],
    [{ HUB_TOKEN: 'short' }, 'Invalid HUB_TOKEN (5 characters): expected 16-512 characters without white space or commas.'],
    [{ ALLOWED_ORIGINS: 'https://ops.example.com/path' }, 'Invalid ALLOWED_ORIGINS "https://ops.example.com/path": expected a comma-separated list of origins'],
  ])('rejects %o', (env, message) => {
    expect(() => readConfig(env)).toThrow(message);
  });

  it('never shows a Redis password in its error', () => {
    expect(() => readConfig({ REDIS_URL: 'ftp://user:hunter2@cache' })).toThrow('ftp://***@cache');
    expect(() => readConfig({ REDIS_URL: 'ftp://user:hunter2@cache' })).not.toThrow('hunter2');
  });
});

describe('pnpm start with a bad setting', () => {
  it('stops at once and names the variable', () => {
    const result = spawnSync('pnpm', ['-s', 'start'], {
      cwd: root,
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
    });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Invalid PORT "eighty": expected an integer from 0 to 65535.');
  });
});

describe('hub start on an unusable address', () => {
  // Each case would leave the process waiting on its Redis connections if
  // a failed start did not close them, and spawnSync returns only on exit.
  const cases: [string, Record<string, string>, string][] = [
    ['busy port', {}, 'the port is in use'],
    ['foreign address', { HOST: '192.0.2.1', PORT: '0' }, 'no network interface of this machine has that address'],
    ['unresolvable host', { HOST: 'nonexistent.invalid', PORT: '0' }, 'the name does not resolve'],
  ];

  it.each(cases)('exits with 1: %s', async (_name, env, message) => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
        cwd: root,
        // Redis is not needed to fail: the hub starts without it.
        env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', PORT: String(port), LOG_LEVEL: 'silent', ...env },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('    at ');
    } finally {
      busy.close();
    }
  });
});
