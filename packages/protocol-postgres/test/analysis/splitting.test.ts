import { analyzer } from './analyzer';

async function texts(sql: string): Promise<string[]> {
  return (await analyzer()).analyze(sql).map((s) => s.text);
}

describe('splitting matches the server', () => {
  test('two statements, each with its own exact text', async () => {
    expect(await texts('SELECT 1; DELETE FROM t')).toEqual(['SELECT 1', 'DELETE FROM t']);
  });

  test('kinds are judged per statement', async () => {
    const out = (await analyzer()).analyze('SELECT 1; DROP TABLE t;');
    expect(out.map((s) => s.command)).toEqual(['select', 'drop_table']);
  });

  test('a dollar-quoted body containing ; stays one statement', async () => {
    expect(await texts('DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$; SELECT 3'))
      .toEqual(['DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$', 'SELECT 3']);
  });

  test("an E'' string with an escaped quote and ; inside", async () => {
    expect(await texts("SELECT E'\\';' AS x; SELECT 2")).toEqual(["SELECT E'\\';' AS x", 'SELECT 2']);
  });

  test("a standard string with a doubled quote and ; inside", async () => {
    expect(await texts("SELECT 'it''s; fine'; SELECT 2")).toEqual(["SELECT 'it''s; fine'", 'SELECT 2']);
  });

  test('nested block comments hide a ;', async () => {
    expect(await texts('SELECT 1 /* a /* b */ ; still comment */ + 1; SELECT 2'))
      .toEqual(['SELECT 1 /* a /* b */ ; still comment */ + 1', 'SELECT 2']);
  });

  test('a quoted identifier containing ;', async () => {
    expect(await texts('SELECT 1 AS "a;b"; SELECT 2')).toEqual(['SELECT 1 AS "a;b"', 'SELECT 2']);
  });

  test('a trailing line comment belongs to the last statement; leading comments are dropped', async () => {
    expect(await texts('/* lead */ SELECT 1; SELECT 2 -- trailing')).toEqual(['SELECT 1', 'SELECT 2 -- trailing']);
  });

  test('empty statements produce none', async () => {
    expect(await texts(';')).toEqual([]);
    expect(await texts('  ;; ; ')).toEqual([]);
    expect(await texts('-- only a comment')).toEqual([]);
    expect(await texts('/* c */ ; SELECT 1 ;; ')).toEqual(['SELECT 1']);
    expect(await texts('')).toEqual([]);
  });

  test('BEGIN ATOMIC bodies keep their semicolons', async () => {
    const sql = 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3';
    expect(await texts(sql)).toEqual([
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END', 'SELECT 3',
    ]);
  });

  test('multi-byte characters do not shift the slices (the parser counts bytes)', async () => {
    expect(await texts("SELECT 'héllo→😀'; SELECT 'ok'")).toEqual(["SELECT 'héllo→😀'", "SELECT 'ok'"]);
  });

  test('an unparsable message fails closed; pieces that parse alone are still analysed', async () => {
    const out = (await analyzer()).analyze('DROP TABLE t; SELEC 1');
    expect(out.map((s) => [s.text, s.kind])).toEqual([['DROP TABLE t', 'ddl'], ['SELEC 1', 'unknown']]);
    expect([...out[1].risks]).toEqual(['unparsed']);
  });

  test('an unterminated string is one unknown statement', async () => {
    const out = (await analyzer()).analyze("SELECT 'abc; DROP TABLE t");
    expect(out).toHaveLength(1);
    expect(out[0].kind).toBe('unknown');
    expect(out[0].command).toBe('unknown');
    expect(out[0].lineage.complete).toBe(false);
  });

  test('garbage never throws', async () => {
    const a = await analyzer();
    for (const sql of ['\u0000', '$$', "E'\\", '/*', '((((', 'SELECT \uD800', ';'.repeat(1000), 'SELECT ' + '('.repeat(5000) + '1' + ')'.repeat(5000)]) {
      expect(() => a.analyze(sql)).not.toThrow();
    }
  });
});
