// Arrays and records (built-in, anonymous and user-defined) between binary and text, checked
// against the harness's PostgreSQL: its text output (array_out / record_out) and its binary form
// (array_send / record_send, the functions the binary protocol calls; cross-checked through
// node-postgres in binary mode), and the server's own binary input for what textToBinary builds.
import { Client, type FieldDef } from 'pg';
import { binaryToText, isBinaryConvertible, textToBinary } from '../../src/codec/binaryValues';
import { TypeOid } from '../../src/codec/typeNames';
import { describeWith, hasService, pgClientConfig } from '../../../../test/services';

const DB = 'qg_binary_structured';
const RAW = { getTypeParser: () => (value: string | Buffer) => value };
/** Results in binary format (node-postgres' typings do not list these options). */
const BINARY = { queryMode: 'extended', binary: true } as const;

/** `[name, SQL expression]`: each is fetched as text, through its send function, and in binary. */
const ARRAYS: [string, string][] = [
  ['text with quoting', String.raw`ARRAY['a', 'b c', '', NULL, 'NULL', 'null', 'x"y', E'back\\slash', '{br}', 'b}', 'com,ma', E'tab\there', E'new\nline', 'é']::text[]`],
  ['int4 with NULL', 'ARRAY[1, -2, NULL, 2147483647]::int4[]'],
  ['int2', 'ARRAY[1, -32768]::int2[]'],
  ['int8', 'ARRAY[9223372036854775807, -1]::int8[]'],
  ['two dimensions', 'ARRAY[[1, 2, 3], [4, NULL, 6]]::int4[]'],
  ['three dimensions', "ARRAY[[['a', 'b'], ['c', 'd']], [['e', 'f'], ['g', NULL]]]::text[]"],
  ['lower bound', "'[2:3]={7,8}'::int4[]"],
  ['lower bounds in two dimensions', "'[0:1][-1:0]={{1,2},{3,4}}'::int4[]"],
  ['empty', "'{}'::text[]"],
  ['bool', 'ARRAY[true, false, NULL]::bool[]'],
  ['float8', "ARRAY[1.5, -0.25, 'NaN', 'Infinity', '-Infinity']::float8[]"],
  ['float4', 'ARRAY[0.1, 2.5]::float4[]'],
  ['numeric', "ARRAY[1.50, -0.001, 0, 'NaN', 12345678901234567890.123]::numeric[]"],
  ['date', "ARRAY['2024-01-15', '1999-12-31', 'infinity']::date[]"],
  ['timestamp', "ARRAY['2024-01-15 10:20:30.5', '2000-01-01 00:00:00']::timestamp[]"],
  ['timestamptz', "ARRAY['2024-01-15 10:20:30.25+00']::timestamptz[]"],
  ['uuid', "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[]"],
  ['jsonb', `ARRAY['{"a": [1, "x y"]}', 'null']::jsonb[]`],
  ['json', `ARRAY['{"a": 1}', '"s"']::json[]`],
  ['bytea', String.raw`ARRAY['\x6869'::bytea, '\x'::bytea]`],
  ['varchar', "ARRAY['v w']::varchar[]"],
  ['bpchar (padded)', "ARRAY['ab']::char(3)[]"],
  ['name', "ARRAY['n m']::name[]"],
  ['"char"', `ARRAY['a'::"char", ' '::"char"]`],
  ['oid', 'ARRAY[1, 4294967295]::oid[]'],
  ['xml', "ARRAY['<a b=\"1\"/>']::xml[]"],
  ['array_agg', 'SELECT array_agg(name ORDER BY id) FROM people'],
  ['array of anonymous records', "ARRAY[row(1, 'a'), row(2, 'b c'), NULL]"],
  ['array of a user composite', 'SELECT array_agg(home ORDER BY id) FROM people'],
  ['array of table rows', 'SELECT array_agg(p ORDER BY id) FROM people p'],
];

const RECORDS: [string, string][] = [
  ['quoting and NULL', "row(1, 'a b', NULL::text, ''::text, 'NULL'::text)"],
  ['quotes and backslashes', String.raw`row('x"y'::text, E'back\\slash', '(p)', 'x)', 'c,m', E'tab\there')`],
  ['nested record', "row(1, row('a b', 2), row(NULL::int))"],
  ['record holding arrays', "row(ARRAY[1, 2], ARRAY['a b', NULL], '{}'::int4[], '[2:2]={x}'::text[])"],
  ['empty record', 'row()'],
  ['all fields NULL', 'row(NULL::int4, NULL::text)'],
  ['scalar types', `row(true, 1.5::numeric, '2024-01-15'::date, '2024-01-15 10:20:30+00'::timestamptz, '\\x00ff'::bytea, '{"k": "v"}'::jsonb, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)`],
  ['table row with a composite and arrays', 'SELECT p FROM people p WHERE id = 1'],
  ['table row with NULLs', 'SELECT p FROM people p WHERE id = 2'],
  ['user composite', 'SELECT home FROM people WHERE id = 1'],
];

/** Values with an element or field of a type the codec does not convert. */
const NOT_CONVERTIBLE: [string, string][] = [
  ['interval[]', "ARRAY['1 day'::interval]"],
  ['record with an interval', "row(1, '1 day'::interval)"],
  ['enum[]', "ARRAY['ok'::mood]"],
  ['record with an enum', "row('ok'::mood)"],
  ['table row with an enum', 'SELECT f FROM feelings f'],
];

interface Sample {
  readonly text: string;
  readonly sent: Buffer;
  readonly oid: number;
  /** The value node-postgres received in binary format, which it hands over decoded as UTF-8. */
  readonly viaBinary: string;
}

const describePg = hasService('postgres') ? describeWith('postgres') : describe.skip;

describePg('arrays and records against the server', () => {
  let client: Client;

  const query = (expression: string): string => (/^\s*select\b/i.test(expression) ? `(${expression})` : expression);

  async function sample(expression: string): Promise<Sample> {
    const v = query(expression);
    const r = await client.query({ text: `SELECT ${v}::text AS t, ${v} AS v`, rowMode: 'array', types: RAW });
    const text = (r.rows[0] as string[])[0]!;
    const oid = (r.fields as FieldDef[])[1]!.dataTypeID;
    // The type's send function: what the server runs to write the value in binary format.
    const send = (await client.query<{ f: string }>('SELECT typsend::text AS f FROM pg_type WHERE oid = $1', [oid])).rows[0]!.f;
    const sent = await client.query({ text: `SELECT ${send}(${v}) AS b`, rowMode: 'array', types: RAW });
    const hex = (sent.rows[0] as string[])[0]!;
    const binary = await client.query({ text: `SELECT ${v} AS v`, rowMode: 'array', types: RAW, ...BINARY });
    return { text, sent: Buffer.from(hex.slice(2), 'hex'), oid, viaBinary: (binary.rows[0] as string[])[0]! };
  }

  beforeAll(async () => {
    const admin = new Client(pgClientConfig('postgres', 'postgres'));
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB} OWNER app`);
    await admin.end();
    client = new Client(pgClientConfig('app', DB));
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
    await client.query([
      'CREATE TYPE addr AS (street text, zip int4)',
      'CREATE TABLE people (id int4, name text, tags text[], home addr, scores int4[])',
      `INSERT INTO people VALUES (1, 'Ann "A" Lee', ARRAY['x', NULL, 'y z'], ROW('1 Main St', 12345), '[0:1]={5,6}'), (2, NULL, '{}', NULL, NULL)`,
      "CREATE TYPE mood AS ENUM ('ok')",
      "CREATE TABLE feelings (id int4, m mood); INSERT INTO feelings VALUES (1, 'ok')",
    ].join('; '));
  }, 30_000);

  afterAll(async () => {
    await client?.end();
  });

  test.each([...ARRAYS, ...RECORDS])('%s: binary to text as the server prints it, and back to its bytes', async (_name, expression) => {
    const s = await sample(expression);
    // The protocol's binary form is what the send function returns (compared as node-postgres
    // decoded it).
    expect(s.viaBinary).toBe(s.sent.toString('utf8'));
    expect(binaryToText(s.oid, s.sent)).toBe(s.text);
    expect(textToBinary(s.oid, s.text, s.sent)?.toString('hex')).toBe(s.sent.toString('hex'));
  });

  test.each(ARRAYS.filter(([name]) => !/record|composite|rows/.test(name)))('%s: a built-in array type needs no template', async (_name, expression) => {
    const s = await sample(expression);
    expect(isBinaryConvertible(s.oid)).toBe(true);
    expect(textToBinary(s.oid, s.text)?.toString('hex')).toBe(s.sent.toString('hex'));
  });

  test.each(NOT_CONVERTIBLE)('%s: not converted (the caller fails closed)', async (_name, expression) => {
    const s = await sample(expression);
    expect(binaryToText(s.oid, s.sent)).toBeUndefined();
  });

  test('a masked array or record the mask left invalid becomes a value the server itself accepts', async () => {
    const row = await sample('SELECT p FROM people p WHERE id = 1');
    const list = await sample('SELECT array_agg(name ORDER BY id) FROM people');
    const homes = await sample('SELECT array_agg(home ORDER BY id) FROM people');
    const emptied = {
      row: textToBinary(row.oid, '****', row.sent)!,
      list: textToBinary(list.oid, '****', list.sent)!,
      homes: textToBinary(homes.oid, 'a*******z', homes.sent)!,
      masked: textToBinary(list.oid, '{}', list.sent)!,
    };
    // Binary parameters run the types' receive functions (record_recv checks each field's type).
    const r = await client.query({
      text: 'SELECT $1::people::text AS row, $2::text[]::text AS list, $3::addr[]::text AS homes, $4::text[]::text AS masked',
      values: [emptied.row, emptied.list, emptied.homes, emptied.masked], rowMode: 'array',
    });
    expect(r.rows[0]).toEqual(['(,,,,)', '{}', '{}', '{}']);
  });

  test('a masked text that is a valid literal of the same shape is sent as that value', async () => {
    const row = await sample('SELECT p FROM people p WHERE id = 1');
    const masked = textToBinary(row.oid, '(0,"****","{****,NULL}","(****,0)",)', row.sent)!;
    expect(binaryToText(row.oid, masked)).toBe('(0,****,"{****,NULL}","(****,0)",)');
    const r = await client.query({ text: 'SELECT ($1::people).name, ($1::people).tags::text', values: [masked], rowMode: 'array' });
    expect(r.rows[0]).toEqual(['****', '{****,NULL}']);
  });
});

// ---- without a server: hand-built layouts ----

const int4 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n, 0); return b; };
const item = (v: Buffer | null): Buffer => (v === null ? int4(-1) : Buffer.concat([int4(v.length), v]));
const textArray = (values: (string | null)[]): Buffer => Buffer.concat([
  int4(1), int4(values.includes(null) ? 1 : 0), int4(TypeOid.text), int4(values.length), int4(1),
  ...values.map((v) => item(v === null ? null : Buffer.from(v))),
]);
const record = (fields: [number, Buffer | null][]): Buffer => Buffer.concat([int4(fields.length), ...fields.map(([oid, v]) => Buffer.concat([int4(oid), item(v)]))]);
const USER_OID = 16500;

describe('arrays and records, hand-built', () => {
  test('an array prints as array_out does', () => {
    expect(binaryToText(TypeOid._text, textArray(['a', null, 'NULL', '', 'x y', 'q"b\\s']))).toBe('{a,NULL,"NULL","","x y","q\\"b\\\\s"}');
  });

  test('a record prints as record_out does', () => {
    const r = record([[TypeOid.int4, int4(5)], [TypeOid.text, Buffer.from('q"b\\s')], [TypeOid.text, null], [TypeOid.text, Buffer.from('')]]);
    expect(binaryToText(TypeOid.record, r)).toBe('(5,"q""b\\\\s",,"")');
  });

  test('a user-defined OID converts when the value is an array or a record of convertible types', () => {
    expect(binaryToText(USER_OID, textArray(['a']))).toBe('{a}');
    expect(binaryToText(USER_OID, record([[TypeOid.text, Buffer.from('a')]]))).toBe('(a)');
    expect(binaryToText(USER_OID, Buffer.from('enum label'))).toBeUndefined();
    expect(binaryToText(USER_OID, record([[USER_OID + 1, Buffer.from('label')]]))).toBeUndefined();
    expect(isBinaryConvertible(USER_OID)).toBe(false);
  });

  test('built-in types without a conversion stay unconverted, whatever their bytes look like', () => {
    expect(binaryToText(TypeOid.interval, textArray(['a']))).toBeUndefined();
    expect(binaryToText(1187 /* _interval */, textArray(['a']))).toBeUndefined();
    expect(binaryToText(TypeOid._int4, textArray(['a']))).toBeUndefined(); // element type is not the array's
  });

  test('a mask text that is not a literal of the shape gives the emptiest value of the same type', () => {
    const arr = textArray(['secret']);
    expect(textToBinary(TypeOid._text, '****', arr)?.toString('hex')).toBe(Buffer.concat([int4(0), int4(0), int4(TypeOid.text)]).toString('hex'));
    const rec = record([[TypeOid.int4, int4(5)], [TypeOid.text, Buffer.from('secret')]]);
    const allNull = record([[TypeOid.int4, null], [TypeOid.text, null]]);
    for (const masked of ['****', '(1)', '(1,a,b)', '(x,a)', '"(1,a)"', '(1,"a)']) {
      expect(textToBinary(TypeOid.record, masked, rec)?.toString('hex')).toBe(allNull.toString('hex'));
    }
    expect(textToBinary(TypeOid.record, '(7,****)', rec)?.toString('hex')).toBe(record([[TypeOid.int4, int4(7)], [TypeOid.text, Buffer.from('****')]]).toString('hex'));
    // Without the original value nothing says which fields a record has.
    expect(textToBinary(TypeOid.record, '(7,****)')).toBeUndefined();
    expect(textToBinary(TypeOid._text, '****')).toBeUndefined();
  });

  test('whatever the mask returns, a masked array or record is never NULL and never carries the clear value', () => {
    const arr = textArray(['secret-one', 'secret-two']);
    const rec = record([[TypeOid.text, Buffer.from('secret-one')], [TypeOid._text, arr]]);
    const texts = ['', '****', '{', '}', '{"', '(', '()', '(,)', '{a,{b}}', '{{a},{b,c}}', '[1:2]={a}', '[1:x]={a}', '(a,"b",c)', '\\', 'NULL', '{NULL}', '(,{x})'];
    let seed = 7;
    for (let i = 0; i < 300; i++) {
      let s = '';
      for (let n = seed % 12; n > 0; n--) { seed = (seed * 1103515245 + 12345) % 2147483648; s += '{}(),"\\ aNUL[]:=1'[seed % 19]!; }
      texts.push(s);
      seed = (seed * 1103515245 + 12345) % 2147483648;
    }
    for (const t of texts) {
      for (const [oid, original] of [[TypeOid._text, arr], [TypeOid.record, rec], [USER_OID, arr], [USER_OID, rec]] as const) {
        const out = textToBinary(oid, t, original);
        expect(out).toBeDefined();
        expect(out!.includes('secret')).toBe(false);
        expect(binaryToText(oid, out!)).toBeDefined();
      }
    }
  });

  test('array literals: bounds, nesting, escapes and what array_in rejects', () => {
    const parse = (text: string): string | undefined => {
      const b = textToBinary(TypeOid._int4, text);
      return b === undefined ? undefined : binaryToText(TypeOid._int4, b);
    };
    expect(parse(' { 1 , 2 } ')).toBe('{1,2}');
    expect(parse('[3]={1,2,3}')).toBe('{1,2,3}');
    expect(parse('[-1:0]={1,2}')).toBe('[-1:0]={1,2}');
    expect(parse('{{1},{2}}')).toBe('{{1},{2}}');
    expect(parse('{"1",\\2,null}')).toBe('{1,2,NULL}');
    for (const bad of ['{1,2', '{1,,2}', '{{1},2}', '{{1},{2,3}}', '[1:3]={1,2}', '{1}x', '1,2', '[2147483647:2147483648]={1,2}', '{{{{{{{1}}}}}}}']) {
      expect(parse(bad)).toBeUndefined();
    }
    expect(binaryToText(TypeOid._text, textToBinary(TypeOid._text, '{"NULL",\\NULL,NULL, a b }')!)).toBe('{"NULL","NULL",NULL,"a b"}');
  });

  test('truncated or malformed layouts are not converted and never throw', () => {
    const good = textArray(['a', null]);
    for (let n = 0; n < good.length; n++) expect(binaryToText(TypeOid._text, good.subarray(0, n))).toBeUndefined();
    const rec = record([[TypeOid.text, Buffer.from('a')]]);
    for (let n = 0; n < rec.length; n++) expect(binaryToText(TypeOid.record, rec.subarray(0, n))).toBeUndefined();
    expect(binaryToText(TypeOid._text, Buffer.concat([good, Buffer.from([0])]))).toBeUndefined();
    // Nesting past the limit: a record inside a record... of a user type.
    let deep = record([[TypeOid.int4, int4(1)]]);
    for (let i = 0; i < 40; i++) deep = record([[USER_OID, deep]]);
    expect(binaryToText(USER_OID, deep)).toBeUndefined();
  });
});
