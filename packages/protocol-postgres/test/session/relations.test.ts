// PostgresRelations against the harness's PostgreSQL: snapshots, view lineage from pg_get_viewdef,
// names in several schemas, DDL in an open transaction, and a catalog that cannot be read.
import { Client } from 'pg';
import { GatewayError, Secret, type Session, type Statement, type UpstreamConfig } from '@querygate/core';
import { PostgresAnalyzer } from '../../src/analysis/PostgresAnalyzer';
import { Catalog } from '../../src/session/Catalog';
import { PostgresRelations } from '../../src/session/Relations';
import { pgClientConfig, postgresInfo } from '../../../../test/services';

const DB = 'qg_relations';
let analyzer: PostgresAnalyzer;
let catalog: Catalog;
let relations: PostgresRelations;
let owner: Client;

function session(): Session {
  return {
    id: 's', identity: { subject: 'a', groups: [], claims: {}, method: 'password' } as never, protocol: 'postgres', listener: 'pg',
    database: DB, clientAddress: '127.0.0.1', startedAt: new Date(), clientParameters: {}, tls: false, state: new Map(),
  };
}

function upstream(port = postgresInfo().port): UpstreamConfig {
  const pg = postgresInfo();
  return {
    host: pg.host, port, user: pg.users.app.user, password: new Secret(pg.users.app.password, 'test'),
    tls: { mode: 'disable' }, connectTimeout: 3000,
  };
}

const statements = (sql: string): readonly Statement[] => analyzer.analyze(sql);

beforeAll(async () => {
  analyzer = await PostgresAnalyzer.load();
  const admin = new Client(pgClientConfig('postgres', 'postgres'));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB} OWNER app`);
  await admin.end();
  owner = new Client(pgClientConfig('app', DB));
  await owner.connect();
  await owner.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text, ssn text);
    CREATE SCHEMA other;
    CREATE TABLE other.users (id int, nickname text);
    CREATE VIEW contacts (who, mail) AS SELECT id, lower(email) FROM users;
    CREATE VIEW contacts_again AS SELECT who, mail AS address FROM contacts;
    CREATE VIEW other.people AS SELECT u.id, u.email FROM public.users u WHERE u.id IN (SELECT id FROM other.users);
    CREATE VIEW people AS SELECT id, ssn FROM users;
  `);
  catalog = new Catalog(upstream(), 'pg');
  relations = new PostgresRelations(analyzer, (database, sql) => catalog.query(database, sql));
});

afterAll(async () => {
  catalog?.close();
  await owner?.end();
  const admin = new Client(pgClientConfig('postgres', 'postgres'));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
});

describe('PostgresRelations', () => {
  test('knows nothing before its first snapshot, then answers synchronously', async () => {
    const s = session();
    expect(relations.describe({ name: 'users' }, s)).toBeUndefined();
    const ready = relations.ready(DB, statements('SELECT * FROM contacts'));
    expect(ready).toBeInstanceOf(Promise);
    await ready;
    expect(relations.ready(DB, statements('SELECT * FROM contacts'))).toBeUndefined();
    expect(relations.describe({ schema: 'public', name: 'users' }, s)).toEqual({ kind: 'table', columns: ['id', 'email', 'ssn'] });
    // System relations are known, as tables.
    expect(relations.describe({ name: 'pg_stat_activity' }, s)?.kind).toBe('table');
    expect(relations.describe({ name: 'no_such_relation' }, s)).toBeUndefined();
  });

  test('view columns follow pg_get_viewdef, paired by position with the view\'s own column names', () => {
    const info = relations.describe({ schema: 'public', name: 'contacts' }, session());
    expect(info).toEqual({
      kind: 'view', complete: true,
      reads: [{ schema: 'public', name: 'users' }],
      columns: [
        { name: 'who', sources: [{ schema: 'public', table: 'users', column: 'id' }], direct: true },
        { name: 'mail', sources: [{ schema: 'public', table: 'users', column: 'email' }], direct: false },
      ],
    });
    const again = relations.describe({ name: 'contacts_again' }, session());
    expect(again?.kind === 'view' && again.columns[1]).toEqual({ name: 'address', sources: [{ schema: 'public', table: 'contacts', column: 'mail' }], direct: true });
    const other = relations.describe({ schema: 'other', name: 'people' }, session());
    expect(other?.kind === 'view' && other.reads).toEqual(expect.arrayContaining([{ schema: 'public', name: 'users' }, { schema: 'other', name: 'users' }]));
  });

  test('an unqualified name several schemas hold answers all of them merged', () => {
    const users = relations.describe({ name: 'users' }, session());
    expect(users).toEqual({ kind: 'table', columns: expect.arrayContaining(['id', 'email', 'ssn', 'nickname']) });
    // `people` is a view in public and in other: both definitions' sources count.
    const people = relations.describe({ name: 'people' }, session());
    expect(people?.kind).toBe('view');
    const sources = people?.kind === 'view' ? people.columns.flatMap((c) => c.sources.map((s) => `${s.table}.${s.column}`)) : [];
    expect(sources).toEqual(expect.arrayContaining(['users.ssn', 'users.email']));
  });

  test('after DDL the next statement waits for a new snapshot, and sees the new definition', async () => {
    const s = session();
    const before = relations.version;
    await owner.query('CREATE OR REPLACE VIEW people AS SELECT id, email AS ssn FROM users');
    relations.changedInTransaction(s, [{ name: 'people' }]);
    // Until the transaction ends, the session's own change is invisible to the side connection.
    expect(relations.describe({ schema: 'public', name: 'people' }, s)).toBeUndefined();
    expect(relations.describe({ schema: 'public', name: 'people' }, session())).toBeDefined();
    relations.transactionEnded(s, DB);
    const ready = relations.ready(DB, statements('SELECT 1'));
    expect(ready).toBeInstanceOf(Promise);
    await ready;
    expect(relations.version).toBeGreaterThan(before);
    const people = relations.describe({ schema: 'public', name: 'people' }, s);
    expect(people?.kind === 'view' && people.columns[1]!.sources).toEqual([{ schema: 'public', table: 'users', column: 'email' }]);
  });

  test('a load under way when DDL completes is followed by another, so the DDL is seen', async () => {
    relations.invalidate(DB);
    const first = relations.ready(DB, statements('SELECT 1'));
    await owner.query('CREATE VIEW raced AS SELECT id FROM users');
    relations.invalidate(DB);
    const second = relations.ready(DB, statements('SELECT 1'));
    expect(second).toBeInstanceOf(Promise);
    await Promise.all([first, second]);
    expect(relations.describe({ name: 'raced' }, session())?.kind).toBe('view');
  });

  test('a statement naming a relation the snapshot lacks reloads it (at most once a second)', async () => {
    await owner.query('CREATE TABLE late (id int)');
    await new Promise((r) => setTimeout(r, 1100));
    const ready = relations.ready(DB, statements('SELECT * FROM late'));
    expect(ready).toBeInstanceOf(Promise);
    await ready;
    expect(relations.describe({ name: 'late' }, session())).toEqual({ kind: 'table', columns: ['id'] });
    // Right after a load, an unknown name does not reload again.
    expect(relations.ready(DB, statements('SELECT * FROM still_missing'))).toBeUndefined();
  });

  test('a catalog that cannot be read rejects with QG_UPSTREAM_UNAVAILABLE, and the next statement tries again', async () => {
    const dead = new Catalog(upstream(1), 'pg');
    const unreadable = new PostgresRelations(analyzer, (database, sql) => dead.query(database, sql));
    const err = await (unreadable.ready(DB, statements('SELECT 1')) as Promise<void>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('QG_UPSTREAM_UNAVAILABLE');
    expect((err as GatewayError).message).toContain(DB);
    expect(unreadable.describe({ name: 'users' }, session())).toBeUndefined();
    // No snapshot was kept: the next statement tries again (and fails again, cleanly).
    const retry = unreadable.ready(DB, statements('SELECT 1'));
    expect(retry).toBeInstanceOf(Promise);
    await expect(retry).rejects.toMatchObject({ code: 'QG_UPSTREAM_UNAVAILABLE' });
    dead.close();
  });
});

describe('PostgresRelations: routines', () => {
  beforeAll(async () => {
    await owner.query(`
      CREATE FUNCTION peek(i int) RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM users WHERE id = i $$;
      CREATE FUNCTION other.peek() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT nickname FROM other.users LIMIT 1); END $$;
      CREATE FUNCTION outer_fn() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'x'; RETURN upper(public.peek(1)); END $$;
      CREATE FUNCTION rows_fn() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN RETURN QUERY SELECT id FROM contacts_again; END $$;
      CREATE FUNCTION dyn(t text) RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE n bigint; BEGIN EXECUTE 'SELECT count(*) FROM ' || t INTO n; RETURN n; END $$;
      CREATE FUNCTION looping(i int) RETURNS int LANGUAGE sql AS $$ SELECT CASE WHEN i > 0 THEN looping(i - 1) ELSE (SELECT count(*)::int FROM other.users) END $$;
      CREATE FUNCTION agg_step(acc text, v int) RETURNS text LANGUAGE sql AS $$ SELECT coalesce(acc, '') || (SELECT ssn FROM users WHERE id = v) $$;
      CREATE AGGREGATE leak_agg(int) (SFUNC = agg_step, STYPE = text);
      CREATE FUNCTION pg_temp.tmp_peek() RETURNS text LANGUAGE sql AS $$ SELECT email FROM users LIMIT 1 $$;
    `);
    relations.invalidate(DB);
    await relations.ready(DB, statements('SELECT 1'));
  });

  const reads = (name: string): string[] | undefined => relations.routine(name, session())?.reads.map((r) => `${r.schema ?? ''}.${r.name}`).sort();

  test('a routine\'s body is followed to the relations it reads, through the routines it calls', () => {
    expect(reads('public.peek')).toEqual(['.users']);
    expect(reads('other.peek')).toEqual(['other.users']);
    // Unqualified: every schema's overloads, merged.
    expect(reads('peek')).toEqual(['.users', 'other.users']);
    expect(reads('outer_fn')).toEqual(['.users']);
    expect(reads('rows_fn')).toEqual(['.contacts_again']);
    expect(relations.routine('looping', session())).toEqual({ reads: [{ schema: 'other', name: 'users' }], complete: true });
    expect(relations.routine('outer_fn', session())?.complete).toBe(true);
    // An aggregate runs its support functions per row.
    expect(reads('leak_agg')).toEqual(['.users']);
    // pg_temp is the session's temporary schema (pg_temp_<n> in the catalog).
    expect(reads('pg_temp.tmp_peek')).toEqual(['.users']);
  });

  test('dynamic SQL cannot be followed; built-in functions are not the catalog\'s', () => {
    expect(relations.routine('dyn', session())).toEqual({ reads: [], complete: false });
    expect(relations.routine('lower', session())).toBeUndefined();
    expect(relations.routine('pg_catalog.lower', session())).toBeUndefined();
    // Quoted names keep their case and dots (collect.functionName): not built-ins, not followed.
    expect(relations.routine('UPPER', session())).toEqual({ reads: [], complete: false });
    expect(relations.routine('"pg_catalog.lower"', session())).toEqual({ reads: [], complete: false });
    expect(relations.routine('other.nope', session())).toEqual({ reads: [], complete: false });
  });
});
