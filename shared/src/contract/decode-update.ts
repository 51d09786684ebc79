import { TypeCompiler } from '@sinclair/typebox/compiler';

import { type UpdateMessage, UpdateMessageSchema } from './update-message.js';

/** Why a message was rejected: a stable label for counters and logs. */
export type RejectReason =
  | 'too_large'
  | 'invalid_json'
  | 'invalid_schema'
  | 'invalid_timing'
  | 'duplicate_stream';

export const REJECT_REASONS: readonly RejectReason[] = [
  'too_large',
  'invalid_json',
  'invalid_schema',
  'invalid_timing',
  'duplicate_stream',
];

export type DecodeResult =
  | { ok: true; message: UpdateMessage }
  | { ok: false; reason: RejectReason; detail: string };

/** Largest message accepted by default, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

// Compiled once: TypeCompiler builds a checker function from the schema.
// Its number checks reject NaN and Infinity (JSON.parse turns 1e309 into
// Infinity).
const checker = TypeCompiler.Compile(UpdateMessageSchema);

/**
 * Decodes one message from the wire. The size is checked before parsing,
 * then the schema, then the rules that a schema cannot state.
 *
 * `maxChars` bounds the string length in UTF-16 code units, which never
 * exceeds the UTF-8 byte length, so a message of multi-byte text may be up
 * to three times that many bytes.
 */
export function decodeUpdateMessage(
  raw: string,
  maxChars = DEFAULT_MAX_MESSAGE_BYTES,
): DecodeResult {
  if (raw.length > maxChars) {
    return reject('too_large', `${raw.length} characters, limit ${maxChars}`);
  }

  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return reject('invalid_json', (error as Error).message);
  }

  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    const where = first?.path === '' ? '/' : first?.path;
    return reject('invalid_schema', first ? `${where}: ${first.message}` : 'does not match the schema');
  }

  return checkRules(value);
}

function checkRules(message: UpdateMessage): DecodeResult {
  const seen = new Set<string>();

  for (const [index, stream] of message.streams.entries()) {
    if (seen.has(stream.id)) {
      return reject('duplicate_stream', `/streams/${index}/id repeats an earlier stream`);
    }
    seen.add(stream.id);

    const problem = timingProblem(stream.firstAt, stream.lastAt, stream.out + stream.reasoning);
    if (problem) {
      return reject('invalid_timing', `/streams/${index}: ${problem}`);
    }
  }

  return { ok: true, message };
}

function timingProblem(firstAt: number | null, lastAt: number | null, tokens: number): string | undefined {
  if ((firstAt === null) !== (lastAt === null)) {
    return 'firstAt and lastAt must both be null or both be set';
  }
  if (firstAt === null) {
    return tokens > 0 ? 'a stream with tokens needs firstAt and lastAt' : undefined;
  }
  if (lastAt !== null && firstAt > lastAt) {
    return 'firstAt is after lastAt';
  }
  return undefined;
}

function reject(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}
