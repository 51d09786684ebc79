import { readFileSync } from 'node:fs';

import type { ChatCompletionChunkLike } from '@metering-hub/shared';

/** A hand-written chunk sequence in the shape one kind of server streams. */
export interface RecordedStream {
  description: string;
  request: Record<string, unknown>;
  chunks: ChatCompletionChunkLike[];
}

export const RECORDING_NAMES = [
  'openai-usage',
  'openai-two-choices',
  'openai-tool-call',
  'vllm-reasoning-content',
  'deepseek-r1',
  'openrouter-reasoning',
  'no-usage-empty-deltas',
] as const;

export type RecordingName = (typeof RECORDING_NAMES)[number];

/** Reads a recording from `recorded/`, fresh each call so tests share no objects. */
export function loadRecording(name: RecordingName): RecordedStream {
  const url = new URL(`recorded/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as RecordedStream;
}
