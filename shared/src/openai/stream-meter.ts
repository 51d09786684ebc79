import type { Publisher } from '../publisher/publisher.js';
import type { TokenCounts } from './chat-chunk.js';

let warnedAboutPublisher = false;

/**
 * The publisher calls of one stream: `begin` and `end` at most once each,
 * counts only when they grow, and no exception out of any call.
 */
export class StreamMeter {
  private state: 'new' | 'open' | 'ended' = 'new';
  private readonly reported: TokenCounts = { out: 0, reasoning: 0 };

  constructor(
    private readonly publisher: Publisher,
    readonly streamId: string,
  ) {}

  /** Begins the stream unless it has begun already. */
  begin(model: string | undefined): void {
    if (this.state !== 'new') return;
    this.state = 'open';
    const info = model === undefined ? {} : { model };
    this.call(() => this.publisher.begin(this.streamId, info));
  }

  /** Reports the counts that exceed the highest reported so far. */
  report(counts: TokenCounts): void {
    if (this.state === 'ended') return;
    this.begin(undefined);

    if (counts.reasoning > this.reported.reasoning) {
      this.reported.reasoning = counts.reasoning;
      this.call(() => this.publisher.reasoning(this.streamId, counts.reasoning));
    }
    if (counts.out > this.reported.out) {
      this.reported.out = counts.out;
      this.call(() => this.publisher.token(this.streamId, counts.out));
    }
  }

  /** Ends the stream, beginning it first if needed, so the two calls pair up. */
  end(): void {
    if (this.state === 'ended') return;
    this.begin(undefined);
    this.state = 'ended';
    this.call(() => this.publisher.end(this.streamId));
  }

  private call(publish: () => void): void {
    try {
      publish();
    } catch (error) {
      // The Publisher contract rules this out, but a custom implementation
      // may break it, and metering must never break the chat response.
      warnOnce(error);
    }
  }
}

function warnOnce(error: unknown): void {
  if (warnedAboutPublisher) return;
  warnedAboutPublisher = true;
  process.emitWarning(
    `A metering publisher call threw and was ignored: ${String(error)}. `
      + 'Later errors of this kind are ignored without a warning.',
    { code: 'METERING_PUBLISHER_THREW' },
  );
}
