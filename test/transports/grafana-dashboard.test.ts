import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { streamEntry, useHubs } from '../helpers/hub-fixture.js';

const startHub = useHubs();

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;

// Metric names in a PromQL expression: identifiers followed by { or (, or
// standing alone, minus functions and keywords.
const PROMQL_WORDS = new Set(['max', 'sum', 'by', 'rate', 'increase', 'histogram_quantile', 'le', 'key', 'transport', 'reason', 'group']);

function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
  const words = withoutLabels.match(/[a-z_][a-z0-9_]*/g) ?? [];
  return words.filter((word) => !PROMQL_WORDS.has(word));
}

describe('Grafana dashboard', () => {
  it('uses only metrics the hub exposes', async () => {
    const { base, publish, scheduler } = await startHub();
    await publish('n1', [streamEntry('a', { model: 'm', out: 20, beganAt: 0, firstAt: 300, lastAt: 1_300 })]);
    scheduler.fire();
    const exposition = await (await fetch(`${base}/metrics`)).text();
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name as string]));

    const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricNames(target.expr)));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
  });
});
