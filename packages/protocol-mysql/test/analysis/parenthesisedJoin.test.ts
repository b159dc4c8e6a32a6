// Joins in parentheses: MariaDB prints every join view's definition that way, and clients may
// write it. Their tables must be reads and lineage sources like any other join's.
import { MysqlAnalyzer } from '../../src/analysis/MysqlAnalyzer';

describe('parenthesised joins', () => {
  let analyzer: MysqlAnalyzer;
  beforeAll(async () => { analyzer = await MysqlAnalyzer.load(); });

  const only = (sql: string) => {
    const statements = analyzer.analyze(sql);
    expect(statements).toHaveLength(1);
    return statements[0]!;
  };

  it('reads both tables and follows the columns of a client query', () => {
    const s = only("SELECT CONCAT(u.ssn, ''), o.total FROM (users u JOIN orders o ON o.user_id = u.id)");
    expect(s.reads).toEqual([{ name: 'users' }, { name: 'orders' }]);
    expect(s.lineage).toEqual({
      complete: true,
      outputs: [
        { sources: [{ table: 'users', column: 'ssn' }], direct: false },
        { name: 'total', sources: [{ table: 'orders', column: 'total' }], direct: true },
      ],
    });
  });

  it('reads a join after the parentheses too', () => {
    const s = only('SELECT e.kind, u.email FROM (users u JOIN orders o ON o.user_id = u.id) JOIN events e ON e.id = o.id');
    expect(s.reads).toEqual(expect.arrayContaining([{ name: 'users' }, { name: 'orders' }, { name: 'events' }]));
    expect(s.lineage.complete).toBe(true);
    expect(s.lineage.outputs.map((o) => o.sources)).toEqual([[{ table: 'events', column: 'kind' }], [{ table: 'users', column: 'email' }]]);
  });

  it('follows a view definition as MariaDB prints it', () => {
    const s = only('select `u`.`email` AS `email`,`o`.`total` AS `total` from (`app`.`users` `u` join `app`.`orders` `o` on(`o`.`user_id` = `u`.`id`))');
    expect(s.reads).toEqual([{ schema: 'app', name: 'users' }, { schema: 'app', name: 'orders' }]);
    expect(s.lineage).toEqual({
      complete: true,
      outputs: [
        { name: 'email', sources: [{ schema: 'app', table: 'users', column: 'email' }], direct: true },
        { name: 'total', sources: [{ schema: 'app', table: 'orders', column: 'total' }], direct: true },
      ],
    });
  });

  it('reads the tables of a parenthesised join the parser rejects (inside a derived table)', () => {
    const s = only('SELECT d.s FROM (SELECT u.ssn AS s FROM (users u JOIN orders o ON o.user_id = u.id)) d');
    expect(s.risks.has('unparsed')).toBe(true);
    expect(s.lineage.complete).toBe(false);
    expect(s.reads).toEqual([{ name: 'users' }, { name: 'orders' }]);
    expect(only('SELECT x FROM (SELECT 1 AS x) d JOIN (users) ON 1 = 1 WHERE (SELECT 1) = 1 LIMIT 1 ,').reads).toEqual([{ name: 'users' }]);
  });
});
