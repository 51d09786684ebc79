import { UPDATE_MESSAGE_VERSION } from '../contract/update-message.js';

export interface BatchLimits {
  /** Maximum stream entries in one message. */
  maxStreams: number;
  /** Maximum message length in UTF-16 code units, as the hub measures it. */
  maxChars: number;
}

/** One encoded message and the entries it carries. */
export interface EncodedBatch<T> {
  text: string;
  entries: T[];
}

/**
 * Encodes stream entries into as few messages as the limits allow, in
 * order. Each entry is encoded once; a message is the entries joined, so
 * its size is known before it is sent. `bye` goes on the last message, and
 * a bye with no entries still makes one message.
 */
export function encodeBatches<T extends { id: string }>(
  node: string,
  entries: readonly T[],
  limits: BatchLimits,
  bye = false,
): EncodedBatch<T>[] {
  const head = `{"v":${UPDATE_MESSAGE_VERSION},"node":${JSON.stringify(node)},"streams":[`;
  const batches: { parts: string[]; entries: T[]; length: number }[] = [];
  let current = { parts: [] as string[], entries: [] as T[], length: head.length };

  for (const entry of entries) {
    const part = JSON.stringify(entry);
    // The tail is at most `],"bye":true}`, and a comma precedes each part.
    const grown = current.length + part.length + 1 + 13;
    if (current.parts.length > 0 && (current.parts.length >= limits.maxStreams || grown > limits.maxChars)) {
      batches.push(current);
      current = { parts: [], entries: [], length: head.length };
    }
    current.parts.push(part);
    current.entries.push(entry);
    current.length += part.length + 1;
  }
  if (current.parts.length > 0 || bye || batches.length === 0) batches.push(current);

  return batches.map((batch, index) => {
    const tail = bye && index === batches.length - 1 ? '],"bye":true}' : ']}';
    return { text: `${head}${batch.parts.join(',')}${tail}`, entries: batch.entries };
  });
}
