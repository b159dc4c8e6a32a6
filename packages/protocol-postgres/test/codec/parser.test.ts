import * as p from '../../src/codec/parser';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Decodes a whole tagged message given as hex with the decoder `d`. */
function body<T>(d: (b: Buffer, start: number, end: number) => T, h: string): T {
  const b = hex(h);
  return d(b, 5, b.length);
}

describe('client message decoders', () => {
  test('startup packet, SSLRequest, GSSENCRequest, CancelRequest', () => {
    const startup = hex('00000021 00030000 7573657200616c69636500 646174616261736500617070 00 00'.replace(/ /g, ''));
    expect(p.parseStartupPacket(startup, 4, startup.length)).toEqual({ kind: 'startup', version: 196608, parameters: { user: 'alice', database: 'app' } });
    expect(p.parseStartupPacket(hex('00000008 04d2162f'), 4, 8)).toEqual({ kind: 'ssl' });
    expect(p.parseStartupPacket(hex('00000008 04d21630'), 4, 8)).toEqual({ kind: 'gssenc' });
    expect(p.parseStartupPacket(hex('00000010 04d2162e 0000007b 000001c8'), 4, 16)).toEqual({ kind: 'cancel', processId: 123, secretKey: 456 });
  });

  test('Query, Parse, Bind, Describe, Execute, Close', () => {
    expect(body(p.parseQuery, '51 0000000d 53454c4543542031 00')).toBe('SELECT 1');
    expect(body(p.parseParse, '50 00000016 733100 53454c4543542024 3100 0001 00000017')).toEqual({ name: 's1', query: 'SELECT $1', parameterTypes: [23] });
    const bind = body(p.parseBind, '42 0000001f 00 733100 0002 0000 0001 0002 00000002 3432 ffffffff 0001 0001');
    expect(bind).toEqual({ portal: '', statement: 's1', parameterFormats: [0, 1], parameters: [Buffer.from('42'), null], resultFormats: [1] });
    expect(body((b, s, e) => p.parseTarget(b, s, e, 'Describe'), '44 00000008 50 637500')).toEqual({ target: 'P', name: 'cu' });
    expect(body(p.parseExecute, '45 00000009 00 00000064')).toEqual({ portal: '', maxRows: 100 });
  });

  test('FunctionCall', () => {
    expect(body(p.parseFunctionCall, '46 00000016 00000da8 0001 0000 0001 00000002 3432 0000')).toEqual({
      functionOid: 3496, argumentFormats: [0], arguments: [Buffer.from('42')], resultFormat: 0,
    });
  });

  test('SASL messages', () => {
    expect(body(p.parseSaslInitialResponse, '70 0000001a 5343 52414d2d5348412d32353600 00000002 6e2c')).toEqual({ mechanism: 'SCRAM-SHA-256', data: Buffer.from('n,') });
  });

  test.each([
    ['Query without terminator', () => body(p.parseQuery, '51 00000005 41')],
    ['Bind with too many parameters', () => body(p.parseBind, '42 00000008 00 00 7fff')],
    ['Parse with a negative count', () => body(p.parseParse, '50 0000000a 00 00 ffff')],
    ['Describe with an unknown target', () => body((b, s, e) => p.parseTarget(b, s, e, 'Describe'), '44 00000006 58 00')],
    ['Bind value overrunning the message', () => body(p.parseBind, '42 00000010 00 00 0000 0001 000000ff 41')],
  ])('%s is a protocol violation', (_what, decode) => {
    expect(decode).toThrow(expect.objectContaining({ code: 'QG_PROTOCOL_VIOLATION' }));
  });
});

describe('server message decoders', () => {
  test('RowDescription, DataRow, CommandComplete, ErrorResponse', () => {
    const rd = body(p.parseRowDescription, '54 0000001d 0001 656d61696c00 00004001 0002 00000019 ffff ffffffff 0001');
    expect(rd).toEqual([{ name: 'email', tableOid: 16385, columnNumber: 2, typeOid: 25, typeSize: -1, typeModifier: -1, format: 1 }]);
    expect(body(p.parseDataRow, '44 00000013 0002 00000003 616263 ffffffff')).toEqual([Buffer.from('abc'), null]);
    expect(body(p.parseCommandTag, '43 0000000d 53454c454354203300')).toBe('SELECT 3');
    expect(body(p.parseErrorFields, '45 00000013 534552524f5200 433432353031 00 00'.replace(/ /g, ''))).toEqual({ S: 'ERROR', C: '42501' });
  });

  test('row counts of command tags', () => {
    expect(p.rowsOfTag('SELECT 3')).toBe(3);
    expect(p.rowsOfTag('INSERT 0 25')).toBe(25);
    expect(p.rowsOfTag('CREATE TABLE')).toBeUndefined();
    expect(p.rowsOfTag('BEGIN')).toBeUndefined();
  });

  test('authentication requests', () => {
    expect(body(p.parseAuthentication, '52 00000008 00000000')).toEqual({ code: 0 });
    expect(body(p.parseAuthentication, '52 0000000c 00000005 01020304')).toEqual({ code: 5, salt: hex('01020304') });
    expect(body(p.parseAuthentication, '52 00000017 0000000a 5343524d2d5348412d32353600 00'.replace(/ /g, ''))).toEqual({ code: 10, mechanisms: ['SCRM-SHA-256'] });
  });
});
