import { PostgresAnalyzer } from '../../src/analysis/PostgresAnalyzer';
import { literalKey, scannerNormalize } from '../../src/analysis/literalKey';
import { one, risks } from './analyzer';

const PGBENCH = (aid: number): string => `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`;

describe('fingerprint and normalized', () => {
  test('equal across literal values, different across shapes', async () => {
    const a = await one("SELECT * FROM users WHERE id = 1 AND name = 'alice'");
    const b = await one("SELECT * FROM users WHERE id = 42 AND name = 'bob'");
    const c = await one("SELECT * FROM users WHERE id = 1 OR name = 'alice'");
    const d = await one('SELECT * FROM orders WHERE id = 1');
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
    expect(a.fingerprint).not.toBe(d.fingerprint);
  });

  test('normalized replaces literals with $n', async () => {
    expect((await one("SELECT * FROM users WHERE id = 1 AND name = 'alice'")).normalized)
      .toBe('SELECT * FROM users WHERE id = $1 AND name = $2');
  });

  test('unparsable text gets a stable fingerprint and a scanner-normalized text', async () => {
    const a = await one("SELEC * FROM t WHERE x = 'secret'");
    const b = await one("SELEC * FROM t WHERE x = 'other'");
    expect(a.normalized).toBe('SELEC * FROM t WHERE x = $1');
    expect(a.fingerprint).toBe(b.fingerprint);
  });
});

describe('analysis cache', () => {
  test('pgbench -S: one parse, then hits that still carry their own text', async () => {
    const analyzer = await PostgresAnalyzer.load();
    const first = analyzer.analyze(PGBENCH(12345));
    const second = analyzer.analyze(PGBENCH(777));
    expect(analyzer.cacheStats).toEqual({ hits: 1, misses: 1, size: 1 });
    expect(second[0].text).toBe('SELECT abalance FROM pgbench_accounts WHERE aid = 777');
    expect(first[0].text).toBe('SELECT abalance FROM pgbench_accounts WHERE aid = 12345');
    expect(second[0].fingerprint).toBe(first[0].fingerprint);
    expect(second[0].lineage).toEqual(first[0].lineage);
    expect(second[0].reads).toEqual([{ name: 'pgbench_accounts' }]);
  });

  test('a consumer mutating a result cannot poison the cached analysis', async () => {
    const analyzer = await PostgresAnalyzer.load();
    analyzer.analyze(PGBENCH(1));
    const hit = analyzer.analyze(PGBENCH(2))[0];
    (hit.risks as Set<string>).add('noWhere');
    expect(() => (hit.reads as unknown as unknown[]).push({ name: 'x' })).toThrow(TypeError);
    const again = analyzer.analyze(PGBENCH(3))[0];
    expect([...again.risks]).toEqual([]);
    expect(again.reads).toEqual([{ name: 'pgbench_accounts' }]);
  });

  test('a cached multi-statement message is re-sliced at the new offsets', async () => {
    const analyzer = await PostgresAnalyzer.load();
    analyzer.analyze("BEGIN; UPDATE t SET a = 'x' WHERE id = 1; COMMIT");
    const out = analyzer.analyze("BEGIN; UPDATE t SET a = 'longer value' WHERE id = 123456; COMMIT");
    expect(analyzer.cacheStats.hits).toBe(1);
    expect(out.map((s) => s.text)).toEqual(['BEGIN', "UPDATE t SET a = 'longer value' WHERE id = 123456", 'COMMIT']);
  });

  test('whitespace differences share an entry', async () => {
    const analyzer = await PostgresAnalyzer.load();
    analyzer.analyze('SELECT a FROM t WHERE id = 1');
    const out = analyzer.analyze('SELECT  a\tFROM t WHERE id =  2');
    expect(analyzer.cacheStats.hits).toBe(1);
    expect(out[0].text).toBe('SELECT  a\tFROM t WHERE id =  2');
  });

  test.each([
    ["SELECT set_config('role', 'admin', false)", "SELECT set_config('work_mem', 'admin', false)"],
    ['DELETE FROM t WHERE 1 = 1', 'DELETE FROM t WHERE 1 = 2'],
    ["DELETE FROM t WHERE 't'::bool", "DELETE FROM t WHERE 'f'::bool"],
    ["DO 'BEGIN DELETE FROM a; END'", "DO 'BEGIN NULL; END'"],
    ["SELECT dblink_exec('c', 'DELETE FROM x')", "SELECT dblink_exec('c', 'SELECT 1')"],
  ])('a literal that decides the analysis is never served from the cache: %s', async (risky, harmless) => {
    const analyzer = await PostgresAnalyzer.load();
    const a = analyzer.analyze(risky)[0];
    const b = analyzer.analyze(harmless)[0];
    expect(analyzer.cacheStats.hits).toBe(0);
    expect(risks(a)).not.toEqual(risks(b));
  });

  test('string continuation across a newline is not confused with two literals', async () => {
    const analyzer = await PostgresAnalyzer.load();
    expect(analyzer.analyze("SELECT 'a'\n'b'")[0].kind).toBe('select');
    expect(analyzer.analyze("SELECT 'a' 'b'")[0].kind).toBe('unknown');
  });

  test('a warm-cache analysis of the pgbench -S statement takes a few microseconds', async () => {
    const analyzer = await PostgresAnalyzer.load();
    analyzer.analyze(PGBENCH(1));
    const samples = new Float64Array(100_000);
    for (let i = 0; i < samples.length; i++) {
      const sql = PGBENCH(i * 7 + 1);
      const t0 = process.hrtime.bigint();
      analyzer.analyze(sql);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    samples.sort();
    const median = samples[samples.length >> 1];
    const p99 = samples[Math.floor(samples.length * 0.99)];
    // eslint-disable-next-line no-console
    console.log(`warm-cache analyze(pgbench -S): median ${median.toFixed(2)} µs, p99 ${p99.toFixed(2)} µs over ${samples.length} calls`);
    // The figure is reported, not asserted: speed belongs to bench/. The cache must hit every time.
    expect(analyzer.cacheStats.misses).toBe(1);
    expect(analyzer.cacheStats.hits).toBe(samples.length);
  });
});

describe('literalKey', () => {
  const key = (sql: string): string | undefined => literalKey(sql)?.key;

  test('literal values do not change the key; everything else does', () => {
    expect(key("SELECT a FROM t WHERE x = 1 AND y = 'abc'")).toBe(key("SELECT a FROM t WHERE x = 99.5e3 AND y = ''"));
    expect(key('SELECT a FROM t WHERE x = 1')).not.toBe(key('SELECT b FROM t WHERE x = 1'));
    expect(key("SELECT E'x'")).not.toBe(key("SELECT 'x'"));
    expect(key("SELECT 'x'")).not.toBe(key('SELECT 1'));
    expect(key('SELECT 1 -- a')).not.toBe(key('SELECT 1 -- b'));
    expect(key('SELECT "a b"')).not.toBe(key('SELECT "a c"'));
    expect(key('SELECT $1')).not.toBe(key('SELECT $2'));
  });

  test("E'' strings honour backslash escapes; standard strings do not", () => {
    expect(key("SELECT E'\\';', 1")).toBe(key("SELECT E'', 2"));
    expect(key("SELECT 'a\\', 1")).toBe(key("SELECT '', 2"));
  });

  test('nested comments are one token', () => {
    expect(literalKey('/* a /* b */ ; */ SELECT 1')?.starts).toEqual([0, 18, 25]);
  });

  test.each([
    'SELECT $$x$$', 'SELECT $tag$x$tag$', "SELECT U&'\\0041'", 'SELECT a$b FROM t', 'SELECT 0x1F', 'SELECT 1_000',
    'SELECT 1abc', "SELECT 'unterminated", 'SELECT /* open', 'SELECT "open', 'SELECT 1..2', 'SELECT \u0001',
  ])('unsure → no key: %s', (sql) => {
    expect(literalKey(sql)).toBeUndefined();
  });

  test('scannerNormalize numbers literals in order', () => {
    expect(scannerNormalize("SELEC x FROM t WHERE a = 'p''w' AND b = -5.5")).toBe('SELEC x FROM t WHERE a = $1 AND b = -$2');
  });
});
