import { DEFAULT_CHANNEL, DEFAULT_MAX_MESSAGE_BYTES } from '@metering-hub/shared';

/** Hub settings read from the environment. */
export interface HubConfig {
  /** `REDIS_URL`: Redis to subscribe on. @default 'redis://127.0.0.1:6379' */
  redisUrl: string;
  /** `PORT`: HTTP port; 0 picks a free one. @default 3000 */
  port: number;
  /** `HOST`: address to listen on. @default '127.0.0.1' */
  host: string;
  /** `HUB_CHANNEL`: Redis channel of node updates. @default 'metering:updates' */
  channel: string;
  /** `LOG_LEVEL`: pino level. @default 'info' */
  logLevel: string;
  /** `MAX_MESSAGE_BYTES`: largest update message accepted. @default 1_048_576 */
  maxMessageBytes: number;
  /** `HUB_TOKEN`: token every dashboard must present. @default none (open) */
  token: string | undefined;
  /** `ALLOWED_ORIGINS`: comma-separated origins besides the hub's own, or `*`. @default none */
  allowedOrigins: string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'INVALID_CONFIG';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Record<string, string | undefined>;

/** Reads and checks the hub's settings; throws a ConfigError naming the variable. */
export function readConfig(env: Env = process.env): HubConfig {
  return {
    redisUrl: readRedisUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    port: readInteger(env, 'PORT', 3000, 0, 65_535),
    host: readText(env, 'HOST', '127.0.0.1', 255),
    channel: readText(env, 'HUB_CHANNEL', DEFAULT_CHANNEL, 256),
    logLevel: readChoice(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    maxMessageBytes: readInteger(env, 'MAX_MESSAGE_BYTES', DEFAULT_MAX_MESSAGE_BYTES, 1_024, 67_108_864),
    token: readToken(env, 'HUB_TOKEN'),
    allowedOrigins: readOrigins(env, 'ALLOWED_ORIGINS'),
  };
}

/** Reads `REDIS_URL` alone, for programs where Redis is optional. */
export function readOptionalRedisUrl(env: Env = process.env): string | undefined {
  return env.REDIS_URL === undefined || env.REDIS_URL === ''
    ? undefined
    : readRedisUrl(env, 'REDIS_URL', '');
}

function readRedisUrl(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;

  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw invalid(name, redactUrl(value), 'a URL such as redis://host:6379 or rediss://user:password@host:6380/0');
  }
  // URL lowercases the scheme but ioredis turns TLS on only for a lowercase
  // "rediss://", so REDISS://... would otherwise connect in plain text.
  return `${url.protocol}${value.slice(url.protocol.length)}`;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;

  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw invalid(name, value, `an integer from ${min} to ${max}`);
  }
  return parsed;
}

function readText(env: Env, name: string, fallback: string, maxLength: number): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value.length > maxLength || /\s/.test(value)) {
    throw invalid(name, value, `1-${maxLength} characters without white space`);
  }
  return value;
}

function readChoice(env: Env, name: string, fallback: string, choices: string[]): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!choices.includes(value)) {
    throw invalid(name, value, `one of ${choices.join(', ')}`);
  }
  return value;
}

function readToken(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (value.length < 16 || value.length > 512 || /[\s,]/.test(value)) {
    // The value is a secret, so the message shows its length only.
    throw new ConfigError(`Invalid ${name} (${value.length} characters): expected 16-512 characters without white space or commas.`);
  }
  return value;
}

function readOrigins(env: Env, name: string): string[] {
  const value = env[name];
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((entry) => entry.trim()).map((origin) => {
    if (origin === '*') return origin;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw invalid(name, value, 'a comma-separated list of origins such as https://ops.example.com (scheme, host and port, no path), or *');
    }
    return origin;
  });
}

function invalid(name: string, value: string, accepted: string): ConfigError {
  return new ConfigError(`Invalid ${name} ${JSON.stringify(value)}: expected ${accepted}.`);
}

/** Hides the credentials of a URL, which must not reach a log or terminal. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^@/]*)@/, '//***@');
}
