// End to end: the real psql and mariadb CLIs through a whole querygate (GatewayServer) with
// recording on, in front of the harness's PostgreSQL and MariaDB. The recordings are then verified,
// replayed with the CLI command, served by the console API and page, and /metrics is scraped.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { chromium } from 'playwright-core';
import {
  definePlugin, GatewayError, parseConfig, RecordingStore, silentLogger, Verdicts,
  type QuerygatePlugin, type RecordingRecord, type RecordingSummary,
} from '@querygate/core';
import { describeWith, hasService, mariadbConfig, mariadbInfo, pgClientConfig, postgresInfo } from '../../../test/services';
import { run as replay } from '../src/commands/replay';
import type { CommandIo } from '../src/commands/io';
import { GatewayServer } from '../src/GatewayServer';

const CAROL = { name: 'carol', password: 'carol-rec-Pw-1' };
const TABLE = `qg_rec_${process.pid}`;
const SECRET_EMAIL = 'ann.secret@example.com';

// Rows reach a recording only when the protocol adapter feeds RowTransform.observe; until an
// adapter does, its row assertions are skipped (the rest of the test still runs).
function adapterObserves(pkg: 'protocol-postgres' | 'protocol-mysql'): boolean {
  const dir = join(__dirname, '..', '..', pkg, 'src');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  return existsSync(dir) && files(dir).some((f) => f.endsWith('.ts') && readFileSync(f, 'utf8').includes('observeLimit'));
}

// A real (small) interceptor plugin: masks every column named `email`, refuses `forbidden`.
const policy: QuerygatePlugin = definePlugin({
  name: 'policy',
  register(ctx) {
    ctx.addInterceptor({
      name: 'policy',
      onStatement: (s) => (/forbidden/.test(s.text) ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'forbidden', { rule: 'no-forbidden' })) : undefined),
      onResult: (r) => {
        const i = r.columns.findIndex((c) => c.name === 'email');
        return i < 0 ? undefined : { columns: new Map([[i, (v: string) => v.replace(/^[^@]*/, '***')]]), label: 'masking' };
      },
    });
  },
});

function runCli(cmd: string, args: readonly string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input ?? '');
  });
}

class Capture implements CommandIo {
  stdout = '';
  stderr = '';
  out(text: string): void { this.stdout += text; }
  err(text: string): void { this.stderr += text; }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWith('postgres')('recorded sessions through the gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qg-rec-e2e-'));
  const recordings = join(dir, 'recordings');
  const withMysql = hasService('mariadb');
  let server: GatewayServer;
  let pgPort: number;
  let myPort: number | undefined;
  let admin: string;

  beforeAll(async () => {
    const pg = postgresInfo();
    const direct = new Client(pgClientConfig('app'));
    await direct.connect();
    await direct.query(`DROP TABLE IF EXISTS ${TABLE}; CREATE TABLE ${TABLE} (id int primary key, email text, note text)`);
    await direct.query(`INSERT INTO ${TABLE} SELECT g, CASE WHEN g = 1 THEN '${SECRET_EMAIL}' WHEN g = 2 THEN NULL ELSE 'user' || g || '@example.com' END, 'n' || g FROM generate_series(1, 5) g`);
    await direct.end();
    if (withMysql) {
      const my = await createConnection(mariadbConfig('app'));
      await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await my.query(`CREATE TABLE ${TABLE} (id int primary key, email varchar(80), note varchar(20))`);
      await my.query(`INSERT INTO ${TABLE} VALUES (1, '${SECRET_EMAIL}', 'n1'), (2, NULL, 'n2'), (3, 'user3@example.com', 'n3')`);
      await my.end();
    }
    const env: Record<string, string> = { PG_PW: pg.users.app.password, CAROL_PW: CAROL.password };
    if (withMysql) env.MY_PW = mariadbInfo().users.app.password;
    const yaml = `
gateway: { id: rec-e2e, dataDir: ${JSON.stringify(join(dir, 'data'))}, shutdownTimeout: 3s }
listeners:
  - { name: pg, protocol: postgres, listen: "127.0.0.1:0", upstream: { host: ${pg.host}, port: ${pg.port}, user: app, password: "\${env:PG_PW}", tls: { mode: disable } } }
${withMysql ? `  - { name: my, protocol: mysql, listen: "127.0.0.2:0", upstream: { host: ${mariadbInfo().host}, port: ${mariadbInfo().port}, user: app, password: "\${env:MY_PW}", tls: { mode: disable } } }` : ''}
identities:
  users: [ { name: ${CAROL.name}, password: "\${env:CAROL_PW}", groups: [dev] } ]
audit: { sinks: [] }
recording: { dir: ${JSON.stringify(recordings)}, maxRowsPerResult: 3 }
admin: { listen: "127.0.0.1:0" }
plugins: [ { use: policy } ]
`;
    const { config } = parseConfig(yaml, join(dir, 'querygate.yaml'), { env });
    server = await GatewayServer.create({ config, configFile: join(dir, 'querygate.yaml'), logger: silentLogger, loadPlugin: async () => policy });
    const running = await server.start();
    pgPort = running.listeners.pg!.port;
    myPort = running.listeners.my?.port;
    admin = `http://127.0.0.1:${running.admin!.port}`;
  });

  afterAll(async () => {
    await server?.stop(3000);
    const direct = new Client(pgClientConfig('app'));
    await direct.connect();
    await direct.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await direct.end();
    if (withMysql) {
      const my = await createConnection(mariadbConfig('app'));
      await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await my.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const ended = (protocol: string, before: readonly string[]) => waitFor(`an ended ${protocol} recording`, async () => {
    const list = await new RecordingStore(recordings).list();
    return list.find((s: RecordingSummary) => s.protocol === protocol && s.ended && !before.includes(s.id));
  });
  const ids = async (): Promise<string[]> => (await new RecordingStore(recordings).list()).map((s) => s.id);

  async function records(id: string): Promise<RecordingRecord[]> {
    return (await new RecordingStore(recordings).read(id)).records as RecordingRecord[];
  }

  describe('a psql session', () => {
    let id: string;
    let recs: RecordingRecord[];
    beforeAll(async () => {
      const before = await ids();
      const sql = [
        `SELECT id, email, note FROM ${TABLE} ORDER BY id;`,
        `SELECT pg_sleep(0.2);`,
        `DROP TABLE IF EXISTS qg_rec_nosuch_${process.pid};`,
        `SELECT 'forbidden';`,
      ].join('\n');
      const got = await runCli('psql', ['-X', '-h', '127.0.0.1', '-p', String(pgPort), '-U', CAROL.name, '-d', 'app', '-f', '-'],
        { PGPASSWORD: CAROL.password, PGSSLMODE: 'disable', PGAPPNAME: 'rec-e2e' }, sql);
      expect(got.stdout).toContain('***@example.com');
      expect(got.stdout).not.toContain(SECRET_EMAIL);
      expect(got.stderr).toMatch(/forbidden/);
      id = (await ended('postgres', before)).id;
      recs = await records(id);
    });

    it('records statements (normalised), verdicts, result columns, completions, timing and the end', async () => {
      expect(recs[0]).toMatchObject({ type: 'session', protocol: 'postgres', listener: 'pg', database: 'app', identity: { subject: 'carol' }, clientParameters: { application_name: 'rec-e2e' } });
      const statements = recs.filter((r): r is Extract<RecordingRecord, { type: 'statement' }> => r.type === 'statement');
      expect(statements.map((s) => s.command)).toEqual(expect.arrayContaining(['select', 'drop_table']));
      // Normalised: the literal 'forbidden' is not in the recorded text.
      expect(statements.some((s) => s.text.includes("'forbidden'"))).toBe(false);
      const deny = recs.find((r) => r.type === 'verdict' && r.verdict === 'deny');
      expect(deny).toMatchObject({ rule: 'no-forbidden', error: { code: 'QG_STATEMENT_DENIED' } });
      const result = recs.find((r) => r.type === 'result' && r.columns.includes('email'));
      expect(result).toMatchObject({ columns: ['id', 'email', 'note'], plan: 'masking', masked: [1] });
      expect(recs.find((r) => r.type === 'complete' && r.rows === 5)).toBeDefined();
      const sleep = statements.find((s) => s.text.includes('pg_sleep'))!;
      const done = recs.find((r) => r.type === 'complete' && r.n === sleep.n)!;
      expect(done.t - sleep.t).toBeGreaterThanOrEqual(150);
      expect(recs[recs.length - 1]).toMatchObject({ type: 'end', reason: 'client_closed' });
      expect(await new RecordingStore(recordings).verify(id)).toMatchObject({ intact: true, complete: true });
      expect(readFileSync(join(recordings, `${id}.jsonl`), 'utf8')).not.toContain(SECRET_EMAIL);
    });

    (adapterObserves('protocol-postgres') ? it : it.skip)('records the masked rows (up to maxRowsPerResult)', () => {
      const result = recs.find((r) => r.type === 'result' && r.columns.includes('email'));
      expect(result).toMatchObject({ rows: [['1', '***@example.com', 'n1'], ['2', null, 'n2'], ['3', '***@example.com', 'n3']], truncated: true });
    });

    it('replays as a transcript', async () => {
      const io = new Capture();
      expect(await replay([id, '--dir', recordings, '--speed', '0'], io)).toBe(0);
      expect(io.stdout).toMatch(/carol \[local, groups dev\] -> pg\/app \(postgres\)/);
      expect(io.stdout).toMatch(new RegExp(`#1 select \\(simple\\)\\n\\s+SELECT id, email, note FROM ${TABLE} ORDER BY id`));
      expect(io.stdout).toMatch(/DENY by no-forbidden/);
      expect(io.stdout).toMatch(/session ended \(client_closed\)/);
    });
  });

  describeWith('mariadb')('a mariadb CLI session', () => {
    let id: string;
    let recs: RecordingRecord[];
    beforeAll(async () => {
      const before = await ids();
      const got = await runCli('mariadb', ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.2', '-P', String(myPort), '-u', CAROL.name, `-p${CAROL.password}`, '--default-auth=mysql_native_password', 'app'],
        {}, `SELECT id, email, note FROM ${TABLE} ORDER BY id;\nSELECT 'forbidden';\n`);
      expect(got.stdout).toContain('***@example.com');
      expect(got.stdout).not.toContain(SECRET_EMAIL);
      id = (await ended('mysql', before)).id;
      recs = await records(id);
    });

    it('records the session and verifies', async () => {
      expect(recs[0]).toMatchObject({ type: 'session', protocol: 'mysql', listener: 'my', identity: { subject: 'carol' } });
      expect(recs.find((r) => r.type === 'result' && r.columns.includes('email'))).toMatchObject({ plan: 'masking', masked: [1] });
      expect(recs.find((r) => r.type === 'verdict' && r.verdict === 'deny')).toMatchObject({ rule: 'no-forbidden' });
      expect(await new RecordingStore(recordings).verify(id)).toMatchObject({ intact: true, complete: true });
      expect(readFileSync(join(recordings, `${id}.jsonl`), 'utf8')).not.toContain(SECRET_EMAIL);
      const io = new Capture();
      expect(await replay([id, '--dir', recordings, '--speed', '0'], io)).toBe(0);
      expect(io.stdout).toMatch(/-> my\/app \(mysql\)/);
    });

    (adapterObserves('protocol-mysql') ? it : it.skip)('records the masked rows', () => {
      const result = recs.find((r) => r.type === 'result' && r.columns.includes('email'));
      expect(result).toMatchObject({ rows: [['1', '***@example.com', 'n1'], ['2', null, 'n2'], ['3', '***@example.com', 'n3']] });
    });
  });

  describe('admin server', () => {
    it('serves the session list and one recording with its verification', async () => {
      const list = await (await fetch(`${admin}/api/sessions`)).json() as { recording: boolean; sessions: RecordingSummary[] };
      expect(list.recording).toBe(true);
      expect(list.sessions.length).toBeGreaterThan(0);
      expect(list.sessions[0]).not.toHaveProperty('file');
      const one = await (await fetch(`${admin}/api/sessions/${encodeURIComponent(list.sessions[0]!.id)}`)).json() as { header: { sessionId: string }; verify: { intact: boolean } };
      expect(one.header.sessionId).toBe(list.sessions[0]!.id);
      expect(one.verify.intact).toBe(true);
      expect((await fetch(`${admin}/api/sessions/nosuch`)).status).toBe(404);
      expect((await fetch(`${admin}/api/sessions/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
      const page = await fetch(`${admin}/console/sessions`);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('querygate · sessions');
    });

    (existsSync('/usr/bin/chromium') ? it : it.skip)('the console lists sessions and plays one back in Chromium', async () => {
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${admin}/console/sessions`);
        await page.waitForSelector('#sessions tbody tr');
        const rows = await page.locator('#sessions tbody tr').count();
        expect(rows).toBe((await new RecordingStore(recordings).list()).length);
        const pgRow = page.locator('#sessions tbody tr', { hasText: 'pg (postgres)' }).first();
        await pgRow.click();
        await page.waitForSelector('#play');
        await expect(page.locator('.verify-ok').textContent()).resolves.toMatch(/hash chain intact/);
        await page.selectOption('#speed', '0');
        await page.click('#play');
        await page.waitForSelector('.entry[data-type="end"]');
        const timeline = await page.locator('#timeline').innerText();
        expect(timeline).toContain(`SELECT id, email, note FROM ${TABLE} ORDER BY id`);
        expect(timeline).toMatch(/deny/);
        expect(timeline).toMatch(/session ended \(client_closed\)/);
        expect(timeline).not.toContain(SECRET_EMAIL);
        if (process.env.QUERYGATE_SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.QUERYGATE_SCREENSHOT_DIR, 'sessions-console.png'), fullPage: false });
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });

    it('exposes Prometheus metrics', async () => {
      // A node-postgres session too, so the counters do not depend on the CLI tests above.
      const client = new Client({ host: '127.0.0.1', port: pgPort, user: CAROL.name, password: CAROL.password, database: 'app', ssl: false });
      await client.connect();
      await client.query(`SELECT email FROM ${TABLE} WHERE id = 1`);
      await expect(client.query("SELECT 'forbidden'")).rejects.toThrow(/forbidden/);
      const res = await fetch(`${admin}/metrics`);
      await client.end();
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4');
      const text = await res.text();
      const value = (series: string): number => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? NaN : Number(line.slice(series.length + 1));
      };
      expect(text).toContain('# TYPE querygate_statements_total counter');
      expect(value('querygate_sessions_total{protocol="postgres",listener="pg"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_sessions_active{protocol="postgres",listener="pg"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_statements_total{protocol="postgres",verdict="allow"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_statements_total{protocol="postgres",verdict="deny"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_statement_duration_seconds_count{protocol="postgres"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_statement_duration_seconds_bucket{protocol="postgres",le="+Inf"}')).toBe(value('querygate_statement_duration_seconds_count{protocol="postgres"}'));
      expect(value('querygate_masked_values_total{protocol="postgres"}')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_audit_queue_events')).toBeGreaterThanOrEqual(0);
      expect(value('querygate_recordings_total')).toBeGreaterThanOrEqual(1);
      expect(value('querygate_recording_errors_total')).toBe(0);
      expect(value('querygate_build_info{version="0.1.0"}')).toBe(1);
      // Every sample line is `name{labels} value` with a numeric value.
      for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
        expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/);
      }
    });
  });
});
