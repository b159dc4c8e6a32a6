// Paths the bypass corpus found (issue 6): values stored for a later statement, derived-table
// aliases as origins, text sent as BLOB, binary values that cannot be re-encoded.
import type { ColumnRef, Deny, ResultColumn } from '@querygate/core';
import { ViewResolverCapability, type MaskingPlan, type ViewResolver } from '../src';
import { BASE_OPTIONS, col, context, loadMasking, out, readsOrders, readsUsers, result, session, stmt, users } from './fixtures';

const mysql = () => context(session({ protocol: 'mysql', listener: 'mysql' }));
const appUsers = (column: string) => ({ schema: 'app', table: 'users', column });
const readsAppUsers = [{ schema: 'app', name: 'users' }];

describe('values stored for a later statement', () => {
  // What MysqlAnalyzer reports for these (checked): plain `select` / `set`, no writes.
  const cases = [
    stmt('SELECT email INTO @qg_e FROM users WHERE id = ?', { reads: readsAppUsers, outputs: [out([appUsers('email')], { direct: true, name: 'email' })] }),
    stmt('SELECT email FROM users LIMIT ? INTO @a', { reads: readsAppUsers, outputs: [out([appUsers('email')], { direct: true, name: 'email' })] }),
    stmt('SELECT @v := email FROM users', { reads: readsAppUsers, outputs: [out([appUsers('email')])], complete: false }),
    stmt('SELECT (@`v` := ssn) AS x FROM users', { reads: readsAppUsers, outputs: [out([appUsers('ssn')])], complete: false }),
    // A SET reports one output per assignment.
    stmt('SET @v = (SELECT email FROM users LIMIT ?)', { kind: 'utility', command: 'set', reads: readsAppUsers, outputs: [out([appUsers('email')], { name: 'v' })] }),
    stmt('SET @i = ?, @v = (SELECT ssn FROM users LIMIT ?)', { kind: 'utility', command: 'set', reads: readsAppUsers, outputs: [out([], { name: 'i' }), out([appUsers('ssn')], { name: 'v' })] }),
    stmt('SET SESSION sql_mode = (SELECT email FROM users LIMIT ?)', { kind: 'utility', command: 'set', reads: readsAppUsers, outputs: [out([appUsers('email')], { name: 'sql_mode' })] }),
    // Without outputs (the analyser could not parse it) a SET over a sensitive table stays refused.
    stmt('SET @v = (SELECT id FROM users LIMIT ?)', { kind: 'utility', command: 'set', reads: readsAppUsers }),
    // A user variable inside the value: what it holds is unknown.
    stmt('SET @w = (SELECT id FROM users WHERE id = @v)', { kind: 'utility', command: 'set', reads: readsAppUsers, outputs: [out([appUsers('id')], { name: 'w' })], complete: false }),
  ];

  it.each(cases.map((s) => [s.text, s]))('MySQL %s is refused', async (_text, s) => {
    const masking = await loadMasking(BASE_OPTIONS);
    const verdict = masking.onStatement(s, mysql()) as Deny;
    expect(verdict).toMatchObject({ action: 'deny', error: { code: 'QG_MASKING_UNRESOLVED' } });
  });

  it('allows storing non-sensitive columns, and everything for exempt sessions', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, exempt: { groups: ['dba'] } });
    const id = stmt('SELECT id INTO @i FROM users WHERE email = ?', { reads: readsAppUsers, outputs: [out([appUsers('id')], { direct: true, name: 'id' })] });
    expect(masking.onStatement(id, mysql())).toBeUndefined();
    expect(masking.onStatement(stmt('SET @a = ?', { kind: 'utility', command: 'set' }), mysql())).toBeUndefined();
    const setId = stmt('SET @i = (SELECT id FROM users WHERE email = ?)', { kind: 'utility', command: 'set', reads: readsAppUsers, outputs: [out([appUsers('id')], { name: 'i' })] });
    expect(masking.onStatement(setId, mysql())).toBeUndefined();
    const dba = context(session({ protocol: 'mysql', groups: ['dba'] }));
    expect(masking.onStatement(cases[0]!, dba)).toBeUndefined();
  });

  it('PostgreSQL set_config / pg_notify over a sensitive table are refused, wherever the call is', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    for (const [text, fn] of [
      ["SELECT set_config('qg.e', email, false) FROM users", 'set_config'],
      ["SELECT 1 FROM users WHERE pg_catalog.set_config('qg.e', email, false) IS NOT NULL", 'pg_catalog.set_config'],
      ["SELECT pg_notify('c', ssn) FROM users", 'pg_notify'],
    ] as const) {
      const s = stmt(text, { reads: readsUsers, functions: [fn], outputs: [out([users('email')], { name: fn })] });
      expect((masking.onStatement(s, context()) as Deny).error.message).toMatch(/store values from public\.users/);
    }
    const harmless = stmt("SELECT set_config('qg.t', note, false) FROM orders", { reads: readsOrders, functions: ['set_config'], outputs: [out([])] });
    expect(masking.onStatement(harmless, context())).toBeUndefined();
  });

  it('a copy into a file on the server is refused', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt("SELECT email FROM users INTO OUTFILE '/tmp/x'", { kind: 'copy', command: 'select_into_outfile', reads: readsAppUsers, risks: new Set(['fileAccess']), outputs: [out([appUsers('email')], { direct: true })] });
    expect(masking.onStatement(s, mysql())).toMatchObject({ action: 'deny' });
  });
});

describe('MariaDB origins naming a derived table or CTE alias', () => {
  const mariaCol = (name: string, table: string, column = name): ResultColumn => col(name, 'var_string', { schema: 'app', table, column });
  const userColumns = ['id', 'name', 'email', 'ssn'];

  it('SELECT * FROM (SELECT * FROM users) t: aligned by lineage, masked', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT * FROM (SELECT * FROM users) t', { reads: [{ name: 'users' }], outputs: [out([{ table: 'users', column: '*' }], { direct: true, expands: true })] });
    expect(masking.onStatement(s, mysql())).toBeUndefined();
    const plan = masking.onResult(result(s, userColumns.map((c) => mariaCol(c, 't'))), mysql()) as MaskingPlan;
    expect(plan.decisions.map((d) => [d.name, d.rule, d.strategy])).toEqual([['email', 'emails', 'email'], ['ssn', 'ssn', 'partial']]);
  });

  it('a renamed column of a derived table, and a CTE', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const renamed = stmt('SELECT x FROM (SELECT email AS x FROM users) s', { reads: [{ name: 'users' }], outputs: [out([{ table: 'users', column: 'email' }], { direct: true, name: 'x' })] });
    expect((masking.onResult(result(renamed, [mariaCol('x', 's')]), mysql()) as MaskingPlan).decisions[0]).toMatchObject({ rule: 'emails', strategy: 'email' });
    const cte = stmt('WITH c AS (SELECT * FROM users) SELECT * FROM c', { reads: [{ name: 'users' }], outputs: [out([{ table: 'users', column: '*' }], { direct: true, expands: true })] });
    expect((masking.onResult(result(cte, userColumns.map((c) => mariaCol(c, 'c'))), mysql()) as MaskingPlan).covers).toEqual(['email', 'ssn']);
  });

  it('an alias origin never makes a computed value direct (reverse() keeps the derived strategy)', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT x FROM (SELECT REVERSE(email) AS x FROM users) s', { reads: [{ name: 'users' }], outputs: [out([{ table: 'users', column: 'email' }], { name: 'x' })] });
    expect((masking.onResult(result(s, [mariaCol('x', 's')]), mysql()) as MaskingPlan).decisions[0]).toMatchObject({ rule: 'emails', strategy: 'redact' });
  });

  it('an origin on a table the statement does not name still counts, as a computed source', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT * FROM users_view', { reads: [{ name: 'users_view' }], outputs: [out([{ table: 'users_view', column: '*' }], { direct: true, expands: true })] });
    const plan = masking.onResult(result(s, [mariaCol('id', 'users'), mariaCol('email', 'users')]), mysql()) as MaskingPlan;
    expect(plan.decisions.map((d) => [d.name, d.strategy])).toEqual([['email', 'redact']]);
  });
});

describe('text sent as BLOB (MariaDB JSON, LONGTEXT)', () => {
  const options = { ...BASE_OPTIONS, rules: [...BASE_OPTIONS.rules, { name: 'emails-in-text', detect: ['email'], strategy: { redact: '[email]' } }] };

  it('detectors scan blob-typed values that are UTF-8 text, and leave binary ones alone', async () => {
    const masking = await loadMasking(options);
    const s = stmt('SELECT payload FROM events', { reads: [{ name: 'events' }], outputs: [out([{ table: 'events', column: 'payload' }], { direct: true })] });
    const plan = masking.onResult(result(s, [col('payload', 'blob', { schema: 'app', table: 'events', column: 'payload' })]), mysql()) as MaskingPlan;
    const mask = plan.columns.get(0)!;
    expect(mask('{"contact": "dora@example.net"}')).toBe('{"contact": "[email]"}');
    // Bytes decoded as latin1 (binary charset): valid UTF-8 is text...
    expect(mask(Buffer.from('é dora@example.net', 'utf8').toString('latin1'))).toBe(Buffer.from('é [email]', 'utf8').toString('latin1'));
    // ...anything else is binary data and passes unchanged.
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x40, 0x62, 0x2e, 0x63, 0x6f]).toString('latin1') + ' a@b.co';
    expect(mask(binary)).toBe(binary);
  });
});

describe('PostgreSQL binary values', () => {
  const s = stmt('SELECT array_agg(ssn), u FROM users u', { reads: readsUsers, outputs: [out([users('ssn')], { name: 'array_agg' }), out([users('*')], { name: 'u' })] });
  const columns: ResultColumn[] = [
    { name: 'array_agg', type: '_text', typeId: 1009, format: 'binary' },
    { name: 'u', type: 'users', typeId: 16390, format: 'binary' },
  ];
  const knowsUsers: ViewResolver = { version: 1, describe: (r) => (r.name === 'users' ? { kind: 'table', columns: ['id', 'email', 'ssn', 'name'] } : undefined) };

  it('masks arrays, records and table row types (and arrays of them) the adapter converts', async () => {
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, knowsUsers]]));
    const plan = masking.onResult(result(s, columns), context()) as MaskingPlan;
    expect(plan.covers).toEqual(['array_agg', 'u']);
    const rows = stmt('SELECT array_agg(u), row(email, id) FROM users u', { reads: readsUsers, outputs: [out([users('*')], { name: 'array_agg' }), out([users('email'), users('id')], { name: 'row' })] });
    expect(masking.onResult(result(rows, [
      { name: 'array_agg', type: '_users', typeId: 16389, format: 'binary' },
      { name: 'row', type: 'record', typeId: 2249, format: 'binary' },
    ]), context())).toBeDefined();
  });

  it('refuses the result (before any row) for a masked type it cannot re-encode, instead of sending NULL', async () => {
    const masking = await loadMasking(BASE_OPTIONS, new Map([[ViewResolverCapability.name, knowsUsers]]));
    const cases: [ResultColumn, string][] = [
      [{ name: 'a', type: '_interval', typeId: 1187, format: 'binary' }, '_interval'],
      [{ name: 'a', type: 'mood', typeId: 16400, format: 'binary' }, 'mood'],
      [{ name: 'a', type: '_mood', typeId: 16401, format: 'binary' }, '_mood'],
    ];
    for (const [column, type] of cases) {
      const one = stmt('SELECT a FROM users', { reads: readsUsers, outputs: [out([users('ssn')], { name: 'a' })] });
      expect(() => masking.onResult(result(one, [column]), context())).toThrow(new RegExp(`binary format of type ${type} cannot be masked \\(column a\\); use text format`));
      // The same in text format is masked.
      expect(masking.onResult(result(one, [{ ...column, format: 'text' }]), context())).toBeDefined();
    }
    // Without a catalog nothing says a user type is a table's row type.
    const bare = await loadMasking(BASE_OPTIONS);
    expect(() => bare.onResult(result(s, columns), context())).toThrow(/binary format of type users cannot be masked \(column u\); use text format/);
    const email = stmt('SELECT email FROM users', { reads: readsUsers, outputs: [out([users('email')], { direct: true })] });
    expect(bare.onResult(result(email, [{ name: 'email', type: 'text', typeId: 25, format: 'binary', origin: users('email') }]), context())).toBeDefined();
  });
});

describe('planner statistics', () => {
  it('refuses reading sample values of columns (pg_stats, mysql.column_stats) unless exempt', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, exempt: { groups: ['dba'] } });
    const pg = stmt("SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'users'", { reads: [{ name: 'pg_stats' }], outputs: [out([{ table: 'pg_stats', column: 'most_common_vals' }])] });
    expect((masking.onStatement(pg, context()) as Deny).error.message).toMatch(/pg_catalog\.pg_stats hold sample values/);
    const nested = stmt('SELECT (SELECT histogram_bounds::text FROM pg_catalog.pg_stats LIMIT 1)', { reads: [] });
    const withNested = { ...nested, nested: [stmt('SELECT histogram_bounds FROM pg_catalog.pg_stats', { reads: [{ schema: 'pg_catalog', name: 'pg_stats' }] })] };
    expect(masking.onStatement(withNested, context())).toMatchObject({ action: 'deny' });
    const maria = stmt('SELECT min_value, max_value FROM mysql.column_stats', { reads: [{ schema: 'mysql', name: 'column_stats' }] });
    expect((masking.onStatement(maria, mysql()) as Deny).error.message).toMatch(/mysql\.column_stats/);
    // Another schema's relation of that name is not the catalog's.
    expect(masking.onStatement(stmt('SELECT * FROM app.pg_stats', { reads: [{ schema: 'app', name: 'pg_stats' }] }), context())).toBeUndefined();
    expect(masking.onStatement(pg, context(session({ groups: ['dba'] })))).toBeUndefined();
  });
});

describe('writes, column by column', () => {
  const write = (text: string, assigned: { target: ColumnRef; sources: ColumnRef[] }[], kind: 'update' | 'insert' = 'update') =>
    ({ ...stmt(text, { kind, command: kind, reads: readsUsers, writes: [{ name: 'users' }] }), assigned });
  const u = (column: string): ColumnRef => ({ table: 'users', column });

  it('refuses a value of a masked column written into a column its rule does not cover', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, exempt: { groups: ['dba'] } });
    const copy = write('UPDATE users SET name = ssn', [{ target: u('name'), sources: [users('ssn')] }]);
    expect((masking.onStatement(copy, context()) as Deny).error.message).toMatch(/write values masked by .* into users\.name/);
    const intoEmail = write("UPDATE users SET email = 'x@' || ssn", [{ target: u('email'), sources: [users('ssn')] }]);
    expect(masking.onStatement(intoEmail, context())).toMatchObject({ action: 'deny' });
    const unnamed = write('INSERT INTO users SELECT * FROM users', [{ target: u('*'), sources: [users('*')] }], 'insert');
    expect((masking.onStatement(unnamed, context()) as Deny).error.hint).toMatch(/Name the target columns/);
    expect(masking.onStatement(copy, context(session({ groups: ['dba'] })))).toBeUndefined();
  });

  it('lets a masked column be rewritten from itself, and plain columns from anything plain', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    expect(masking.onStatement(write('UPDATE users SET email = lower(email)', [{ target: u('email'), sources: [users('email')] }]), context())).toBeUndefined();
    expect(masking.onStatement(write("UPDATE users SET name = name || '!'", [{ target: u('name'), sources: [users('name')] }]), context())).toBeUndefined();
    expect(masking.onStatement(write("UPDATE users SET ssn = '000-00-0000'", [{ target: u('ssn'), sources: [] }]), context())).toBeUndefined();
  });
});

describe('routines created by masked sessions', () => {
  it('refuses creating a routine whose body reads a sensitive table', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const create = stmt('CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM users $$', { kind: 'ddl', command: 'create_function', reads: readsUsers, writes: [{ name: 'f' }] });
    expect((masking.onStatement(create, context()) as Deny).error.message).toMatch(/routine whose body reads public\.users/);
    const harmless = stmt('CREATE FUNCTION g() RETURNS numeric LANGUAGE sql AS $$ SELECT sum(total) FROM orders $$', { kind: 'ddl', command: 'create_function', reads: readsOrders, writes: [{ name: 'g' }] });
    expect(masking.onStatement(harmless, context())).toBeUndefined();
  });
});
