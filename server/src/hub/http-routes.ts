import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AccessControl } from './access.js';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface HttpHandlerOptions {
  routes: Record<string, RouteHandler>;
  /** Paths anyone may read, such as health checks; the rest need `access`. */
  publicPaths: ReadonlySet<string>;
  access: AccessControl;
  onError: (error: unknown) => void;
}

/**
 * Builds the request handler of the hub's HTTP routes, by exact path.
 * Socket.IO handles its own path on the same server before this handler
 * receives a request. Only GET and HEAD are served, and OPTIONS for CORS.
 */
export function createHttpHandler({ routes, publicPaths, access, onError }: HttpHandlerOptions): RouteHandler {
  const table = new Map(Object.entries(routes));

  return (request, response) => {
    const path = requestPath(request);
    if (path.startsWith('/socket.io/')) return;

    const route = table.get(path);
    if (!route) {
      sendJson(response, 404, errorBody('NOT_FOUND', `No route ${path}.`));
      return;
    }
    const corsOrigin = access.corsOrigin(request);
    if (corsOrigin) {
      response.setHeader('access-control-allow-origin', corsOrigin);
      response.setHeader('vary', 'Origin');
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, { 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': 'authorization' });
      response.end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use GET.`));
      return;
    }
    const denial = publicPaths.has(path) ? undefined : access.check(request);
    if (denial) {
      sendJson(response, denial.status, errorBody(denial.code, denial.message));
      return;
    }

    Promise.resolve()
      .then(() => route(request, response))
      .catch((error: unknown) => {
        onError(error);
        if (!response.headersSent) sendJson(response, 500, errorBody('INTERNAL', 'The hub failed to build the response; see its log.'));
        else response.destroy();
      });
  };
}

/**
 * Returns the path of a request without its query. Parsed by hand because
 * `new URL` reads a path such as `//x` as a host and throws.
 */
export function requestPath(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.search(/[?#]/);
  return query >= 0 ? url.slice(0, query) : url;
}

/** Sends a JSON body that is already encoded. */
export function sendJson(response: ServerResponse, status: number, body: string): void {
  send(response, status, 'application/json; charset=utf-8', body);
}

export function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  response.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
