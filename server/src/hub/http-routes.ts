import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the HTTP routes read from the hub. */
export interface HttpRouteSources {
  /** Latest frame, already encoded as JSON. */
  latestFrameJson: () => string;
  /** Whether the hub is subscribed to the bus. */
  isReady: () => boolean;
}

type Route = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Builds the handler of the hub's plain HTTP routes. Socket.IO handles its
 * own path on the same server before this handler sees a request.
 */
export function createHttpHandler(sources: HttpRouteSources): Route {
  const routes: Record<string, Route> = {
    '/healthz': (_request, response) => sendJson(response, 200, '{"status":"ok"}'),
    '/readyz': (_request, response) => {
      const ready = sources.isReady();
      sendJson(response, ready ? 200 : 503, JSON.stringify({ ready, bus: ready ? 'subscribed' : 'not subscribed' }));
    },
    '/stats': (_request, response) => sendJson(response, 200, sources.latestFrameJson()),
  };

  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://hub').pathname;
    const route = routes[path];
    if (!route || !Object.hasOwn(routes, path)) {
      sendJson(response, 404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `No route ${path}.` } }));
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; use GET.` } }));
      return;
    }
    route(request, response);
  };
}

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
