import { Catalog } from '../../src/session/Catalog';
import { parseRowDescription } from '../../src/codec/parser';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RowDescription body with one computed column "n" (no table: tableOid 0, attnum 0), int4 (oid 23), text format.
const ONE_INT4 = hex('0001 6e00 00000000 0000 00000017 0004 ffffffff 0000');
// The same column, binary format.
const ONE_INT4_BINARY = hex('0001 6e00 00000000 0000 00000017 0004 ffffffff 0001');

// No look-up is ever needed for built-in types of computed columns, so no server is contacted.
const catalog = (): Catalog => new Catalog({ host: '127.0.0.1', port: 1, user: 'nobody', password: 'x' } as never, 'test');

describe('Catalog.columnsOf: result shapes by their RowDescription bytes', () => {
  test('decodes a shape once, then answers from the bytes (also inside a larger chunk)', () => {
    const c = catalog();
    let decoded = 0;
    const decode = (b: Buffer, s: number, e: number) => () => { decoded++; return parseRowDescription(b, s, e); };
    const first = c.columnsOf('app', ONE_INT4, 0, ONE_INT4.length, decode(ONE_INT4, 0, ONE_INT4.length));
    expect(first).toEqual([{ name: 'n', type: 'int4', typeId: 23, format: 'text' }]);
    const chunk = Buffer.concat([hex('aabbcc'), ONE_INT4, hex('dd')]);
    const again = c.columnsOf('app', chunk, 3, 3 + ONE_INT4.length, decode(chunk, 3, 3 + ONE_INT4.length));
    expect(again).toBe(first);
    expect(decoded).toBe(1);
  });

  test('different bytes, another database, or an invalidation decode again', () => {
    const c = catalog();
    let decoded = 0;
    const ask = (db: string, b: Buffer) => c.columnsOf(db, b, 0, b.length, () => { decoded++; return parseRowDescription(b, 0, b.length); });
    ask('app', ONE_INT4);
    expect(ask('app', ONE_INT4_BINARY)).toEqual([{ name: 'n', type: 'int4', typeId: 23, format: 'binary' }]);
    ask('other', ONE_INT4);
    expect(decoded).toBe(3);
    c.invalidate('app');
    ask('app', ONE_INT4);
    expect(decoded).toBe(4);
    ask('other', ONE_INT4);
    expect(decoded).toBe(4);
  });
});
