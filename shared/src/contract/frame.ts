/**
 * Frame every dashboard receives once per tick, whatever the transport.
 * Rates are tokens per second, rounded to one decimal.
 */
export interface MeteringFrame {
  /** Mean of the per-stream rates: what one user sees. */
  tps: number;
  /** Highest `tps` reading of the last 60 minutes at or above 1 tok/s, else 0. */
  high: number;
  /** Lowest `tps` reading of the last 60 minutes at or above 1 tok/s, else 0. */
  low: number;
  /** Streams in flight, including those that have no rate yet. */
  active: number;
  /** Hub wall-clock time of the snapshot, ms since the epoch. */
  at: number;
  /** Sum of the per-stream rates: what the fleet delivers. */
  total: number;
  /** Visible-output part of `tps`. */
  outTps: number;
  /** Reasoning part of `tps`, so a thinking model neither looks slow nor fast. */
  reasoningTps: number;
  /** Time to first token of the streams whose first token came in the last 60 s. */
  ttft: TtftFigures;
  /** The 50 busiest nodes by total rate, then one `(other)` entry for the rest. */
  nodes: GroupFigures[];
  /** The 50 busiest model labels likewise; streams without a model are left out. */
  models: GroupFigures[];
  /** False while the hub is not subscribed to the bus (Redis down). */
  busReady: boolean;
  /**
   * True while the hub hears nothing from the nodes: the figures are the
   * last ones measured, repeated, rather than every stream shown idle.
   */
  stale: boolean;
}

/** Time to first token, from each stream's `beganAt` and `firstAt`. */
export interface TtftFigures {
  /** Median, ms; 0 without samples. */
  p50: number;
  /** 95th percentile, ms; 0 without samples. */
  p95: number;
  /** Streams measured. */
  samples: number;
}

/** Figures of one node or one model label. */
export interface GroupFigures {
  /** Node id or model label; `(other)` on the entry that sums the rest. */
  key: string;
  /** Mean of the group's per-stream rates. */
  tps: number;
  /** Sum of the group's per-stream rates. */
  total: number;
  active: number;
  /** Present, and true, on the entry that sums the groups past the 50th. */
  other?: true;
}

/** Figures of one node or one model, sent to its own room per tick. */
export interface SliceFrame {
  scope: 'node' | 'model';
  key: string;
  tps: number;
  total: number;
  active: number;
  at: number;
}

/** Socket.IO room whose members get a `metering` event per tick. */
export const METERING_ROOM = 'metering';
/** Prefix of the per-node rooms: `metering:node:<node id>`. */
export const NODE_ROOM_PREFIX = 'metering:node:';
/** Prefix of the per-model rooms: `metering:model:<model label>`. */
export const MODEL_ROOM_PREFIX = 'metering:model:';

/** Error returned in place of a frame, with a stable code. */
export interface ErrorReply {
  error: { code: string; message: string };
}

/** Events the hub emits to Socket.IO clients. */
export interface ServerToClientEvents {
  /** The frame of a tick, sent to the `metering` room. */
  metering: (frame: MeteringFrame) => void;
  /** The figures of one node or model, sent to its room per tick. */
  'metering:slice': (frame: SliceFrame) => void;
}

/** Events a Socket.IO client may emit to the hub. */
export interface ClientToServerEvents {
  /**
   * Joins a room: `metering`, `metering:node:<id>` or `metering:model:<name>`.
   * The acknowledgement gets the latest frame (or slice) at once, or an
   * error reply for an invalid room.
   */
  subscribe: (room: string, ack: (reply: MeteringFrame | SliceFrame | ErrorReply) => void) => void;
}

/** A frame on the plain WebSocket at `/ws`: JSON text. */
export type WebSocketFrame = { type: 'metering' } & MeteringFrame;

/** One point of `GET /history`. */
export interface HistoryPoint {
  /** Hub wall-clock time, ms since the epoch. */
  at: number;
  tps: number;
  total: number;
}
