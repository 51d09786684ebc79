import type { Publisher, PublisherStats } from '@metering-hub/shared';

/** One call a recording publisher received. */
export type PublisherCall =
  | { method: 'begin' | 'end'; id: string }
  | { method: 'token' | 'reasoning'; id: string; running: number };

/** A publisher that stores its calls in order and sends nothing. */
export class RecordingPublisher implements Publisher {
  readonly calls: PublisherCall[] = [];
  readonly ready = true;
  readonly stats: PublisherStats = {
    messagesSent: 0,
    publishFailures: 0,
    callsIgnored: 0,
    pending: 0,
  };

  begin(id: string): void {
    this.calls.push({ method: 'begin', id });
  }

  token(id: string, runningOutput: number): void {
    this.calls.push({ method: 'token', id, running: runningOutput });
  }

  reasoning(id: string, runningReasoning: number): void {
    this.calls.push({ method: 'reasoning', id, running: runningReasoning });
  }

  end(id: string): void {
    this.calls.push({ method: 'end', id });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  /** Ids of the streams this publisher was asked to begin. */
  begunIds(): string[] {
    return this.calls.filter((call) => call.method === 'begin').map((call) => call.id);
  }
}

export function createPublishers(count: number): RecordingPublisher[] {
  return Array.from({ length: count }, () => new RecordingPublisher());
}
