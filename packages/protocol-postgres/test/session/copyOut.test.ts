import { GatewayError, silentLogger, type RowTransform, type ValueMask } from '@querygate/core';
import { copyStatementOf } from '../../src/analysis/copyStatement';
import type { CopyOptions } from '../../src/codec/copyRows';
import type { RelationColumns } from '../../src/session/Catalog';
import { copyColumns, copyRelationNames } from '../../src/session/copyColumns';
import { CopyOutRelay } from '../../src/session/CopyOutRelay';
import { one } from '../analysis/analyzer';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

const USERS: RelationColumns = {
  schema: 'public', name: 'users', columns: [
    { name: 'id', type: 'int4', typeId: 23, generated: false },
    { name: 'email', type: 'text', typeId: 25, generated: false },
    { name: 'created', type: 'date', typeId: 1082, generated: false },
    { name: 'domain', type: 'text', typeId: 25, generated: true },
  ],
};
const ORDERS: RelationColumns = {
  schema: 'public', name: 'orders', columns: [
    { name: 'id', type: 'int4', typeId: 23, generated: false },
    { name: 'total', type: 'numeric', typeId: 1700, generated: false },
  ],
};

async function resolve(sql: string, relations: readonly RelationColumns[] | undefined, count: number) {
  const statement = await one(sql);
  const copy = copyStatementOf(statement.text);
  return { names: copyRelationNames(copy, statement), ...copyColumns(copy, statement, relations, count) };
}

describe('copyColumns: names, origins and types of COPY columns', () => {
  test('COPY table: the catalog\'s columns in order, generated ones left out', async () => {
    const r = await resolve('COPY users TO STDOUT', [USERS, ORDERS], 3);
    expect(r.names).toEqual(['users']);
    expect(r.problem).toBeUndefined();
    expect(r.columns).toEqual([
      { name: 'id', origin: { schema: 'public', table: 'users', column: 'id' }, type: 'int4', typeId: 23, format: 'text' },
      { name: 'email', origin: { schema: 'public', table: 'users', column: 'email' }, type: 'text', typeId: 25, format: 'text' },
      { name: 'created', origin: { schema: 'public', table: 'users', column: 'created' }, type: 'date', typeId: 1082, format: 'text' },
    ]);
  });

  test('COPY table (columns): those columns, typed', async () => {
    const r = await resolve('COPY users (email, id) TO STDOUT WITH (FORMAT csv)', [USERS], 2);
    expect(r.problem).toBeUndefined();
    expect(r.columns.map((c) => `${c.name}:${c.type}:${c.origin?.column}`)).toEqual(['email:text:email', 'id:int4:id']);
  });

  test('COPY (query): * expanded through the catalog (generated columns included), expressions typed text', async () => {
    const r = await resolve('COPY (SELECT u.*, lower(email) AS l, o.total FROM users u JOIN orders o ON o.id = u.id) TO STDOUT', [USERS, ORDERS], 6);
    expect(r.names.sort()).toEqual(['orders', 'users']);
    expect(r.problem).toBeUndefined();
    expect(r.columns.map((c) => `${c.name}:${c.type}:${c.origin ? `${c.origin.table}.${c.origin.column}` : '-'}`)).toEqual([
      'id:int4:users.id', 'email:text:users.email', 'created:date:users.created', 'domain:text:users.domain', 'l:text:-', 'total:numeric:orders.total',
    ]);
  });

  test('a count that differs from the server\'s is a problem', async () => {
    const r = await resolve('COPY users TO STDOUT', [USERS], 4);
    expect(r.problem).toMatch(/the server sends 4 columns and the gateway resolved 3/);
  });

  test('an unqualified name in several schemas: fine when they agree, a problem when not', async () => {
    const copyOfUsers = { ...USERS, schema: 'archive' };
    const agree = await resolve('COPY users TO STDOUT', [USERS, copyOfUsers], 3);
    expect(agree.problem).toBeUndefined();
    expect(agree.columns[1]).toEqual({ name: 'email', origin: { table: 'users', column: 'email' }, type: 'text', typeId: 25, format: 'text' });
    const other = { ...USERS, schema: 'archive', columns: USERS.columns.slice(1) };
    const disagree = await resolve('COPY users TO STDOUT', [USERS, other], 3);
    expect(disagree.problem).toMatch(/relation "users" exists in schemas public, archive with different columns/);
    // Qualified, the schema decides.
    expect((await resolve('COPY archive.users TO STDOUT', [USERS, other], 2)).problem).toBeUndefined();
  });

  test('an unknown relation, an unreadable catalog or a * over a function: placeholders and a problem', async () => {
    const unknown = await resolve('COPY users TO STDOUT', [ORDERS], 3);
    expect(unknown.problem).toMatch(/relation "users" is not in the catalog/);
    expect(unknown.columns).toEqual([{ name: '?column?', origin: { table: 'users', column: '*' }, type: 'text', typeId: 25, format: 'text' }]);
    expect((await resolve('COPY users (id) TO STDOUT', undefined, 1)).problem).toMatch(/catalog could not be read/);
    expect((await resolve('COPY (SELECT * FROM generate_series(1, 3)) TO STDOUT', [], 1)).problem).toMatch(/\* expands something other than tables/);
    expect((await resolve('COPY users (nope) TO STDOUT', [USERS], 1)).problem).toMatch(/column "nope" is not in relation "users"/);
  });
});

const TEXT: CopyOptions = { format: 'text', delimiter: 0x09, nullString: b('\\N'), quote: 0, escape: 0, header: false, encoding: undefined };
const CSV: CopyOptions = { format: 'csv', delimiter: 0x2c, nullString: b(''), quote: 0x22, escape: 0x22, header: false, encoding: undefined };
const COLUMNS = ['id', 'email', 'note'].map((name) => ({ name, type: 'text', typeId: 25, format: 'text' as const }));

const star: ValueMask = (v) => `${v[0]}***`;

function relayOf(options: CopyOptions, masks: Record<number, ValueMask>, extra: Partial<RowTransform> = {}): CopyOutRelay {
  const transform: RowTransform = { columns: new Map(Object.entries(masks).map(([k, v]) => [Number(k), v])), ...extra };
  return new CopyOutRelay(options, COLUMNS, transform, silentLogger, 'test');
}

/** Payloads of the CopyData messages sent for `data` cut at `cuts`. */
function run(relay: CopyOutRelay, data: Buffer, cuts: readonly number[] = []): string[] {
  const out: string[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    const framed = Buffer.concat([b('d0000'), data.subarray(from, cut)]);
    const messages = relay.relay(framed, 5, framed.length);
    if (messages === undefined) out.push(`as-is:${data.subarray(from, cut).toString()}`);
    else for (const m of messages) out.push(m.subarray(5).toString());
    from = cut;
  }
  return out;
}

describe('CopyOutRelay', () => {
  test('text: masks the planned column, keeps NULL, re-escapes, leaves every other byte', () => {
    const relay = relayOf(TEXT, { 1: (v) => `${v}\t|\n` });
    const rows = run(relay, b('1\tann@x.org\ta\\tb\n2\t\\N\t\\N\n'));
    expect(rows).toEqual(['1\tann@x.org\\t|\\n\ta\\tb\n', '2\t\\N\t\\N\n']);
    expect(relay.takeMasked()).toBe(1);
    expect(relay.finish()).toBeUndefined();
  });

  test('CSV: the same output wherever the CopyData messages were cut', () => {
    const data = b('1,ann@x.org,"multi\nline, ""quoted"""\n2,"bob@y.org",\n3,,""\n');
    const want = ['1,a***,"multi\nline, ""quoted"""\n', '2,"b***",\n', '3,,""\n'];
    for (let cut = 0; cut <= data.length; cut++) {
      const relay = relayOf(CSV, { 1: star });
      expect(run(relay, data, [cut])).toEqual(want);
      expect(relay.finish()).toBeUndefined();
    }
  });

  test('a mask returning null sends the NULL marker; a throwing mask sends NULL too', () => {
    expect(run(relayOf(CSV, { 1: () => null, 2: () => { throw new Error('boom'); } }), b('1,a@b.c,x\n'))).toEqual(['1,,\n']);
    expect(run(relayOf(TEXT, { 1: () => null }), b('1\ta@b.c\tx\n'))).toEqual(['1\t\\N\tx\n']);
  });

  test('a masked value that needs quoting, or equals the NULL marker, is quoted', () => {
    expect(run(relayOf(CSV, { 1: () => 'a,b', 2: () => '' }), b('1,x,y\n'))).toEqual(['1,"a,b",""\n']);
  });

  test('the header line passes as it is', () => {
    const relay = relayOf({ ...CSV, header: true }, { 1: star });
    expect(run(relay, b('id,email,note\n1,ann@x.org,n\n'))).toEqual(['id,email,note\n', '1,a***,n\n']);
  });

  test('observe sees each row as sent, up to its limit, then CopyData passes as it came', () => {
    const seen: (string | null)[][] = [];
    const relay = relayOf(TEXT, {}, { observe: (row) => { seen.push([...row]); }, observeLimit: 1 });
    expect(run(relay, b('1\ta\t\\N\n'))).toEqual(['1\ta\t\\N\n']);
    expect(run(relay, b('2\tb\tc\n'))).toEqual(['as-is:2\tb\tc\n']);
    expect(seen).toEqual([['1', 'a', null]]);
  });

  test('a row with another number of values, or an open quote at CopyDone, fails closed', () => {
    expect(() => run(relayOf(TEXT, { 1: star }), b('1\ta\n'))).toThrow(GatewayError);
    expect(() => run(relayOf(TEXT, { 1: star }), b('1\ta\tb\tc\n'))).toThrow(/4 values where the gateway resolved 3 columns/);
    const relay = relayOf(CSV, { 1: star });
    expect(run(relay, b('1,a,b\n2,"open\n'))).toEqual(['1,a***,b\n']);
    expect(relay.finish()?.message).toMatch(/ended inside a row/);
  });
});
