import { type Bus, BusError, type MessageListener } from './bus.js';

/**
 * An in-process bus for a hub and its nodes in one process (the demo, tests,
 * single-machine use). Delivery is asynchronous and in publish order, like
 * Redis pub/sub, so code that works on one works on the other.
 */
export class MemoryBus implements Bus {
  private readonly listeners = new Map<string, Set<MessageListener>>();
  private readonly readyListeners = new Set<(ready: boolean) => void>();
  private readonly queue: { channel: string; message: string }[] = [];
  private drainScheduled: NodeJS.Immediate | undefined;
  private closed = false;

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) {
      throw new BusError('BUS_CLOSED', 'Cannot publish: the in-process bus is closed.');
    }
    this.queue.push({ channel, message });
    this.drainScheduled ??= setImmediate(() => this.drain());
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    if (this.closed) {
      throw new BusError('BUS_CLOSED', 'Cannot subscribe: the in-process bus is closed.');
    }
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
  }

  isReady(): boolean {
    return !this.closed;
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** Delivers what is queued, then stops delivery. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.drainScheduled) clearImmediate(this.drainScheduled);
    this.drain();
    this.listeners.clear();
    for (const listener of this.readyListeners) listener(false);
    this.readyListeners.clear();
  }

  private drain(): void {
    this.drainScheduled = undefined;
    // Messages published by a listener during the drain wait for the next
    // turn of the event loop, as they would on a network.
    const batch = this.queue.splice(0, this.queue.length);
    for (const { channel, message } of batch) {
      for (const listener of this.listeners.get(channel) ?? []) {
        listener(message);
      }
    }
  }
}
