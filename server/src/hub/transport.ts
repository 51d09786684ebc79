import type { EncodedFrame } from './encoded-frame.js';

/** Names of the ways dashboards receive frames. */
export type TransportName = 'socket.io' | 'ws' | 'sse';

/** Counts a transport reports as it sends. */
export interface TransportEvents {
  /** Frames written to clients. */
  onSent?: (transport: TransportName, count: number) => void;
  /** Frames skipped for clients that are not reading. */
  onSkipped?: (transport: TransportName, count: number) => void;
  /** Clients disconnected for not reading or for missing a pong. */
  onDropped?: (transport: TransportName, reason: 'slow' | 'dead') => void;
  /** Messages or events from a client other than subscribing, ignored. */
  onIgnoredEvent?: (transport: TransportName) => void;
}

/** One way dashboards receive frames. */
export interface FrameTransport {
  readonly name: TransportName;
  /** Sends the tick's frame to every client. */
  broadcast(frame: EncodedFrame): void;
  /** Clients connected now. */
  clientCount(): number;
  /** Disconnects every client and stops every timer. */
  close(): Promise<void>;
}
