import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['-s', 'demo', ...args], {
      cwd: root,
      env: { ...process.env, REDIS_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const FRAME_LINE = /^\d\d:\d\d:\d\d {2}replay \d\d:\d\d:\d\d {2}tps +([\d.]+) {2}high +([\d.]+) {2}low +([\d.]+) {2}active +(\d+)$/;

describe('pnpm demo', () => {
  it('replays traffic on the in-process bus and prints a line per frame', async () => {
    const run = await runDemo(['--speed', '30', '--duration', '5', '--port', '0']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Bus: in-process');
    expect(run.stdout).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/\n/);
    expect(run.stdout).toMatch(/Socket\.IO endpoint: http:\/\/127\.0\.0\.1:\d+ /);
    const frames = run.stdout.split('\n').map((line) => FRAME_LINE.exec(line)).filter((match) => match !== null);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const busiest = Math.max(...frames.map((match) => Number(match[4])));
    const fastest = Math.max(...frames.map((match) => Number(match[1])));
    expect(busiest).toBeGreaterThan(0);
    expect(fastest).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/Stopping \(duration\): \d+ streams started/);
    // The frame the closing hub sends its clients is not printed after it.
    const afterStop = run.stdout.slice(run.stdout.indexOf('Stopping ('));
    expect(afterStop.split('\n').some((line) => FRAME_LINE.test(line))).toBe(false);
  });

  it('replays the synthetic workload on request', async () => {
    const run = await runDemo(['--speed', '30', '--duration', '1', '--port', '0', '--synthetic']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Workload: \d+ requests from a synthetic trace with the conv statistics\n/);
  });

  it('reports a busy port without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = await runDemo(['--duration', '1', '--port', String(port)]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`demo: Cannot listen on 127.0.0.1:${port}: the port is in use.`);
      expect(run.stderr).not.toContain('    at ');
    } finally {
      blocker.close();
    }
  });

  it('ends quietly when its reader goes away', async () => {
    const child = spawn('bash', ['-c', 'pnpm -s demo --speed 30 --duration 3 --port 0 | head -2'], {
      cwd: root,
      env: { ...process.env, REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.once('close', resolve));

    expect(code).toBe(0);
    expect(stderr).not.toContain('EPIPE');
  });

  it.each([
    [['--speed', 'fast'], 'Invalid --speed "fast": expected a number from 0.001 to 10000.'],
    [['--nodes', '0'], 'Invalid --nodes "0": expected an integer from 1 to 1000.'],
    [['--colour'], "Unknown option '--colour'"],
    [['--no-hub'], '--no-hub needs REDIS_URL'],
    [['--speed', '-1'], 'Invalid --speed "-1": expected a number from 0.001 to 10000.'],
    [['--data', '/nonexistent/conv.csv'], 'Invalid --data "/nonexistent/conv.csv": no such file.'],
  ])('rejects %j with a clear message', async (args, message) => {
    const run = await runDemo(args);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('docker-compose.yml', () => {
  it('is accepted by docker compose config', () => {
    // The Docker CLI may lack its compose plugin, so each form is probed
    // with `version` first.
    const candidates: [string, string[]][] = [
      ['docker', ['compose']],
      ['docker-compose', []],
    ];
    const available = candidates
      .filter(([command, prefix]) => spawnSync(command, [...prefix, 'version'], { encoding: 'utf8' }).status === 0)
      .map(([command, prefix]) => ({
        command: [command, ...prefix, 'config', '-q'].join(' '),
        result: spawnSync(command, [...prefix, 'config', '-q'], { cwd: root, encoding: 'utf8' }),
      }));
    if (available.length === 0) {
      // bash .ci/run installs docker-compose, so CI always checks the file.
      expect(process.env.CI, 'neither docker compose nor docker-compose is installed').toBeUndefined();
      return;
    }

    for (const { command, result } of available) {
      expect(result.stderr, command).toBe('');
      expect(result.status, command).toBe(0);
    }
  });

  it('runs Redis, two hubs and the nodes with health checks', () => {
    const file = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    const text = file.slice(file.indexOf('\nservices:'));
    const services = [...text.matchAll(/^ {2}([a-z][\w-]*):$/gm)].map((match) => match[1]);
    expect(services).toEqual(['redis', 'install', 'hub-a', 'hub-b', 'nodes']);

    const blocks = text.split(/^ {2}(?=[a-z][\w-]*:$)/m);
    const block = (name: string) => blocks.find((candidate) => candidate.startsWith(`${name}:`)) ?? '';
    expect(block('redis')).toContain('healthcheck:');
    expect(block('hub-a')).toContain('healthcheck: &hub-health');
    expect(block('hub-b')).toContain('healthcheck: *hub-health');
    expect(block('hub-a')).toContain('127.0.0.1:3000:3000');
    expect(block('hub-b')).toContain('127.0.0.1:3001:3000');
    expect(block('nodes')).toContain('--no-hub');
  });
});
