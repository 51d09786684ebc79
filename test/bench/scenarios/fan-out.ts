import { type BenchChild, quantile, startChild } from '../load/fan-out-children.js';
import { round, sleep } from '../measure.js';
import type { BareReport, ClientReport, HubReport, TransportKind } from '../load/fan-out-protocol.js';
import { checkTarget, type Figure, type Scenario, type TargetCheck } from '../scenario.js';

/**
 * One frame a second to 1,000 and 10,000 dashboards on each transport,
 * beside a bare `ws` server that sends one pre-encoded buffer to as many
 * clients. The hub, the bare server and the clients each run in a child
 * process of their own (test/bench/load/fan-out-*.ts). The hub's send time
 * is the synchronous time of each transport's `broadcast`, timed with
 * performance.now() by wrapping the method on the running hub.
 */
export const fanOut: Scenario = {
  name: 'fan-out',
  title: 'Fan-out to dashboards',
  async run({ smoke, log }) {
    const counts = smoke ? [100] : [1_000, 10_000];
    const largest = counts[counts.length - 1]!;
    const figures: Figure[] = [];
    const targets: TargetCheck[] = [];
    const medianSend = new Map<string, number>();
    const p99AtLargest = new Map<TransportKind | 'bare', number>();
    let frameBytes = 400;

    // ws first, so the bare server can be given the size of the hub's frame.
    for (const kind of ['ws', 'socket.io', 'sse'] as const) {
      const hub = startChild(`hub (${kind})`, 'fan-out-hub.ts', [], log);
      try {
        const { port } = await hub.notice<{ port: number }>('ready', 60_000);
        for (const count of counts) {
          const { clients, server } = await measure(hub, kind, port, count, ticksFor(smoke, count), log);
          const hubReport = server as HubReport;
          frameBytes = hubReport.frameBytes;
          const sends = hubReport.sendMs[kind];
          medianSend.set(`${kind} ${count}`, quantile(sends, 0.5));
          figures.push(...phaseFigures(`hub ${kind}`, count, sends, hubReport.busyMs, clients));
          if (count === largest) {
            p99AtLargest.set(kind, clients.p99Ms);
            const perTick = hubReport.ticks > 0 ? hubReport.frameEncodings / hubReport.ticks : Number.NaN;
            const buildsPerTick = hubReport.ticks > 0 ? hubReport.frameBuilds / hubReport.ticks : Number.NaN;
            targets.push(checkTarget(`${kind} hub JSON encodings per tick, ${largest} clients`, round(perTick, 3), '<=', 1));
            targets.push(checkTarget(`${kind} hub frame builds per tick, ${largest} clients`, round(buildsPerTick, 3), '<=', 1));
          }
        }
      } finally {
        await hub.stop();
      }
    }

    const bare = startChild('bare ws', 'fan-out-bare.ts', [String(frameBytes)], log);
    try {
      const { port } = await bare.notice<{ port: number }>('ready', 60_000);
      for (const count of counts) {
        const { clients, server } = await measure(bare, 'bare', port, count, ticksFor(smoke, count), log);
        const bareReport = server as BareReport;
        medianSend.set(`bare ${count}`, quantile(bareReport.sendMs, 0.5));
        figures.push(...phaseFigures('bare ws', count, bareReport.sendMs, bareReport.busyMs, clients));
        if (count === largest) p99AtLargest.set('bare', clients.p99Ms);
      }
    } finally {
      await bare.stop();
    }

    const ratio = medianSend.get(`ws ${largest}`)! / medianSend.get(`bare ${largest}`)!;
    targets.unshift(checkTarget(`hub ws / bare ws median send time, ${largest} clients`, round(ratio, 3), '<=', 1.2));
    // The bare server's latency is what this machine gives 10,000 sockets
    // for one pre-encoded buffer, so a miss is read against it.
    const bareP99 = p99AtLargest.get('bare')!;
    for (const kind of ['ws', 'socket.io', 'sse'] as const) {
      const p99 = p99AtLargest.get(kind)!;
      figures.push({ name: `${kind} / bare ws tick-to-client p99, ${largest} clients`, value: round(p99 / bareP99, 2), unit: '' });
      targets.push(checkTarget(`${kind} tick-to-client p99, ${largest} clients`, p99, '<', 250, 'ms', p99 >= 250
        ? `the bare ws server, which only writes one pre-encoded buffer to each socket, had a p99 of ${bareP99} ms in the same run (${kind} / bare: ${round(p99 / bareP99, 2)})`
        : undefined));
    }
    return { figures, targets };
  },
};

// Ticks measured per phase: more at 10,000 clients, where a slow tick is
// rarer than at 1,000 but matters more.
function ticksFor(smoke: boolean, count: number): number {
  if (smoke) return 4;
  return count >= 10_000 ? 10 : 6;
}

async function measure(
  server: BenchChild,
  kind: TransportKind | 'bare',
  port: number,
  count: number,
  ticks: number,
  log: (line: string) => void,
): Promise<{ clients: ClientReport; server: HubReport | BareReport }> {
  const clients = startChild(`clients (${kind}, ${count})`, 'fan-out-clients.ts', [kind, String(port), String(count)], log);
  try {
    const connecting = performance.now();
    const { connected, failed } = await clients.notice<{ connected: number; failed: number }>('connected', 120_000);
    log(`${kind}: ${connected} of ${count} clients connected in ${round((performance.now() - connecting) / 1000, 1)} s${failed > 0 ? `, ${failed} failed` : ''}`);
    if (connected < count) throw new Error(`Only ${connected} of ${count} ${kind} clients connected; ${failed} failed. Check the open-file limit (ulimit -n) and the hub's log above.`);

    // One tick passes first, so no connection work falls in the measurement.
    await sleep(1_500);
    await server.request('reset');
    await clients.request('record');
    await sleep(ticks * 1_000 + 300);
    const clientReport = await clients.request<ClientReport>('report');
    const serverReport = await server.request<HubReport | BareReport>('report');
    return { clients: clientReport, server: serverReport };
  } finally {
    await clients.stop();
  }
}

function phaseFigures(label: string, count: number, sendMs: number[], busyMs: number[], clients: ClientReport): Figure[] {
  // Frames received per client per measured tick: below 1 means frames
  // were skipped (Socket.IO's volatile events) or still queued.
  const framesPerTick = sendMs.length > 0 ? clients.frames / (clients.connected * sendMs.length) : Number.NaN;
  return [
    { name: `${label} send time per tick, ${count} clients, median`, value: round(quantile(sendMs, 0.5)), unit: 'ms' },
    { name: `${label} send time per tick, ${count} clients, max`, value: round(quantile(sendMs, 1)), unit: 'ms' },
    { name: `${label} event loop busy after a tick, ${count} clients, median`, value: round(quantile(busyMs, 0.5)), unit: 'ms' },
    { name: `${label} tick-to-client latency, ${count} clients, p50`, value: clients.p50Ms, unit: 'ms' },
    { name: `${label} tick-to-client latency, ${count} clients, p99`, value: clients.p99Ms, unit: 'ms' },
    { name: `${label} frames received per client per tick, ${count} clients`, value: round(framesPerTick, 3), unit: '' },
  ];
}
