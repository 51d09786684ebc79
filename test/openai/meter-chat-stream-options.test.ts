import { meterChatStream } from '@metering-hub/shared';
import { describe, expect, it } from 'vitest';

import { ScriptedSource } from './chunk-sources.js';
import { loadRecording } from './recorded-streams.js';
import { RecordingPublisher, ThrowingPublisher } from '../helpers/recording-publisher.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function drain(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('meterChatStream options', () => {
  it('generates a stream id when none is given', async () => {
    const publisher = new RecordingPublisher();

    await drain(meterChatStream(publisher, new ScriptedSource(loadRecording('openai-usage').chunks)));

    const ids = new Set(publisher.calls.map((call) => call.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(UUID);
  });

  it('gives each stream its own id', async () => {
    const publisher = new RecordingPublisher();

    await drain(meterChatStream(publisher, new ScriptedSource([])));
    await drain(meterChatStream(publisher, new ScriptedSource([])));

    const [first, second] = publisher.calls.filter((call) => call.method === 'begin');
    expect(first?.id).not.toBe(second?.id);
  });

  it('begins with the given model before any chunk', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource(loadRecording('openai-usage').chunks, { stallAt: 0 });
    const controller = new AbortController();

    const pending = meterChatStream(publisher, source, {
      streamId: 's-1',
      model: 'gpt-4o-mini',
      signal: controller.signal,
    }).next();
    await Promise.resolve();

    expect(publisher.calls).toEqual([{ method: 'begin', id: 's-1', model: 'gpt-4o-mini' }]);
    controller.abort();
    await expect(pending).rejects.toBe(controller.signal.reason);
  });

  it('keeps the given model over the chunk model', async () => {
    const publisher = new RecordingPublisher();

    await drain(meterChatStream(publisher, new ScriptedSource(loadRecording('deepseek-r1').chunks), {
      model: 'r1-pool-a',
    }));

    expect(publisher.calls[0]).toMatchObject({ method: 'begin', model: 'r1-pool-a' });
    expect(publisher.count('begin')).toBe(1);
  });
});

describe('meterChatStream counting', () => {
  it('tolerates chunks of any shape', async () => {
    const odd: unknown[] = [
      null,
      42,
      'data: [DONE]',
      {},
      { choices: null },
      { choices: 'none' },
      { choices: [null, 7, { delta: null }, { delta: 'text' }] },
      { choices: [{ delta: { content: 5, reasoning_content: ['x'] } }] },
      { choices: [{ delta: { content: { text: 'hi' } } }] },
      { usage: 'none' },
      { usage: { completion_tokens: -1 } },
      { usage: { completion_tokens: 1.5 } },
      { usage: { completion_tokens: '9' } },
      { model: 42 },
    ];
    const publisher = new RecordingPublisher();

    const yielded = await drain(meterChatStream(publisher, new ScriptedSource(odd) as AsyncIterable<never>));

    expect(yielded).toEqual(odd);
    expect(publisher.counts()).toEqual({ out: 0, reasoning: 0 });
    expect(publisher.calls[0]).toMatchObject({ method: 'begin', model: undefined });
    expect(publisher.count('end')).toBe(1);
  });

  it('counts a delta with both reasoning fields once', async () => {
    const publisher = new RecordingPublisher();
    const chunk = { choices: [{ delta: { reasoning_content: 'Hm', reasoning: 'Hm' } }] };

    await drain(meterChatStream(publisher, new ScriptedSource([chunk, chunk])));

    expect(publisher.counts()).toEqual({ out: 0, reasoning: 2 });
  });

  it('never lowers a count below an estimate', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource([
      { choices: [{ delta: { content: 'a' } }] },
      { choices: [{ delta: { content: 'b' } }] },
      { choices: [{ delta: { content: 'c' } }] },
      { choices: [], usage: { completion_tokens: 2 } },
    ]);

    await drain(meterChatStream(publisher, source));

    expect(publisher.runningValues('token')).toEqual([1, 2, 3]);
  });

  it('follows usage sent on every chunk', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource([
      { choices: [{ delta: { content: 'Hello' } }], usage: { completion_tokens: 2 } },
      { choices: [{ delta: { content: ' world' } }], usage: { completion_tokens: 4 } },
      { choices: [{ delta: { content: '!' } }], usage: { completion_tokens: 5 } },
    ]);

    await drain(meterChatStream(publisher, source));

    expect(publisher.runningValues('token')).toEqual([2, 4, 5]);
  });

  it('takes reasoning tokens from usage details', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource([
      { choices: [{ delta: { content: 'x' } }] },
      {
        choices: [],
        usage: { completion_tokens: 40, completion_tokens_details: { reasoning_tokens: 32 } },
      },
    ]);

    await drain(meterChatStream(publisher, source));

    expect(publisher.counts()).toEqual({ out: 8, reasoning: 32 });
  });

  it('sums content pieces across choices', async () => {
    const publisher = new RecordingPublisher();
    const source = new ScriptedSource([
      { choices: [{ index: 0, delta: { content: 'a' } }, { index: 1, delta: { content: 'b' } }] },
      { choices: [{ index: 1, delta: { content: 'c' } }, { index: 2, delta: { content: '' } }] },
    ]);

    await drain(meterChatStream(publisher, source));

    expect(publisher.runningValues('token')).toEqual([2, 3]);
  });
});

describe('meterChatStream with a failing publisher', () => {
  it('passes every chunk on and warns once', async () => {
    const publisher = new ThrowingPublisher();
    const chunks = loadRecording('deepseek-r1').chunks;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);

    try {
      const yielded = await drain(meterChatStream(publisher, new ScriptedSource(chunks)));
      await new Promise((resolve) => setImmediate(resolve));

      expect(yielded).toEqual(chunks);
    } finally {
      process.off('warning', onWarning);
    }

    expect(publisher.count('begin')).toBe(1);
    expect(publisher.count('end')).toBe(1);
    const ours = warnings.filter((warning) => (warning as { code?: string }).code === 'METERING_PUBLISHER_THREW');
    expect(ours).toHaveLength(1);
  });
});
