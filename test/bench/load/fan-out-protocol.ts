// Messages between the fan-out and connection-memory scenarios and the
// child processes they start.

export type TransportKind = 'socket.io' | 'ws' | 'sse';

export interface HubRequest {
  id: number;
  /** `reset` starts a measurement window, `gc` forces two full collections first. */
  type: 'report' | 'reset' | 'gc' | 'stop';
}

/** What a hub child measured since its last `reset`. */
export interface HubReport {
  /** Time of each transport's synchronous `broadcast`, one entry per tick, ms. */
  sendMs: Record<TransportKind, number[]>;
  /** Time from the end of a tick until the event loop is free again, ms. */
  busyMs: number[];
  ticks: number;
  frameEncodings: number;
  frameBuilds: number;
  /** Bytes of the plain-WebSocket encoding of the latest frame. */
  frameBytes: number;
  clients: Record<TransportKind, number>;
  heapUsedBytes: number;
}

/** What a bare `ws` server child measured since its last `reset`. */
export interface BareReport {
  sendMs: number[];
  busyMs: number[];
  clients: number;
}

/** Tick-to-client latency a client child recorded while `recording` was on. */
export interface ClientReport {
  connected: number;
  failed: number;
  frames: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
