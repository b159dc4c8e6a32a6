import type { Statement } from '@querygate/core';
import { one, refs, risks } from './analyzer';

function nestedSummary(s: Statement): string[] {
  return (s.nested ?? []).map((n) => `${n.kind}/${n.command}: ${n.text}`);
}

describe('nested statements', () => {
  test('PREPARE judges the statement it prepares', async () => {
    const s = await one('PREPARE del (int) AS DELETE FROM t WHERE id = $1');
    expect([s.kind, s.command]).toEqual(['utility', 'prepare']);
    expect(nestedSummary(s)).toEqual(['delete/delete: DELETE FROM t WHERE id = $1']);
    expect(refs(s.writes)).toEqual(['t']);
  });

  test('EXPLAIN ANALYZE executes its statement: it is nested, with its risks', async () => {
    const s = await one('EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM users');
    expect(nestedSummary(s)).toEqual(['delete/delete: DELETE FROM users']);
    expect(risks(s.nested![0])).toEqual(['noWhere']);
    expect(risks(s)).toEqual(['noWhere']);
  });

  test('legacy EXPLAIN ANALYZE VERBOSE syntax', async () => {
    const s = await one('EXPLAIN ANALYZE VERBOSE UPDATE t SET a = 1');
    expect(nestedSummary(s)).toEqual(['update/update: UPDATE t SET a = 1']);
  });

  test('plain EXPLAIN runs nothing: no nested statement', async () => {
    expect((await one('EXPLAIN DELETE FROM users')).nested).toBeUndefined();
  });

  test('a data-modifying query inside COPY is nested', async () => {
    const s = await one('COPY (DELETE FROM t RETURNING *) TO STDOUT');
    expect(nestedSummary(s)).toEqual(['delete/delete: DELETE FROM t RETURNING *']);
    expect(risks(s)).toEqual(['noWhere']);
  });

  test("a cursor's query is nested, with its lineage", async () => {
    const s = await one('DECLARE c CURSOR WITH HOLD FOR SELECT email FROM users');
    expect(nestedSummary(s)).toEqual(['select/select: SELECT email FROM users']);
    expect(s.nested![0].lineage.outputs[0].sources).toEqual([{ table: 'users', column: 'email' }]);
  });

  test('DO: static SQL in the body is nested; EXECUTE of a constant string too; dynamic EXECUTE is flagged', async () => {
    const s = await one(`DO $$
      DECLARE n int;
      BEGIN
        SELECT count(*) INTO n FROM users;
        DELETE FROM audit_log WHERE id < n;
        EXECUTE 'DROP TABLE staging';
        EXECUTE 'TRUNCATE ' || quote_ident('t' || n);
        IF pg_read_file('/etc/hostname') IS NOT NULL THEN n := set_config('role', 'admin', false); END IF;
      END $$`);
    expect(nestedSummary(s).map((x) => x.replace(/\s+/g, ' '))).toEqual([
      'select/select: SELECT count(*) FROM users',
      'delete/delete: DELETE FROM audit_log WHERE id < n',
      'ddl/drop_table: DROP TABLE staging',
    ]);
    expect(risks(s)).toEqual(['dynamicSql', 'fileAccess', 'privilegeChange']);
    expect(s.functions).toEqual(expect.arrayContaining(['count', 'quote_ident', 'pg_read_file', 'set_config']));
    expect(refs(s.writes)).toEqual(['audit_log', 'staging']);
    expect(refs(s.reads)).toEqual(['users']);
  });

  test('DO in another language cannot be read: unparsed', async () => {
    const s = await one("DO LANGUAGE plpython3u $$ import os; os.system('id') $$");
    expect(risks(s)).toEqual(['dynamicSql', 'unparsed']);
  });

  test('DO whose body does not parse: unparsed', async () => {
    expect(risks(await one('DO $$ BEGIN SELEC 1; END $$'))).toEqual(['dynamicSql', 'unparsed']);
  });

  test('SQL text given to dblink_exec as a literal is nested', async () => {
    const s = await one("SELECT dblink_exec('dbname=other', 'DROP DATABASE prod')");
    expect(nestedSummary(s)).toEqual(['ddl/drop_database: DROP DATABASE prod']);
    expect(risks(s)).toEqual(['dynamicSql']);
  });

  test('nesting inside nesting', async () => {
    const s = await one("PREPARE p AS SELECT dblink_exec('x', 'DELETE FROM t')");
    expect(s.nested![0].nested!.map((n) => n.command)).toEqual(['delete']);
    expect(risks(s)).toEqual(['dynamicSql', 'noWhere']);
  });

  test('the data-modifying CTE: kind and command delete, writes, noWhere', async () => {
    const s = await one('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d');
    expect([s.kind, s.command]).toEqual(['delete', 'delete']);
    expect(refs(s.writes)).toEqual(['t']);
    expect(risks(s)).toEqual(['noWhere']);
  });

  test('the most dangerous DML wins: an INSERT carrying an UPDATE CTE is an update', async () => {
    const s = await one('WITH u AS (UPDATE a SET x = 1 WHERE id = 1 RETURNING *) INSERT INTO b SELECT * FROM u');
    expect([s.kind, s.command]).toEqual(['update', 'update']);
    expect(refs(s.writes)).toEqual(['a', 'b']);
  });

  test('EXECUTE name cannot be resolved statelessly', async () => {
    const s = await one('EXECUTE del(5)');
    expect([s.command, risks(s)]).toEqual(['execute', ['dynamicSql']]);
    expect(s.nested).toBeUndefined();
  });
});
