import { type BenchChild, startChild } from '../load/fan-out-children.js';
import { round, sleep } from '../measure.js';
import type { HubReport, TransportKind } from '../load/fan-out-protocol.js';
import { checkTarget, type Figure, type Scenario, type TargetCheck } from '../scenario.js';

// Maximum heap per idle client of each transport, in bytes.
const HEAP_TARGETS: Record<TransportKind, number> = { 'socket.io': 10_000, ws: 4_000, sse: 6_000 };

/**
 * Heap and RSS per idle dashboard on each transport: the hub's
 * `nodejs_heap_size_used_bytes` and `process_resident_memory_bytes` from
 * /metrics with no client and with 10,000 connected, each read after two
 * forced full collections. A fresh hub child (test/bench/load/fan-out-hub.ts,
 * run with --expose-gc) serves each transport; the clients run in another
 * process.
 */
export const connectionMemory: Scenario = {
  name: 'connection-memory',
  title: 'Memory per connection',
  async run({ smoke, log }) {
    const count = smoke ? 100 : 10_000;
    const figures: Figure[] = [];
    const targets: TargetCheck[] = [];
    for (const kind of ['socket.io', 'ws', 'sse'] as const) {
      const hub = startChild(`hub (${kind})`, 'fan-out-hub.ts', [], log, ['--expose-gc']);
      try {
        const { heapPerClient, rssPerClient } = await measure(hub, kind, count, log);
        figures.push({ name: `${kind} heap per idle client, ${count} clients`, value: round(heapPerClient, 0), unit: 'B' });
        figures.push({ name: `${kind} RSS per idle client, ${count} clients`, value: round(rssPerClient, 0), unit: 'B' });
        // With 100 clients the one-off allocations of the first connections
        // outweigh the per-client cost, so only the full run checks targets.
        if (!smoke) targets.push(checkTarget(`${kind} heap per idle client, ${count} clients`, round(heapPerClient, 0), '<=', HEAP_TARGETS[kind], 'B'));
      } finally {
        await hub.stop();
      }
    }
    return { figures, targets };
  },
};

async function measure(hub: BenchChild, kind: TransportKind, count: number, log: (line: string) => void): Promise<{ heapPerClient: number; rssPerClient: number }> {
  const { port } = await hub.notice<{ port: number }>('ready', 60_000);
  // A couple of ticks first, so the baseline is the hub's steady state
  // (frame, history, metrics) rather than its start.
  await sleep(2_500);
  const before = await readMemory(hub, port);

  const clients = startChild(`clients (${kind}, ${count})`, 'fan-out-clients.ts', [kind, String(port), String(count)], log);
  try {
    const { connected, failed } = await clients.notice<{ connected: number; failed: number }>('connected', 120_000);
    if (connected < count) throw new Error(`Only ${connected} of ${count} ${kind} clients connected; ${failed} failed. Check the open-file limit (ulimit -n) and the hub's log above.`);
    // Clients settle for a few ticks, so per-connection buffers that
    // exist only while connecting are gone and each has had frames.
    await sleep(3_000);
    const after = await readMemory(hub, port);
    if (after.clients !== count) throw new Error(`The hub reports ${after.clients} connected ${kind} clients; expected ${count}. Check the hub's log above for dropped clients.`);
    log(`${kind}: heap ${mib(before.heap)} -> ${mib(after.heap)} MiB, RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB with ${count} clients`);
    return { heapPerClient: (after.heap - before.heap) / count, rssPerClient: (after.rss - before.rss) / count };
  } finally {
    await clients.stop();
  }
}

async function readMemory(hub: BenchChild, port: number): Promise<{ heap: number; rss: number; clients: number }> {
  const report = await hub.request<HubReport & { gc: boolean }>('gc');
  if (!report.gc) throw new Error('The hub child has no global gc(): start it with node --expose-gc.');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const heap = metric(text, 'nodejs_heap_size_used_bytes');
  const rss = metric(text, 'process_resident_memory_bytes');
  return { heap, rss, clients: Object.values(report.clients).reduce((sum, value) => sum + value, 0) };
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (!line) throw new Error(`Metric ${name} is missing from the hub's /metrics; prom-client's default metrics should include it.`);
  return Number(line.slice(name.length + 1));
}

function mib(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}
