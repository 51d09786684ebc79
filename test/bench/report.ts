import type { Scenario, ScenarioResult } from './scenario.js';

/** One scenario's results as bench/results.json keeps them. */
export interface StoredScenario extends ScenarioResult {
  name: string;
  title: string;
  seconds: number;
}

/** Formats the results as the markdown table the README and docs quote. */
export function formatMarkdown(
  machine: string,
  results: { scenario: Pick<Scenario, 'name' | 'title'>; result: ScenarioResult }[],
): string {
  const lines = [
    '# Benchmark results',
    '',
    `Measured by \`pnpm bench\` on ${machine}, ${new Date().toISOString().slice(0, 10)}.`,
    'Ratios are measured against a baseline in the same run; absolute figures move from run to run on shared machines.',
    '',
    '| scenario | measure | value | target | met |',
    '|---|---|---|---|---|',
  ];
  for (const { scenario, result } of results) {
    for (const target of result.targets) {
      let met = 'yes';
      if (!target.met) met = target.note ? `no: ${target.note}` : 'no';
      lines.push(`| ${[scenario.name, target.name, round(target.value), target.target, met].map(cell).join(' | ')} |`);
    }
  }
  lines.push('', '## Figures', '');
  for (const { scenario, result } of results) {
    lines.push(`### ${scenario.title}`, '');
    for (const figure of result.figures) lines.push(`- ${figure.name}: ${round(figure.value)} ${figure.unit}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

// A pipe inside a cell would end it early.
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function round(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}
