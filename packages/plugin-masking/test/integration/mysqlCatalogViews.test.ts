// MySQL views masked through the adapter's relation catalog alone: a gateway whose masking options
// declare no view (`views:`), in front of MariaDB. The MySQL bypass corpus runs through it with
// real clients (mysql2 query() / execute(), the mariadb CLI), and views of every kind are compared
// with what a direct query returns: masked per rule for the analyst, clear for the exempt dba.
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { describeWith, hasService, mariadbConfig } from '../../../../test/services';
import { ANALYST, DBA, MYSQL_HOST, startMaskingGateway, type MaskingGateway } from './helpers/maskingGateway';
import { cliOutcome, runMariadb, runMariadbBatch, runMysql, REFUSAL, type ClientRun } from './helpers/clients';
import { findLeaks, loadCorpus, runsIn, type CorpusEntry, type Leak } from './helpers/corpus';
import { compareTables, type Expect } from './helpers/expectations';
import { cliTable, mysqlTable } from './helpers/mysqlTables';

interface Observation { readonly entry: CorpusEntry; readonly client: string; readonly run: ClientRun; readonly leaks: Leak[] }

const DATABASE = 'qgm_mycat';
const OTHER = `${DATABASE}_hr`;
const MYSQL = loadCorpus('mysql');
const describeBoth = hasService('postgres') && hasService('mariadb') ? describeWith('mariadb') : describe.skip;

/** Views and what each of their columns must look like to the analyst (the dba sees them clear). */
const VIEW_PROBES: readonly { sql: string; kinds: readonly Expect[] }[] = [
  // A direct view column keeps the rule's own strategy; a computed one gets the derived one.
  { sql: 'SELECT * FROM users_view ORDER BY id', kinds: ['clear', 'clear', 'email', 'ssn', 'phone'] },
  { sql: 'SELECT id, contact, ssn FROM users_view_v2 ORDER BY id', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT id, contact, tax_id, card_number FROM contact_cards ORDER BY id', kinds: ['clear', 'red', 'red', 'card'] },
  { sql: 'SELECT who, mail, number FROM renamed_people ORDER BY who', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT LOWER(contact) AS l, ssn FROM users_view_v2 ORDER BY id', kinds: ['red', 'ssn'] },
  // An aliased view's columns come with the alias as their origin table (MariaDB), so only lineage
  // names the view: qualified here, because the shared test server holds other databases with a
  // users_view_v2, and an unqualified name merges them all (the derived strategy, masking more).
  { sql: `SELECT v.contact, o.total FROM ${DATABASE}.users_view_v2 v JOIN orders o ON o.user_id = v.id ORDER BY o.id`, kinds: ['email', 'clear'] },
  { sql: 'SELECT v.contact FROM users_view_v2 v ORDER BY v.id', kinds: ['masked'] },
  { sql: 'SELECT id, work_mail, total FROM staff ORDER BY total', kinds: ['clear', 'email', 'clear'] },
  { sql: `SELECT id, work_mail, phone FROM ${OTHER}.far_staff ORDER BY id`, kinds: ['clear', 'email', 'phone'] },
  { sql: `SELECT s FROM ${OTHER}.far_calc ORDER BY id`, kinds: ['red'] },
];

/** A mysql2 value as text. */
describeBoth('MySQL views resolved from the catalog (no `views:` option)', () => {
  let gw: MaskingGateway;
  const observations: Observation[] = [];
  const as = (who: { user: string; password: string }) => ({ host: MYSQL_HOST, port: gw.mysqlPort, user: who.user, password: who.password, database: DATABASE });

  beforeAll(async () => {
    gw = await startMaskingGateway(DATABASE, { declaredViews: false });
    const root = await createConnection({ ...mariadbConfig('root', 'mysql'), multipleStatements: true });
    try {
      const grants = ['%', '127.0.0.1', 'localhost'].map((h) => `GRANT ALL ON ${OTHER}.* TO 'app'@'${h}'`).join('; ');
      await root.query(`DROP DATABASE IF EXISTS ${OTHER}; CREATE DATABASE ${OTHER}; ${grants}`);
    } finally {
      await root.end();
    }
    const app = await createConnection({ ...mariadbConfig('app', DATABASE), multipleStatements: true });
    try {
      await app.query([
        `CREATE VIEW ${OTHER}.far_staff AS SELECT id, email AS work_mail, phone FROM ${DATABASE}.users`,
        `CREATE VIEW ${OTHER}.far_calc AS SELECT id, CONCAT(ssn, '') AS s FROM ${DATABASE}.users`,
      ].join(';\n'));
    } finally {
      await app.end();
    }
  }, 60_000);
  afterAll(async () => {
    await gw?.dispose();
    const root = await createConnection(mariadbConfig('root', 'mysql')).catch(() => undefined);
    await root?.query(`DROP DATABASE IF EXISTS ${OTHER}`).catch(() => undefined);
    await root?.end().catch(() => undefined);
  });

  test('views over views, computed, renamed, in another schema: masked per rule (query, execute); the dba sees clear values', async () => {
    const problems: string[] = [];
    for (const mode of ['query', 'execute'] as const) {
      for (const probe of VIEW_PROBES) {
        const direct = await mysqlTable({ ...gw.mysqlDirect(), database: DATABASE }, probe.sql, mode);
        expect(direct.rows.length).toBeGreaterThan(0);
        problems.push(...compareTables(`${mode} ${probe.sql}`, probe.kinds, direct, await mysqlTable(as(ANALYST), probe.sql, mode)));
        problems.push(...compareTables(`${mode} dba ${probe.sql}`, probe.kinds.map(() => 'clear'), direct, await mysqlTable(as(DBA), probe.sql, mode)));
      }
    }
    expect(problems).toEqual([]);
  });

  test('the mariadb CLI sees the same through views', async () => {
    const script = VIEW_PROBES.map((p) => `SELECT '==qg==' AS qg;\n${p.sql};\n`).join('');
    const d = gw.mysqlDirect();
    const direct = await runMariadb(d.host, d.port, { user: d.user, password: d.password }, DATABASE, script);
    const viaGw = await runMariadb(MYSQL_HOST, gw.mysqlPort, ANALYST, DATABASE, script);
    const viaDba = await runMariadb(MYSQL_HOST, gw.mysqlPort, DBA, DATABASE, script);
    expect(viaGw.stderr).toBe('');
    const split = (out: string): string[] => out.split(/^qg\n==qg==\n/m).slice(1);
    const [ds, gs, dbas] = [split(direct.stdout), split(viaGw.stdout), split(viaDba.stdout)];
    expect(gs.length).toBe(VIEW_PROBES.length);
    const problems = VIEW_PROBES.flatMap((p, i) => [
      ...compareTables(`cli ${p.sql}`, p.kinds, cliTable(ds[i] ?? ''), cliTable(gs[i] ?? '')),
      ...compareTables(`cli dba ${p.sql}`, p.kinds.map(() => 'clear'), cliTable(ds[i] ?? ''), cliTable(dbas[i] ?? '')),
    ]);
    expect(problems).toEqual([]);
  });

  test('a view in another schema after USE, and a view replaced by ALTER VIEW, through one session', async () => {
    const c = await createConnection(as(ANALYST));
    try {
      await c.query(`USE ${OTHER}`);
      const [far] = await c.query<RowDataPacket[]>('SELECT work_mail FROM far_staff WHERE id = 1');
      expect(far).toEqual([{ work_mail: 'a***@example.com' }]);
      await c.query(`USE ${DATABASE}`);
      await c.query('CREATE OR REPLACE VIEW qg_alt AS SELECT id, name AS x FROM users');
      const [before] = await c.query<RowDataPacket[]>('SELECT x FROM qg_alt WHERE id = 1');
      expect(before).toEqual([{ x: 'Alice' }]);
      await c.query('ALTER VIEW qg_alt AS SELECT id, ssn AS x FROM users');
      const [after] = await c.execute<RowDataPacket[]>('SELECT x FROM qg_alt WHERE id = 1');
      expect(after).toEqual([{ x: '*******9871' }]);
    } finally {
      await c.end();
    }
  });

  test('a message that creates a view and reads it is refused; temporary tables of harmless data work', async () => {
    const c = await createConnection({ ...as(ANALYST), multipleStatements: true });
    try {
      await c.query('CREATE OR REPLACE VIEW qg_one AS SELECT id AS x FROM users');
      await expect(c.query('CREATE OR REPLACE VIEW qg_one AS SELECT email AS x FROM users; SELECT x FROM qg_one'))
        .rejects.toMatchObject({ errno: REFUSAL.mysqlErrno });
      const [rows] = await c.query<RowDataPacket[]>('SELECT x FROM qg_one ORDER BY x');
      expect(rows).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
      await c.query('CREATE TEMPORARY TABLE qg_scratch (a INT, b VARCHAR(10))');
      await c.query("INSERT INTO qg_scratch VALUES (1, 'one')");
      const [scratch] = await c.query<RowDataPacket[]>('SELECT a, b FROM qg_scratch');
      expect(scratch).toEqual([{ a: 1, b: 'one' }]);
    } finally {
      await c.end();
    }
  });

  test('the MySQL corpus through mysql2 query() and execute()', async () => {
    const connect = () => createConnection(as(ANALYST));
    const shared = await connect();
    try {
      for (const mode of ['query', 'execute'] as const) {
        for (const entry of MYSQL) {
          if (!runsIn(entry, mode)) continue;
          const own = entry.statements.length === 1 ? shared : await connect();
          try {
            const run = await runMysql(own, entry.statements, mode);
            observations.push({ entry, client: `mysql2 ${mode}`, run, leaks: findLeaks(run.text, `mysql2 ${mode}: ${entry.name}`) });
          } finally {
            if (own !== shared) await own.end();
          }
        }
      }
    } finally {
      await shared.end();
    }
  }, 60_000);

  test('the MySQL corpus through the mariadb CLI', async () => {
    const entries = MYSQL.filter((e) => runsIn(e, 'cli'));
    const single = entries.filter((e) => e.statements.length === 1);
    const pieces = await runMariadbBatch(MYSQL_HOST, gw.mysqlPort, ANALYST, DATABASE, single.map((e) => e.statements[0]!), ['--show-warnings']);
    single.forEach((entry, i) => {
      const r = { code: 0, ...(pieces.get(i) ?? { stdout: '', stderr: 'no output' }) };
      const run: ClientRun = { outcome: cliOutcome(r, 'mysql'), text: `${r.stdout}\n${r.stderr}`, error: r.stderr || undefined };
      observations.push({ entry, client: 'mariadb cli', run, leaks: findLeaks(run.text, `cli: ${entry.name}`) });
    });
    for (const entry of entries.filter((e) => e.statements.length > 1)) {
      const r = await runMariadb(MYSQL_HOST, gw.mysqlPort, ANALYST, DATABASE, entry.statements.map((s) => `${s};`).join('\n') + '\n', ['--show-warnings']);
      const run: ClientRun = { outcome: cliOutcome(r, 'mysql'), text: `${r.stdout}\n${r.stderr}`, error: r.stderr || undefined };
      observations.push({ entry, client: 'mariadb cli', run, leaks: findLeaks(run.text, `cli: ${entry.name}`) });
    }
  }, 60_000);

  test('no clear value reached a client (known issues aside), and straightforward entries were answered', () => {
    expect(observations.length).toBeGreaterThan(MYSQL.length);
    const leaked = observations.filter((o) => o.leaks.length > 0 && o.entry.knownIssue === undefined);
    expect(leaked.map((o) => `${o.client} | ${o.entry.name} | ${o.leaks.map((l) => `${l.value} as ${l.form}: …${l.snippet}…`).join('; ')}`)).toEqual([]);
    const unanswered = observations.filter((o) => o.entry.straightforward && o.run.outcome !== 'rows' && o.entry.knownIssue === undefined);
    expect(unanswered.map((o) => `${o.client} | ${o.entry.name} | ${o.run.outcome} | ${o.run.error ?? ''}`)).toEqual([]);
  });

  test('recordings, logs and audit hold no clear value', async () => {
    await gw.stop();
    const knownLeaked = new Set(observations.filter((o) => o.entry.knownIssue !== undefined).flatMap((o) => o.leaks.map((l) => l.value)));
    // The audit holds an error's message as the client received it: a known issue leaking in an error shows there too.
    const knownInErrors = new Set(observations.filter((o) => o.entry.knownIssue !== undefined && o.run.outcome !== 'rows').flatMap((o) => o.leaks.map((l) => l.value)));
    // The exempt dba's sessions record the clear values it was rightly sent.
    const outputs = gw.sideOutputs().filter((o) => !(o.name.startsWith('recording') && o.text.includes(`"subject":"${DBA.user}"`)));
    expect(outputs.some((o) => o.name.startsWith('recording'))).toBe(true);
    const all = outputs.flatMap((o) => findLeaks(o.text, o.name));
    const excused = (l: Leak): boolean => (l.where.startsWith('recording') && knownLeaked.has(l.value)) || (l.where === 'audit' && knownInErrors.has(l.value));
    expect(all.filter((l) => !excused(l)).map((l) => `${l.where}: ${l.value} as ${l.form}`)).toEqual([]);
  });
});
