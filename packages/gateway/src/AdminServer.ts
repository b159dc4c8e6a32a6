import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminRoute, Logger } from '@querygate/core';

export type MetricsSource = () => string;

/**
 * The admin HTTP server: health, readiness, metrics, and the routes plugins add (approvals API,
 * console). Routes are `METHOD /path/:param`; the first match wins.
 */
export class AdminServer {
  private server: Server | undefined;
  private readonly compiled: { method: string; pattern: RegExp; keys: string[]; route: AdminRoute }[];

  constructor(
    private readonly listen: string,
    routes: readonly AdminRoute[],
    private readonly logger: Logger,
    private readonly status: { ready: () => boolean; metrics?: MetricsSource },
  ) {
    this.compiled = routes.map((route) => {
      const keys: string[] = [];
      const source = route.path.split('/').map((part) => {
        if (part.startsWith(':')) { keys.push(part.slice(1)); return '([^/]+)'; }
        if (part === '*') { keys.push('rest'); return '(.*)'; }
        return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      }).join('/');
      return { method: route.method, pattern: new RegExp(`^${source}/?$`), keys, route };
    });
  }

  async start(): Promise<AddressInfo> {
    const { host, port } = splitHostPort(this.listen);
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => { this.server!.off('error', reject); resolve(); });
    });
    return this.server.address() as AddressInfo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (req.method === 'GET' && url.pathname === '/readyz') {
        const ready = this.status.ready();
        return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'draining' });
      }
      if (req.method === 'GET' && url.pathname === '/metrics' && this.status.metrics) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(this.status.metrics());
        return;
      }
      for (const c of this.compiled) {
        if (c.method !== req.method) continue;
        const m = c.pattern.exec(url.pathname);
        if (!m) continue;
        const params: Record<string, string> = {};
        c.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1] ?? ''); });
        await c.route.handler(req, res, params);
        return;
      }
      json(res, 404, { error: 'not_found', message: `no route for ${req.method} ${url.pathname}` });
    } catch (err) {
      this.logger.error('admin route failed', { path: url.pathname, error: (err as Error).stack ?? String(err) });
      if (!res.headersSent) json(res, 500, { error: 'internal', message: 'internal error; see the gateway log' });
      else res.end();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function splitHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}
