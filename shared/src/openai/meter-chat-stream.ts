import { randomUUID } from 'node:crypto';

import type { Publisher } from '../publisher/publisher.js';
import { type ChatCompletionChunkLike, readModel } from './chat-chunk.js';
import { SourceCursor } from './source-cursor.js';
import { StreamMeter } from './stream-meter.js';
import { TokenTally } from './token-tally.js';

export interface MeterChatStreamOptions {
  /**
   * Stream id, unique on this node while the stream runs, 1-256 characters.
   * @default crypto.randomUUID()
   */
  streamId?: string;
  /**
   * Model label. Given, the stream begins when iteration starts. Left out,
   * it begins at the first chunk, labeled with that chunk's `model`.
   * @default the `model` field of the first chunk
   */
  model?: string;
  /**
   * Aborting ends the stream at once, calls the source's `return()` and
   * makes the iteration throw `signal.reason`, even while a chunk is still
   * awaited. @default none
   */
  signal?: AbortSignal;
}

/**
 * Meters an OpenAI-style streaming chat completion while passing it on.
 * Yields every chunk of `source` unchanged and in order. Meanwhile it calls
 * `begin` once, then `token` and `reasoning` with running counts as they
 * grow, and `end` once. The end comes whether the source completes or
 * throws, the consumer stops early or the signal aborts.
 *
 * Counts are estimated at one token per non-empty content or reasoning
 * delta, summed over the choices, until a chunk carries `usage`, whose
 * exact figures then replace the estimate. Reported counts never go down.
 * Tool-call arguments are counted only through `usage`.
 *
 * Errors of the source reach the caller unchanged. Errors of the publisher
 * never do.
 */
export async function* meterChatStream<T extends ChatCompletionChunkLike>(
  publisher: Publisher,
  source: AsyncIterable<T>,
  options: MeterChatStreamOptions = {},
): AsyncGenerator<T, void, undefined> {
  const meter = new StreamMeter(publisher, options.streamId ?? randomUUID());
  if (options.model !== undefined) meter.begin(options.model);

  const tally = new TokenTally();
  let cursor: SourceCursor<T> | undefined;
  try {
    cursor = new SourceCursor(source[Symbol.asyncIterator](), {
      signal: options.signal,
      onAbort: () => meter.end(),
    });

    for (;;) {
      const result = await cursor.next();
      if (result.done) return;

      meter.begin(readModel(result.value));
      tally.add(result.value);
      meter.report(tally.counts);
      yield result.value;
    }
  } finally {
    meter.end();
    await cursor?.release();
  }
}
