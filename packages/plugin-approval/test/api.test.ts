import { runApprovalsCli } from '../src';
import { basic, startTestGateway, type TestGateway } from './fixture';
import { identity, waitFor } from './helpers';
import { openSession, requestIdOf, run } from './session';

async function call(gw: TestGateway, method: string, path: string, auth?: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${gw.adminUrl}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

function cliIO(env: Record<string, string> = {}): { io: Parameters<typeof runApprovalsCli>[1]; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (t: string) => { out += t; } }, stderr: { write: (t: string) => { err += t; } }, env }, out: () => out, err: () => err };
}

describe('approvals admin API over HTTP', () => {
  let gw: TestGateway;
  let bobToken: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    bobToken = await gw.signer.sign({ sub: 'bob@example.com', groups: ['dba'] });
  });
  afterAll(() => gw?.stop());

  it('401 without credentials, with a bad password, a foreign or expired token', async () => {
    const none = await call(gw, 'GET', '/api/approvals');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'unauthenticated' });
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(gw, 'GET', '/api/approvals', `Basic ${Buffer.from('alice:wrong').toString('base64')}`)).status).toBe(401);
    expect((await call(gw, 'GET', '/api/approvals', `Bearer ${await gw.signer.sign({ sub: 'x', groups: ['dba'] }, { issuer: 'https://evil' })}`)).status).toBe(401);
    expect((await call(gw, 'GET', '/api/approvals', `Bearer ${await gw.signer.sign({ sub: 'x', groups: ['dba'] }, { audience: 'other' })}`)).status).toBe(401);
    expect((await call(gw, 'GET', '/api/approvals', `Bearer ${await gw.signer.sign({ sub: 'x', groups: ['dba'] }, { expiresIn: '-10m' })}`)).status).toBe(401);
    expect((await call(gw, 'GET', '/api/approvals', 'Bearer not.a.jwt')).status).toBe(401);
  });

  it('holds a statement; a JWT approver approves it over HTTP and the statement runs', async () => {
    const gs = await openSession(gw, identity('carol', ['dev']));
    const { notices, verdict } = run(gs);
    await waitFor(() => notices[0]);
    const id = requestIdOf(notices[0]);
    expect(notices[0]).toBe(`approval required: request ${id} — approve at ${gw.adminUrl}/console/approvals#${id}`);

    const list = await call(gw, 'GET', '/api/approvals?status=pending', `Bearer ${bobToken}`);
    expect(list.status).toBe(200);
    expect(list.body.requests.map((r: { id: string }) => r.id)).toContain(id);
    const shown = await call(gw, 'GET', `/api/approvals/${id}`, basic('alice'));
    expect(shown.body).toMatchObject({ id, status: 'pending', requester: { subject: 'carol' }, statement: { text: 'DROP TABLE orders' }, rule: 'ddl-needs-approval', message: "DDL needs a DBA's approval" });

    const approved = await call(gw, 'POST', `/api/approvals/${id}/approve`, `Bearer ${bobToken}`, { reason: 'change 77', window: '30m' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: ['bob@example.com'], grant: { scope: 'window' } });
    await expect(verdict).resolves.toEqual({ action: 'allow' });
    expect((await call(gw, 'POST', `/api/approvals/${id}/deny`, basic('alice'), { reason: 'late' })).status).toBe(409);

    await waitFor(() => gw.audit.events.find((e) => e.event === 'approval.decided' && e.approval?.requestId === id));
    const events = gw.audit.events.filter((e) => e.sessionId === gs.id).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['session.started', 'statement.held', 'approval.requested', 'approval.decided', 'statement.allowed']));
    // The window grant: the same statement passes at once in a new session.
    const again = await openSession(gw, identity('carol', ['dev']));
    await expect(run(again).verdict).resolves.toEqual({ action: 'allow' });
    await gs.end('client_closed');
    await again.end('client_closed');
  });

  it('403 for non-approvers and self-approval, 404 unknown, 400 bad bodies; deny reaches the session', async () => {
    const gs = await openSession(gw, identity('alice', ['dba']));
    const { notices, verdict } = run(gs, 'DROP TABLE audit_log', 'fp-drop-audit');
    await waitFor(() => notices[0]);
    const id = requestIdOf(notices[0]);
    expect(await call(gw, 'POST', `/api/approvals/${id}/approve`, basic('alice'), {})).toMatchObject({ status: 403, body: { error: 'self_approval' } });
    expect(await call(gw, 'POST', `/api/approvals/${id}/approve`, basic('carol'), {})).toMatchObject({ status: 403, body: { error: 'not_approver' } });
    expect((await call(gw, 'GET', `/api/approvals/${id}`, basic('carol'))).status).toBe(403);
    expect((await call(gw, 'POST', '/api/approvals/ar-doesnotexist/approve', basic('bob'), {})).status).toBe(404);
    expect((await call(gw, 'GET', '/api/approvals/ar-doesnotexist', basic('bob'))).status).toBe(404);
    expect(await call(gw, 'POST', `/api/approvals/${id}/deny`, basic('bob'), {})).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect((await call(gw, 'POST', `/api/approvals/${id}/approve`, basic('bob'), '{nope')).status).toBe(400);
    expect((await call(gw, 'POST', `/api/approvals/${id}/approve`, basic('bob'), { window: 'forever' })).status).toBe(400);
    expect((await call(gw, 'GET', '/api/approvals?status=bogus', basic('bob'))).status).toBe(400);
    const denied = await call(gw, 'POST', `/api/approvals/${id}/deny`, basic('bob'), { reason: 'audit log is append-only' });
    expect(denied.body).toMatchObject({ status: 'denied', reason: 'audit log is append-only' });
    const decided = await verdict;
    expect(decided).toMatchObject({ action: 'deny', error: { code: 'QG_APPROVAL_DENIED' } });
    expect(decided.action === 'deny' && decided.error.message).toContain('denied by bob: audit log is append-only');
    await gs.end('client_closed');
  });

  it('a non-approver sees only their own requests', async () => {
    const gs = await openSession(gw, identity('carol', ['dev']));
    const { notices } = run(gs, 'DROP TABLE carol_only', 'fp-carol-only');
    await waitFor(() => notices[0]);
    const mine = await call(gw, 'GET', '/api/approvals?status=all', basic('carol'));
    expect(mine.status).toBe(200);
    expect(mine.body.requests.length).toBeGreaterThan(0);
    expect(mine.body.requests.every((r: { requester: { subject: string } }) => r.requester.subject === 'carol')).toBe(true);
    expect((await call(gw, 'GET', '/api/approvals?subject=alice', basic('carol'))).status).toBe(403);
    await gs.end('client_closed');
    // Ending the session cancels the request.
    const id = requestIdOf(notices[0]);
    await waitFor(async () => (await call(gw, 'GET', `/api/approvals/${id}`, basic('bob'))).body.status === 'cancelled' || undefined);
  });

  it('streams changes as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.adminUrl}/api/approvals/events`, { headers: { authorization: `Bearer ${bobToken}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const gs = await openSession(gw, identity('carol', ['dev']));
    const { notices } = run(gs, 'DROP TABLE streamed', 'fp-streamed');
    await waitFor(() => notices[0]);
    const id = requestIdOf(notices[0]);
    await call(gw, 'POST', `/api/approvals/${id}/approve`, basic('alice'), {});
    while (!text.includes('"status":"approved"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    expect(text).toContain('event: approval');
    expect(text).toMatch(new RegExp(`id: ${id}\\.1\\ndata: .*"status":"pending"`));
    expect(text).toMatch(new RegExp(`id: ${id}\\.2\\ndata: .*"status":"approved"`));
    await gs.end('client_closed');
  });

  it('serves the console page', async () => {
    const res = await fetch(`${gw.adminUrl}/console/approvals`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<title>querygate — approvals</title>');
    expect(html).toContain("'/api/approvals'");
  });

  describe('CLI', () => {
    it('lists, shows, approves with a window and denies', async () => {
      const gs = await openSession(gw, identity('carol', ['dev']));
      const first = run(gs, 'ALTER TABLE t ADD c int', 'fp-cli-1');
      await waitFor(() => first.notices[0]);
      const id = requestIdOf(first.notices[0]);

      let c = cliIO({ ALICE_PW: 'alice-pw' });
      expect(await runApprovalsCli(['list', '--admin', gw.adminUrl, '--user', 'alice', '--password-env', 'ALICE_PW'], c.io)).toBe(0);
      expect(c.out()).toMatch(/^ID\s+STATUS\s+REQUESTER/);
      expect(c.out()).toContain(id);

      c = cliIO({ QUERYGATE_TOKEN: bobToken, QUERYGATE_ADMIN_URL: gw.adminUrl });
      expect(await runApprovalsCli(['show', id], c.io)).toBe(0);
      expect(c.out()).toContain('ALTER TABLE t ADD c int');
      expect(c.out()).toContain('requester  carol (dev)');

      c = cliIO();
      expect(await runApprovalsCli(['approve', id, '--reason', 'ok', '--window', '30m', '--admin', gw.adminUrl, '--token', bobToken, '--json'], c.io)).toBe(0);
      expect(JSON.parse(c.out())).toMatchObject({ status: 'approved', grant: { scope: 'window' } });
      await expect(first.verdict).resolves.toEqual({ action: 'allow' });

      c = cliIO();
      expect(await runApprovalsCli(['approve', id, '--admin', gw.adminUrl, '--token', bobToken], c.io)).toBe(1);
      expect(c.err()).toContain('HTTP 409');

      const second = run(gs, 'ALTER TABLE t DROP c', 'fp-cli-2');
      await waitFor(() => second.notices[0]);
      c = cliIO();
      expect(await runApprovalsCli(['deny', requestIdOf(second.notices[0]), '--reason', 'no', '--admin', gw.adminUrl, '--token', bobToken], c.io)).toBe(0);
      expect(c.out()).toContain('status     denied');
      expect((await second.verdict).action).toBe('deny');
      await gs.end('client_closed');
    });

    it('usage errors exit 2; an unreachable admin exits 1', async () => {
      let c = cliIO();
      expect(await runApprovalsCli(['deny', 'ar-x', '--token', 't'], c.io)).toBe(2);
      expect(c.err()).toContain('deny needs --reason');
      c = cliIO();
      expect(await runApprovalsCli(['approve', 'ar-x'], c.io)).toBe(2);
      c = cliIO();
      expect(await runApprovalsCli(['list', '--user', 'alice', '--password-env', 'NOPE'], c.io)).toBe(2);
      c = cliIO();
      expect(await runApprovalsCli(['frobnicate'], c.io)).toBe(2);
      c = cliIO();
      expect(await runApprovalsCli(['--help'], c.io)).toBe(0);
      expect(c.out()).toContain('usage: querygate approvals');
      c = cliIO();
      expect(await runApprovalsCli(['list', '--admin', 'http://127.0.0.1:1', '--token', 't'], c.io)).toBe(1);
      expect(c.err()).toContain('cannot reach');
    });
  });
});
