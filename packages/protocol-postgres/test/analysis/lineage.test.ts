import type { Statement } from '@querygate/core';
import { one } from './analyzer';

/** name | sources (sorted, `schema.table.column`) | d (direct) | * (expands) */
function summary(s: Statement): string[] {
  return s.lineage.outputs.map((o) => {
    const sources = o.sources.map((c) => `${c.schema === undefined ? '' : `${c.schema}.`}${c.table}.${c.column}`).sort();
    return `${o.name ?? ''}|${sources.join(',')}|${o.direct ? 'd' : ''}${o.expands === true ? '*' : ''}`;
  });
}

async function lineage(sql: string): Promise<string[]> {
  return summary(await one(sql));
}

describe('lineage', () => {
  test.each([
    // direct references, aliases resolved to tables, schema kept
    ['SELECT email FROM users', ['email|users.email|d']],
    ['SELECT u.email AS mail, u.id FROM public.users u', ['mail|public.users.email|d', 'id|public.users.id|d']],
    ['SELECT public.users.email FROM public.users', ['email|public.users.email|d']],
    // expressions, function calls, casts, CASE
    ["SELECT lower(u.email) || '@' FROM users u", ['?column?|users.email|']],
    ['SELECT upper(email) FROM users', ['upper|users.email|']],
    ['SELECT email::text FROM users', ['email|users.email|']],
    ['SELECT CAST(u.ssn AS int) AS n FROM users u', ['n|users.ssn|']],
    ["SELECT CASE WHEN u.vip THEN u.email ELSE 'hidden' END FROM users u", ['case|users.email,users.vip|']],
    ['SELECT CASE WHEN true THEN 1 ELSE u.id END FROM users u', ['id|users.id|']],
    ['SELECT coalesce(a.x, b.y) FROM a JOIN b ON a.id = b.id', ['coalesce|a.x,b.y|']],
    // aggregates
    ["SELECT string_agg(email, ',') FROM users", ['string_agg|users.email|']],
    ['SELECT array_agg(u.ssn ORDER BY u.id) FROM users u', ['array_agg|users.id,users.ssn|']],
    ['SELECT json_agg(u) FROM users u', ['json_agg|users.*,users.u|']],
    ['SELECT count(*) FROM users', ['count||']],
    // scalar subqueries
    ['SELECT (SELECT o.total FROM orders o WHERE o.uid = u.id LIMIT 1) AS t FROM users u', ['t|orders.total|']],
    ['SELECT EXISTS (SELECT 1 FROM orders) FROM users', ['exists||']],
    ['SELECT ARRAY(SELECT email FROM users)', ['array|users.email|']],
    // CTEs, including through a chain and renamed columns
    ['WITH c AS (SELECT email AS e FROM users) SELECT e FROM c', ['e|users.email|d']],
    ['WITH c AS (SELECT email FROM users), d AS (SELECT upper(email) AS m FROM c) SELECT m FROM d', ['m|users.email|']],
    ['WITH c(x) AS (SELECT ssn FROM users) SELECT c.x FROM c', ['x|users.ssn|d']],
    ['WITH c AS (SELECT * FROM users) SELECT c.email FROM c', ['email|users.email|d']],
    ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM users UNION ALL SELECT n + 1, e FROM r) SELECT e FROM r', ['e|users.email|d']],
    // set operations: union of branch sources per position
    ['SELECT email FROM users UNION SELECT contact FROM leads', ['email|leads.contact,users.email|d']],
    ['SELECT a FROM x INTERSECT SELECT upper(b) FROM y EXCEPT SELECT c FROM z', ['a|x.a,y.b,z.c|']],
    // derived tables
    ['SELECT d.m FROM (SELECT email AS m FROM users) d', ['m|users.email|d']],
    ['SELECT m FROM (SELECT lower(email) AS m FROM users) d', ['m|users.email|']],
    ['SELECT * FROM (SELECT email, id FROM users) d', ['email|users.email|d', 'id|users.id|d']],
    ['SELECT y FROM (SELECT email FROM users) AS d(y)', ['y|users.email|d']],
    // star and t.*
    ['SELECT * FROM users', ['|users.*|d*']],
    ['SELECT * FROM users u JOIN orders o ON o.uid = u.id', ['|orders.*,users.*|d*']],
    ['SELECT o.*, u.email FROM users u JOIN s.orders o ON true', ['|s.orders.*|d*', 'email|users.email|d']],
    // whole-row references
    ['SELECT u FROM users u', ['u|users.*,users.u|']],
    ['SELECT row_to_json(u) FROM users u', ['row_to_json|users.*,users.u|']],
    ['SELECT to_jsonb(u.*) AS j FROM users u', ['j|users.*|']],
    ['SELECT (u).email FROM users u', ['email|users.*,users.u|']],
    // unqualified column, several tables: every table in scope
    ['SELECT email FROM users, orders', ['email|orders.email,users.email|d']],
    // values
    ['VALUES (1, 2)', ['column1||', 'column2||']],
    ['SELECT 1 AS one, now()', ['one||', 'now||']],
  ] as const)('%s', async (sql, expected) => {
    expect(await lineage(sql)).toEqual(expected);
  });

  test.each([
    ['INSERT INTO t (a) VALUES (1) RETURNING id, a', ['id|t.id|d', 'a|t.a|d']],
    ['INSERT INTO t (a, b) SELECT email, 1 FROM users RETURNING a, b', ['a|t.a,users.email|', 'b|t.b|d']],
    ['INSERT INTO t SELECT * FROM users RETURNING *', ['|t.*,users.*|*']],
    ['UPDATE users SET email = lower(email) WHERE id = 1 RETURNING email, id', ['email|users.email|', 'id|users.id|d']],
    ['UPDATE t SET a = s.secret FROM s WHERE t.id = s.id RETURNING t.a', ['a|s.secret,t.a|']],
    ['DELETE FROM users u WHERE id = 1 RETURNING u.email', ['email|users.email|d']],
    ['DELETE FROM users WHERE id = 1 RETURNING *', ['|users.*|d*']],
    ['UPDATE t SET a = 1 WHERE id = 1 RETURNING old.a, new.a', ['a|t.a|d', 'a|t.a|d']],
    ['WITH d AS (DELETE FROM users RETURNING email) SELECT upper(email) FROM d', ['upper|users.email|']],
    ['COPY users (email, id) TO STDOUT', ['email|users.email|d', 'id|users.id|d']],
    ['COPY (SELECT ssn FROM users) TO STDOUT', ['ssn|users.ssn|d']],
  ] as const)('RETURNING / COPY: %s', async (sql, expected) => {
    expect(await lineage(sql)).toEqual(expected);
  });

  test('direct lineage is complete', async () => {
    expect((await one('SELECT email FROM users')).lineage.complete).toBe(true);
  });

  test('a set-returning function in FROM loses track, but keeps the sources of its arguments', async () => {
    const s = await one('SELECT x FROM users u, unnest(u.emails) AS x');
    expect(s.lineage.complete).toBe(false);
    expect(summary(s)).toEqual(['x|users.emails,users.x|']);
  });

  test('an unknown qualifier on a star loses track', async () => {
    expect((await one('SELECT nope.* FROM users')).lineage.complete).toBe(false);
  });

  test('an unknown qualifier may be a composite column: its field comes from that column', async () => {
    const s = await one('SELECT addr.city FROM users');
    expect(summary(s)).toEqual(['city|users.addr|']);
  });

  test('statements without rows have empty, complete lineage; EXECUTE and FETCH are opaque', async () => {
    expect((await one('CREATE TABLE t (a int)')).lineage).toEqual({ outputs: [], complete: true });
    expect((await one('EXECUTE p')).lineage.complete).toBe(false);
    expect((await one('FETCH ALL FROM c')).lineage.complete).toBe(false);
    expect((await one('INSERT INTO t VALUES (1)')).lineage).toEqual({ outputs: [], complete: true });
  });

  test('a column of an outer query seen from a subquery counts both candidates', async () => {
    // Without the catalog `email` may belong to orders or to the outer users.
    expect(await lineage('SELECT (SELECT email FROM orders LIMIT 1) FROM users')).toEqual(['email|orders.email,users.email|']);
  });
});

describe('assignments of writes', () => {
  const assigned = async (sql: string): Promise<string[] | undefined> => (await one(sql)).assigned?.map((a) =>
    `${a.target.table}.${a.target.column} <- ${a.sources.map((c) => `${c.table}.${c.column}`).sort().join(',')}`);

  test('UPDATE ... SET: each target column and what its value is computed from', async () => {
    expect(await assigned("UPDATE users SET name = ssn, email = lower(u2.email) || 'x' FROM users u2 WHERE u2.id = users.id"))
      .toEqual(['users.name <- users.ssn', 'users.email <- users.email']);
    // An unqualified name in a correlated subquery may be the outer table's: both count.
    expect(await assigned('UPDATE users u SET name = (SELECT note FROM orders o WHERE o.user_id = u.id)')).toEqual(['users.name <- orders.note,users.note']);
  });

  test('INSERT ... SELECT pairs columns; without a column list the target is *', async () => {
    expect(await assigned('INSERT INTO archive (id, contact) SELECT id, email FROM users')).toEqual(['archive.id <- users.id', 'archive.contact <- users.email']);
    expect(await assigned('INSERT INTO archive SELECT id, ssn FROM users')).toEqual(['archive.* <- users.id,users.ssn']);
    expect(await assigned("INSERT INTO archive (id) VALUES (1)")).toEqual(['archive.id <- ']);
    expect(await assigned('SELECT 1')).toBeUndefined();
  });
});

describe('routine bodies at CREATE', () => {
  test('what a SQL or PL/pgSQL body reads counts as the CREATE FUNCTION\'s reads', async () => {
    const names = async (sql: string): Promise<string[]> => (await one(sql)).reads.map((r) => r.name).sort();
    expect(await names('CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT ssn FROM users LIMIT 1 $$')).toEqual(['users']);
    expect(await names("CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', (SELECT note FROM orders LIMIT 1); RETURN (SELECT email FROM users LIMIT 1); END $$"))
      .toEqual(['orders', 'users']);
    expect(await names('CREATE FUNCTION f() RETURNS text LANGUAGE sql RETURN (SELECT ssn FROM users LIMIT 1)')).toEqual(['users']);
  });
});
