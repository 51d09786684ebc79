export interface BackpressureOptions {
  /**
   * Bytes a client may have waiting in its socket buffer. Past it, frames
   * for that client are skipped (the next frame it gets is the latest), so
   * a client that stops reading costs at most this much. @default 1_048_576
   */
  maxBufferedBytes?: number;
  /**
   * Ms a client may stay past the buffer limit before it is disconnected.
   * @default 30_000
   */
  maxBehindMs?: number;
}

export const backpressureDefaults: Required<BackpressureOptions> = {
  maxBufferedBytes: 1_048_576,
  maxBehindMs: 30_000,
};

export type SendDecision = 'send' | 'skip' | 'drop';

/**
 * Decides per client and frame whether to send, skip a frame for a client
 * that is not reading, or drop a client that stopped reading for good.
 */
export class Backpressure {
  private readonly options: Required<BackpressureOptions>;
  private readonly behindSince = new WeakMap<object, number>();

  constructor(options: BackpressureOptions = {}, private readonly now: () => number = () => performance.now()) {
    this.options = { ...backpressureDefaults, ...options };
  }

  decide(client: object, bufferedBytes: number): SendDecision {
    if (bufferedBytes <= this.options.maxBufferedBytes) {
      this.behindSince.delete(client);
      return 'send';
    }

    const now = this.now();
    const since = this.behindSince.get(client);
    if (since === undefined) {
      this.behindSince.set(client, now);
      return 'skip';
    }
    return now - since > this.options.maxBehindMs ? 'drop' : 'skip';
  }
}
