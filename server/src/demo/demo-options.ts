import { parseArgs } from 'node:util';

import { tokenTimingDefaults } from '../workload/index.js';

/** Settings of `pnpm demo`, from its command line. */
export interface DemoOptions {
  /** Arrivals of the hour are played this many times faster. */
  speed: number;
  /** Simulated chat nodes. */
  nodes: number;
  /** Time to first token of every stream, ms. */
  ttftMs: number;
  /** Mean decode rate of a stream, tokens per second. */
  tokensPerSecond: number;
  /** Each stream's rate is drawn uniformly within this fraction of the mean. */
  rateSpread: number;
  /** Seed of the per-stream rates and of the synthetic workload. */
  seed: number;
  /** Stop after this many seconds of replay; 0 plays the whole hour. */
  durationSeconds: number;
  /** The conv trace to replay, or undefined for the default location. */
  dataPath: string | undefined;
  /** Replay the synthetic workload even where the conv trace exists. */
  synthetic: boolean;
  /** HTTP port of the hub. */
  port: number;
  /** Run only the fleet, publishing to REDIS_URL for hubs elsewhere. */
  noHub: boolean;
  help: boolean;
}

export const DEMO_USAGE = `Usage: pnpm demo [options]

Runs the hub with a simulated fleet of chat nodes that replays an hour of
real LLM chat traffic. With REDIS_URL set, nodes and hub talk through that
Redis; without it, through an in-process bus.

Options:
  --speed N          play the hour's arrivals N times faster (default 1)
  --nodes N          simulated chat nodes (default 4)
  --ttft-ms MS       time to first token of each stream, ms (default ${tokenTimingDefaults.ttftMs})
  --rate TPS         mean decode rate per stream, tokens/s (default ${tokenTimingDefaults.tokensPerSecond})
  --rate-spread F    each stream's rate is uniform within +-F of the mean (default ${tokenTimingDefaults.rateSpread})
  --seed N           seed of the per-stream rates (default 1)
  --duration S       stop after S seconds; 0 plays the whole hour (default 0)
  --data PATH        conv trace CSV (default ../shared/data/azure-llm-2023/conv.csv,
                     with a synthetic trace of the same statistics where it is absent)
  --synthetic        replay the synthetic trace even where the conv trace exists
  --port N           HTTP port of the hub; 0 picks a free one (default PORT or 3000)
  --no-hub           run only the simulated nodes, publishing to REDIS_URL
  -h, --help         show this text
`;

export class DemoOptionsError extends Error {
  override readonly name = 'DemoOptionsError';
  readonly code = 'INVALID_DEMO_OPTIONS';
}

/** Parses the demo's arguments; throws DemoOptionsError naming a bad one. */
export function parseDemoOptions(args: string[], defaultPort = 3000): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(args),
      strict: true,
      options: {
        speed: { type: 'string' },
        nodes: { type: 'string' },
        'ttft-ms': { type: 'string' },
        rate: { type: 'string' },
        'rate-spread': { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        data: { type: 'string' },
        synthetic: { type: 'boolean' },
        port: { type: 'string' },
        'no-hub': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const message = (error as Error).message.replace(/\.*$/, '');
    throw new DemoOptionsError(`${message}. Run pnpm demo --help for the options.`);
  }

  const number = (name: string, fallback: number, min: number, max: number, integer = false): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(parsed) ||
        parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
      const kind = integer ? 'an integer' : 'a number';
      throw new DemoOptionsError(`Invalid --${name} ${JSON.stringify(raw)}: expected ${kind} from ${min} to ${max}.`);
    }
    return parsed;
  };

  return {
    speed: number('speed', 1, 0.001, 10_000),
    nodes: number('nodes', 4, 1, 1_000, true),
    ttftMs: number('ttft-ms', tokenTimingDefaults.ttftMs, 0, 600_000),
    tokensPerSecond: number('rate', tokenTimingDefaults.tokensPerSecond, 0.01, 100_000),
    rateSpread: number('rate-spread', tokenTimingDefaults.rateSpread, 0, 0.99),
    seed: number('seed', 1, 0, 2 ** 32 - 1, true),
    durationSeconds: number('duration', 0, 0, 86_400),
    dataPath: typeof values.data === 'string' ? values.data : undefined,
    synthetic: values.synthetic === true,
    port: number('port', defaultPort, 0, 65_535, true),
    noHub: values['no-hub'] === true,
    help: values.help === true,
  };
}

// parseArgs reads `--speed -1` as an option followed by another option;
// joining it into `--speed=-1` lets the range check report the value.
function joinNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
