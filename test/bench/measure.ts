// Small measuring tools the scenarios share.
import { EVENT_LOOP_SAMPLING_MS } from '@metering-hub/server';

/** A hub's /metrics, read at `at` (performance.now()). */
export interface MetricsScrape {
  at: number;
  /** Metric name → value, summed over labels. */
  metrics: Map<string, number>;
}

/**
 * Reads a hub's /metrics. Samples of one metric are summed over their
 * labels, which gives the value for counters and unlabeled gauges, the
 * only kinds the scenarios read.
 */
export async function scrapeMetrics(base: string): Promise<MetricsScrape> {
  const response = await fetch(`${base}/metrics`);
  if (!response.ok) throw new Error(`GET ${base}/metrics failed with status ${response.status}.`);
  const text = await response.text();
  const at = performance.now();
  const metrics = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) metrics.set(match[1], (metrics.get(match[1]) ?? 0) + value);
  }
  return { at, metrics };
}

/** `after - before` of one metric, 0 where it is missing. */
export function metricDelta(before: MetricsScrape, after: MetricsScrape, name: string): number {
  return (after.metrics.get(name) ?? 0) - (before.metrics.get(name) ?? 0);
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Event-loop delay in ms from one of the hub's `nodejs_eventloop_lag_*`
 * figures, in seconds. Node.js records the whole time between two wake-ups
 * of its monitor. An idle loop therefore shows the sampling interval, and
 * the delay is what lies beyond it.
 */
export function loopDelayMs(lagSeconds: number | undefined): number {
  if (lagSeconds === undefined) return Number.NaN;
  return Math.max(0, lagSeconds * 1_000 - EVENT_LOOP_SAMPLING_MS);
}

