// The RowRewriter on hand-built rows (hex literals): masks, observation after masking, the
// observation limit, and refusal of rows that do not fit their columns.
import type { RowTransform } from '@querygate/core';
import { MalformedPacket } from '../../src/codec/PayloadReader';
import { columnTypeNameOf } from '../../src/codec/constants';
import { RowRewriter } from '../../src/session/RowRewriter';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const LONG = { type: 0x03, unsigned: false, charset: 63 };
const UTF8_STRING = { type: 0xfd, unsigned: false, charset: 45 };
const BINARY_STRING = { type: 0xfd, unsigned: false, charset: 63 };
const DATETIME = { type: 0x0c, unsigned: false, charset: 63, decimals: 0 };

function observing(columns: RowTransform['columns'], limit: number): { transform: RowTransform; rows: (string | null)[][] } {
  const rows: (string | null)[][] = [];
  return { transform: { columns, observe: (row) => { rows.push([...row]); }, observeLimit: limit }, rows };
}

describe('RowRewriter', () => {
  test('text rows: an observe-only plan sees every value and sends the row as it arrived', () => {
    const { transform, rows } = observing(new Map(), 2);
    const rewriter = new RowRewriter([LONG, UTF8_STRING, UTF8_STRING, BINARY_STRING], transform, false);
    const row = hex('02 3432 03 c3a96b fb 02 00ff');
    const out = rewriter.rewrite(row);
    expect(out.payload).toBe(row);
    expect(out.rewritten).toBe(0);
    expect(rows).toEqual([['42', 'ék', null, '0x00ff']]);
    rewriter.rewrite(hex('01 37 00 fb 00'));
    expect(rows[1]).toEqual(['7', '', null, '0x']);
    rewriter.rewrite(hex('01 38 00 fb 00'));
    expect(rows).toHaveLength(2);
  });

  test('text rows: observed values are the masked ones; a mask that throws sends NULL', () => {
    const { transform, rows } = observing(new Map([[1, (v: string) => `*${v.length}*`], [2, () => { throw new Error('mask bug'); }]]), 5);
    const rewriter = new RowRewriter([LONG, UTF8_STRING, UTF8_STRING], transform, false);
    const out = rewriter.rewrite(hex('01 31 03 616263 02 6869'));
    expect(out.payload.toString('hex')).toBe(hex('01 31 03 2a332a fb').toString('hex'));
    expect(out.rewritten).toBe(2);
    expect(rows).toEqual([['1', '*3*', null]]);
  });

  test('binary rows: masked, re-encoded, observed in text form; NULL bitmap honoured', () => {
    const { transform, rows } = observing(new Map([[1, () => 'x']]), 5);
    const rewriter = new RowRewriter([LONG, UTF8_STRING, DATETIME, BINARY_STRING], transform, true);
    // header 00, bitmap 20 (column 3 NULL: bit 5), LONG 42, 'abc', DATETIME 2024-02-29 13:14:15.
    const out = rewriter.rewrite(hex('00 20 2a000000 03 616263 07 e807 02 1d 0d 0e 0f'));
    expect(out.payload.toString('hex')).toBe(hex('00 20 2a000000 01 78 07 e807 02 1d 0d 0e 0f').toString('hex'));
    expect(rows).toEqual([['42', 'x', '2024-02-29 13:14:15', null]]);
  });

  test('binary rows: a mask whose text the type cannot hold makes the value NULL (bitmap set)', () => {
    const { transform, rows } = observing(new Map([[0, () => '***']]), 5);
    const rewriter = new RowRewriter([LONG, BINARY_STRING], transform, true);
    const out = rewriter.rewrite(hex('00 00 2a000000 02 00ff'));
    expect(out.payload.toString('hex')).toBe(hex('00 04 02 00ff').toString('hex'));
    expect(rows).toEqual([[null, '0x00ff']]);
  });

  test('observes only the first observeLimit rows, then is idle', () => {
    const { transform, rows } = observing(new Map(), 2);
    const rewriter = new RowRewriter([LONG], transform, true);
    for (const v of ['01000000', '02000000', '03000000']) rewriter.rewrite(hex(`00 00 ${v}`));
    expect(rows).toEqual([['1'], ['2']]);
    expect(rewriter.idle).toBe(true);
    expect(RowRewriter.wanted({ columns: new Map() })).toBe(false);
    expect(RowRewriter.wanted({ columns: new Map(), observe: () => undefined, observeLimit: 0 })).toBe(false);
    expect(RowRewriter.wanted({ columns: new Map(), observe: () => undefined, observeLimit: 1 })).toBe(true);
  });

  test.each([
    ['binary row with trailing bytes', true, '00 00 2a000000 00'],
    ['binary row with a non-zero header', true, 'fe 00 2a000000'],
    ['binary row cut inside a value', true, '00 00 2a00'],
    ['binary row shorter than its bitmap', true, '00'],
    ['text row with trailing bytes', false, '01 31 00'],
    ['text row cut inside a value', false, '05 3132'],
  ])('refuses a %s with MalformedPacket', (_name, binary, row) => {
    const { transform, rows } = observing(new Map(), 5);
    const rewriter = new RowRewriter([LONG], transform, binary);
    expect(() => rewriter.rewrite(hex(row))).toThrow(MalformedPacket);
    expect(rows).toEqual([]);
  });
});

describe('columnTypeNameOf', () => {
  test.each([
    [0xfc, 45, 262140, 'text'], [0xfc, 33, 196605, 'text'], [0xfc, 8, 65535, 'text'], [0xfc, 45, 1020, 'tinytext'],
    [0xfc, 8, 255, 'tinytext'], [0xfc, 45, 67108860, 'mediumtext'], [0xfc, 45, 4294967295, 'longtext'],
    [0xfc, 63, 65535, 'blob'], [0xfc, 63, 4294967295, 'blob'], [0xfb, 45, 0, 'longtext'], [0xf9, 63, 255, 'tinyblob'],
    [0xfd, 45, 80, 'varchar'], [0xf5, 63, 4294967295, 'json'], [0x03, 63, 11, 'int'],
  ])('type %d charset %d length %d is %s', (type, charset, length, name) => {
    expect(columnTypeNameOf({ type, charset, length })).toBe(name);
  });
});
