import {
  type ChatCompletionChunkLike,
  createPublisher,
  decodeUpdateMessage,
  MemoryBus,
  meterChatStream,
  type StreamUpdate,
  type UpdateMessage,
} from '@metering-hub/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';
import { loadRecording } from './recorded-streams.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPublisher() {
  const bus = new MemoryBus();
  const raw: string[] = [];
  await bus.subscribe('metering:updates', (message) => raw.push(message));
  const publisher = createPublisher({ nodeId: 'chat-1', bus, flushIntervalMs: 5, logger: silentLogger });
  cleanups.push(() => bus.close(), () => publisher.close());
  return { publisher, raw };
}

/** Yields each chunk a few milliseconds apart, so several flushes happen mid-stream. */
async function* paced(chunks: readonly ChatCompletionChunkLike[]): AsyncGenerator<ChatCompletionChunkLike> {
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, 3));
    yield chunk;
  }
}

function entriesOf(raw: string[], id: string): StreamUpdate[] {
  return raw
    .map((message) => JSON.parse(message) as UpdateMessage)
    .flatMap((message) => message.streams.filter((stream) => stream.id === id));
}

describe('meterChatStream through a real publisher', () => {
  it('publishes the final counts and the end', async () => {
    const { publisher, raw } = await startPublisher();
    const { chunks } = loadRecording('deepseek-r1');

    for await (const _chunk of meterChatStream(publisher, paced(chunks), { streamId: 'r1-7' })) {
      // The chat server would write the chunk to its client here.
    }
    await publisher.flush();
    await waitFor(() => entriesOf(raw, 'r1-7').some((entry) => entry.ended), {
      what: 'the ended entry of stream r1-7',
    });

    const entries = entriesOf(raw, 'r1-7');
    const last = entries.at(-1);
    expect(last?.ended).toBe(true);
    expect(last?.out).toBe(6);
    expect(last?.reasoning).toBe(8);
    expect(last?.model).toBe('deepseek-reasoner');
    expect(entries.filter((entry) => entry.ended)).toHaveLength(1);
  });

  it('publishes messages the hub accepts', async () => {
    const { publisher, raw } = await startPublisher();
    const { chunks } = loadRecording('vllm-reasoning-content');

    for await (const _chunk of meterChatStream(publisher, paced(chunks), { streamId: 'v-1' })) {
      // Drains the stream.
    }
    await publisher.flush();
    await waitFor(() => entriesOf(raw, 'v-1').some((entry) => entry.ended), {
      what: 'the ended entry of stream v-1',
    });

    expect(raw.length).toBeGreaterThan(1);
    for (const message of raw) {
      expect(decodeUpdateMessage(message)).toMatchObject({ ok: true });
    }
    const entries = entriesOf(raw, 'v-1');
    for (let i = 1; i < entries.length; i++) {
      expect(entries[i]?.out).toBeGreaterThanOrEqual(entries[i - 1]?.out ?? 0);
      expect(entries[i]?.reasoning).toBeGreaterThanOrEqual(entries[i - 1]?.reasoning ?? 0);
    }
    expect(entries.at(-1)).toMatchObject({ out: 8, reasoning: 6, ended: true });
  });
});
