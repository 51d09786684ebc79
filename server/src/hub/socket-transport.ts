import type { Server as HttpServer } from 'node:http';

import {
  type ClientToServerEvents,
  type ErrorReply,
  type Logger,
  METERING_ROOM,
  type MeteringFrame,
  type ServerToClientEvents,
} from '@metering-hub/shared';
import { Server } from 'socket.io';

export interface SocketTransportOptions {
  httpServer: HttpServer;
  logger: Logger;
  /** Latest frame, for the acknowledgement of `subscribe`. */
  latestFrame: () => MeteringFrame;
}

/**
 * Socket.IO dashboards: a client emits `subscribe` with "metering", joins
 * the room, and gets a `metering` event per tick.
 */
export class SocketTransport {
  private readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  private readonly log: Logger;

  constructor(options: SocketTransportOptions) {
    this.log = options.logger.child({ module: 'socket-io' });
    // No CORS headers are sent, so browsers allow only same-origin pages.
    this.io = new Server(options.httpServer, { serveClient: false });

    this.io.on('connection', (socket) => {
      socket.on('subscribe', (room, ack) => {
        const reply = this.join(room, (name) => socket.join(name), options.latestFrame);
        if (typeof ack === 'function') ack(reply);
      });
    });
  }

  /** Sends a frame to the room. Socket.IO encodes it once for all members. */
  broadcast(frame: MeteringFrame): void {
    this.io.to(METERING_ROOM).emit('metering', frame);
  }

  get clientCount(): number {
    return this.io.engine.clientsCount;
  }

  /**
   * Disconnects every client and closes the HTTP server too: Socket.IO
   * closes the server it is attached to. Close other transports first.
   */
  async close(): Promise<void> {
    await this.io.close();
    this.io.removeAllListeners();
  }

  private join(
    room: unknown,
    joinRoom: (name: string) => unknown,
    latestFrame: () => MeteringFrame,
  ): MeteringFrame | ErrorReply {
    if (room !== METERING_ROOM) {
      this.log.debug({ room: String(room).slice(0, 100) }, 'Subscribe to an unknown room rejected');
      return {
        error: { code: 'UNKNOWN_ROOM', message: `Unknown room ${JSON.stringify(String(room).slice(0, 100))}; subscribe to "metering".` },
      };
    }
    joinRoom(room);
    return latestFrame();
  }
}
