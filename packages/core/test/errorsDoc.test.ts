import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorTable } from '../src';

/** docs/errors.md must list every row of the one error table, with the same codes. */
describe('docs/errors.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  const rows = new Map(doc.split('\n').filter((l) => l.startsWith('| `QG_')).map((l) => {
    const cells = l.split('|').map((c) => c.trim());
    return [cells[1]!.replace(/`/g, ''), cells] as const;
  }));

  it('documents every code and nothing else', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ErrorTable).sort());
  });

  it.each(Object.entries(ErrorTable))('%s has the table\'s SQLSTATE, severity and MySQL errno', (code, row) => {
    const cells = rows.get(code)!;
    expect(cells[2]).toBe(`${row.sqlstate} ${row.severity}`);
    expect(cells[3]).toBe(`${row.mysqlErrno} (${row.mysqlSqlState})`);
  });
});
