import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError, Verdicts } from '@querygate/core';
import { describeWith, mariadbInfo } from '../../../../test/services';
import { runCli } from '../helpers/cli';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

describeWith('mariadb')('the mariadb CLI through querygate', () => {
  let gw: MysqlGateway;
  let dir: string;

  const direct = (): string[] => {
    const m = mariadbInfo();
    return ['--no-defaults', '--protocol=TCP', '-h', m.host, '-P', String(m.port), '-u', 'app', `-p${m.users.app.password}`, 'app'];
  };
  const gateway = (...extra: string[]): string[] =>
    ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(gw.port), '-u', ALICE.name, `-p${ALICE.password}`, ...extra, 'app'];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-cli-'));
    gw = await startMysqlGateway({
      interceptors: [{
        name: 'deny-forbidden',
        onStatement: (s) => (/forbidden_table/.test(s.text) ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-forbidden' })) : undefined),
      }],
    });
    await runCli('mariadb', [...direct(), '-e', 'CREATE TABLE IF NOT EXISTS cli_t (id INT PRIMARY KEY, v VARCHAR(20)); TRUNCATE cli_t']);
  });

  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers -e batches like the server does, with mysql_native_password and caching_sha2_password', async () => {
    const sql = "SELECT 1 AS one, 'a\\tb' AS tabbed, NULL AS n; SHOW VARIABLES LIKE 'version_comment'; SELECT DATABASE()";
    const want = await runCli('mariadb', [...direct(), '-e', sql]);
    expect(want.code).toBe(0);
    for (const auth of ['--default-auth=mysql_native_password', '--default-auth=caching_sha2_password']) {
      const got = await runCli('mariadb', [...gateway(auth), '-e', sql]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    }
  });

  it('runs a scripted session from stdin and a sourced file the same as direct', async () => {
    const script = [
      "INSERT INTO cli_t VALUES (1, 'one'), (2, 'two');",
      'SELECT * FROM cli_t ORDER BY id; SELECT COUNT(*) FROM cli_t;',
      'DELIMITER //',
      'SELECT v FROM cli_t WHERE id = 2 //',
      'DELIMITER ;',
      'DELETE FROM cli_t;',
      '',
    ].join('\n');
    const want = await runCli('mariadb', direct(), script);
    const got = await runCli('mariadb', gateway('--default-auth=mysql_native_password'), script);
    expect(want.code).toBe(0);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);

    const file = join(dir, 'script.sql');
    writeFileSync(file, script);
    const wantSourced = await runCli('mariadb', [...direct(), '-e', `source ${file}`]);
    const gotSourced = await runCli('mariadb', [...gateway('--default-auth=mysql_native_password'), '-e', `source ${file}`]);
    expect(gotSourced.stdout).toBe(wantSourced.stdout);
    expect(gotSourced.code).toBe(0);
  });

  it('reports a denied statement and a wrong password as errors', async () => {
    const denied = await runCli('mariadb', [...gateway(), '-e', 'SELECT * FROM forbidden_table']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('ERROR 1142 (42000)');
    const wrong = await runCli('mariadb', ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(gw.port), '-u', ALICE.name, '-pnope', '--default-auth=mysql_native_password', '-e', 'SELECT 1']);
    expect(wrong.stderr).toContain('ERROR 1045 (28000)');
  });
});
