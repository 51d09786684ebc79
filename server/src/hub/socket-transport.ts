import { type Server as HttpServer, ServerResponse } from 'node:http';

import {
  type ClientToServerEvents,
  type ErrorReply,
  type Logger,
  METERING_ROOM,
  type MeteringFrame,
  MODEL_ROOM_PREFIX,
  NODE_ROOM_PREFIX,
  type ServerToClientEvents,
  type SliceFrame,
} from '@metering-hub/shared';
import { Server, type Socket } from 'socket.io';

import { type AccessControl, bearerToken } from './access.js';
import type { EncodedFrame } from './encoded-frame.js';
import type { FrameTransport, TransportEvents } from './transport.js';

export interface SocketTransportOptions extends TransportEvents {
  httpServer: HttpServer;
  logger: Logger;
  /** The frame of the latest tick, for the acknowledgement of `subscribe`. */
  latestFrame: () => MeteringFrame;
  /** The figures of one node or model at the latest tick. */
  slice: (scope: SliceFrame['scope'], key: string) => SliceFrame;
  access: AccessControl;
}

type HubSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

// Contains, during one broadcast, the sockets still busy with an earlier
// write. No client can subscribe to it: `subscribe` takes only the
// metering room and the slice prefixes.
const BUSY_ROOM = 'hub:busy';

const SLICE_PREFIXES = [[NODE_ROOM_PREFIX, 'node'], [MODEL_ROOM_PREFIX, 'model']] as const;
// Node ids are at most 128 characters and model labels 128.
const MAX_ROOM_LENGTH = MODEL_ROOM_PREFIX.length + 128;

/**
 * Socket.IO dashboards: a client emits `subscribe` with a room name and
 * gets a `metering` event (or `metering:slice` in a node or model room)
 * per tick.
 */
export class SocketTransport implements FrameTransport {
  readonly name = 'socket.io' as const;

  private readonly options: SocketTransportOptions;
  private readonly io: Server<ClientToServerEvents, ServerToClientEvents>;
  private readonly log: Logger;

  constructor(options: SocketTransportOptions) {
    this.options = options;
    this.log = options.logger.child({ module: 'socket-io' });
    // Upgrades to other paths (the plain WebSocket) are left to the hub.
    // The origin is checked on every request of the handshake, the token
    // once per connection.
    const { access } = options;
    this.io = new Server(options.httpServer, {
      serveClient: false,
      destroyUpgrade: false,
      // HTTP long-polling from another origin needs CORS headers.
      ...(access.extraOrigins.length > 0
        ? { cors: { origin: access.extraOrigins.includes('*') ? true : access.extraOrigins } }
        : {}),
      allowRequest: (request, callback) => {
        const denial = access.check(request, undefined);
        callback(denial?.code === 'ORIGIN_NOT_ALLOWED' ? denial.message : null, denial?.code !== 'ORIGIN_NOT_ALLOWED');
      },
    });
    this.io.use((socket, next) => {
      const { auth, query, headers } = socket.handshake;
      let token = bearerToken(headers.authorization);
      if (typeof query.token === 'string') token = query.token;
      if (typeof auth.token === 'string') token = auth.token;
      if (access.tokenMatches(token)) {
        next();
        return;
      }
      const error = new Error(token === undefined ? 'This hub needs a token: connect with auth: { token }.' : 'The token is not valid for this hub.');
      next(Object.assign(error, { data: { code: 'UNAUTHORIZED' } }));
    });

    // For a WebSocket, Engine.IO passes its middlewares a stand-in response
    // that references the upgrade request. A close listener on the TCP
    // socket keeps the stand-in for the life of the connection (engine.io
    // 6.6). Nothing uses the stand-in's request after the upgrade.
    this.io.engine.use((_request: unknown, response: unknown, next: () => void) => {
      if (!(response instanceof ServerResponse)) (response as { req?: unknown }).req = undefined;
      next();
    });

    // Listeners shared by every socket (Socket.IO calls them with the
    // socket as `this`), so a connection adds no closures of its own.
    const transport = this;
    function onSubscribe(this: HubSocket, room: unknown, ack: unknown): void {
      transport.subscribe(this, room, ack);
    }
    // Dashboards cannot write: any event but subscribe is counted and dropped.
    function onAnyEvent(event: string): void {
      if (event !== 'subscribe') options.onIgnoredEvent?.('socket.io');
    }
    this.io.on('connection', (socket) => {
      releaseHandshakeRequest(socket);
      // Socket.IO puts every socket in a room of its own id, for messages to
      // one socket. The hub sends only to its rooms, and that room's set is
      // about 200 B of each connection.
      void socket.leave(socket.id);
      socket.onAny(onAnyEvent);
      socket.on('subscribe', onSubscribe as ClientToServerEvents['subscribe']);
    });
  }

  /**
   * Sends the frame to the metering room and each slice room its slice.
   * Socket.IO encodes a broadcast once for all members of a room. A client
   * whose connection is still busy with an earlier write skips this tick's
   * events instead of queueing them. That check is made once per tick,
   * before any event goes out. Socket.IO's volatile flag checks before
   * each event instead, and a tick's first event to a client makes the
   * next look busy, so a client in several rooms got only one of them.
   */
  broadcast(frame: EncodedFrame): void {
    const namespace = this.io.of('/');
    // Busy sockets join a room that every event of the tick leaves out.
    const busy: HubSocket[] = [];
    for (const socket of namespace.sockets.values()) {
      if (socket.conn.transport.writable) continue;
      busy.push(socket);
      void socket.join(BUSY_ROOM);
    }
    const target = (room: string) => (busy.length > 0 ? this.io.to(room).except(BUSY_ROOM) : this.io.to(room));
    const busySet = new Set(busy.map((socket) => socket.id));
    let sent = 0;
    let skipped = 0;
    const count = (members: Set<string>) => {
      for (const id of members) {
        if (busySet.has(id)) skipped += 1;
        else sent += 1;
      }
    };

    const rooms = namespace.adapter.rooms;
    try {
      const metering = rooms.get(METERING_ROOM);
      if (metering) {
        target(METERING_ROOM).emit('metering', frame.frame);
        count(metering);
      }
      for (const [room, members] of rooms) {
        const slice = parseSliceRoom(room);
        if (!slice) continue;
        target(room).emit('metering:slice', this.options.slice(slice.scope, slice.key));
        count(members);
      }
    } finally {
      for (const socket of busy) void socket.leave(BUSY_ROOM);
    }
    this.options.onSent?.('socket.io', sent);
    if (skipped > 0) this.options.onSkipped?.('socket.io', skipped);
  }

  clientCount(): number {
    return this.io.engine.clientsCount;
  }

  /**
   * Disconnects every client and closes the HTTP server too: Socket.IO
   * closes the server it is attached to. Close other transports first.
   */
  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    // Stop accepting first, then cut every connection: one that is not
    // Socket.IO's (a request whose headers never finish, a browser's spare
    // connection) would otherwise keep the server open.
    const { httpServer } = this.options;
    httpServer.close();
    httpServer.closeAllConnections();
    await this.io.close();
    this.io.removeAllListeners();
  }

  private subscribe(socket: HubSocket, room: unknown, ack: unknown): void {
    try {
      // A client that passes only a callback still gets its error.
      if (typeof room === 'function') {
        (room as (reply: ErrorReply) => void)(this.join(undefined, () => {}) as ErrorReply);
        return;
      }
      const reply = this.join(room, (name) => socket.join(name));
      if (typeof ack === 'function') ack(reply);
    } catch (error) {
      // Events come from untrusted clients; none may take the hub down.
      this.log.warn({ err: error }, 'Subscribe event failed');
    }
  }

  private join(room: unknown, joinRoom: (name: string) => unknown): MeteringFrame | SliceFrame | ErrorReply {
    if (room === METERING_ROOM) {
      joinRoom(room);
      return this.options.latestFrame();
    }

    const target = typeof room === 'string' && room.length <= MAX_ROOM_LENGTH ? parseSliceRoom(room) : undefined;
    if (!target) {
      // Never String(room): a client can send an object whose conversion throws.
      const shown = typeof room === 'string' ? JSON.stringify(room.slice(0, 100)) : `of type ${typeof room}`;
      this.log.debug({ room: shown }, 'Subscribe to an unknown room rejected');
      return {
        error: {
          code: 'UNKNOWN_ROOM',
          message: `Unknown room ${shown}; subscribe to "metering", "${NODE_ROOM_PREFIX}<node id>" or "${MODEL_ROOM_PREFIX}<model>".`,
        },
      };
    }
    joinRoom(room as string);
    return this.options.slice(target.scope, target.key);
  }
}

/**
 * Frees what a connection keeps of its opening HTTP request once the
 * handshake and the token check are done, because nothing reads it later.
 * Engine.IO keeps the request as `conn.request`, and Socket.IO copies its
 * headers, query and address into `handshake`.
 */
function releaseHandshakeRequest(socket: { conn: unknown; handshake: unknown }): void {
  (socket.conn as { request: unknown }).request = null;
  socket.handshake = RELEASED_HANDSHAKE;
}

// Replaces every socket's handshake details (headers, query, auth,
// address, time) once they have been checked. Socket.IO itself reads them
// only to describe sockets of other servers, which this hub never fetches.
const RELEASED_HANDSHAKE = Object.freeze({
  headers: Object.freeze({}),
  time: '',
  address: '',
  xdomain: false,
  secure: false,
  issued: 0,
  url: '',
  query: Object.freeze({}),
  auth: Object.freeze({}),
});

function parseSliceRoom(room: string): { scope: SliceFrame['scope']; key: string } | undefined {
  for (const [prefix, scope] of SLICE_PREFIXES) {
    if (room.startsWith(prefix) && room.length > prefix.length) {
      return { scope, key: room.slice(prefix.length) };
    }
  }
  return undefined;
}
