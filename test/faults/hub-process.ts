import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { afterEach } from 'vitest';

import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A pino line of the hub's log, parsed. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HubProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Log lines written to standard output so far. */
  logs(): LogLine[];
  /** Log lines whose message starts with `text`. */
  logsStartingWith(text: string): LogLine[];
  /** Calls `listener` with each log line as soon as it is read. */
  onLog(listener: (line: LogLine) => void): void;
  stderr(): string;
  /** Resolves once the process has exited. */
  exited: Promise<ExitStatus>;
}

export interface HubProcessOptions {
  redisUrl: string;
  channel?: string;
  logLevel?: string;
}

/**
 * Returns a function that runs `node --import tsx server/src/main.ts` on a
 * free port of 127.0.0.1 and resolves once the hub logs `Hub listening`.
 * A process still running after a test is killed with SIGKILL.
 */
export function useHubProcesses(): (options: HubProcessOptions) => Promise<HubProcess> {
  const started: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of started.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  return async (options) => {
    const hub = await spawnHub(options);
    started.push(hub.child);
    return hub;
  };
}

async function spawnHub({ redisUrl, channel = '', logLevel = 'info' }: HubProcessOptions): Promise<HubProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      HUB_CHANNEL: channel,
      HUB_TOKEN: '',
      ALLOWED_ORIGINS: '',
      LOG_LEVEL: logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const lines: LogLine[] = [];
  const listeners: ((line: LogLine) => void)[] = [];
  let partial = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) {
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, unparsed: true };
      }
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const hub: HubProcess = {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    logs: () => lines,
    logsStartingWith: (text) => lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith(text)),
    onLog: (listener) => listeners.push(listener),
    stderr: () => stderr,
    exited,
  };

  await waitFor(() => hub.logsStartingWith('Hub listening').length > 0 || child.exitCode !== null, {
    what: `the hub process to listen on port ${port}`,
    deadlineMs: 60_000,
  });
  if (child.exitCode !== null) {
    throw new Error(`The hub process exited with code ${child.exitCode} before listening. Standard error:\n${stderr}`);
  }
  return hub;
}
