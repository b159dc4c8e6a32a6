// End to end: real clients (psql, mysql2) through the whole gateway (GatewayServer: protocol
// adapters, guardrails, this plugin, the admin server) in front of the harness's PostgreSQL and MariaDB.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { chromium } from 'playwright-core';
import { parseConfig, silentLogger, type QuerygatePlugin } from '@querygate/core';
import { freePort } from '../../services/src';
import { describeWith, hasService, mariadbConfig, mariadbInfo, pgClientConfig, postgresInfo } from '../../../test/services';
import { GatewayServer } from '../../gateway/src/GatewayServer';
import guardrails from '../../gateway/src/guardrails';
import approval from '../src';
import { basic, MemoryAuditSink } from './fixture';
import { waitFor } from './helpers';
import { approvalDbUrl } from './pgUrl';

const CAROL_PW = 'carol-e2e-pw-1';

interface E2E {
  readonly server: GatewayServer;
  readonly pgPort: number;
  readonly myPort: number | undefined;
  readonly adminUrl: string;
  readonly audit: MemoryAuditSink;
  stop(): Promise<void>;
}

async function startE2E(approvalOptions: string, id = 'gw-e2e', dir = mkdtempSync(join(tmpdir(), 'qg-approval-e2e-'))): Promise<E2E> {
  const pg = postgresInfo();
  const withMysql = hasService('mariadb');
  const [pgPort, myPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = { ...process.env as Record<string, string>, CAROL_PW, PG_APP_PW: pg.users.app.password, ALICE_PW: 'alice-pw', BOB_PW: 'bob-pw', APPROVAL_DB_URL: approvalDbUrl() };
  if (withMysql) env.MY_APP_PW = mariadbInfo().users.app.password;
  const yaml = `
gateway: { id: ${id}, dataDir: "${dir}/data", shutdownTimeout: 2s }
listeners:
  - { name: pg, protocol: postgres, listen: "127.0.0.1:${pgPort}", upstream: { host: ${pg.host}, port: ${pg.port}, user: ${pg.users.app.user}, password: "\${env:PG_APP_PW}", tls: { mode: disable } } }
${withMysql ? `  - { name: my, protocol: mysql, listen: "127.0.0.1:${myPort}", upstream: { host: ${mariadbInfo().host}, port: ${mariadbInfo().port}, user: ${mariadbInfo().users.app.user}, password: "\${env:MY_APP_PW}" } }` : ''}
identities:
  users: [ { name: carol, password: "\${env:CAROL_PW}", groups: [dev] } ]
audit: { sinks: [] }
admin: { listen: "127.0.0.1:${adminPort}" }
plugins:
  - use: guardrails
    options: { rules: [ { name: ddl-needs-approval, match: { kind: [ddl] }, action: approve } ] }
  - use: approval
    options: { ${approvalOptions}, approvers: { groups: [dba] }, auth: { users: [ { name: alice, password: "\${env:ALICE_PW}", groups: [dba] }, { name: bob, password: "\${env:BOB_PW}", groups: [dba] } ] } }
`;
  const { config, lineOf } = parseConfig(yaml, join(dir, 'querygate.yaml'), { env });
  const audit = new MemoryAuditSink();
  const plugins: Record<string, QuerygatePlugin> = { guardrails, approval };
  const server = await GatewayServer.create({
    config, configFile: join(dir, 'querygate.yaml'), lineOf, logger: silentLogger, auditSinks: [audit],
    loadPlugin: async (use) => plugins[use] ?? Promise.reject(new Error(`no plugin ${use}`)),
  });
  const running = await server.start();
  return {
    server, pgPort: running.listeners.pg!.port, myPort: running.listeners.my?.port, adminUrl: `http://127.0.0.1:${running.admin!.port}`, audit,
    async stop() { await server.stop(2_000); rmSync(dir, { recursive: true, force: true }); },
  };
}

interface Psql { readonly child: ChildProcess; readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>; stderr(): string }

function psql(port: number, sql: string): Psql {
  const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'carol', '-d', 'app', '-c', sql], {
    env: { PATH: process.env.PATH, PGPASSWORD: CAROL_PW, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
  return { child, done, stderr: () => err };
}

async function noticedId(p: Psql): Promise<string> {
  const m = await waitFor(() => /approval required: request (ar-[a-z0-9]{12}) — approve at (\S+)/.exec(p.stderr()) ?? undefined, 10_000);
  return m[1]!;
}

async function decide(adminUrl: string, id: string, action: 'approve' | 'deny', body: unknown = {}, user: 'alice' | 'bob' = 'alice'): Promise<any> {
  const res = await fetch(`${adminUrl}/api/approvals/${id}/${action}`, { method: 'POST', headers: { authorization: basic(user), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

async function show(adminUrl: string, id: string): Promise<any> {
  return (await fetch(`${adminUrl}/api/approvals/${id}`, { headers: { authorization: basic('bob') } })).json();
}

async function dropTables(...names: string[]): Promise<void> {
  const c = new Client(pgClientConfig());
  await c.connect();
  for (const n of names) await c.query(`DROP TABLE IF EXISTS ${n}`);
  await c.end();
}

const suffix = `${process.pid}`;

describeWith('postgres')('approvals end to end (psql, mysql2)', () => {
  describe('hold mode', () => {
    let gw: E2E;
    beforeAll(async () => { gw = await startE2E('timeout: 60s'); });
    afterAll(async () => {
      await gw?.stop();
      await dropTables(`e2e_ok_${suffix}`, `e2e_win_${suffix}`);
    });

    it('psql: NOTICE with the request id at once; approve → the statement runs', async () => {
      const p = psql(gw.pgPort, `CREATE TABLE e2e_ok_${suffix} (a int)`);
      const id = await noticedId(p);
      expect(p.stderr()).toContain(`approve at ${gw.adminUrl}/console/approvals#${id}`);
      await decide(gw.adminUrl, id, 'approve', { reason: 'ok' });
      const r = await p.done;
      expect(r).toMatchObject({ code: 0 });
      const check = new Client(pgClientConfig());
      await check.connect();
      expect((await check.query(`SELECT to_regclass('e2e_ok_${suffix}') IS NOT NULL AS made`)).rows[0]).toEqual({ made: true });
      await check.end();
    });

    it('psql: deny → an error with the approver\'s reason', async () => {
      const p = psql(gw.pgPort, `CREATE TABLE e2e_no_${suffix} (a int)`);
      const id = await noticedId(p);
      await decide(gw.adminUrl, id, 'deny', { reason: 'use a migration' });
      const r = await p.done;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`approval request ${id} was denied by alice: use a migration`);
    });

    it('psql: no decision → expired error', async () => {
      const short = await startE2E('timeout: 1500ms', 'gw-e2e-short');
      try {
        const p = psql(short.pgPort, `CREATE TABLE e2e_late_${suffix} (a int)`);
        const id = await noticedId(p);
        const r = await p.done;
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`approval request ${id} expired`);
        expect(await show(short.adminUrl, id)).toMatchObject({ status: 'expired' });
      } finally {
        await short.stop();
      }
    });

    it('psql: the client disconnects while waiting → cancelled (audited)', async () => {
      const p = psql(gw.pgPort, `CREATE TABLE e2e_gone_${suffix} (a int)`);
      const id = await noticedId(p);
      p.child.kill('SIGKILL');
      await p.done;
      await waitFor(async () => (await show(gw.adminUrl, id)).status === 'cancelled' || undefined, 5_000);
      await waitFor(() => gw.audit.events.find((e) => e.event === 'approval.decided' && e.approval?.requestId === id && e.approval.decision === 'cancelled'));
    });

    it('psql: a window grant lets the same statement through again at once', async () => {
      const p = psql(gw.pgPort, `CREATE TABLE IF NOT EXISTS e2e_win_${suffix} (a int)`);
      const id = await noticedId(p);
      await decide(gw.adminUrl, id, 'approve', { window: '30m' });
      expect((await p.done).code).toBe(0);
      const again = psql(gw.pgPort, `CREATE TABLE IF NOT EXISTS e2e_win_${suffix} (a int)`);
      const r = await again.done;
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('approval required');
    });

    (hasService('mariadb') ? it : it.skip)('mysql2: waits without a notice; approve → runs; deny → error', async () => {
      const conn = await createConnection({ host: '127.0.0.1', port: gw.myPort!, user: 'carol', password: CAROL_PW, database: mariadbConfig().database });
      try {
        const pending = conn.query(`CREATE TABLE e2e_my_${suffix} (a int)`);
        const [req] = await waitFor(async () => {
          const list = await (await fetch(`${gw.adminUrl}/api/approvals?status=pending`, { headers: { authorization: basic('bob') } })).json() as { requests: { id: string; protocol: string; statement: { text: string } }[] };
          const found = list.requests.filter((r) => r.statement.text.includes(`e2e_my_${suffix}`));
          return found.length ? found : undefined;
        });
        expect(req!.protocol).toBe('mysql');
        await decide(gw.adminUrl, req!.id, 'approve');
        await pending;
        const denied = conn.query(`DROP TABLE e2e_my_${suffix}`);
        const [req2] = await waitFor(async () => {
          const list = await (await fetch(`${gw.adminUrl}/api/approvals?status=pending`, { headers: { authorization: basic('bob') } })).json() as { requests: { id: string; statement: { text: string } }[] };
          const found = list.requests.filter((r) => r.statement.text.startsWith('DROP TABLE e2e_my_'));
          return found.length ? found : undefined;
        });
        await decide(gw.adminUrl, req2!.id, 'deny', { reason: 'keep it' });
        await expect(denied).rejects.toMatchObject({ errno: 1142, message: expect.stringContaining('keep it') });
      } finally {
        await conn.end().catch(() => undefined);
        const direct = await createConnection(mariadbConfig());
        await direct.query(`DROP TABLE IF EXISTS e2e_my_${suffix}`);
        await direct.end();
      }
    });

    (existsSync('/usr/bin/chromium') ? it : it.skip)('console in Chromium: a click approves and the waiting psql statement completes', async () => {
      const p = psql(gw.pgPort, `CREATE TABLE IF NOT EXISTS e2e_ui_${suffix} (a int)`);
      const id = await noticedId(p);
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
      try {
        const page = await browser.newPage();
        await page.goto(`${gw.adminUrl}/console/approvals`);
        await page.fill('#login-user', 'bob');
        await page.fill('#login-password', 'bob-pw');
        await page.click('#login-submit');
        await page.click(`.queue-item[data-id="${id}"]`);
        await page.waitForSelector('#approve');
        await page.click('#approve');
        expect((await p.done).code).toBe(0);
      } finally {
        await browser.close();
        await dropTables(`e2e_ui_${suffix}`);
      }
    });
  });

  describe('reject-and-retry mode', () => {
    let gw: E2E;
    beforeAll(async () => { gw = await startE2E('mode: reject-and-retry'); });
    afterAll(async () => {
      await gw?.stop();
      await dropTables(`e2e_rr_${suffix}`);
    });

    it('psql: an error with the request id at once; the retry after approval passes', async () => {
      const first = await psql(gw.pgPort, `CREATE TABLE e2e_rr_${suffix} (a int)`).done;
      expect(first.code).not.toBe(0);
      const id = /request (ar-[a-z0-9]{12}) was created/.exec(first.stderr)![1]!;
      const second = await psql(gw.pgPort, `CREATE TABLE e2e_rr_${suffix} (a int)`).done;
      expect(second.stderr).toContain(`request ${id} is waiting`);
      await decide(gw.adminUrl, id, 'approve');
      const retry = await psql(gw.pgPort, `CREATE TABLE e2e_rr_${suffix} (a int)`).done;
      expect(retry).toMatchObject({ code: 0 });
      expect((await show(gw.adminUrl, id)).grant).toMatchObject({ scope: 'once', consumedAt: expect.any(String) });
    });
  });

  describe('two replicas sharing the PostgreSQL store', () => {
    let a: E2E;
    let b: E2E;
    const table = `qg_e2e_approvals_${suffix}`;
    beforeAll(async () => {
      const store = `store: { type: postgres, url: "\${env:APPROVAL_DB_URL}", table: ${table}, pollInterval: 500ms }`;
      a = await startE2E(store, 'replica-a');
      b = await startE2E(store, 'replica-b');
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await dropTables(table, `e2e_rep_${suffix}`);
    });

    it('psql waits on replica A; an approver on replica B releases it', async () => {
      const p = psql(a.pgPort, `CREATE TABLE e2e_rep_${suffix} (a int)`);
      const id = await noticedId(p);
      expect(await show(b.adminUrl, id)).toMatchObject({ status: 'pending', gateway: 'replica-a' });
      const t0 = Date.now();
      await decide(b.adminUrl, id, 'approve', {}, 'bob');
      expect((await p.done).code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(b.audit.events.find((e) => e.event === 'approval.decided')).toMatchObject({ approval: { requestId: id, decision: 'approved', approver: 'bob' } });
    });
  });
});
