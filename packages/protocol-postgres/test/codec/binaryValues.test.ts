import { binaryToText, textToBinary, isBinaryConvertible } from '../../src/codec/binaryValues';
import { TypeOid } from '../../src/codec/typeNames';

// Binary forms written by hand from the PostgreSQL send/recv functions.
const cases: [string, number, string, string][] = [
  ['bool true', TypeOid.bool, '01', 't'],
  ['int2', TypeOid.int2, 'fffe', '-2'],
  ['int4', TypeOid.int4, 'ffffffe2', '-30'],
  ['int8', TypeOid.int8, '00000002540be400', '10000000000'],
  ['float8', TypeOid.float8, '3ff8000000000000', '1.5'],
  ['float4', TypeOid.float4, '3dcccccd', '0.1'],
  ['text', TypeOid.text, '68c3a96c6c6f', 'héllo'],
  ['varchar', TypeOid.varchar, '6162', 'ab'],
  ['jsonb (version byte)', TypeOid.jsonb, '017b2261223a317d', '{"a":1}'],
  ['uuid', TypeOid.uuid, 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['bytea', TypeOid.bytea, 'deadbeef', '\\xdeadbeef'],
  ['date', TypeOid.date, '00000001', '2000-01-02'],
  ['date before 2000', TypeOid.date, 'ffffffff', '1999-12-31'],
  ['timestamp', TypeOid.timestamp, '0000000000000000', '2000-01-01 00:00:00'],
  ['timestamp with fraction', TypeOid.timestamp, '00000000000f4240', '2000-01-01 00:00:01'],
  ['timestamp micros', TypeOid.timestamp, '000000000003d090', '2000-01-01 00:00:00.25'],
  ['timestamptz', TypeOid.timestamptz, '0000000000000000', '2000-01-01 00:00:00+00'],
  ['numeric 1234.5', TypeOid.numeric, '0002' + '0000' + '0000' + '0001' + '04d2' + '1388', '1234.5'],
  ['numeric -0.001', TypeOid.numeric, '0001' + 'ffff' + '4000' + '0003' + '000a', '-0.001'],
  ['numeric 0', TypeOid.numeric, '0000' + '0000' + '0000' + '0000', '0'],
  ['numeric NaN', TypeOid.numeric, '0000' + '0000' + 'c000' + '0000', 'NaN'],
  ['numeric 10000', TypeOid.numeric, '0001' + '0001' + '0000' + '0000' + '0001', '10000'],
];

describe('binary <-> text', () => {
  test.each(cases)('%s', (_name, oid, binary, text) => {
    expect(binaryToText(oid, Buffer.from(binary, 'hex'))).toBe(text);
    expect(textToBinary(oid, text)?.toString('hex')).toBe(binary);
  });

  test('timestamptz text with an offset converts to UTC micros', () => {
    expect(textToBinary(TypeOid.timestamptz, '2000-01-01 01:00:00+01')?.toString('hex')).toBe('0000000000000000');
  });

  test('values that do not fit the type are not convertible (the adapter then sends NULL)', () => {
    expect(textToBinary(TypeOid.int4, 'x@example.com')).toBeUndefined();
    expect(textToBinary(TypeOid.int2, '70000')).toBeUndefined();
    expect(textToBinary(TypeOid.uuid, 'nope')).toBeUndefined();
    expect(binaryToText(TypeOid.int4, Buffer.from('01', 'hex'))).toBeUndefined();
    expect(isBinaryConvertible(TypeOid.interval)).toBe(false);
    expect(binaryToText(TypeOid.interval, Buffer.alloc(16))).toBeUndefined();
  });
});
