import { type Bus, BusError, type MessageListener } from '@metering-hub/shared';

/** A bus whose connection the test turns off and on, recording what it sent. */
export class SwitchableBus implements Bus {
  readonly sent: { channel: string; message: string }[] = [];
  up = true;
  private readonly listeners = new Set<(ready: boolean) => void>();

  async publish(channel: string, message: string): Promise<void> {
    if (!this.up) throw new BusError('BUS_NOT_READY', 'switched off by the test');
    this.sent.push({ channel, message });
  }

  async subscribe(_channel: string, _listener: MessageListener): Promise<void> {}

  isReady(): boolean {
    return this.up;
  }

  setUp(up: boolean): void {
    this.up = up;
    for (const listener of this.listeners) listener(up);
  }

  onReadyChange(listener: (ready: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}

  /** Messages sent so far, parsed. */
  messages(): { node: string; streams: Record<string, unknown>[]; bye?: boolean }[] {
    return this.sent.map((entry) => JSON.parse(entry.message));
  }
}
