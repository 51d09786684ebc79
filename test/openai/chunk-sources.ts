export interface ScriptedSourceOptions {
  /** Rejects the read of this chunk index with `error`. @default none */
  failAt?: number;
  /** The error of the failing read. @default an Error */
  error?: unknown;
  /** Leaves the read of this chunk index pending for ever. @default none */
  stallAt?: number;
}

/**
 * An async iterable over fixed items that counts `next()` and `return()`
 * calls, so tests can see whether the upstream request would be released.
 * Unlike an async generator, its `return()` settles at once even while a
 * read is pending, as an HTTP body reader's cancel does.
 */
export class ScriptedSource<T> implements AsyncIterable<T> {
  nextCalls = 0;
  returnCalls = 0;

  constructor(
    private readonly items: readonly T[],
    private readonly options: ScriptedSourceOptions = {},
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<T> {
    let index = 0;
    return {
      next: () => {
        this.nextCalls += 1;
        const current = index;
        index += 1;
        if (current === this.options.stallAt) return new Promise(() => {});
        if (current === this.options.failAt) {
          return Promise.reject(this.options.error ?? new Error('upstream failed'));
        }
        const item = this.items[current];
        return Promise.resolve(
          current < this.items.length
            ? { done: false, value: item as T }
            : { done: true, value: undefined },
        );
      },
      return: () => {
        this.returnCalls += 1;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
