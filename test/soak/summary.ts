import type { SoakDashboard } from './dashboards.js';

export interface SoakResults {
  dashboards: { hub: string; dashboard: SoakDashboard }[];
  reference: { at: number; wallAt: number; tps: number; active: number }[];
  faults: { name: string; startedAt: number; endedAt: number }[];
  peaks: { name: string; peakRss: number[] }[];
  startedAt: number;
}

// Frames this long after a fault ended may still show its effects: the
// hub resubscribes, streams report again and stale streams are dropped.
const SETTLE_MS = 10_000;
// A gap longer than this means frames were missed (the hub ticks at 1 s
// while streams are active).
const GAP_MS = 2_500;

/** Formats the soak's figures as a plain-text report. */
export function summarize({ dashboards, reference, faults, peaks, startedAt }: SoakResults): string {
  const inFault = (at: number) => faults.some((fault) => at >= fault.startedAt && at <= fault.endedAt + SETTLE_MS);
  const lines = ['dashboard            frames  reconnects  gaps>2.5s  largest gap  |tps diff| max  outside faults: max  p99'];

  for (const { hub, dashboard } of dashboards) {
    const frames = dashboard.frames.filter((received) => received.receivedAt >= startedAt);
    let largestGap = 0;
    let gaps = 0;
    let worst = 0;
    const outside: number[] = [];
    frames.forEach((received, index) => {
      const previous = frames[index - 1];
      if (previous) {
        const gap = received.receivedAt - previous.receivedAt;
        largestGap = Math.max(largestGap, gap);
        if (gap > GAP_MS) gaps += 1;
      }
      const expected = nearest(reference, received.frame.at);
      if (!expected || received.frame.stale) return;
      const difference = Math.abs(received.frame.tps - expected.tps);
      worst = Math.max(worst, difference);
      if (!inFault(received.receivedAt)) outside.push(difference);
    });
    outside.sort((a, b) => a - b);
    const worstOutside = outside.at(-1) ?? 0;
    const p99Outside = outside[Math.max(0, Math.ceil(outside.length * 0.99) - 1)] ?? 0;
    lines.push([
      `${hub} ${dashboard.kind}`.padEnd(20),
      String(frames.length).padStart(6),
      String(dashboard.reconnects).padStart(11),
      String(gaps).padStart(10),
      `${(largestGap / 1000).toFixed(1)} s`.padStart(12),
      worst.toFixed(1).padStart(14),
      worstOutside.toFixed(1).padStart(19),
      p99Outside.toFixed(1).padStart(4),
    ].join('  '));
  }

  lines.push('', 'faults:');
  for (const fault of faults) {
    lines.push(`  ${fault.name} at ${((fault.startedAt - startedAt) / 1000).toFixed(0)} s, over after ${((fault.endedAt - fault.startedAt) / 1000).toFixed(1)} s`);
  }
  lines.push('', 'peak resident memory (each run of the process):');
  for (const { name, peakRss } of peaks) {
    lines.push(`  ${name}: ${peakRss.map((bytes) => `${(bytes / 1_048_576).toFixed(0)} MiB`).join(', ')}`);
  }
  lines.push('', 'The reference is a meter in the soak process fed each publisher call as it is made,');
  lines.push('read every 100 ms; a frame is compared with the reading nearest its tick, so a');
  lines.push('difference also holds up to 100 ms of batching and 50 ms of phase. Outside faults');
  lines.push(`leaves out frames during a fault and ${SETTLE_MS / 1000} s after it.`);
  return lines.join('\n');
}

// The reading whose wall-clock time is nearest `wallAt`.
function nearest<T extends { wallAt: number }>(readings: T[], wallAt: number): T | undefined {
  let low = 0;
  let high = readings.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((readings[middle] as T).wallAt < wallAt) low = middle + 1;
    else high = middle;
  }
  const after = readings[low];
  const before = readings[low - 1];
  if (!before) return after;
  if (!after) return before;
  return wallAt - before.wallAt <= after.wallAt - wallAt ? before : after;
}
