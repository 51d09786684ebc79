import type { Publisher, PublisherStats } from '@metering-hub/shared';

export type PublisherCall =
  | { method: 'begin'; id: string; model: string | undefined }
  | { method: 'token' | 'reasoning'; id: string; running: number }
  | { method: 'end'; id: string };

/** A Publisher that only records its calls, for assertions. */
export class RecordingPublisher implements Publisher {
  readonly calls: PublisherCall[] = [];
  readonly ready = true;
  readonly stats: PublisherStats = { messagesSent: 0, publishFailures: 0, callsIgnored: 0, pending: 0 };

  begin(id: string, info: { model?: string } = {}): void {
    this.calls.push({ method: 'begin', id, model: info.model });
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

  /** Number of calls of one method. */
  count(method: PublisherCall['method']): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  /** Running values passed to `token` or `reasoning`, in call order. */
  runningValues(method: 'token' | 'reasoning'): number[] {
    return this.calls.flatMap((call) => (call.method === method ? [call.running] : []));
  }

  /** Latest running counts, 0 before the first call. */
  counts(): { out: number; reasoning: number } {
    return {
      out: this.runningValues('token').at(-1) ?? 0,
      reasoning: this.runningValues('reasoning').at(-1) ?? 0,
    };
  }

  /** Ids of the streams this publisher was asked to begin. */
  begunIds(): string[] {
    return this.calls.filter((call) => call.method === 'begin').map((call) => call.id);
  }
}

/** Creates `count` recording publishers, one per simulated node. */
export function createPublishers(count: number): RecordingPublisher[] {
  return Array.from({ length: count }, () => new RecordingPublisher());
}

/** A Publisher whose every call throws, as a broken implementation might. */
export class ThrowingPublisher extends RecordingPublisher {
  override begin(id: string, info?: { model?: string }): void {
    super.begin(id, info);
    throw new Error('begin failed');
  }

  override token(id: string, runningOutput: number): void {
    super.token(id, runningOutput);
    throw new Error('token failed');
  }

  override reasoning(id: string, runningReasoning: number): void {
    super.reasoning(id, runningReasoning);
    throw new Error('reasoning failed');
  }

  override end(id: string): void {
    super.end(id);
    throw new Error('end failed');
  }
}
