// psql and pgbench (libpq clients nobody on the team wrote) through querygate, compared with a
// direct connection to the harness's PostgreSQL.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { postgresInfo } from '../../../../test/services';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { run } from '../helpers/run';

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

const denyForbidden: Interceptor = {
  name: 'deny-forbidden',
  onStatement(statement) {
    if (statement.command === 'function_call' && statement.functions.includes('lo_open')) {
      return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-fastpath-lo_open' }));
    }
    return statement.text.includes('forbidden_table')
      ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-forbidden-table' }))
      : undefined;
  },
};

describe('psql and pgbench through querygate', () => {
  let gw: TestGateway;
  let dir: string;
  const pg = postgresInfo();
  const directEnv = (): Record<string, string> => ({
    PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: 'app', PGPASSWORD: pg.users.app.password, PGDATABASE: 'app', PGSSLMODE: 'disable',
  });
  const gatewayEnv = (): Record<string, string> => ({
    PGHOST: gw.host, PGPORT: String(gw.port), PGUSER: ALICE.user, PGPASSWORD: ALICE.password, PGDATABASE: 'app', PGSSLMODE: 'disable',
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-psql-'));
    gw = await startTestGateway({ interceptors: [denyForbidden] });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a scripted psql session (\\copy both ways, multi-statement lines, error and ROLLBACK) matches a direct one', async () => {
    writeFileSync(join(dir, 'in.csv'), '1,one\n2,two\n3,"three, with comma"\n4,\n');
    const script = (out: string): string => `
SET client_min_messages = warning;
DROP TABLE IF EXISTS psql_t;
CREATE TABLE psql_t (id int PRIMARY KEY, label text);
\\copy psql_t FROM '${join(dir, 'in.csv')}' WITH (FORMAT csv)
SELECT * FROM psql_t ORDER BY id; SELECT count(*) FROM psql_t;
BEGIN;
INSERT INTO psql_t VALUES (10, 'ten');
SELECT 1/0;
SELECT 'not run';
ROLLBACK;
SELECT count(*) AS after_rollback FROM psql_t;
\\copy (SELECT * FROM psql_t ORDER BY id) TO '${join(dir, out)}' WITH (FORMAT csv)
SELECT 'a' AS x \\; SELECT 'b' AS y;
\\echo done
`;
    const direct = await run('psql', ['-X', '-v', 'ON_ERROR_STOP=0'], { env: directEnv(), input: script('direct.csv') });
    const viaGw = await run('psql', ['-X', '-v', 'ON_ERROR_STOP=0'], { env: gatewayEnv(), input: script('gateway.csv') });
    expect(viaGw.stderr).toBe(direct.stderr.replace(/direct\.csv/g, 'gateway.csv'));
    expect(viaGw.stdout).toBe(direct.stdout);
    expect(viaGw.stdout).toContain('three, with comma');
    expect(viaGw.stdout).toContain('done');
    expect(viaGw.stderr).toContain('division by zero');
    expect(readFileSync(join(dir, 'gateway.csv'), 'utf8')).toBe(readFileSync(join(dir, 'direct.csv'), 'utf8'));
  });

  test('psql: a denied statement is refused with the rule name, the session goes on', async () => {
    const r = await run('psql', ['-X', '-c', 'SELECT * FROM forbidden_table', '-c', 'SELECT 42 AS answer'], { env: gatewayEnv() });
    expect(r.stderr).toMatch(/ERROR:\s+statement refused by policy \(rule: no-forbidden-table\)/);
    expect(r.stdout).toContain('42');
  });

  test('psql: wrong password and unknown user get the same FATAL 28P01', async () => {
    const wrong = await run('psql', ['-X', '-c', 'SELECT 1'], { env: { ...gatewayEnv(), PGPASSWORD: 'nope' } });
    const unknown = await run('psql', ['-X', '-c', 'SELECT 1'], { env: { ...gatewayEnv(), PGUSER: 'nobody' } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/FATAL:\s+authentication failed/);
    expect(unknown.stderr.replace(/nobody/g, 'alice')).toBe(wrong.stderr);
  });

  test('psql \\lo_import sends FunctionCall messages: judged, and refused by policy', async () => {
    writeFileSync(join(dir, 'blob.txt'), 'large object content');
    const r = await run('psql', ['-X'], { env: gatewayEnv(), input: `BEGIN;\n\\lo_import '${join(dir, 'blob.txt')}'\nROLLBACK;\nSELECT 'after' AS s;\n` });
    expect(r.stderr).toMatch(/statement refused by policy \(rule: no-fastpath-lo_open\)/);
    expect(r.stdout).toContain('after');
    const calls = gw.audit.filter((e) => e.statement?.command === 'function_call').map((e) => e.event);
    expect(calls).toContain('statement.allowed'); // lo_creat went through
    expect(calls).toContain('statement.denied');
  });

  test('pgbench: -i -s 1, then -M simple, extended and prepared', async () => {
    const init = await run(PGBENCH, ['-i', '-s', '1', '-q'], { env: gatewayEnv() });
    expect(init.stderr).toMatch(/done in/);
    expect(init.code).toBe(0);
    const count = await run('psql', ['-X', '-A', '-t', '-c', 'SELECT count(*) FROM pgbench_accounts'], { env: directEnv() });
    expect(count.stdout.trim()).toBe('100000');
    for (const mode of ['simple', 'extended', 'prepared']) {
      const bench = await run(PGBENCH, ['-M', mode, '-c', '2', '-j', '1', '-t', '200', '-n'], { env: gatewayEnv() });
      expect(bench.code).toBe(0);
      expect(bench.stdout).toMatch(/number of transactions actually processed: 400\/400/);
      expect(bench.stdout).toMatch(/number of failed transactions: 0/);
    }
    const selectOnly = await run(PGBENCH, ['-S', '-M', 'prepared', '-c', '2', '-j', '1', '-t', '500', '-n'], { env: gatewayEnv() });
    expect(selectOnly.stdout).toMatch(/actually processed: 1000\/1000/);
  });
});
