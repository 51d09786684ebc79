/**
 * The parts of an OpenAI-style `chat.completion.chunk` that metering reads.
 * Every field is optional because servers differ, and the readers below
 * check each value at run time, so a chunk of any other shape counts as
 * no tokens instead of failing.
 */
export interface ChatCompletionChunkLike {
  id?: string;
  model?: string;
  choices?: readonly ChatCompletionChunkChoiceLike[] | null;
  /**
   * Token usage. OpenAI sends it once, in a last chunk with `choices: []`,
   * when the request sets `stream_options.include_usage`.
   */
  usage?: ChatCompletionUsageLike | null;
}

export interface ChatCompletionChunkChoiceLike {
  index?: number;
  delta?: ChatCompletionDeltaLike | null;
  finish_reason?: string | null;
}

export interface ChatCompletionDeltaLike {
  role?: string;
  content?: string | null;
  /** Reasoning text as the DeepSeek API and vLLM up to 0.10 name it. */
  reasoning_content?: string | null;
  /** Reasoning text as OpenRouter and vLLM from 0.11 name it. */
  reasoning?: string | null;
  tool_calls?: readonly unknown[] | null;
}

export interface ChatCompletionUsageLike {
  prompt_tokens?: number;
  /** Generated tokens of all choices, reasoning tokens included. */
  completion_tokens?: number;
  total_tokens?: number;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** Output and reasoning token counts of one stream. */
export interface TokenCounts {
  out: number;
  reasoning: number;
}

/** Exact figures from a chunk's `usage`. */
export interface ChunkUsage {
  completionTokens: number;
  /** Undefined when the server sends no `completion_tokens_details`. */
  reasoningTokens: number | undefined;
}

/**
 * Counts the non-empty content and reasoning pieces of a chunk, summed over
 * its choices. A delta with both reasoning fields counts once.
 */
export function countDeltaPieces(chunk: unknown): TokenCounts {
  const counts = { out: 0, reasoning: 0 };
  const choices = isRecord(chunk) ? chunk.choices : undefined;
  if (!Array.isArray(choices)) return counts;

  for (const choice of choices) {
    const delta: unknown = isRecord(choice) ? choice.delta : undefined;
    if (!isRecord(delta)) continue;
    if (isNonEmptyString(delta.content)) counts.out += 1;
    if (isNonEmptyString(delta.reasoning_content) || isNonEmptyString(delta.reasoning)) {
      counts.reasoning += 1;
    }
  }
  return counts;
}

/** Reads a chunk's `usage`, or returns undefined when it has no valid one. */
export function readUsage(chunk: unknown): ChunkUsage | undefined {
  const usage = isRecord(chunk) ? chunk.usage : undefined;
  if (!isRecord(usage) || !isCount(usage.completion_tokens)) return undefined;

  const details = usage.completion_tokens_details;
  const reasoningTokens = isRecord(details) ? details.reasoning_tokens : undefined;
  return {
    completionTokens: usage.completion_tokens,
    reasoningTokens: isCount(reasoningTokens) ? reasoningTokens : undefined,
  };
}

/** Reads a chunk's `model`, or returns undefined when it has none. */
export function readModel(chunk: unknown): string | undefined {
  const model = isRecord(chunk) ? chunk.model : undefined;
  return isNonEmptyString(model) ? model : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
