import type { MeteringFrame } from '@metering-hub/shared';

/**
 * A tick's frame with its wire encodings, each made on first use and then
 * shared by every client of every transport: one JSON encoding per tick,
 * whatever the number of clients.
 */
export class EncodedFrame {
  private jsonText: string | undefined;
  private webSocketData: Buffer | undefined;
  private eventStreamData: Buffer | undefined;

  /**
   * @param frame the figures of the tick
   * @param id tick number, the `id:` of the server-sent event
   * @param onEncode called once per JSON encoding, for counting
   */
  constructor(
    readonly frame: MeteringFrame,
    readonly id: number,
    private readonly onEncode: () => void = () => {},
  ) {}

  /** The frame as JSON. */
  get json(): string {
    if (this.jsonText === undefined) {
      this.jsonText = JSON.stringify(this.frame);
      this.onEncode();
    }
    return this.jsonText;
  }

  /** `{"type":"metering",...}` as UTF-8, for the plain WebSocket. */
  get webSocket(): Buffer {
    this.webSocketData ??= Buffer.from(`{"type":"metering",${this.json.slice(1)}`);
    return this.webSocketData;
  }

  /** The server-sent event, as UTF-8. */
  get eventStream(): Buffer {
    this.eventStreamData ??= Buffer.from(`id: ${this.id}\nevent: metering\ndata: ${this.json}\n\n`);
    return this.eventStreamData;
  }
}
