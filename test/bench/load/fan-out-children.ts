// Starts and talks to the child processes of the fan-out and
// connection-memory scenarios over IPC.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** A child process that replies to `{ id, type }` requests. */
export class BenchChild {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: Record<string, unknown>) => void>();
  private readonly notices: Record<string, unknown>[] = [];
  private readonly exited: Promise<number | null>;

  constructor(private readonly name: string, private readonly child: ChildProcess) {
    child.on('message', (message: Record<string, unknown>) => {
      const id = typeof message.id === 'number' ? message.id : undefined;
      const resolve = id === undefined ? undefined : this.pending.get(id);
      if (id !== undefined && resolve) {
        this.pending.delete(id);
        resolve(message);
      } else {
        this.notices.push(message);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a request and resolves with the reply. */
  request<Reply>(type: string, timeoutMs = 30_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not reply to "${type}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply as Reply);
      });
      this.child.send({ id, type });
    });
  }

  /** Resolves with the first message of this `type` the child sent unasked. */
  async notice<Notice>(type: string, timeoutMs: number): Promise<Notice> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.notices.find((message) => message.type === type);
      if (found) return found as Notice;
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited with code ${this.child.exitCode} before sending "${type}".`);
      if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${this.name} to send "${type}".`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Asks the child to stop, and kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ id: -1, type: 'stop' });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killer);
  }
}

/**
 * Starts `node --import tsx test/bench/load/<script>` with an IPC channel;
 * its stderr goes to `log`, prefixed with `name`.
 */
export function startChild(name: string, script: string, args: string[], log: (line: string) => void, nodeFlags: string[] = []): BenchChild {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', `test/bench/load/${script}`, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const forward = (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') log(`${name}: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return new BenchChild(name, child);
}

/** The value at `fraction` (0 to 1) of the sorted samples, nearest rank. */
export function quantile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

