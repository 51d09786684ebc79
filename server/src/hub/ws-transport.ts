import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import { type Logger, LogThrottle } from '@metering-hub/shared';
import { type WebSocket, WebSocketServer } from 'ws';

import { Backpressure, type BackpressureOptions } from './backpressure.js';
import type { EncodedFrame } from './encoded-frame.js';
import type { FrameTransport, TransportEvents } from './transport.js';

export interface WsTransportOptions extends BackpressureOptions, TransportEvents {
  logger: Logger;
  /** The frame of the latest tick, sent to each client on connect. */
  latestFrame: () => EncodedFrame;
  /**
   * Ms between pings. A client whose pong for the previous ping has not
   * arrived by the next one is disconnected. @default 30_000
   */
  heartbeatMs?: number;
}

// Ms a client has to complete the closing handshake before it is cut off.
const CLOSE_GRACE_MS = 1_000;

// Dashboards only receive; the largest message a client may send.
const MAX_CLIENT_MESSAGE_BYTES = 4_096;

/**
 * Plain WebSocket dashboards at `/ws`: JSON text frames
 * `{"type":"metering", ...}`, the latest one on connect.
 */
export class WsTransport implements FrameTransport {
  readonly name = 'ws' as const;

  private readonly options: WsTransportOptions;
  private readonly log: Logger;
  private readonly dropLogs = new LogThrottle();
  private readonly server: WebSocketServer;
  private readonly backpressure: Backpressure;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(options: WsTransportOptions) {
    this.options = options;
    this.log = options.logger.child({ module: 'ws' });
    this.backpressure = new Backpressure(options);
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    this.server.on('connection', (socket) => this.onConnection(socket));
    this.heartbeat = setInterval(() => this.pingAll(), options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  /** Takes over an HTTP upgrade request for `/ws`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.handleUpgrade(request, socket, head, (client) => this.server.emit('connection', client, request));
  }

  broadcast(frame: EncodedFrame): void {
    let sent = 0;
    let skipped = 0;
    for (const client of this.server.clients) {
      if (client.readyState !== client.OPEN) continue;

      const decision = this.backpressure.decide(client, client.bufferedAmount);
      if (decision === 'drop') {
        this.drop(client, 'slow');
      } else if (decision === 'skip') {
        skipped += 1;
      } else {
        client.send(frame.webSocket, { binary: false });
        sent += 1;
      }
    }
    this.options.onSent?.('ws', sent);
    if (skipped > 0) this.options.onSkipped?.('ws', skipped);
  }

  clientCount(): number {
    return this.server.clients.size;
  }

  /** Closes every client with 1001 (going away) and stops the heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const client of this.server.clients) client.close(1001, 'hub shutting down');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A client that does not complete the closing handshake in time is
    // cut off, so it cannot hold the shutdown.
    const grace = setTimeout(() => {
      for (const client of this.server.clients) client.terminate();
    }, CLOSE_GRACE_MS);
    await closed;
    clearTimeout(grace);
  }

  private onConnection(socket: WebSocket): void {
    this.alive.add(socket);
    socket.on('pong', () => this.alive.add(socket));
    // Dashboards cannot write: whatever a client sends is counted and dropped.
    socket.on('message', () => {
      this.options.onIgnoredEvent?.('ws');
    });
    socket.on('error', (error) => {
      this.log.debug({ err: error }, 'WebSocket client error');
    });
    socket.send(this.options.latestFrame().webSocket, { binary: false });
  }

  private pingAll(): void {
    for (const client of this.server.clients) {
      if (!this.alive.has(client)) {
        this.drop(client, 'dead');
        continue;
      }
      this.alive.delete(client);
      client.ping();
    }
  }

  private drop(client: WebSocket, reason: 'slow' | 'dead'): void {
    // A network fault can drop hundreds at once: one line a minute per
    // reason, with the count of those not logged. The metric counts all.
    const heldBack = this.dropLogs.admit(reason);
    if (heldBack !== undefined) this.log.info({ reason, heldBack }, 'WebSocket dashboard disconnected');
    this.options.onDropped?.('ws', reason);
    client.terminate();
  }
}
