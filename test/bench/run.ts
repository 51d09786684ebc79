// `pnpm bench`: runs every benchmark scenario, prints each one's figures
// and targets, and writes bench/results.json and bench/results.md.
//
//     pnpm bench                  the full suite (under 10 minutes)
//     pnpm bench --smoke          about 20 s per scenario, as CI runs it
//     pnpm bench --only ingest    one scenario (repeatable)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import { formatMarkdown, type StoredScenario } from './report.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { scenarios } from './scenarios/index.js';

const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, only: { type: 'string', multiple: true } } });
const smoke = values.smoke === true;
const selected = values.only?.length ? scenarios.filter((scenario) => values.only?.includes(scenario.name)) : scenarios;
if (selected.length === 0) {
  process.stderr.write(`bench: no scenario named ${values.only?.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}.\n`);
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const results: { scenario: Scenario; result: ScenarioResult; seconds: number }[] = [];
let failed = false;
for (const scenario of selected) {
  log(`\n== ${scenario.title} (${scenario.name})${smoke ? ', smoke run' : ''}`);
  const started = performance.now();
  try {
    const result = await scenario.run({ smoke, log: (line) => log(`   ${line}`) });
    const seconds = (performance.now() - started) / 1000;
    results.push({ scenario, result, seconds });
    for (const figure of result.figures) log(`   ${figure.name}: ${figure.value} ${figure.unit}`);
    for (const target of result.targets) {
      log(`   ${target.met ? 'met ' : 'MISS'} ${target.name} = ${target.value} (target ${target.target})${target.note ? `: ${target.note}` : ''}`);
    }
  } catch (error) {
    failed = true;
    log(`   failed: ${(error as Error).stack ?? String(error)}`);
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}`;
if (!smoke) {
  writeResults(machine, results.map(({ scenario, result, seconds }) => ({ name: scenario.name, title: scenario.title, seconds, ...result })));
  log('\nWrote bench/results.json and bench/results.md');
}
process.exitCode = failed ? 1 : 0;

// A run of some scenarios (--only) replaces their entries and keeps the
// others', so the files always hold the latest figures of every scenario.
function writeResults(machine: string, measured: StoredScenario[]): void {
  const folder = new URL('../../bench/', import.meta.url);
  const jsonFile = new URL('results.json', folder);
  mkdirSync(folder, { recursive: true });
  const previous: StoredScenario[] = existsSync(jsonFile)
    ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as { scenarios: StoredScenario[] }).scenarios
    : [];
  const merged = scenarios.flatMap((scenario) =>
    measured.find((entry) => entry.name === scenario.name) ?? previous.find((entry) => entry.name === scenario.name) ?? []);
  writeFileSync(jsonFile, `${JSON.stringify({ machine, date: new Date().toISOString(), scenarios: merged }, null, 2)}\n`);
  writeFileSync(new URL('results.md', folder), formatMarkdown(machine, merged.map((entry) => ({
    scenario: { name: entry.name, title: entry.title },
    result: { figures: entry.figures, targets: entry.targets },
  }))));
}
