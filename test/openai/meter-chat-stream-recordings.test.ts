import { type ChatCompletionChunkLike, meterChatStream } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { loadRecording, RECORDING_NAMES, type RecordingName } from './recorded-streams.js';
import { RecordingPublisher } from '../helpers/recording-publisher.js';

interface Counts {
  out: number;
  reasoning: number;
}

interface Expectation {
  model: string;
  /** Counts after the last chunk without usage: one token per non-empty delta. */
  estimated: Counts;
  /** Counts after the last chunk. */
  final: Counts;
}

const expectations: Record<RecordingName, Expectation> = {
  'openai-usage': {
    model: 'gpt-4o-mini-2024-07-18',
    estimated: { out: 7, reasoning: 0 },
    final: { out: 7, reasoning: 0 },
  },
  'openai-two-choices': {
    model: 'gpt-4o-mini-2024-07-18',
    estimated: { out: 6, reasoning: 0 },
    final: { out: 6, reasoning: 0 },
  },
  'openai-tool-call': {
    model: 'gpt-4o-mini-2024-07-18',
    estimated: { out: 0, reasoning: 0 },
    final: { out: 15, reasoning: 0 },
  },
  // No completion_tokens_details: the reasoning estimate stays, and output
  // is completion_tokens minus it (14 - 6).
  'vllm-reasoning-content': {
    model: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',
    estimated: { out: 7, reasoning: 6 },
    final: { out: 8, reasoning: 6 },
  },
  'deepseek-r1': {
    model: 'deepseek-reasoner',
    estimated: { out: 5, reasoning: 7 },
    final: { out: 6, reasoning: 8 },
  },
  'openrouter-reasoning': {
    model: 'deepseek/deepseek-r1',
    estimated: { out: 3, reasoning: 5 },
    final: { out: 3, reasoning: 5 },
  },
  'no-usage-empty-deltas': {
    model: 'llama-3.1-8b-instruct',
    estimated: { out: 6, reasoning: 0 },
    final: { out: 6, reasoning: 0 },
  },
};

interface MeteredRun {
  publisher: RecordingPublisher;
  chunks: ChatCompletionChunkLike[];
  yielded: ChatCompletionChunkLike[];
  /** Publisher counts right after each chunk was yielded. */
  countsAfter: Counts[];
}

async function meterRecording(name: RecordingName): Promise<MeteredRun> {
  const { chunks } = loadRecording(name);
  const publisher = new RecordingPublisher();
  const yielded: ChatCompletionChunkLike[] = [];
  const countsAfter: Counts[] = [];

  for await (const chunk of meterChatStream(publisher, toAsync(chunks), { streamId: name })) {
    yielded.push(chunk);
    countsAfter.push(publisher.counts());
  }
  return { publisher, chunks, yielded, countsAfter };
}

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

function usageOf(chunk: ChatCompletionChunkLike | undefined): Counts | undefined {
  const usage = chunk?.usage;
  if (!usage?.completion_tokens) return undefined;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (reasoning === undefined || reasoning === null) return undefined;
  return { out: usage.completion_tokens - reasoning, reasoning };
}

describe.each(RECORDING_NAMES)('meterChatStream on %s', (name) => {
  const expected = expectations[name];

  it('yields every chunk unchanged and in order', async () => {
    const { chunks, yielded } = await meterRecording(name);
    const pristine = loadRecording(name).chunks;

    expect(yielded).toHaveLength(chunks.length);
    for (const [index, chunk] of chunks.entries()) {
      expect(yielded[index]).toBe(chunk);
    }
    expect(yielded).toEqual(pristine);
  });

  it('begins once with the chunk model and ends once', async () => {
    const { publisher } = await meterRecording(name);

    expect(publisher.count('begin')).toBe(1);
    expect(publisher.count('end')).toBe(1);
    expect(publisher.calls[0]).toEqual({ method: 'begin', id: name, model: expected.model });
    expect(publisher.calls.at(-1)).toEqual({ method: 'end', id: name });
  });

  it('reports running counts that only grow', async () => {
    const { publisher } = await meterRecording(name);

    for (const method of ['token', 'reasoning'] as const) {
      const values = publisher.runningValues(method);
      for (let i = 1; i < values.length; i++) {
        expect(values[i]).toBeGreaterThan(values[i - 1] ?? 0);
      }
    }
  });

  it('estimates one token per non-empty delta', async () => {
    const { chunks, countsAfter } = await meterRecording(name);
    const firstUsage = chunks.findIndex((chunk) => chunk.usage);
    const lastEstimated = (firstUsage === -1 ? chunks.length : firstUsage) - 1;

    expect(countsAfter[lastEstimated]).toEqual(expected.estimated);
  });

  it('ends with the final counts', async () => {
    const { chunks, countsAfter } = await meterRecording(name);
    const usage = usageOf(chunks.at(-1));

    expect(countsAfter.at(-1)).toEqual(expected.final);
    if (usage) expect(countsAfter.at(-1)).toEqual(usage);
  });
});
