import { copyStatementOf } from '../../src/analysis/copyStatement';
import { analyzer } from './analyzer';

beforeAll(async () => { await analyzer(); });

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const opts = (sql: string) => copyStatementOf(sql)?.options;

describe('copyStatementOf: COPY TO options, whatever the syntax', () => {
  test('defaults: text with tab and \\N; CSV with comma, empty NULL, quote as escape', () => {
    expect(opts('COPY users TO STDOUT')).toEqual({ format: 'text', delimiter: 0x09, nullString: b('\\N'), quote: 0, escape: 0, header: false, encoding: undefined });
    expect(opts('COPY users TO STDOUT WITH (FORMAT csv)')).toEqual({ format: 'csv', delimiter: 0x2c, nullString: b(''), quote: 0x22, escape: 0x22, header: false, encoding: undefined });
  });

  test('legacy syntax: CSV HEADER, DELIMITER AS, NULL AS, QUOTE, FORCE QUOTE, BINARY', () => {
    expect(opts("COPY users TO STDOUT WITH CSV HEADER DELIMITER AS ';' NULL AS 'x' QUOTE '''' FORCE QUOTE *")).toEqual({
      format: 'csv', delimiter: 0x3b, nullString: b('x'), quote: 0x27, escape: 0x27, header: true, encoding: undefined,
    });
    expect(opts('COPY users TO STDOUT BINARY')?.format).toBe('binary');
    expect(opts('COPY BINARY users TO STDOUT')?.format).toBe('binary');
    expect(opts("COPY users TO STDOUT DELIMITER '|' NULL ''")).toMatchObject({ format: 'text', delimiter: 0x7c, nullString: b('') });
  });

  test('the option list: every option, HEADER spelled every way', () => {
    expect(opts("COPY users (email) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER '|', NULL 'NULL', QUOTE '''', ESCAPE '\\', FORCE_QUOTE (email), ENCODING 'UTF8')")).toEqual({
      format: 'csv', delimiter: 0x7c, nullString: b('NULL'), quote: 0x27, escape: 0x5c, header: true, encoding: 'UTF8',
    });
    for (const [h, want] of [['true', true], ['on', true], ['1', true], ["'false'", false], ['off', false], ['0', false], ['false', false]] as const) {
      expect(opts(`COPY users TO STDOUT WITH (FORMAT csv, HEADER ${h})`)?.header).toBe(want);
    }
    expect(opts("COPY users TO STDOUT WITH (HEADER, FORMAT 'text', DELIMITER E'\\x01')")).toMatchObject({ format: 'text', header: true, delimiter: 0x01 });
  });

  test('what it copies: a table with or without a column list, or a query', () => {
    expect(copyStatementOf('COPY app.users (id, "Email") TO STDOUT')).toMatchObject({ relation: { schema: 'app', name: 'users' }, columns: ['id', 'Email'] });
    expect(copyStatementOf('COPY users TO STDOUT')).toMatchObject({ relation: { name: 'users' }, columns: [] });
    expect(copyStatementOf('COPY (SELECT 1) TO STDOUT')).toMatchObject({ relation: undefined, columns: [] });
  });

  test('anything the relay cannot be sure of is undefined', () => {
    expect(copyStatementOf('COPY users FROM STDIN')).toBeUndefined();
    expect(copyStatementOf("COPY users TO STDOUT WITH (DELIMITER '\u00a7')")).toBeUndefined();
    expect(copyStatementOf("COPY users TO STDOUT WITH (FORMAT 'xml')")).toBeUndefined();
    expect(copyStatementOf('COPY users TO STDOUT WITH (HEADER 2)')).toBeUndefined();
    expect(copyStatementOf('COPY users TO STDOUT WITH (NEW_OPTION 1)')).toBeUndefined();
    expect(copyStatementOf('COPY users TO STDOUT; SELECT 1')).toBeUndefined();
    expect(copyStatementOf('SELECT 1')).toBeUndefined();
    expect(copyStatementOf('COPY (')).toBeUndefined();
  });
});
