// The attack corpus against the MySQL listener (MariaDB upstream), through mysql2 query()
// (COM_QUERY), mysql2 execute() (COM_STMT_PREPARE) and the mariadb CLI. Every refusal is checked three
// ways: the client's error (1142, rule named), the upstream's state (unchanged), the audit trail
// (statement.denied with the rule).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import type { AuditEvent } from '@querygate/core';
import { describeWith, mariadbConfig } from '../../../../test/services';
import { APPROVAL_RULES, MYSQL_ATTEMPTS, type MysqlAttempt, type MysqlPath } from './attempts';
import { DEV, expectation, run, startCorpusGateway, type CorpusGateway } from './corpusGateway';

const DEFAULT_PATHS: readonly MysqlPath[] = ['query', 'execute', 'cli'];

const CLEANUP = [
  'DROP TABLE IF EXISTS app.qg_victim, app.qg_victim_log, app.qg_stolen, app.qg_gone',
  'DROP SEQUENCE IF EXISTS app.qg_canary',
  'DROP PROCEDURE IF EXISTS app.qg_wipe',
  'DROP EVENT IF EXISTS app.qg_later',
  "DROP USER IF EXISTS 'qg_spare'@'%', 'qg_mallory'@'%'",
  'DROP ROLE IF EXISTS qg_spare_role',
  'DROP ROLE IF EXISTS qg_mallory_role',
];

const SETUP = [
  ...CLEANUP,
  'CREATE DATABASE IF NOT EXISTS qg_victim_db',
  'CREATE TABLE app.qg_victim (id INT PRIMARY KEY, v VARCHAR(50))',
  "INSERT INTO app.qg_victim VALUES (1,'row 1'),(2,'row 2'),(3,'row 3'),(4,'row 4'),(5,'row 5'),(6,'row 6'),(7,'row 7'),(8,'row 8'),(9,'row 9'),(10,'row 10')",
  'CREATE TABLE app.qg_victim_log (id INT, note VARCHAR(50))',
  "INSERT INTO app.qg_victim_log VALUES (1,'a'),(2,'b'),(3,'c')",
  'CREATE SEQUENCE app.qg_canary NOCACHE',
  "CREATE USER 'qg_spare'@'%' IDENTIFIED BY 'spare-Passw0rd'",
  'CREATE ROLE qg_spare_role',
  // The role is granted to the upstream's own account, so SET ROLE would really work if let through.
  'GRANT qg_spare_role TO CURRENT_USER',
];

/**
 * Everything a slipped-through attack in the corpus would change, as one text. Routines and events
 * in the masking tests' databases (`qgm_*`, whose corpus creates `qg_rt_*` routines while this
 * suite runs in parallel on the same server) are not this corpus's.
 */
const SNAPSHOT = `SELECT CONCAT_WS('\\n',
  CONCAT('databases: ', (SELECT GROUP_CONCAT(schema_name ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name LIKE 'qg\\_victim%')),
  CONCAT('tables: ', (SELECT GROUP_CONCAT(CONCAT(table_schema, '.', table_name) ORDER BY table_schema, table_name) FROM information_schema.tables WHERE table_name REGEXP '^qg_(victim|stolen)' OR table_schema LIKE 'qg\\_victim%')),
  CONCAT('victim: ', (SELECT GROUP_CONCAT(CONCAT(id, ':', v) ORDER BY id) FROM app.qg_victim)),
  CONCAT('log: ', (SELECT COUNT(*) FROM app.qg_victim_log)),
  CONCAT('canary: ', (SELECT next_not_cached_value FROM app.qg_canary)),
  CONCAT('accounts: ', (SELECT GROUP_CONCAT(CONCAT(user, '@', host, ':', is_role) ORDER BY user, host) FROM mysql.user WHERE user LIKE 'qg%')),
  CONCAT('privileges: ', (SELECT GROUP_CONCAT(CONCAT(user, '@', host, '=', priv) ORDER BY user, host) FROM mysql.global_priv WHERE user LIKE 'qg%')),
  CONCAT('db grants: ', (SELECT COUNT(*) FROM mysql.db WHERE user LIKE 'qg%')),
  CONCAT('role grants: ', (SELECT GROUP_CONCAT(CONCAT(user, '@', host, '>', role) ORDER BY user, host, role) FROM mysql.roles_mapping WHERE role LIKE 'qg%' OR user LIKE 'qg%')),
  CONCAT('routines: ', (SELECT COUNT(*) FROM information_schema.routines WHERE routine_name LIKE 'qg%' AND routine_schema NOT LIKE 'qgm\\_%')),
  CONCAT('events: ', (SELECT COUNT(*) FROM information_schema.events WHERE event_name LIKE 'qg%' AND event_schema NOT LIKE 'qgm\\_%'))
) AS s`;

interface Refusal { readonly errno?: number; readonly message: string }

describeWith('mariadb')('guardrails corpus: MySQL / MariaDB', () => {
  let gw: CorpusGateway;
  let admin: Connection;
  let baseline: string;

  const snapshot = async (): Promise<string> => {
    const [rows] = await admin.query(SNAPSHOT);
    return (rows as { s: string }[])[0]!.s;
  };
  const sqlOf = (a: MysqlAttempt): string => a.sql.replace(/\{dir\}/g, gw.dir);
  const attemptsFor = (path: MysqlPath): MysqlAttempt[] => MYSQL_ATTEMPTS.filter((a) => (a.via ?? DEFAULT_PATHS).includes(path));

  beforeAll(async () => {
    admin = await createConnection({ ...mariadbConfig('root'), multipleStatements: false });
    for (const sql of SETUP) await admin.query(sql);
    gw = await startCorpusGateway({ mysql: true });
    writeFileSync(join(gw.dir, 'rows.csv'), '42,from a file\n');
    baseline = await snapshot();
    await gw.newAuditEvents();
  });

  afterAll(async () => {
    await gw?.stop();
    if (admin) {
      for (const sql of [...CLEANUP, 'DROP DATABASE IF EXISTS qg_victim_db']) await admin.query(sql).catch(() => undefined);
      await admin.end();
    }
  });

  const devConnection = async (): Promise<Connection> => {
    const c = await createConnection({ host: '127.0.0.1', port: gw.mysqlPort, user: DEV.name, password: DEV.password, database: 'app', multipleStatements: true });
    c.on('error', () => undefined);
    return c;
  };

  const verify = async (a: MysqlAttempt, path: string, refusal: Refusal | undefined): Promise<string[]> => {
    const problems: string[] = [];
    const approval = APPROVAL_RULES.has(a.rule);
    if (refusal === undefined) {
      problems.push('the client got no error: the statement ran');
    } else if (a.refusedByAdapter) {
      if (refusal.errno !== a.refusedByAdapter.errno) problems.push(`errno ${refusal.errno ?? '(none)'}, expected ${a.refusedByAdapter.errno}`);
      if (!refusal.message.includes(a.refusedByAdapter.message)) problems.push(`message ${JSON.stringify(refusal.message)} does not contain ${JSON.stringify(a.refusedByAdapter.message)}`);
    } else {
      if (refusal.errno !== 1142) problems.push(`errno ${refusal.errno ?? '(none)'}, expected 1142`);
      if (!expectation(a.rule, approval).test(refusal.message)) problems.push(`message ${JSON.stringify(refusal.message)} does not match ${expectation(a.rule, approval)}`);
    }
    const now = await snapshot();
    if (now !== baseline) {
      problems.push(`the upstream changed:\n      before ${baseline.replace(/\n/g, '; ')}\n      after  ${now.replace(/\n/g, '; ')}`);
      baseline = now;
    }
    if (a.writes !== undefined && existsSync(join(gw.dir, a.writes))) problems.push(`the file ${a.writes} was written`);
    const events = await gw.newAuditEvents();
    const denied = events.filter((e: AuditEvent) => e.event === 'statement.denied');
    if (!denied.some((e) => e.rule === a.rule && (a.refusedByAdapter !== undefined || e.error?.code === 'QG_STATEMENT_DENIED'))) {
      problems.push(`no statement.denied audit event by rule ${a.rule} (denied: ${JSON.stringify(denied.map((e) => e.rule))}, events: ${events.map((e) => e.event).join(', ')})`);
    }
    if (events.some((e) => e.event === 'statement.completed' && e.statement?.kind !== 'select')) {
      problems.push(`audit says a statement completed: ${JSON.stringify(events.filter((e) => e.event === 'statement.completed').map((e) => e.statement?.text))}`);
    }
    return problems.map((p) => `${a.id} via ${path} (${a.trick}): ${p}`);
  };

  const sessionUnchanged = async (c: Connection): Promise<string | undefined> => {
    try {
      const [rows] = await c.query('SELECT CURRENT_USER() AS u, CURRENT_ROLE() AS r');
      const row = (rows as { u: string; r: string | null }[])[0]!;
      return row.r === null ? undefined : `session changed: CURRENT_ROLE()=${row.r}`;
    } catch (err) {
      return `session unusable after the refusal: ${(err as Error).message}`;
    }
  };

  const runThroughMysql2 = async (path: 'query' | 'execute'): Promise<string[]> => {
    const failures: string[] = [];
    const c = await devConnection();
    try {
      for (const a of attemptsFor(path)) {
        let refusal: Refusal | undefined;
        try {
          const sql = sqlOf(a);
          const values = sql.includes('?') ? ['pwned'] : [];
          if (path === 'query') await c.query(sql, values);
          else await c.execute(sql, values);
        } catch (err) {
          const e = err as { errno?: number; sqlMessage?: string; message: string };
          refusal = { errno: e.errno, message: e.sqlMessage ?? e.message };
        }
        failures.push(...await verify(a, path, refusal));
        const session = await sessionUnchanged(c);
        if (session) failures.push(`${a.id} via ${path}: ${session}`);
      }
    } finally {
      await c.end().catch(() => undefined);
    }
    return failures;
  };

  it('refuses every attempt sent with mysql2 query() (COM_QUERY)', async () => {
    expect(await runThroughMysql2('query')).toEqual([]);
  });

  it('refuses every attempt sent with mysql2 execute() (COM_STMT_PREPARE)', async () => {
    expect(await runThroughMysql2('execute')).toEqual([]);
  });

  it('refuses every attempt sent by the mariadb CLI', async () => {
    const failures: string[] = [];
    const args = ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(gw.mysqlPort), '-u', DEV.name, `-p${DEV.password}`,
      // Send comments as typed (the CLI strips them by default), allow LOCAL INFILE, and send each
      // attempt as ONE COM_QUERY: with DELIMITER the CLI does not split at `;` itself.
      '--comments', '--local-infile=1', '--batch', 'app'];
    for (const a of attemptsFor('cli')) {
      const r = await run('mariadb', args, {}, `DELIMITER //\n${sqlOf(a)} //\n`);
      const m = /ERROR (\d+) \(([0-9A-Z]{5})\)(?: at line \d+)?: (.*)/.exec(r.stderr);
      const refusal = r.code === 0 ? undefined : { errno: m ? Number(m[1]) : undefined, message: m?.[3] ?? r.stderr };
      failures.push(...await verify(a, 'cli', refusal));
    }
    expect(failures).toEqual([]);
  });

  it('the MySQL corpus is large and every attempt names a distinct id', () => {
    const ids = MYSQL_ATTEMPTS.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(45);
  });
});
