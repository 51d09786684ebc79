/**
 * The transport between chat nodes and hubs: publish/subscribe on named
 * channels, at most once, in order per publisher. Two implementations keep
 * this contract: Redis pub/sub and an in-process bus.
 */
export interface Bus {
  /**
   * Publishes one message. Rejects with a `BusError` of code
   * `BUS_NOT_READY` while the broker cannot be reached, so the caller keeps
   * the message instead of a hidden queue growing.
   */
  publish(channel: string, message: string): Promise<void>;

  /**
   * Delivers every later message of the channel to the listener until
   * `close()`. Resolves once the subscription is in place.
   */
  subscribe(channel: string, listener: MessageListener): Promise<void>;

  /** Whether the broker can be reached now. */
  isReady(): boolean;

  /**
   * Calls the listener each time readiness changes. Returns a function that
   * removes the listener.
   */
  onReadyChange(listener: (ready: boolean) => void): () => void;

  /** Stops delivery and releases every connection the bus opened. */
  close(): Promise<void>;
}

export type MessageListener = (message: string) => void;

/**
 * `BUS_NOT_READY`: the broker cannot be reached now; try again later.
 * `BUS_PUBLISH_REJECTED`: the broker refused the message, for example for
 * lack of permission; retrying will not help.
 * `BUS_CLOSED`: the bus was closed.
 */
export type BusErrorCode = 'BUS_NOT_READY' | 'BUS_PUBLISH_REJECTED' | 'BUS_CLOSED';

export class BusError extends Error {
  override readonly name = 'BusError';

  constructor(readonly code: BusErrorCode, message: string) {
    super(message);
  }
}
