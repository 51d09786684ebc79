import { spawn, spawnSync } from 'node:child_process';
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
    expect(run.stdout).toMatch(/Socket\.IO endpoint: http:\/\/127\.0\.0\.1:\d+ /);
    const frames = run.stdout.split('\n').map((line) => FRAME_LINE.exec(line)).filter((match) => match !== null);
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const busiest = Math.max(...frames.map((match) => Number(match[4])));
    const fastest = Math.max(...frames.map((match) => Number(match[1])));
    expect(busiest).toBeGreaterThan(0);
    expect(fastest).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/Stopping \(duration\): \d+ streams started/);
  });

  it('falls back to a synthetic workload without the data file', async () => {
    const run = await runDemo(['--speed', '30', '--duration', '1', '--port', '0', '--data', '/nonexistent/conv.csv']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('a synthetic trace with the conv statistics');
  });

  it.each([
    [['--speed', 'fast'], 'Invalid --speed "fast": expected a number from 0.001 to 10000.'],
    [['--nodes', '0'], 'Invalid --nodes "0": expected an integer from 1 to 1000.'],
    [['--colour'], "Unknown option '--colour'"],
    [['--no-hub'], '--no-hub needs REDIS_URL'],
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
});
