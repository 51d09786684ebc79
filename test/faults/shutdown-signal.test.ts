import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { Hub } from '@metering-hub/server';
import type { MeteringFrame } from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

import { silentLogger } from '../helpers/logger.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';
import { useHubProcesses } from './hub-process.js';
import { readyStatus } from './http.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const redisServer = useRedisServer();
const startHub = useHubProcesses();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens a client of `/ws` that records every frame and the close code. */
function openWebSocket(port: number) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: MeteringFrame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as MeteringFrame));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closeCode = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  return { socket, frames, opened, closeCode };
}

/** Opens a client of `/events` that records the data of every `metering` event. */
function openEventStream(base: string) {
  const controller = new AbortController();
  const frames: MeteringFrame[] = [];
  let buffer = '';
  const ended = fetch(`${base}/events`, { signal: controller.signal }).then(async (response) => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) frames.push(JSON.parse(data.slice('data: '.length)) as MeteringFrame);
      }
    }
  });
  return { frames, ended, close: () => controller.abort() };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('SIGTERM', () => {
  it('closes a hub with clients connected', async () => {
    const hub = await startHub({ redisUrl: redisServer().url });
    await waitFor(async () => (await readyStatus(hub.base)) === 200, { what: 'the hub to subscribe' });

    const dashboard = await connectDashboard(hub.port);
    cleanups.push(() => void dashboard.socket.disconnect());
    const ws = openWebSocket(hub.port);
    cleanups.push(() => ws.socket.terminate());
    await ws.opened;
    const sse = openEventStream(hub.base);
    cleanups.push(() => sse.close());
    await waitFor(() => ws.frames.length > 0 && sse.frames.length > 0, { what: 'the frame on connect over ws and SSE' });

    // Signals of one kind that arrive before the first is delivered merge
    // into one, so the second goes out as soon as the hub logs the first,
    // while its close still waits for these clients.
    let secondSent = false;
    hub.onLog((line) => {
      if (line.msg === 'Shutting down' && !secondSent) secondSent = hub.child.kill('SIGTERM');
    });
    const signalAt = Date.now();
    const signalledAt = performance.now();
    hub.child.kill('SIGTERM');
    const status = await hub.exited;
    console.info(`Hub exited ${Math.round(performance.now() - signalledAt)} ms after SIGTERM.`);

    expect(status.code).toBe(0);
    expect(status.signal).toBe(null);
    expect(secondSent).toBe(true);
    expect(await ws.closeCode).toBe(1001);
    await sse.ended.catch(() => {});
    expect(ws.frames.at(-1)?.at).toBeGreaterThanOrEqual(signalAt);
    expect(sse.frames.at(-1)?.at).toBeGreaterThanOrEqual(signalAt);
    expect(dashboard.frames.at(-1)?.at).toBeGreaterThanOrEqual(signalAt);
    expect(hub.logsStartingWith('Shutting down')).toHaveLength(1);
    expect(hub.logsStartingWith('Already shutting down')).toHaveLength(1);
    expect(hub.logsStartingWith('Hub closed')).toHaveLength(1);
    expect(hub.stderr()).toBe('');
  });

  it('sends a bye from each demo node', async () => {
    const hub = new Hub({ redisUrl: redisServer().url, port: 0, logger: silentLogger });
    await hub.listen();
    cleanups.push(() => hub.close());
    await waitFor(() => hub.isReady(), { what: 'the hub to subscribe' });

    const demo = spawn(process.execPath, [
      '--import', 'tsx', 'server/src/demo/main.ts',
      '--no-hub', '--duration', '0', '--speed', '50', '--nodes', '2',
    ], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redisServer().url, HUB_CHANNEL: '', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    demo.stdout.resume();
    cleanups.push(async () => {
      if (demo.exitCode !== null || demo.signalCode !== null) return;
      const exited = exitOf(demo);
      demo.kill('SIGKILL');
      await exited;
    });

    const nodesSeen = () => new Set(hub.latestFrame().nodes.map((node) => node.key));
    await waitFor(() => nodesSeen().has('node-1') && nodesSeen().has('node-2'), {
      what: 'streams of both demo nodes on the hub',
      deadlineMs: 60_000,
    });
    expect(hub.latestFrame().active).toBeGreaterThan(0);

    demo.kill('SIGTERM');
    const status = await exitOf(demo);
    await waitFor(() => hub.stats.ingest.byes === 2, { what: 'a bye from each node' });
    await waitFor(() => hub.latestFrame().active === 0, { what: 'a frame with no stream in flight' });

    expect(status.code).toBe(0);
    expect(hub.stats.ingest.byes).toBe(2);
    expect(stderr).not.toContain('"level":50');
  });
});
