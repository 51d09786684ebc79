import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import type { RouteHandler } from './http-routes.js';
import { send } from './http-routes.js';

const dashboardFolder = fileURLToPath(new URL('../dashboard/', import.meta.url));
const require = createRequire(import.meta.url);

// Every file the dashboard page uses, by URL path. A fixed list, so no
// request path ever reaches the file system.
const FILES: Record<string, [file: string, contentType: string]> = {
  '/': [`${dashboardFolder}index.html`, 'text/html; charset=utf-8'],
  '/dashboard.js': [`${dashboardFolder}dashboard.js`, 'text/javascript; charset=utf-8'],
  '/dashboard.css': [`${dashboardFolder}dashboard.css`, 'text/css; charset=utf-8'],
  '/vendor/uPlot.iife.min.js': [require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/vendor/uPlot.min.css': [require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
};

/**
 * Routes that serve the dashboard page and its assets, read once when the
 * hub starts, so no build step or file access happens per request.
 */
export function staticRoutes(): Record<string, RouteHandler> {
  const routes: Record<string, RouteHandler> = {};
  for (const [path, [file, contentType]] of Object.entries(FILES)) {
    const body = readFileSync(file);
    routes[path] = (_request, response) => {
      response.setHeader('x-content-type-options', 'nosniff');
      send(response, 200, contentType, body);
    };
  }
  return routes;
}
