import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a local port. `pause()` stops
 * forwarding in both directions but keeps every socket open, as a network
 * path that silently drops packets would: neither end receives a FIN or a reset.
 * Connections accepted while paused are held the same way.
 */
export class PausableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private paused = false;

  private constructor(server: Server, readonly port: number) {
    this.server = server;
  }

  /** Starts a proxy to `targetPort` on `port`, 0 for a free one. */
  static async start(targetPort: number, port = 0): Promise<PausableProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const proxy = new PausableProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.forward(client, targetPort));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  pause(): void {
    this.paused = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.paused = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(from);
      from.on('data', (chunk) => to.write(chunk));
      from.on('end', () => to.end());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      // A reset on one side closes the other through 'close'.
      from.on('error', () => {});
      if (this.paused) from.pause();
    }
  }
}
