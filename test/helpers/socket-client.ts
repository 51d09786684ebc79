import type { ClientToServerEvents, ErrorReply, MeteringFrame, ServerToClientEvents } from '@metering-hub/shared';
import { io, type Socket } from 'socket.io-client';

export type DashboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Dashboard {
  socket: DashboardSocket;
  /** Frames received as `metering` events, in order. */
  frames: MeteringFrame[];
  /** The acknowledgement of `subscribe`. */
  reply: MeteringFrame | ErrorReply;
}

/** Connects a socket.io-client to the hub and subscribes it to a room. */
export async function connectDashboard(port: number, room = 'metering'): Promise<Dashboard> {
  const socket: DashboardSocket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const frames: MeteringFrame[] = [];
  socket.on('metering', (frame) => frames.push(frame));

  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const reply = await socket.timeout(10_000).emitWithAck('subscribe', room);
  return { socket, frames, reply };
}
