// Reads a timed trace on standard input, runs it through the meter and
// prints one [t, result] pair per "stats" or "interval" event as a JSON
// array: the conformance harness against the reference meter's replay.
//
//     pnpm -s replay < trace.json > results.json
import { text } from 'node:stream/consumers';

import { replayTrace, TraceError } from './trace.js';

async function main(): Promise<void> {
  const input = await text(process.stdin);

  let events: unknown;
  try {
    events = JSON.parse(input);
  } catch (error) {
    throw new TraceError(`Invalid trace: standard input is not JSON (${(error as Error).message}).`);
  }

  process.stdout.write(`${JSON.stringify(replayTrace(events))}\n`);
}

main().catch((error: unknown) => {
  const message = error instanceof TraceError ? error.message : String((error as Error).stack ?? error);
  process.stderr.write(`replay: ${message}\n`);
  process.exitCode = 1;
});
