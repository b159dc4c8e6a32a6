// Valid MySQL / MariaDB protocol payloads to mutate, built by hand (never with the serializer
// under test).

export const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
export const le16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n & 0xffff); return b; };
export const le24 = (n: number): Buffer => { const b = Buffer.alloc(3); b.writeUIntLE(n & 0xffffff, 0, 3); return b; };
export const le32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
export const nul = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export function lenenc(n: number): Buffer {
  if (n < 0xfb) return u8(n);
  if (n < 0x10000) return Buffer.concat([u8(0xfc), le16(n)]);
  if (n < 0x1000000) return Buffer.concat([u8(0xfd), le24(n)]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

export const lenstr = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([lenenc(b.length), b]);
};

/** One physical packet: 3-byte length, sequence id, payload. */
export function packet(seq: number, payload: Buffer): Buffer {
  return Buffer.concat([le24(payload.length), u8(seq), payload]);
}

export const CAP = {
  CONNECT_WITH_DB: 0x8, PROTOCOL_41: 0x200, SSL: 0x800, SECURE_CONNECTION: 0x8000, MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000, PLUGIN_AUTH: 0x80000, CONNECT_ATTRS: 0x100000, LENENC_DATA: 0x200000, DEPRECATE_EOF: 0x1000000,
} as const;

const SCRAMBLE = hex('3a2b1c0d4e5f60718293a4b5c6d7e8f901122334');

export const handshakeV10 = [
  Buffer.concat([
    u8(10), nul('5.5.5-10.11.6-MariaDB'), le32(77), SCRAMBLE.subarray(0, 8), u8(0),
    le16(0xf7fe), u8(45), le16(0x0002), le16(0x81bf), u8(21), Buffer.alloc(6), le32(0x1d),
    SCRAMBLE.subarray(8), u8(0), nul('mysql_native_password'),
  ]),
  // A 4.1-era greeting without the second part.
  Buffer.concat([u8(10), nul('4.1.22'), le32(1), SCRAMBLE.subarray(0, 8), u8(0), le16(0xa20c)]),
];

const attrs = (pairs: Record<string, string>): Buffer => {
  const body = Buffer.concat(Object.entries(pairs).flatMap(([k, v]) => [lenstr(k), lenstr(v)]));
  return Buffer.concat([lenenc(body.length), body]);
};

const responseHead = (caps: number): Buffer => Buffer.concat([le32(caps), le32(1 << 24), u8(45), Buffer.alloc(23)]);
const TOKEN = hex('9b2c1a7f0e4d3c2b1a09f8e7d6c5b4a392817061');

export const handshakeResponse41 = [
  Buffer.concat([
    responseHead(CAP.PROTOCOL_41 | CAP.SECURE_CONNECTION | CAP.PLUGIN_AUTH | CAP.CONNECT_WITH_DB | CAP.LENENC_DATA | CAP.CONNECT_ATTRS),
    nul('alice'), lenstr(TOKEN), nul('app'), nul('caching_sha2_password'), attrs({ _client_name: 'libmariadb', _pid: '4242' }),
  ]),
  Buffer.concat([responseHead(CAP.PROTOCOL_41 | CAP.SECURE_CONNECTION), nul('bob'), u8(20), TOKEN]),
  Buffer.concat([responseHead(CAP.PROTOCOL_41), nul('carol'), nul('secret')]),
];

export const sslRequest = [responseHead(CAP.PROTOCOL_41 | CAP.SSL | CAP.SECURE_CONNECTION)];

export const changeUser = [
  Buffer.concat([u8(0x11), nul('bob'), u8(20), TOKEN, nul('app'), le16(45), nul('mysql_native_password'), attrs({ a: 'b' })]),
  Buffer.concat([u8(0x11), nul('bob'), u8(0), nul('')]),
];

export const authSwitchRequest = [
  Buffer.concat([u8(0xfe), nul('mysql_native_password'), SCRAMBLE, u8(0)]),
  Buffer.concat([u8(0xfe), nul('mysql_clear_password')]),
];

export const okPackets = [
  Buffer.concat([u8(0), lenenc(0), lenenc(0), le16(0x0002), le16(0)]),
  Buffer.concat([u8(0), lenenc(300), lenenc(70000), le16(0x0003), le16(1), Buffer.from('Rows matched: 1')]),
  Buffer.concat([u8(0), hex('fe 0100000000000000'), lenenc(0x123456), le16(0x0002), le16(0)]),
  Buffer.concat([u8(0xfe), lenenc(0), lenenc(0), le16(0x000a), le16(0)]), // OK as EOF (DEPRECATE_EOF)
];

export const errPackets = [
  Buffer.concat([u8(0xff), le16(1146), Buffer.from('#42S02'), Buffer.from("Table 'app.x' doesn't exist")]),
  Buffer.concat([u8(0xff), le16(1040), Buffer.from('Too many connections')]),
];

export const eofPackets = [Buffer.concat([u8(0xfe), le16(0), le16(0x0022)]), u8(0xfe)];

export function columnDefinition(name: string, type: number, flags = 0, decimals = 0, charset = 45): Buffer {
  return Buffer.concat([
    lenstr('def'), lenstr('app'), lenstr('t'), lenstr('t'), lenstr(name), lenstr(name),
    lenenc(0x0c), le16(charset), le32(255), u8(type), le16(flags), u8(decimals), Buffer.alloc(2),
  ]);
}

export const columnDefinitions = [
  columnDefinition('id', 0x03, 0x20),
  columnDefinition('email', 0xfd),
  columnDefinition('created', 0x0c, 0, 6),
];

export const textRows = [
  Buffer.concat([lenstr('7'), u8(0xfb), lenstr('alice@example.com')]),
  Buffer.concat([lenstr(''), lenstr('x'.repeat(300)), lenstr('2024-01-02 03:04:05')]),
];

/** Binary rows (header 0x00, NULL bitmap with offset 2) matching BINARY_ROW_TYPES below. */
export const binaryRowTypes = [0x01, 0x02, 0x03, 0x08, 0x04, 0x05, 0x0a, 0x0c, 0x0b, 0xfd, 0xf6, 0x06] as const;
export const binaryRows = [
  Buffer.concat([
    u8(0), hex('0000'), // 12 columns -> (12 + 9) >> 3 = 2 bitmap bytes, none NULL
    u8(0x85), le16(0x1234), le32(0x80000001), hex('ffffffffffffff7f'), hex('0000c03f'), hex('000000000000f03f'),
    u8(4), le16(2024), u8(2), u8(29),
    u8(11), le16(2024), u8(2), u8(29), u8(23), u8(59), u8(58), le32(123456),
    u8(12), u8(1), le32(3), u8(4), u8(5), u8(6), le32(7),
    lenstr('hello'), lenstr('-12.50'),
  ]),
  Buffer.concat([u8(0), hex('fc3f')]), // every column NULL
];

export const stmtPrepareOk = [Buffer.concat([u8(0), le32(1), le16(2), le16(3), u8(0), le16(0)]), Buffer.concat([u8(0), le32(9), le16(0), le16(0), u8(0)])];

/** COM_STMT_EXECUTE with `types.length` parameters (new-params-bound = 1). */
export function stmtExecute(types: readonly number[], values: readonly Buffer[], nullBitmap?: Buffer): Buffer {
  const bitmap = nullBitmap ?? Buffer.alloc((types.length + 7) >> 3);
  return Buffer.concat([
    u8(0x17), le32(1), u8(0), le32(1), bitmap, u8(1), ...types.map((t) => Buffer.concat([u8(t & 0xff), u8(t >> 8)])), ...values,
  ]);
}

export const stmtExecutes = [
  stmtExecute([0x03, 0xfd, 0x0c], [le32(42), lenstr('abc'), Buffer.concat([u8(7), le16(2024), u8(1), u8(2), u8(3), u8(4), u8(5)])]),
  stmtExecute([0x08 | 0x8000, 0x05, 0x0b, 0x01], [hex('ffffffffffffffff'), hex('000000000000f03f'), Buffer.concat([u8(8), u8(0), le32(1), u8(2), u8(3), u8(4)]), u8(0xff)]),
  stmtExecute([0xfd, 0x06], [lenstr('x')], hex('02')),
];

/** Commands a client sends after login, as payloads. */
export const commands = [
  Buffer.concat([u8(0x03), Buffer.from('SELECT 1')]),
  Buffer.concat([u8(0x16), Buffer.from('SELECT ? + ?')]),
  stmtExecutes[0]!,
  Buffer.concat([u8(0x19), le32(1)]),
  Buffer.concat([u8(0x18), le32(1), le16(0), Buffer.from('long')]),
  Buffer.concat([u8(0x1a), le32(1)]),
  Buffer.concat([u8(0x1c), le32(1), le32(10)]),
  u8(0x0e),
  Buffer.concat([u8(0x02), Buffer.from('app')]),
  Buffer.concat([u8(0x04), nul('t'), Buffer.from('%')]),
  Buffer.concat([u8(0x1b), le16(1)]),
  u8(0x09),
  u8(0x1f),
];
