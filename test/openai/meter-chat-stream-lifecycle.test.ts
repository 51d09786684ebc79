import { getEventListeners } from 'node:events';

import { type ChatCompletionChunkLike, meterChatStream } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { ScriptedSource } from './chunk-sources.js';
import { loadRecording } from './recorded-streams.js';
import { RecordingPublisher } from '../helpers/recording-publisher.js';

const chunks = loadRecording('openai-usage').chunks;

function expectBeganAndEndedOnce(publisher: RecordingPublisher): void {
  expect(publisher.count('begin')).toBe(1);
  expect(publisher.count('end')).toBe(1);
  expect(publisher.calls[0]?.method).toBe('begin');
  expect(publisher.calls.at(-1)?.method).toBe('end');
}

describe('meterChatStream on completion', () => {
  it('begins and ends once', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks);

    for await (const _chunk of meterChatStream(publisher, source)) {
      // Only the publisher calls matter here.
    }

    expectBeganAndEndedOnce(publisher);
    expect(source.returnCalls).toBe(0);
  });

  it('begins and ends an empty stream', async () => {
    const publisher = new RecordingPublisher();

    for await (const _chunk of meterChatStream(publisher, new ScriptedSource([]), { streamId: 'empty' })) {
      // No chunk arrives.
    }

    expect(publisher.calls).toEqual([
      { method: 'begin', id: 'empty', model: undefined },
      { method: 'end', id: 'empty' },
    ]);
  });
});

describe('meterChatStream on a source error', () => {
  it('rethrows the same error after ending', async () => {
    const publisher = new RecordingPublisher();
    const error = new Error('upstream reset');
    const source = new ScriptedSource(chunks, { failAt: 3, error });
    const yielded: ChatCompletionChunkLike[] = [];

    const run = async () => {
      for await (const chunk of meterChatStream(publisher, source)) yielded.push(chunk);
    };

    await expect(run()).rejects.toBe(error);
    expect(yielded).toEqual(chunks.slice(0, 3));
    expectBeganAndEndedOnce(publisher);
  });

  it('does not call return on a failed source', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks, { failAt: 0 });

    await expect(meterChatStream(publisher, source).next()).rejects.toThrow('upstream failed');

    expect(source.returnCalls).toBe(0);
    expectBeganAndEndedOnce(publisher);
  });

  it('rethrows a non-Error value unchanged', async () => {
    const publisher = new RecordingPublisher();
    const reason = { status: 502 };
    const source = new ScriptedSource(chunks, { failAt: 1, error: reason });

    const run = async () => {
      for await (const _chunk of meterChatStream(publisher, source)) {
        // Reads until the failure.
      }
    };

    await expect(run()).rejects.toBe(reason);
    expectBeganAndEndedOnce(publisher);
  });
});

describe('meterChatStream on consumer stop', () => {
  it('ends and releases the source on break', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks);

    let seen = 0;
    for await (const _chunk of meterChatStream(publisher, source)) {
      seen += 1;
      if (seen === 2) break;
    }

    expectBeganAndEndedOnce(publisher);
    expect(source.returnCalls).toBe(1);
    expect(source.nextCalls).toBe(2);
  });

  it('runs the finally block of a generator source', async () => {
    const publisher = new RecordingPublisher();
    let sourceClosed = false;
    async function* upstream(): AsyncGenerator<ChatCompletionChunkLike> {
      try {
        yield* chunks;
      } finally {
        sourceClosed = true;
      }
    }

    for await (const _chunk of meterChatStream(publisher, upstream())) break;

    expect(sourceClosed).toBe(true);
    expectBeganAndEndedOnce(publisher);
  });

  it('ends and releases the source when the loop throws', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks);
    const error = new Error('client went away');

    const run = async () => {
      for await (const _chunk of meterChatStream(publisher, source)) throw error;
    };

    await expect(run()).rejects.toBe(error);
    expectBeganAndEndedOnce(publisher);
    expect(source.returnCalls).toBe(1);
  });

  it('reaches the caller with an error of return', async () => {
    const publisher = new RecordingPublisher();
    const error = new Error('cancel failed');
    const source: AsyncIterable<ChatCompletionChunkLike> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: chunks[1] as ChatCompletionChunkLike }),
        return: async () => {
          throw error;
        },
      }),
    };

    const run = async () => {
      for await (const _chunk of meterChatStream(publisher, source)) break;
    };

    await expect(run()).rejects.toBe(error);
    expectBeganAndEndedOnce(publisher);
  });
});

describe('meterChatStream on abort', () => {
  it('stops a pending read with the signal reason', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks, { stallAt: 2 });
    const controller = new AbortController();
    const reason = new Error('request cancelled');
    const iterator = meterChatStream(publisher, source, { signal: controller.signal });

    await iterator.next();
    await iterator.next();
    const pending = iterator.next();
    controller.abort(reason);

    expect(publisher.count('end')).toBe(1);
    await expect(pending).rejects.toBe(reason);
    expectBeganAndEndedOnce(publisher);
    expect(source.returnCalls).toBe(1);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('stops between chunks with the signal reason', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks);
    const controller = new AbortController();
    const yielded: ChatCompletionChunkLike[] = [];

    const run = async () => {
      for await (const chunk of meterChatStream(publisher, source, { signal: controller.signal })) {
        yielded.push(chunk);
        if (yielded.length === 3) controller.abort();
      }
    };

    const error = await run().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBe(controller.signal.reason);
    expect(error).toBeInstanceOf(DOMException);
    expect(yielded).toHaveLength(3);
    expect(source.nextCalls).toBe(3);
    expect(source.returnCalls).toBe(1);
    expectBeganAndEndedOnce(publisher);
  });

  it('reads nothing from an aborted signal', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(chunks);
    const reason = new Error('already cancelled');

    const iterator = meterChatStream(publisher, source, { signal: AbortSignal.abort(reason) });

    await expect(iterator.next()).rejects.toBe(reason);
    expect(source.nextCalls).toBe(0);
    expect(source.returnCalls).toBe(1);
    expectBeganAndEndedOnce(publisher);
  });

  it('ignores an abort after completion', async () => {
    const publisher = new RecordingPublisher();
    const controller = new AbortController();
    const source = new ScriptedSource(chunks);

    for await (const _chunk of meterChatStream(publisher, source, { signal: controller.signal })) {
      // Reads to the end.
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort();

    expect(source.returnCalls).toBe(0);
    expectBeganAndEndedOnce(publisher);
  });
});
