import type { IncomingMessage, ServerResponse } from 'node:http';

import { type Logger, LogThrottle } from '@metering-hub/shared';

import { Backpressure, backpressureDefaults, type BackpressureOptions } from './backpressure.js';
import type { EncodedFrame } from './encoded-frame.js';
import type { FrameTransport, TransportEvents } from './transport.js';

export interface SseTransportOptions extends BackpressureOptions, TransportEvents {
  logger: Logger;
  /** The frame of the latest tick, sent on every (re)connect. */
  latestFrame: () => EncodedFrame;
  /** Ms between comment lines that keep idle proxies from closing the stream. @default 15_000 */
  heartbeatMs?: number;
}

const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform and X-Accel-Buffering stop proxies (nginx among them)
  // from compressing or buffering the stream.
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

// EventSource reconnects after this many ms when the stream drops.
const RETRY_MS = 2_000;

/** Server-Sent Events dashboards at `/events`. */
export class SseTransport implements FrameTransport {
  readonly name = 'sse' as const;

  private readonly options: SseTransportOptions;
  private readonly log: Logger;
  private readonly dropLogs = new LogThrottle();
  private readonly backpressure: Backpressure;
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(options: SseTransportOptions) {
    this.options = options;
    this.log = options.logger.child({ module: 'sse' });
    this.backpressure = new Backpressure(options);
    this.heartbeat = setInterval(() => this.writeAll(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Opens an event stream on a `GET /events` request; a HEAD request gets the headers alone. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.closed) {
      // A closing hub takes no new streams; EventSource retries elsewhere
      // or later.
      response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      response.end('The hub is shutting down.\n');
      return;
    }
    if (request.method === 'HEAD') {
      // The headers a stream would have, and no stream: a HEAD request
      // has no body to keep open.
      response.writeHead(200, HEADERS);
      response.end();
      return;
    }
    request.socket.setNoDelay(true);
    response.writeHead(200, HEADERS);
    response.write(`retry: ${RETRY_MS}\n\n`);
    response.write(this.options.latestFrame().eventStream);
    this.clients.add(response);
    response.on('close', () => this.clients.delete(response));
    response.on('error', (error) => this.log.debug({ err: error }, 'Event stream error'));
  }

  broadcast(frame: EncodedFrame): void {
    let sent = 0;
    let skipped = 0;
    for (const client of this.clients) {
      const decision = this.backpressure.decide(client, client.writableLength);
      if (decision === 'drop') {
        const heldBack = this.dropLogs.admit('slow');
        if (heldBack !== undefined) this.log.info({ reason: 'slow', heldBack }, 'Event stream dashboard disconnected');
        this.options.onDropped?.('sse', 'slow');
        this.clients.delete(client);
        client.destroy();
      } else if (decision === 'skip') {
        skipped += 1;
      } else {
        client.write(frame.eventStream);
        sent += 1;
      }
    }
    this.options.onSent?.('sse', sent);
    if (skipped > 0) this.options.onSkipped?.('sse', skipped);
  }

  clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private writeAll(text: string): void {
    const limit = this.options.maxBufferedBytes ?? backpressureDefaults.maxBufferedBytes;
    for (const client of this.clients) {
      if (client.writableLength <= limit) client.write(text);
    }
  }
}
