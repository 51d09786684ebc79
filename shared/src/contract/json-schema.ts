import { UpdateMessageSchema } from './update-message.js';

/**
 * Returns the update message's JSON Schema (draft 2020-12) as the text of
 * `update-message.schema.json`. TypeBox schemas are JSON Schema already;
 * encoding drops the symbols TypeBox keeps on them.
 */
export function jsonSchemaText(): string {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...UpdateMessageSchema };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
