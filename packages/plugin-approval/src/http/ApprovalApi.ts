import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration, type AdminRouteHandler, type Logger } from '@querygate/core';
import { APPROVAL_STATUSES, type ApprovalRequest, type ApprovalStatus } from '../ApprovalRequest';
import type { ApprovalCoordinator } from '../ApprovalCoordinator';
import type { ApprovalQuery, UpdateResult } from '../store/ApprovalStore';
import type { Approver } from '../transitions';
import type { ApproverAuthenticator } from './ApproverAuthenticator';
import { consolePage } from './consolePage';

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: AdminRouteHandler;
}

const MAX_BODY = 64 * 1024;
const MAX_REASON = 2_000;
const HEARTBEAT_MS = 15_000;

class HttpProblem extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * The approvals admin API and console page. JSON in, JSON out; errors are
 * `{ "error": code, "message": text }` with 400 / 401 / 403 / 404 / 409. Approvers (members of an
 * approver group) see and decide every request; any other authenticated caller sees only the
 * requests they made.
 */
export class ApprovalApi {
  private readonly streams = new Set<ServerResponse>();

  constructor(
    private readonly coordinator: ApprovalCoordinator,
    private readonly auth: ApproverAuthenticator,
    private readonly logger: Logger,
  ) {}

  routes(): ApiRoute[] {
    const wrap = (handler: (req: IncomingMessage, res: ServerResponse, params: Readonly<Record<string, string>>) => Promise<void>): AdminRouteHandler =>
      async (req, res, params) => {
        try {
          await handler(req, res, params);
        } catch (err) {
          if (!(err instanceof HttpProblem)) throw err;
          const headers: Record<string, string> = {};
          if (err.status === 401) {
            // A Basic challenge makes browsers pop up a login dialog: the console asks for credentials itself.
            const challenges = this.auth.methods.filter((m) => m === 'Bearer' || !req.headers['x-querygate-console']);
            if (challenges.length > 0) headers['www-authenticate'] = challenges.map((m) => `${m} realm="querygate approvals"`).join(', ');
          }
          sendJson(res, err.status, { error: err.code, message: err.message }, headers);
        }
      };
    return [
      { method: 'GET', path: '/console/approvals', handler: wrap(async (_req, res) => this.console(res)) },
      // Before `/api/approvals/:id`: the admin server takes the first matching route.
      { method: 'GET', path: '/api/approvals/events', handler: wrap((req, res) => this.events(req, res)) },
      { method: 'GET', path: '/api/approvals', handler: wrap((req, res) => this.list(req, res)) },
      { method: 'GET', path: '/api/approvals/:id', handler: wrap((req, res, p) => this.show(req, res, p.id!)) },
      { method: 'POST', path: '/api/approvals/:id/approve', handler: wrap((req, res, p) => this.approve(req, res, p.id!)) },
      { method: 'POST', path: '/api/approvals/:id/deny', handler: wrap((req, res, p) => this.deny(req, res, p.id!)) },
    ];
  }

  private async caller(req: IncomingMessage): Promise<Approver> {
    const outcome = await this.auth.authenticate(req.headers.authorization);
    if (!outcome.ok) throw new HttpProblem(401, 'unauthenticated', outcome.message);
    return outcome.approver;
  }

  private console(res: ServerResponse): void {
    const body = consolePage();
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
    res.end(body);
  }

  private async list(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = await this.caller(req);
    const url = new URL(req.url ?? '/', 'http://admin');
    const query = parseQuery(url.searchParams);
    const approver = this.coordinator.isApprover(caller);
    if (!approver) {
      if (query.subject !== undefined && query.subject !== caller.subject) throw new HttpProblem(403, 'not_approver', 'only approvers may list other people\'s requests');
    }
    const requests = await this.coordinator.list(approver ? query : { ...query, subject: caller.subject });
    sendJson(res, 200, { requests });
  }

  private async show(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const caller = await this.caller(req);
    const request = await this.coordinator.get(id);
    if (!request) throw new HttpProblem(404, 'not_found', `no approval request ${id}`);
    this.mayRead(caller, request);
    sendJson(res, 200, request);
  }

  private mayRead(caller: Approver, request: ApprovalRequest): void {
    if (!this.coordinator.isApprover(caller) && request.requester.subject !== caller.subject) {
      throw new HttpProblem(403, 'not_approver', `${caller.subject} is not an approver and did not make request ${request.id}`);
    }
  }

  private async approve(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const caller = await this.caller(req);
    const body = await readJson(req);
    const reason = optionalReason(body.reason);
    let windowMs: number | undefined;
    if (body.window !== undefined && body.window !== null && body.window !== '') {
      windowMs = typeof body.window === 'string' || typeof body.window === 'number' ? parseDuration(body.window) : undefined;
      if (windowMs === undefined || windowMs <= 0) throw new HttpProblem(400, 'bad_request', '`window` must be a duration such as 30m or 2h');
    }
    this.reply(res, await this.coordinator.approve(id, caller, { ...(reason ? { reason } : {}), ...(windowMs ? { windowMs } : {}) }));
  }

  private async deny(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const caller = await this.caller(req);
    const body = await readJson(req);
    const reason = optionalReason(body.reason);
    if (!reason) throw new HttpProblem(400, 'bad_request', 'a denial needs a `reason`: the client sees it');
    this.reply(res, await this.coordinator.deny(id, caller, reason));
  }

  private reply(res: ServerResponse, result: UpdateResult): void {
    if (result.ok) return sendJson(res, 200, result.request);
    throw new HttpProblem(result.refusal.status, result.refusal.code, result.refusal.message);
  }

  /** Server-sent events: one `approval` event with the whole request on every change. */
  private async events(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = await this.caller(req);
    const approver = this.coordinator.isApprover(caller);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n: connected\n\n');
    const unsubscribe = this.coordinator.subscribe((request) => {
      if (!approver && request.requester.subject !== caller.subject) return;
      res.write(`event: approval\nid: ${request.id}.${request.version}\ndata: ${JSON.stringify(request)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.streams.add(res);
    const done = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    };
    res.on('close', done);
    res.on('error', done);
    this.logger.debug('approval event stream opened', { subject: caller.subject });
  }

  /** Ends open event streams (at shutdown). */
  closeStreams(): void {
    for (const res of [...this.streams]) res.end();
    this.streams.clear();
  }
}

function parseQuery(params: URLSearchParams): ApprovalQuery {
  const status = params.get('status');
  const statuses: ApprovalStatus[] = [];
  if (status && status !== 'all') {
    for (const s of status.split(',')) {
      if (!APPROVAL_STATUSES.includes(s as ApprovalStatus)) throw new HttpProblem(400, 'bad_request', `unknown status "${s}"; use ${APPROVAL_STATUSES.join(', ')} or all`);
      statuses.push(s as ApprovalStatus);
    }
  }
  const limit = params.get('limit');
  let n: number | undefined;
  if (limit !== null) {
    n = Number(limit);
    if (!Number.isInteger(n) || n < 1) throw new HttpProblem(400, 'bad_request', '`limit` must be a positive whole number');
  }
  const subject = params.get('subject') ?? undefined;
  const fingerprint = params.get('fingerprint') ?? undefined;
  return {
    ...(statuses.length > 0 ? { status: statuses } : {}),
    ...(subject ? { subject } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    ...(n ? { limit: n } : {}),
  };
}

function optionalReason(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpProblem(400, 'bad_request', '`reason` must be a string');
  const trimmed = value.trim();
  if (trimmed.length > MAX_REASON) throw new HttpProblem(400, 'bad_request', `\`reason\` is longer than ${MAX_REASON} characters`);
  return trimmed === '' ? undefined : trimmed;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'too_large', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'bad_request', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpProblem(400, 'bad_request', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
