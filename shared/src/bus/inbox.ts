export interface InboxOptions {
  /**
   * Maximum time of one run of deliveries before the inbox yields to the
   * event loop, in ms. One socket read can bring hundreds of messages, and
   * delivered in one go they would hold back timers and client sockets for
   * tens of ms.
   * @default 4
   */
  sliceMs?: number;
  /**
   * Bytes (string length) of waiting messages above which the source is
   * paused, so that a reader slower than the broker leaves the backlog on
   * the broker's side instead of in this process. Waiting messages live
   * long enough to be promoted out of V8's young generation, so a larger
   * backlog here costs longer garbage collections: in the ingest benchmark,
   * 1 MiB spent 2.6 times as long in scavenges as 256 KiB.
   * @default 262_144
   */
  maxQueuedBytes?: number;
  /** Clock for the slices, in ms. @default performance.now */
  now?: () => number;
}

/** Source of the inbox's messages: a socket that can stop reading. */
export interface InboxSource {
  pause(): void;
  resume(): void;
}

/**
 * Messages read from a connection wait here, in arrival order, and are
 * handed to `deliver` in slices of at most `sliceMs`, with a turn of the
 * event loop between slices. While more than `maxQueuedBytes` wait, the
 * source is paused.
 */
export class Inbox {
  private readonly sliceMs: number;
  private readonly maxQueuedBytes: number;
  private readonly now: () => number;
  private queue: { channel: string; message: string }[] = [];
  private head = 0;
  private queuedBytes = 0;
  private pausedSource: InboxSource | undefined;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly deliver: (channel: string, message: string) => void,
    options: InboxOptions = {},
  ) {
    this.sliceMs = options.sliceMs ?? 4;
    this.now = options.now ?? (() => performance.now());
    this.maxQueuedBytes = options.maxQueuedBytes ?? 262_144;
  }

  /** Messages waiting. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Whether the source is paused now. */
  get paused(): boolean {
    return this.pausedSource !== undefined;
  }

  push(channel: string, message: string, source: InboxSource): void {
    this.queue.push({ channel, message });
    this.queuedBytes += message.length;
    // A source other than the paused one is a new connection after a
    // reconnect. The old socket is gone, so it needs no resume.
    if (this.queuedBytes > this.maxQueuedBytes && this.pausedSource !== source) {
      this.pausedSource = source;
      source.pause();
    }
    this.scheduled ??= setImmediate(() => this.drainSlice());
  }

  /** Delivers everything still waiting, now, and resumes the source. */
  flush(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.drain(Number.POSITIVE_INFINITY);
    this.resumeSource();
  }

  /** Drops everything waiting and clears the paused source, for a bus that is closing. */
  clear(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.pausedSource = undefined;
  }

  private drainSlice(): void {
    this.scheduled = undefined;
    this.drain(this.now() + this.sliceMs);
    // Reading resumes once half the limit is left, so the next reads arrive
    // while the rest is delivered instead of after it.
    if (this.queuedBytes <= this.maxQueuedBytes / 2) this.resumeSource();
    if (this.size > 0) this.scheduled = setImmediate(() => this.drainSlice());
  }

  private drain(deadline: number): void {
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as { channel: string; message: string };
      this.head += 1;
      this.queuedBytes -= next.message.length;
      this.deliver(next.channel, next.message);
      if (this.now() >= deadline) break;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private resumeSource(): void {
    const source = this.pausedSource;
    this.pausedSource = undefined;
    source?.resume();
  }
}
