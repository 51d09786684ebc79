import { connect } from 'node:net';

import { describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';

import { useHubs } from '../helpers/hub-fixture.js';
import { connectDashboard } from '../helpers/socket-client.js';
import { waitFor } from '../helpers/wait.js';

const startHub = useHubs();
const TOKEN = 'dashboard-token-0123456789';

function openWebSocket(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, { headers });
  return new Promise<{ socket: WebSocket; first: string }>((resolve, reject) => {
    socket.once('message', (data) => resolve({ socket, first: String(data) }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode, body })));
    });
    socket.once('error', reject);
  });
}

describe('token auth', () => {
  it('refuses every HTTP route that carries figures without the token', async () => {
    const { base } = await startHub({ access: { token: TOKEN } });

    for (const path of ['/stats', '/history', '/metrics', '/events', '/']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.json(), path).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
  });

  it('serves them with the token in a header or the query', async () => {
    const { base } = await startHub({ access: { token: TOKEN } });

    const byHeader = await fetch(`${base}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const byQuery = await fetch(`${base}/history?token=${TOKEN}`);
    const page = await fetch(`${base}/?token=${TOKEN}`);
    const wrong = await fetch(`${base}/stats`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    // The scheme of an Authorization header is case-insensitive (RFC 9110).
    const lowerCase = await fetch(`${base}/stats`, { headers: { authorization: `bearer ${TOKEN}` } });

    expect(byHeader.status).toBe(200);
    expect(lowerCase.status).toBe(200);
    expect(byQuery.status).toBe(200);
    expect(page.status).toBe(200);
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { message: 'The token is not valid for this hub.' } });
  });

  it('keeps health checks and page assets open', async () => {
    const { base } = await startHub({ access: { token: TOKEN } });

    for (const path of ['/healthz', '/readyz', '/dashboard.js', '/vendor/uPlot.iife.min.js']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(200);
    }
  });

  it('refuses a WebSocket without the token with no frame', async () => {
    const { port } = await startHub({ access: { token: TOKEN } });

    const refused = openWebSocket(`ws://127.0.0.1:${port}/ws`);
    await expect(refused).rejects.toMatchObject({ status: 401, body: expect.stringContaining('UNAUTHORIZED') });

    const byHeader = await openWebSocket(`ws://127.0.0.1:${port}/ws`, { authorization: `Bearer ${TOKEN}` });
    const byQuery = await openWebSocket(`ws://127.0.0.1:${port}/ws?token=${TOKEN}`);
    expect(JSON.parse(byHeader.first).type).toBe('metering');
    expect(JSON.parse(byQuery.first).type).toBe('metering');
    byHeader.socket.close();
    byQuery.socket.close();
  });

  it('refuses a Socket.IO client without the token with a clear error', async () => {
    const { port } = await startHub({ access: { token: TOKEN } });

    const refused = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    const error = await new Promise<Error & { data?: unknown }>((resolve) => refused.once('connect_error', resolve));
    refused.close();
    expect(error.message).toBe('This hub needs a token: connect with auth: { token }.');
    expect(error.data).toEqual({ code: 'UNAUTHORIZED' });

    const allowed = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: TOKEN } });
    await new Promise<void>((resolve, reject) => {
      allowed.once('connect', () => resolve());
      allowed.once('connect_error', reject);
    });
    const reply = await allowed.timeout(5_000).emitWithAck('subscribe', 'metering');
    expect(reply).toHaveProperty('tps');
    allowed.close();
  });
});

describe('allowed origins', () => {
  it('refuses pages of other origins by default', async () => {
    const { base, port } = await startHub();

    const foreign = await fetch(`${base}/stats`, { headers: { origin: 'https://evil.example' } });
    const same = await fetch(`${base}/stats`, { headers: { origin: `http://127.0.0.1:${port}` } });
    const socket = openWebSocket(`ws://127.0.0.1:${port}/ws`, { origin: 'https://evil.example' });

    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'ORIGIN_NOT_ALLOWED' } });
    expect(same.status).toBe(200);
    await expect(socket).rejects.toMatchObject({ status: 403 });
  });

  it('lets configured origins in with CORS headers', async () => {
    const { base } = await startHub({ access: { allowedOrigins: ['https://ops.example.com'] } });

    const response = await fetch(`${base}/stats`, { headers: { origin: 'https://ops.example.com' } });
    const preflight = await fetch(`${base}/stats`, { method: 'OPTIONS', headers: { origin: 'https://ops.example.com' } });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
  });

  it('refuses a Socket.IO handshake from another origin', async () => {
    const { port } = await startHub();
    const status = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    });

    expect(status).toBe('HTTP/1.1 403 Forbidden');
  });
});

describe('dashboards cannot write', () => {
  it('ignores and counts events other than subscribe', async () => {
    const { base, port, hub, scheduler } = await startHub();
    const dashboard = await connectDashboard(port);
    const socket = dashboard.socket as unknown as { emit: (event: string, ...args: unknown[]) => void };
    socket.emit('publish', { v: 1, node: 'x', streams: [] });
    socket.emit('metering', { tps: 1e9 });
    const ws = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.socket.send('{"v":1,"node":"x","streams":[]}');

    await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes('metering_client_events_ignored_total{transport="socket.io"} 2')
        && text.includes('metering_client_events_ignored_total{transport="ws"} 1');
    }, { what: 'the ignored events to be counted' });
    scheduler.fire();

    expect(hub.stats.ingest.messagesReceived).toBe(0);
    expect(hub.latestFrame().tps).toBe(0);
    dashboard.socket.disconnect();
    ws.socket.close();
  });
});
