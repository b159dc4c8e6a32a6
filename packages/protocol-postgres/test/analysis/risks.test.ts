import { one, refs, risks } from './analyzer';

describe('risk flags', () => {
  test.each([
    ['DELETE FROM t', ['noWhere']],
    ['UPDATE t SET a = 1', ['noWhere']],
    ['DELETE FROM t WHERE true', ['noWhere']],
    ['DELETE FROM t WHERE 1 = 1', ['noWhere']],
    ["UPDATE t SET a = 1 WHERE 't'::boolean", ['noWhere']],
    ['DELETE FROM t WHERE 1 = 1 OR id = 5', ['noWhere']],
    ['DELETE FROM t WHERE id = 5', []],
    ['DELETE FROM t WHERE 1 = 2', []],
    ['DELETE FROM t WHERE false', []],
    ['UPDATE t SET a = 1 WHERE CURRENT OF c', []],
    ['TRUNCATE t', ['noWhere']],
    ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', ['noWhere']],
    ['WITH u AS (UPDATE t SET a = 1 WHERE id = 1 RETURNING *) SELECT * FROM u', []],
    ['MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE', ['noWhere']],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', []],
    ["COPY t FROM '/etc/passwd'", ['fileAccess']],
    ["COPY t TO '/tmp/x'", ['fileAccess']],
    ["COPY (SELECT 1) TO PROGRAM 'sh -c id'", ['fileAccess']],
    ['COPY t TO STDOUT', []],
    ["SELECT pg_read_file('/etc/passwd')", ['fileAccess']],
    ["SELECT pg_catalog.pg_read_binary_file('x')", ['fileAccess']],
    ["SELECT * FROM pg_ls_dir('.')", ['fileAccess']],
    ["SELECT pg_stat_file('postgresql.conf')", ['fileAccess']],
    ["SELECT lo_import('/etc/passwd')", ['fileAccess']],
    ["SELECT lo_export(1234, '/tmp/x')", ['fileAccess']],
    ["SELECT pg_file_write('x', 'y', false)", ['fileAccess']],
    ["LOAD 'evil'", ['fileAccess']],
    ["CREATE TABLESPACE ts LOCATION '/tmp/ts'", ['fileAccess']],
    ['GRANT SELECT ON users TO bob', ['privilegeChange']],
    ['REVOKE SELECT ON users FROM bob', ['privilegeChange']],
    ['GRANT admin TO bob', ['privilegeChange']],
    ['CREATE ROLE r SUPERUSER', ['privilegeChange']],
    ["CREATE USER u PASSWORD 'p'", ['privilegeChange']],
    ['ALTER ROLE r SUPERUSER', ['privilegeChange']],
    ['DROP ROLE r', ['privilegeChange']],
    ['SET ROLE admin', ['privilegeChange']],
    ['SET SESSION AUTHORIZATION postgres', ['privilegeChange']],
    ['RESET ROLE', ['privilegeChange']],
    ['DISCARD ALL', ['privilegeChange']],
    ['DISCARD PLANS', []],
    ['ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC', ['privilegeChange']],
    ['ALTER TABLE t OWNER TO bob', ['privilegeChange']],
    ['ALTER TABLE t DISABLE ROW LEVEL SECURITY', ['privilegeChange']],
    ['ALTER TABLE t ADD COLUMN c int', []],
    ['ALTER DATABASE app SET role = admin', ['privilegeChange']],
    ["SELECT set_config('role', 'admin', false)", ['privilegeChange']],
    ["SELECT set_config('session_authorization', 'postgres', false)", ['privilegeChange']],
    ["SELECT set_config($1, 'admin', false)", ['privilegeChange']],
    ["SELECT set_config('work_mem', '1MB', false)", []],
    ["CREATE FUNCTION f() RETURNS int SECURITY DEFINER LANGUAGE sql AS 'SELECT 1'", ['dynamicSql', 'privilegeChange']],
    ['ALTER FUNCTION f() SECURITY DEFINER', ['privilegeChange']],
    ['ALTER FUNCTION f() SECURITY INVOKER', []],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", ['dynamicSql']],
    ['CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1', ['dynamicSql']],
    ['DO $$ BEGIN NULL; END $$', ['dynamicSql']],
    ['EXECUTE p(1)', ['dynamicSql']],
    ['CREATE TABLE t AS EXECUTE p', ['dynamicSql']],
    ['EXPLAIN ANALYZE EXECUTE p', ['dynamicSql']],
    ['DROP OWNED BY bob', ['privilegeChange']],
    ['ALTER ROLE bob RENAME TO alice', ['privilegeChange']],
    ['ALTER TABLE t NO FORCE ROW LEVEL SECURITY', ['privilegeChange']],
    ['DELETE FROM t WHERE 5 > 3', ['noWhere']],
    ['SELECT 1 FROM t WHERE 1 = 1', []],
    ["SELECT dblink_exec('dbname=x', 'SELECT 1')", ['dynamicSql']],
    ["SELECT * FROM dblink('dbname=x', 'SELECT 1') AS t(a int)", ['dynamicSql']],
    ["SELECT query_to_xml('SELECT 1', true, false, '')", ['dynamicSql']],
    ['SELEC 1', ['unparsed']],
    ['SELECT 1', []],
  ] as const)('%s → %j', async (sql, expected) => {
    expect(risks(await one(sql))).toEqual([...expected].sort());
  });

  test('a DO block inherits the risks of the SQL it runs', async () => {
    const s = await one("DO $$ BEGIN PERFORM pg_read_file('/etc/passwd'); DELETE FROM audit; END $$");
    expect(risks(s)).toEqual(['dynamicSql', 'fileAccess', 'noWhere']);
  });

  test('EXPLAIN ANALYZE carries the risks of what it executes; plain EXPLAIN does not', async () => {
    expect(risks(await one('EXPLAIN ANALYZE DELETE FROM t'))).toEqual(['noWhere']);
    expect(risks(await one('EXPLAIN (ANALYZE off) DELETE FROM t'))).toEqual([]);
    expect(risks(await one('EXPLAIN DELETE FROM t'))).toEqual([]);
  });
});

describe('functions', () => {
  test.each([
    ["SELECT pg_read_file('x')", ['pg_read_file']],
    ["SELECT pg_catalog.pg_read_file('x')", ['pg_catalog.pg_read_file']],
    ['SELECT PG_SLEEP(1)', ['pg_sleep']],
    ['SELECT "Mixed"(1)', ['Mixed']],
    ["SELECT lower(name), count(*) FROM users WHERE id IN (SELECT abs(x) FROM s) GROUP BY 1 HAVING max(id) > 0", ['abs', 'count', 'lower', 'max']],
    ["SELECT 1 FROM t WHERE EXISTS (SELECT dblink_exec('c', 'x'))", ['dblink_exec']],
    ['WITH c AS (SELECT now() AS n) SELECT n FROM c', ['now']],
    ['INSERT INTO t VALUES (gen_random_uuid()) RETURNING upper(a)', ['gen_random_uuid', 'upper']],
    ['UPDATE t SET a = md5(b) WHERE id = length(c)', ['length', 'md5']],
    ['CALL myschema.proc(1)', ['myschema.proc']],
    ["SELECT extract(year FROM now())", ['extract', 'now']],
    ["SELECT * FROM generate_series(1, 3)", ['generate_series']],
    ['EXECUTE p(pg_sleep(5))', ['pg_sleep']],
  ] as const)('%s → %j', async (sql, expected) => {
    expect([...(await one(sql)).functions].sort()).toEqual([...expected].sort());
  });
});

describe('reads and writes', () => {
  test.each([
    ['SELECT * FROM users', ['users'], []],
    ['SELECT * FROM public.users u JOIN orders o ON o.uid = u.id', ['orders', 'public.users'], []],
    ['SELECT * FROM a WHERE id IN (SELECT id FROM b) AND EXISTS (SELECT 1 FROM c.d)', ['a', 'b', 'c.d'], []],
    ['SELECT (SELECT max(x) FROM s) FROM t, LATERAL (SELECT * FROM u) l', ['s', 't', 'u'], []],
    ['WITH c AS (SELECT * FROM users) SELECT * FROM c', ['users'], []],
    ['WITH users AS (SELECT * FROM users) SELECT * FROM users', ['users'], []],
    ['WITH c AS (SELECT 1) SELECT * FROM c, public.c', ['public.c'], []],
    ['SELECT * FROM users, (WITH users AS (SELECT 1) SELECT * FROM users) x', ['users'], []],
    ['WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT n FROM r, t) SELECT * FROM r', ['t'], []],
    ['INSERT INTO t (a) SELECT a FROM s', ['s'], ['t']],
    ['UPDATE t SET a = s.a FROM s WHERE t.id = s.id', ['s'], ['t']],
    ['DELETE FROM t USING s WHERE t.id = s.id', ['s'], ['t']],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', ['s'], ['t']],
    ['WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d', [], ['a', 'b']],
    ['TRUNCATE a, s.b', [], ['a', 's.b']],
    ['COPY t FROM STDIN', [], ['t']],
    ['COPY t TO STDOUT', ['t'], []],
    ['COPY (SELECT * FROM v) TO STDOUT', ['v'], []],
    ['SELECT * INTO new_t FROM old_t', ['old_t'], ['new_t']],
    ['CREATE TABLE x AS SELECT * FROM y', ['y'], ['x']],
    ['CREATE VIEW v AS SELECT * FROM users', ['users'], ['v']],
    ['CREATE TABLE s.t (id int REFERENCES p(id))', ['p'], ['s.t']],
    ['ALTER TABLE t ADD COLUMN c int', [], ['t']],
    ['DROP TABLE a, s.b', [], ['a', 's.b']],
    ['DROP TRIGGER tr ON s.t', [], ['s.t']],
    ['DROP SCHEMA sch', [], ['sch']],
    ['DROP DATABASE app', [], ['app']],
    ['CREATE INDEX ON t (a)', [], ['t']],
    ['GRANT SELECT ON s.users TO bob', [], ['s.users']],
    ['EXPLAIN SELECT * FROM users', ['users'], []],
    ['EXPLAIN ANALYZE DELETE FROM t', [], ['t']],
    ['PREPARE p AS DELETE FROM t WHERE id = $1', [], ['t']],
  ] as const)('%s', async (sql, reads, writes) => {
    const s = await one(sql);
    expect(refs(s.reads)).toEqual([...reads].sort());
    expect(refs(s.writes)).toEqual([...writes].sort());
  });
});
