// Writes update-message.schema.json from the TypeBox schema, so that nodes
// in other languages validate against exactly what the hub checks.
//
//     pnpm -s schema
import { writeFileSync } from 'node:fs';

import { jsonSchemaText } from '../src/contract/json-schema.js';

const target = new URL('../update-message.schema.json', import.meta.url);
writeFileSync(target, jsonSchemaText());
process.stdout.write(`Wrote ${target.pathname}\n`);
