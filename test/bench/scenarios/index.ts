import type { Scenario } from '../scenario.js';
import { batching } from './batching.js';
import { connectionMemory } from './connection-memory.js';
import { fanOut } from './fan-out.js';
import { fleetScale } from './fleet-scale.js';
import { ingest } from './ingest.js';
import { windowCost } from './window-cost.js';

/** Every scenario, in the order `pnpm bench` runs them. */
export const scenarios: Scenario[] = [ingest, batching, fleetScale, fanOut, connectionMemory, windowCost];
