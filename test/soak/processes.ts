import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A child process the soak starts, stops and starts again. */
export interface ManagedProcess {
  readonly name: string;
  readonly port: number;
  start(): Promise<void>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Peak resident memory of each run so far, in bytes. */
  peakRss(): number[];
  pid(): number | undefined;
}

function managed(name: string, port: number, launch: () => ChildProcess, ready: () => Promise<boolean>): ManagedProcess {
  let child: ChildProcess | undefined;
  const peaks: number[] = [];

  const recordPeak = () => {
    if (!child?.pid) return;
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      if (kb) peaks[peaks.length - 1] = Number(kb) * 1024;
    } catch {
      // The process has exited, so its last sample is kept.
    }
  };
  const sampler = setInterval(recordPeak, 1_000);
  sampler.unref();

  return {
    name,
    port,
    async start() {
      const launched = launch();
      child = launched;
      peaks.push(0);
      let exitCode: number | string | null | undefined;
      launched.once('exit', (code, signal) => {
        exitCode = code ?? signal;
        child = undefined;
      });
      await waitFor(() => {
        if (exitCode !== undefined) throw new Error(`${name} exited (${exitCode}) before it was ready.`);
        return ready();
      }, { what: `${name} to start`, deadlineMs: 60_000, pollMs: 50 });
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      if (!running) return null;
      recordPeak();
      const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
      running.kill(signal);
      return exited;
    },
    peakRss: () => {
      recordPeak();
      return [...peaks];
    },
    pid: () => child?.pid,
  };
}

/** Creates a redis-server process on a free port of 127.0.0.1 that keeps nothing on disk. */
export async function redisProcess(): Promise<ManagedProcess> {
  const port = await freePort();
  let up = false;
  const process = managed('redis', port, () => {
    up = false;
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (String(chunk).includes('Ready to accept connections')) up = true;
    });
    return child;
  }, async () => up);
  return process;
}

/**
 * Creates a hub process, `node --import tsx server/src/main.ts`, on a free
 * port. HUB_NODE_ARGS in the environment, split at spaces, go to the hub's
 * `node` (and only the hub's), for example `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile it or `--trace-gc` to see its collections.
 */
export async function hubProcess(name: string, redisUrl: string, log: (line: string) => void): Promise<ManagedProcess> {
  const port = await freePort();
  const nodeArgs = (process.env.HUB_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  return managed(name, port, () => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/src/main.ts'], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redisUrl, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (chunk: Buffer) => {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') log(`${name}: ${line}`);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    return child;
  }, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    } catch {
      return false;
    }
  });
}
