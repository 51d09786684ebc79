import type { MeteringFrame } from '@metering-hub/shared';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';

export type DashboardKind = 'socket.io' | 'ws' | 'sse';

/** A frame as a soak dashboard received it. */
export interface ReceivedFrame {
  /** performance.now() at receipt, ms. */
  receivedAt: number;
  frame: MeteringFrame;
}

/**
 * A dashboard that stays connected to one hub through faults: it
 * reconnects by itself after the hub or the connection goes away, as a
 * browser page would.
 */
export class SoakDashboard {
  readonly frames: ReceivedFrame[] = [];
  reconnects = 0;
  private stopped = false;
  private socket: Socket | undefined;
  private webSocket: WebSocket | undefined;
  private events: AbortController | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(readonly kind: DashboardKind, private readonly port: number) {}

  start(): void {
    if (this.kind === 'socket.io') this.openSocketIo();
    if (this.kind === 'ws') this.openWebSocket();
    if (this.kind === 'sse') void this.openEventStream();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close();
    this.webSocket?.terminate();
    this.events?.abort();
  }

  private record(frame: MeteringFrame): void {
    this.frames.push({ receivedAt: performance.now(), frame });
  }

  private later(open: () => void): void {
    if (this.stopped) return;
    this.reconnects += 1;
    this.retry = setTimeout(open, 250);
  }

  private openSocketIo(): void {
    const socket = io(`http://127.0.0.1:${this.port}`, { transports: ['websocket'], reconnectionDelayMax: 1_000 });
    socket.on('connect', () => socket.emit('subscribe', 'metering', () => {}));
    socket.on('metering', (frame: MeteringFrame) => this.record(frame));
    socket.io.on('reconnect', () => {
      this.reconnects += 1;
    });
    this.socket = socket;
  }

  private openWebSocket(): void {
    const socket = new WebSocket(`ws://127.0.0.1:${this.port}/ws`);
    socket.on('message', (data) => {
      const { type: _type, ...frame } = JSON.parse(String(data)) as MeteringFrame & { type: string };
      this.record(frame);
    });
    socket.on('error', () => {});
    socket.on('close', () => this.later(() => this.openWebSocket()));
    this.webSocket = socket;
  }

  private async openEventStream(): Promise<void> {
    const controller = new AbortController();
    this.events = controller;
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/events`, { signal: controller.signal });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const data = buffer.slice(0, end).split('\n').find((line) => line.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (data) this.record(JSON.parse(data.slice('data: '.length)) as MeteringFrame);
        }
      }
    } catch {
      // A refused or broken stream is retried below, as EventSource does.
    }
    this.later(() => void this.openEventStream());
  }
}
