// Masking through real clients, path by path: psql, node-postgres (text and binary), pgjdbc, the
// mariadb CLI and mysql2 (query / execute) each see masked values where a direct query sees clear
// ones, with the same row counts, column names and types, and NULL left NULL; the exempt `dba`
// identity sees exactly what a direct query sees.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientConfig, type FieldDef } from 'pg';
import { describeWith, hasService } from '../../../../test/services';
import { ANALYST, DBA, MYSQL_HOST, startMaskingGateway, type MaskingGateway } from './helpers/maskingGateway';
import { buildJdbcProbe, run, runJdbc, runMariadb, runPsql } from './helpers/clients';
import { compareTables, MYSQL_PROBES, PG_PROBES, type Expect, type Probe, type Table } from './helpers/expectations';
import { findLeaks } from './helpers/corpus';
import { cliTable, mysqlTable } from './helpers/mysqlTables';

const describeBoth = hasService('postgres') && hasService('mariadb') ? describeWith('postgres') : describe.skip;

const RAW_TYPES = { getTypeParser: () => (value: string | Buffer) => value };
/** OIDs whose binary form is their UTF-8 text (text, varchar, bpchar, name, json); jsonb adds a version byte. */
const TEXT_OIDS = new Set([25, 1043, 1042, 19, 114]);
const JSONB_OID = 3802;

async function pgTable(config: ClientConfig, sql: string, binary: boolean): Promise<Table> {
  const client = new Client(config);
  await client.connect();
  try {
    const r = await client.query({ text: sql, types: RAW_TYPES, ...(binary ? { queryMode: 'extended' as const, binary: true } : {}) });
    const fields: FieldDef[] = r.fields;
    const rows = (r.rows as Record<string, unknown>[]).map(() => [] as (string | null)[]);
    // Rows as arrays (duplicate names would collide in objects).
    const arrays = await client.query({ text: sql, rowMode: 'array', types: RAW_TYPES, ...(binary ? { queryMode: 'extended' as const, binary: true } : {}) });
    (arrays.rows as unknown[][]).forEach((row, i) => {
      rows[i] = row.map((v, c) => {
        if (v === null) return null;
        const oid = fields[c]!.dataTypeID;
        // pg hands binary values over as (lossily) decoded strings; jsonb's starts with its version byte.
        if (!Buffer.isBuffer(v)) return binary && oid === JSONB_OID && String(v).startsWith('\u0001') ? String(v).slice(1) : String(v);
        if (TEXT_OIDS.has(oid)) return v.toString('utf8');
        if (oid === JSONB_OID) return v.subarray(1).toString('utf8');
        return `hex:${v.toString('hex')}`;
      });
    });
    return { columns: fields.map((f) => f.name), types: fields.map((f) => String(f.dataTypeID)), rows };
  } finally {
    await client.end();
  }
}

/**
 * In binary, a non-text value's exact form is its wire encoding: only "not the clear value" can be
 * asked of it. protocol-postgres converts the types below, arrays of them, records, and user types
 * that are arrays or composites of them (table row types, OIDs from 16384 on); a masked column of
 * any other type refuses the whole result instead. No probe has one: arrays and whole rows are masked.
 */
const BINARY_CONVERTIBLE_OIDS = new Set([
  25, 1043, 1042, 19, 114, 705, 18, 142, 16, 21, 23, 20, 26, 700, 701, 3802, 2950, 17, 1082, 1114, 1184, 1700,
  1009, 1015, 1014, 1003, 199, 1002, 143, 1000, 1005, 1007, 1016, 1028, 1021, 1022, 3807, 2951, 1001, 1182, 1115, 1185, 1231,
  2249, 2287,
]);
const BINARY_REFUSAL = /binary format of type \S+ cannot be masked .*use text format/;
function binaryKinds(probe: Probe, table: Table): Expect[] {
  return probe.kinds.map((k, c) => {
    const oid = Number(table.types[c]);
    if (k === 'clear' || TEXT_OIDS.has(oid) || oid === JSONB_OID) return k;
    return 'masked';
  });
}
const refusedInBinary = (probe: Probe, table: Table): boolean =>
  probe.kinds.some((k, c) => k !== 'clear' && !BINARY_CONVERTIBLE_OIDS.has(Number(table.types[c])) && Number(table.types[c]) < 16384);

function psqlTable(stdout: string): Table {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const [header = '', ...rows] = lines;
  return { columns: header.split('\t'), types: [], rows: rows.map((l) => l.split('\t').map((v) => (v === '<NULL>' ? null : v))) };
}

/**
 * A mysql2 value as text. JSON is compared parsed: directly, MariaDB's extended metadata
 * (format=json) makes mysql2 parse JSON_OBJECT results; through the gateway it does not (the
 * adapter does not pass that metadata on), so the same JSON arrives as a string.
 */
describeBoth('masking through real clients', () => {
  let gw: MaskingGateway;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-mask-clients-'));
    gw = await startMaskingGateway('qgm_clients');
  }, 60_000);
  afterAll(async () => {
    await gw?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('node-postgres, text format: masked per rule, same shape as a direct query; dba sees clear values', async () => {
    const problems: string[] = [];
    for (const probe of PG_PROBES) {
      const direct = await pgTable(gw.pgDirect(), probe.sql, false);
      problems.push(...compareTables(`text ${probe.sql}`, probe.kinds, direct, await pgTable(gw.pgConfig(ANALYST), probe.sql, false)));
      problems.push(...compareTables(`text dba ${probe.sql}`, probe.kinds.map(() => 'clear'), direct, await pgTable(gw.pgConfig(DBA), probe.sql, false)));
    }
    expect(problems).toEqual([]);
  }, 60_000);

  test('node-postgres, binary format: masked (NULL stays NULL, nothing else becomes NULL), arrays and whole rows included; dba sees clear values', async () => {
    const problems: string[] = [];
    const refused: string[] = [];
    for (const probe of PG_PROBES) {
      const direct = await pgTable(gw.pgDirect(), probe.sql, true);
      let got: Table;
      try {
        got = await pgTable(gw.pgConfig(ANALYST), probe.sql, true);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (refusedInBinary(probe, direct) && e.code === '42501' && BINARY_REFUSAL.test(e.message ?? '')) refused.push(probe.sql);
        else problems.push(`binary ${probe.sql}: ${e.code ?? ''} ${e.message ?? String(err)}`);
        problems.push(...findLeaks(String(e.message), probe.sql).map((l) => `binary ${probe.sql}: error leaked ${l.value}`));
        continue;
      }
      if (refusedInBinary(probe, direct)) problems.push(`binary ${probe.sql}: answered, but a masked column has no binary conversion`);
      problems.push(...compareTables(`binary ${probe.sql}`, binaryKinds(probe, direct), direct, got));
      problems.push(...findLeaks(JSON.stringify(got.rows), probe.sql).map((l) => `binary ${probe.sql}: leaked ${l.value}`));
      problems.push(...compareTables(`binary dba ${probe.sql}`, probe.kinds.map(() => 'clear'), direct, await pgTable(gw.pgConfig(DBA), probe.sql, true)));
    }
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  test('node-postgres, binary format, its own parsers: a masked array arrives as an empty array of its type, a masked row as a row', async () => {
    // r has a field (interval) the codec cannot convert: it cannot be decoded to be masked, so it
    // arrives as a row of NULLs of the same fields, not as NULL.
    const sql = "SELECT ARRAY[ssn] AS a, ARRAY[email, name] AS b, u, ROW(ssn, interval '1 day') AS r FROM users u WHERE id = 1";
    // Object rows: node-postgres hands binary values to its parsers as Buffers only there.
    const read = async (config: ClientConfig): Promise<{ fields: FieldDef[]; rows: Record<string, unknown>[] }> => {
      const client = new Client(config);
      await client.connect();
      try {
        return await client.query({ text: sql, ...({ queryMode: 'extended', binary: true } as const) });
      } finally {
        await client.end();
      }
    };
    const direct = await read(gw.pgDirect());
    const masked = await read(gw.pgConfig(ANALYST));
    expect(masked.fields.map((f) => f.dataTypeID)).toEqual(direct.fields.map((f) => f.dataTypeID));
    expect(direct.rows[0]).toMatchObject({ a: ['219-09-9871'], b: ['alice.wexford@example.com', 'Alice'] });
    // text[] has a binary parser in node-postgres: masked arrays are empty arrays. The row type has
    // none (node-postgres hands over its bytes decoded as UTF-8): a masked row (`****` in text) is
    // the same type's row with every field NULL, byte for byte what the server sends for one.
    expect(masked.rows[0]).toMatchObject({ a: [], b: [] });
    const owner = new Client(gw.pgDirect());
    await owner.connect();
    try {
      const nullRow = await owner.query<{ b: Buffer }>('SELECT record_send(ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL)::users) AS b');
      expect(masked.rows[0]!.u).toBe(nullRow.rows[0]!.b.toString('utf8'));
      const nullPair = await owner.query<{ b: Buffer }>('SELECT record_send(ROW(NULL::text, NULL::interval)) AS b');
      expect(masked.rows[0]!.r).toBe(nullPair.rows[0]!.b.toString('utf8'));
    } finally {
      await owner.end();
    }
    expect(findLeaks(JSON.stringify(masked.rows), sql)).toEqual([]);
  }, 60_000);

  test('psql: masked, same shape; dba sees clear values', async () => {
    const script = PG_PROBES.map((p) => `\\echo ==qg==\n${p.sql};\n`).join('');
    const args = ['-F', '\t', '-P', 'null=<NULL>', '-P', 'footer=off'];
    const direct = await run('psql', ['-X', '-q', '-A', ...args, '-h', '127.0.0.1', '-p', String(gw.pgDirect().port), '-U', String(gw.pgDirect().user), '-d', gw.database, '-f', '-'], {
      env: { PGPASSWORD: String(gw.pgDirect().password), PGSSLMODE: 'disable' }, input: script,
    });
    const viaGw = await runPsql(gw.pgPort, ANALYST, gw.database, script, args);
    const viaDba = await runPsql(gw.pgPort, DBA, gw.database, script, args);
    expect(direct.stderr).toBe('');
    expect(viaGw.stderr).toBe('');
    expect(viaDba.stdout).toBe(direct.stdout);
    const split = (s: string): string[] => s.split('==qg==\n').slice(1);
    const d = split(direct.stdout);
    const g = split(viaGw.stdout);
    const problems = PG_PROBES.flatMap((p, i) => compareTables(`psql ${p.sql}`, p.kinds, psqlTable(d[i] ?? ''), psqlTable(g[i] ?? '')));
    expect(problems).toEqual([]);
  }, 60_000);

  test('psql COPY / \\copy ... TO STDOUT (text and CSV): the rows the server itself reads back are the masked rows of the same SELECT; dba and non-sensitive COPYs byte-identical to direct', async () => {
    const owner = { user: String(gw.pgDirect().user), password: String(gw.pgDirect().password) };
    const direct = (script: string, args: readonly string[] = []) => run('psql', ['-X', '-q', '-A', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(gw.pgDirect().port), '-U', owner.user, '-d', gw.database, ...args, '-f', '-'], {
      env: { PGPASSWORD: owner.password, PGSSLMODE: 'disable' }, input: script,
    });
    // Values with every character the formats escape or quote, in a column masked by the name
    // rule (*phone*) and in one the detector rule scans (note); NULLs in both.
    const tricky = [
      [1, 'tel,"7\n55\\01|2\t3,"', 'mail x.y@example.com, "quoted"\nline \\ two|three\tfour'],
      [2, '\\N', 'NULL'],
      [3, null, null],
      [4, 'x\r\n|\\', ''],
    ] as const;
    const literal = (v: string | number | null): string => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
    const created = await direct(`CREATE TABLE copy_tricky (id int4 PRIMARY KEY, phone text, note text);
INSERT INTO copy_tricky VALUES ${tricky.map((r) => `(${r.map(literal).join(', ')})`).join(', ')};`);
    expect(created.stderr).toBe('');

    const cases: { copy: string; select: string; options: string }[] = [
      { copy: 'COPY (SELECT id, email, ssn, phone FROM users ORDER BY id) TO STDOUT', select: 'SELECT id, email, ssn, phone FROM users ORDER BY id', options: 'format text' },
      { copy: '\\copy (SELECT id, email, card_number FROM users ORDER BY id) to stdout with (format csv, header)', select: 'SELECT id, email, card_number FROM users ORDER BY id', options: 'format csv, header' },
      { copy: '\\copy users (id, email) to stdout with (format csv)', select: 'SELECT id, email FROM users ORDER BY id', options: 'format csv' },
      { copy: 'COPY users TO STDOUT', select: 'SELECT * FROM users ORDER BY id', options: 'format text' },
      { copy: "COPY users TO STDOUT WITH CSV HEADER DELIMITER ';' NULL 'NULL'", select: 'SELECT * FROM users ORDER BY id', options: "format csv, header, delimiter ';', null 'NULL'" },
      { copy: "COPY (SELECT id, lower(email) AS l, email || '' AS c, ssn FROM users ORDER BY id) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)", select: "SELECT id, lower(email) AS l, email || '' AS c, ssn FROM users ORDER BY id", options: 'format csv' },
      { copy: 'COPY (SELECT id, phone, note FROM copy_tricky ORDER BY id) TO STDOUT', select: 'SELECT id, phone, note FROM copy_tricky ORDER BY id', options: 'format text' },
      // (Text format cannot tell a value equal to its NULL marker from NULL, nor can the server: not 'NULL' here.)
      { copy: "COPY (SELECT id, phone, note FROM copy_tricky ORDER BY id) TO STDOUT WITH (FORMAT text, DELIMITER '|', NULL '-', HEADER)", select: 'SELECT id, phone, note FROM copy_tricky ORDER BY id', options: "format text, delimiter '|', null '-', header" },
      { copy: "\\copy (SELECT id, phone, note FROM copy_tricky ORDER BY id) to stdout with (format csv, header, delimiter '|', null 'NULL', quote '''', escape '\\')", select: 'SELECT id, phone, note FROM copy_tricky ORDER BY id', options: "format csv, header, delimiter '|', null 'NULL', quote '''', escape '\\'" },
      { copy: 'COPY (SELECT id, kind, payload FROM events ORDER BY id) TO STDOUT WITH (FORMAT csv)', select: 'SELECT id, kind, payload FROM events ORDER BY id', options: 'format csv' },
    ];
    const rowArgs = ['-t', '-F', '\u001f', '-R', '\u001e', '-P', 'null=<NULL>'];
    const problems: string[] = [];
    for (const c of cases) {
      const want = await direct(`${c.copy}\n`);
      const got = await runPsql(gw.pgPort, ANALYST, gw.database, `${c.copy}\n`);
      if (want.stderr !== '' || got.stderr !== '') { problems.push(`${c.copy}: stderr direct ${want.stderr} / gateway ${got.stderr}`); continue; }
      problems.push(...findLeaks(got.stdout, c.copy).map((l) => `${c.copy}: leaked ${l.value}`));
      if (got.stdout === want.stdout) problems.push(`${c.copy}: nothing was masked`);
      // The server parses what the gateway sent, with the COPY's own options...
      const file = join(dir, 'copy-out.data');
      writeFileSync(file, got.stdout);
      const loaded = await direct(`CREATE TEMP TABLE t AS ${c.select} LIMIT 0;\n\\copy t from '${file}' with (${c.options})\nSELECT * FROM t ORDER BY 1;\n`, rowArgs);
      // ... and finds the values the same SELECT gets through the gateway (masked per rule, as DataRows;
      // every case's first column is the id, and a COPY of a table sends its rows in heap order).
      const selected = await runPsql(gw.pgPort, ANALYST, gw.database, `${c.select};\n`, rowArgs);
      if (loaded.stderr !== '' || selected.stderr !== '') problems.push(`${c.copy}: load ${loaded.stderr} / select ${selected.stderr}`);
      else if (loaded.stdout !== selected.stdout) problems.push(`${c.copy}: read back ${JSON.stringify(loaded.stdout)}, masked SELECT ${JSON.stringify(selected.stdout)}`);
      const dba = await runPsql(gw.pgPort, DBA, gw.database, `${c.copy}\n`);
      if (dba.stdout !== want.stdout) problems.push(`${c.copy}: dba got ${JSON.stringify(dba.stdout)}, direct ${JSON.stringify(want.stdout)}`);
    }
    expect(problems).toEqual([]);

    // Nothing sensitive (a detector rule scans text columns, and finds nothing): byte-identical to direct.
    for (const plain of [
      '\\copy (SELECT id, user_id, total FROM orders ORDER BY id) to stdout with (format csv)',
      'COPY orders TO STDOUT',
      "COPY orders TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *, DELIMITER '|')",
    ]) {
      const got = await runPsql(gw.pgPort, ANALYST, gw.database, `${plain}\n`);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe((await direct(`${plain}\n`)).stdout);
    }
  }, 90_000);

  test('psql COPY ... TO STDOUT in binary format: refused when a column needs masking, with the reason; the session goes on', async () => {
    const script = 'COPY users (id, email) TO STDOUT WITH (FORMAT binary);\nSELECT \'still usable\' AS s;\nCOPY orders (id, total) TO STDOUT WITH (FORMAT binary);\n';
    const got = await runPsql(gw.pgPort, ANALYST, gw.database, script);
    expect(got.stderr).toContain('ERROR:  42501: COPY TO STDOUT of columns that need masking was refused: binary COPY data cannot be masked; use FORMAT text or csv');
    expect(got.stdout).toContain('still usable');
    // Not a byte of the refused COPY reached the client; the non-sensitive binary COPY did.
    expect(findLeaks(got.stdout, 'binary copy')).toEqual([]);
    expect(got.stdout).toContain('PGCOPY');
    expect(got.stderr.match(/ERROR/g)?.length).toBe(1);
  }, 60_000);

  test('pgjdbc (Statement and server-prepared PreparedStatement): masked, same column labels and types; dba sees clear values', async () => {
    const classpath = await buildJdbcProbe();
    const file = join(dir, 'probes.txt');
    writeFileSync(file, PG_PROBES.map((p) => p.sql).join('\n') + '\n');
    const directUrl = `jdbc:postgresql://127.0.0.1:${gw.pgDirect().port}/${gw.database}?sslmode=disable&prepareThreshold=1`;
    const gwUrl = `jdbc:postgresql://127.0.0.1:${gw.pgPort}/${gw.database}?sslmode=disable&prepareThreshold=1`;
    const owner = { user: String(gw.pgDirect().user), password: String(gw.pgDirect().password) };
    const toTable = (lines: readonly string[]): Table => {
      const cols = (lines.find((l) => l.startsWith('cols ')) ?? 'cols ').slice(5).split('|').map((c) => c.split(':'));
      const rows = lines.filter((l) => l.startsWith('row ')).map((l) => l.slice(4).split('|').map((v) => (v === 'NULL' ? null : v)));
      const err = lines.filter((l) => l.startsWith('err '));
      return { columns: [...cols.map((c) => c[0] ?? ''), ...err], types: cols.map((c) => c[1] ?? ''), rows };
    };
    // pgjdbc reads arrays in binary once a statement is server-prepared: a masked text[] arrives
    // there as an empty array, which it prints as {} as in text format.
    const problems: string[] = [];
    for (const mode of ['statement', 'prepared'] as const) {
      const direct = await runJdbc(classpath, directUrl, owner, mode, file);
      const viaGw = await runJdbc(classpath, gwUrl, ANALYST, mode, file);
      expect(viaGw.raw.stderr).toBe('');
      expect(viaGw.raw.code).toBe(0);
      if (mode === 'statement') expect((await runJdbc(classpath, gwUrl, DBA, mode, file)).raw.stdout).toBe(direct.raw.stdout);
      PG_PROBES.forEach((p, i) => {
        const d = toTable(direct.blocks.get(i)?.lines ?? []);
        const lines = viaGw.blocks.get(i)?.lines ?? [];
        problems.push(...compareTables(`jdbc ${mode} ${p.sql}`, p.kinds, d, toTable(lines)));
      });
    }
    expect(problems).toEqual([]);
  }, 150_000);

  test('mysql2 query() and execute(): masked per rule, same shape as a direct query; dba sees clear values', async () => {
    const analyst = { host: MYSQL_HOST, port: gw.mysqlPort, user: ANALYST.user, password: ANALYST.password, database: gw.database };
    const dba = { ...analyst, user: DBA.user, password: DBA.password };
    const problems: string[] = [];
    for (const mode of ['query', 'execute'] as const) {
      for (const probe of MYSQL_PROBES) {
        const direct = await mysqlTable(gw.mysqlDirect(), probe.sql, mode);
        problems.push(...compareTables(`${mode} ${probe.sql}`, probe.kinds, direct, await mysqlTable(analyst, probe.sql, mode)));
        problems.push(...compareTables(`${mode} dba ${probe.sql}`, probe.kinds.map(() => 'clear'), direct, await mysqlTable(dba, probe.sql, mode)));
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);

  test('the mariadb CLI: masked, same shape; dba sees clear values', async () => {
    const script = MYSQL_PROBES.map((p) => `SELECT '==qg==' AS qg;\n${p.sql};\n`).join('');
    const d = gw.mysqlDirect();
    const direct = await runMariadb(d.host, d.port, { user: d.user, password: d.password }, gw.database, script);
    const viaGw = await runMariadb(MYSQL_HOST, gw.mysqlPort, ANALYST, gw.database, script);
    const viaDba = await runMariadb(MYSQL_HOST, gw.mysqlPort, DBA, gw.database, script);
    expect(direct.stderr).toBe('');
    expect(viaGw.stderr).toBe('');
    expect(viaDba.stdout).toBe(direct.stdout);
    const split = (s: string): string[] => s.split('qg\n==qg==\n').slice(1);
    const ds = split(direct.stdout);
    const gs = split(viaGw.stdout);
    expect(gs.length).toBe(MYSQL_PROBES.length);
    const problems = MYSQL_PROBES.flatMap((p, i) => compareTables(`cli ${p.sql}`, p.kinds, cliTable(ds[i] ?? ''), cliTable(gs[i] ?? '')));
    expect(problems).toEqual([]);
  }, 60_000);
});
