import type { ServerResponse } from 'node:http';
import { RecordingNotFound, RecordingStore, type AdminRoute } from '@querygate/core';
import { SESSIONS_PAGE } from './sessionsPage';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function page(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Everything is inline; nothing may be loaded from elsewhere.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(SESSIONS_PAGE);
}

/**
 * Admin routes of the session console: the page (`/console/sessions`, a session is chosen with
 * `#<id>`), the list (`GET /api/sessions`) and one recording with its verification
 * (`GET /api/sessions/:id`). `dir` undefined: recording is off, the list is empty.
 */
export function sessionRoutes(dir: string | undefined): AdminRoute[] {
  const store = dir === undefined ? undefined : new RecordingStore(dir);
  const plugin = 'querygate';
  return [
    { method: 'GET', path: '/console/sessions', plugin, handler: (_req, res) => page(res) },
    {
      method: 'GET', path: '/api/sessions', plugin,
      handler: async (_req, res) => {
        const sessions = store ? await store.list() : [];
        // File paths stay on the server.
        json(res, 200, { recording: store !== undefined, dir: dir ?? null, sessions: sessions.map(({ file: _file, ...s }) => s) });
      },
    },
    {
      method: 'GET', path: '/api/sessions/:id', plugin,
      handler: async (_req, res, params) => {
        const id = params.id ?? '';
        if (!store) return json(res, 404, { error: 'not_found', message: 'recording is off (recording.dir is not set)' });
        try {
          const [recording, verify] = await Promise.all([store.read(id), store.verify(id)]);
          json(res, 200, { header: recording.header, records: recording.records, verify });
        } catch (err) {
          if (err instanceof RecordingNotFound) return json(res, 404, { error: 'not_found', message: err.message });
          throw err;
        }
      },
    },
  ];
}
