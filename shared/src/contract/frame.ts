/**
 * What every dashboard receives once per tick. Rates are tokens per
 * second, rounded to one decimal.
 */
export interface MeteringFrame {
  /** Mean of the per-stream rates: what one user sees. */
  tps: number;
  /** Highest reading of the last 60 minutes at or above 1 tok/s, else 0. */
  high: number;
  /** Lowest reading of the last 60 minutes at or above 1 tok/s, else 0. */
  low: number;
  /** Streams in flight, including those that have no rate yet. */
  active: number;
  /** Hub wall-clock time of the snapshot, ms since the epoch. */
  at: number;
}

/** Socket.IO room whose members get a `metering` event per tick. */
export const METERING_ROOM = 'metering';

/** Error returned in place of a frame, with a stable code. */
export interface ErrorReply {
  error: { code: string; message: string };
}

/** Events the hub emits to Socket.IO clients. */
export interface ServerToClientEvents {
  /** The frame of a tick, sent to the `metering` room. */
  metering: (frame: MeteringFrame) => void;
}

/** Events a Socket.IO client may emit to the hub. */
export interface ClientToServerEvents {
  /**
   * Joins a room. The acknowledgement gets the latest frame at once, or an
   * error reply for an unknown room.
   */
  subscribe: (room: string, ack: (reply: MeteringFrame | ErrorReply) => void) => void;
}
