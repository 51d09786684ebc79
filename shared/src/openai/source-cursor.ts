export interface SourceCursorOptions {
  /** Aborting stops the reading and releases the source. @default none */
  signal?: AbortSignal;
  /** Called once when the signal aborts during the reading. @default none */
  onAbort?: () => void;
}

/**
 * Reads an async iterator one step at a time, gives up on an abort signal,
 * and releases the iterator with `return()` when it is left before its end,
 * as `for await` does on `break`.
 */
export class SourceCursor<T> {
  private finished = false;
  private released = false;
  private readonly signal: AbortSignal | undefined;
  private readonly aborted: Promise<never> | undefined;
  private removeAbortListener = () => {};

  constructor(
    private readonly iterator: AsyncIterator<T>,
    options: SourceCursorOptions = {},
  ) {
    this.signal = options.signal;
    this.aborted = this.watchAbort(options.onAbort);
  }

  /**
   * Reads the next item. Rejects with the source's own error, or with the
   * signal's reason once it aborts, even while the source is still waiting.
   */
  async next(): Promise<IteratorResult<T>> {
    this.signal?.throwIfAborted();
    const step = this.iterator.next().then(
      (result) => {
        if (result.done) this.finished = true;
        return result;
      },
      (error: unknown) => {
        // An iterator that threw is done, and `return()` is not called on it.
        this.finished = true;
        throw error;
      },
    );
    return this.aborted ? Promise.race([step, this.aborted]) : step;
  }

  /**
   * Calls the iterator's `return()` unless it finished or was released, and
   * waits for it. Errors of `return()` reach the caller.
   */
  async release(): Promise<void> {
    this.removeAbortListener();
    if (this.finished || this.released) return;
    this.released = true;
    await this.iterator.return?.();
  }

  private watchAbort(onAbort: (() => void) | undefined): Promise<never> | undefined {
    const signal = this.signal;
    // An aborted signal makes `next()` throw before it reads, and the caller
    // releases the source then.
    if (!signal || signal.aborted) return undefined;

    let listener = () => {};
    const aborted = new Promise<never>((_resolve, reject) => {
      listener = () => {
        onAbort?.();
        this.releaseInBackground();
        reject(signal.reason);
      };
    });
    // The promise is raced only while a read is pending, so a rejection at
    // any other time is expected and must not count as unhandled.
    aborted.catch(() => {});

    signal.addEventListener('abort', listener, { once: true });
    this.removeAbortListener = () => signal.removeEventListener('abort', listener);
    return aborted;
  }

  private releaseInBackground(): void {
    // A `next()` may still be pending, and an async generator runs
    // `return()` only after it, so waiting here could hang on a stalled
    // source. Whatever `return()` throws is of no use once aborted.
    this.release().catch(() => {});
  }
}
