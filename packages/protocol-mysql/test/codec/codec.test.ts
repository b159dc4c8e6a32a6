import { createHash } from 'node:crypto';
import { codec, MalformedPacket, PacketFramer, PayloadReader, PayloadWriter } from '../../src';
import { RowRewriter } from '../../src/session/RowRewriter';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('PacketFramer', () => {
  // COM_QUERY "SELECT 1" (seq 0) then COM_PING (seq 0).
  const stream = hex('09 00 00 00 03 53 45 4c 45 43 54 20 31   01 00 00 00 0e');

  it('yields the same packets however the stream is split', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new PacketFramer(1024);
      const got: string[] = [];
      for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
        framer.push(part);
        for (let p = framer.next(); p; p = framer.next()) got.push(`${p.seq}:${p.payload.toString('hex')}:${p.raw.length}`);
      }
      expect(got).toEqual(['0:0353454c4543542031:13', '0:0e:5']);
    }
  });

  it('joins a 16 MB payload and checks its sequence ids', () => {
    const big = Buffer.alloc(0xffffff, 0x61);
    const h1 = hex('ff ff ff 00');
    const h2 = hex('02 00 00 01');
    const framer = new PacketFramer(64 << 20);
    framer.push(Buffer.concat([h1, big, h2, hex('62 63')]));
    const p = framer.next()!;
    expect(p.payload.length).toBe(0xffffff + 2);
    expect(p.lastSeq).toBe(1);
    expect(p.payload.subarray(-2).toString()).toBe('bc');
    const bad = new PacketFramer(64 << 20);
    bad.push(Buffer.concat([h1, big, hex('02 00 00 05 62 63')]));
    expect(() => bad.next()).toThrow(MalformedPacket);
  });

  it('refuses a declared length past the limit before buffering it', () => {
    const framer = new PacketFramer(100);
    framer.push(hex('65 00 00 00 03'));
    expect(() => framer.next()).toThrow(/exceeds/);
  });
});

describe('serializer and parser', () => {
  it('frames payloads of 16 MB with a trailing empty packet', () => {
    const out = codec.frame(Buffer.alloc(0xffffff), 3);
    expect(out.length).toBe(4 + 0xffffff + 4);
    expect(out.subarray(0, 4)).toEqual(hex('ff ff ff 03'));
    expect(out.subarray(-4)).toEqual(hex('00 00 00 04'));
  });

  it('reads length-encoded integers', () => {
    const r = new PayloadReader(hex('fa fc 34 12 fd 56 34 12 fe 08 07 06 05 04 03 02 00 fb'));
    expect([r.lenenc(), r.lenenc(), r.lenenc(), r.lenenc(), r.lenencOrNull()]).toEqual([0xfa, 0x1234, 0x123456, 0x0002030405060708, null]);
    expect(new PayloadWriter().lenenc(0x1234).payload()).toEqual(hex('fc 34 12'));
  });

  it('parses a MariaDB handshake v10', () => {
    const payload = hex(`0a 35 2e 35 2e 35 2d 31 30 2e 31 31 2e 36 2d 4d 61 72 69 61 44 42 00 2a 00 00 00
      41 42 43 44 45 46 47 48 00 fe f7 2d 02 00 ff 81 15 00 00 00 00 00 00 1d 00 00 00
      49 4a 4b 4c 4d 4e 4f 50 51 52 53 54 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00`);
    const h = codec.parseHandshakeV10(payload);
    expect(h.serverVersion).toBe('5.5.5-10.11.6-MariaDB');
    expect(h.connectionId).toBe(42);
    expect(h.scramble.toString()).toBe('ABCDEFGHIJKLMNOPQRST');
    expect(h.charset).toBe(0x2d);
    expect(h.authPluginName).toBe('mysql_native_password');
    expect(h.capabilities & 0x80000).toBeTruthy();
  });

  it('parses OK, ERR and column definitions', () => {
    expect(codec.parseOk(hex('00 01 05 02 00 00 00'))).toMatchObject({ affectedRows: 1, lastInsertId: 5, status: 2 });
    expect(codec.parseErr(hex('ff 7a 04 23 34 32 30 30 30 6e 6f'))).toEqual({ errno: 1146, sqlState: '42000', message: 'no' });
    const col = hex(`03 64 65 66 03 61 70 70 01 75 05 75 73 65 72 73 01 65 05 65 6d 61 69 6c
      0c 2d 00 90 01 00 00 fd 00 00 00 00 00`);
    expect(codec.parseColumnDefinition(col)).toMatchObject({ schema: 'app', table: 'u', orgTable: 'users', name: 'e', orgName: 'email', type: 0xfd, charset: 45 });
  });

  it('parses COM_STMT_EXECUTE parameters as text', () => {
    // id 1, no cursor, 1 iteration, 3 params: NULL bitmap 0b010, new-params-bound, LONG, VAR_STRING, DATETIME
    const payload = hex(`17 01 00 00 00 00 01 00 00 00 02 01 03 00 fd 00 0c 00
      2a 00 00 00  07 e8 07 02 1d 0d 0e 0f`);
    const exec = codec.parseStmtExecute(payload, 3, undefined);
    expect(exec.values).toEqual(['42', null, '2024-02-29 13:14:15']);
    expect(exec.newParamsBound).toBe(true);
  });
});

describe('binary values', () => {
  it('reads and writes temporal and numeric values', () => {
    const t = { type: 0x0c, unsigned: false, decimals: 3 };
    const bytes = hex('0b e8 07 02 1d 0d 0e 0f 40 e2 01 00');
    expect(codec.readBinaryValue(new PayloadReader(bytes), t)).toBe('2024-02-29 13:14:15.123');
    const w = new PayloadWriter();
    expect(codec.writeBinaryValue(w, t, '2024-02-29 13:14:15.123')).toBe(true);
    expect(w.payload()).toEqual(hex('0b e8 07 02 1d 0d 0e 0f 78 e0 01 00'));
    const time = hex('0c 01 22 00 00 00 16 3b 3b 01 00 00 00');
    expect(codec.readBinaryValue(new PayloadReader(time), { type: 0x0b, unsigned: false, decimals: 6 })).toBe('-838:59:59.000001');
    expect(codec.readBinaryValue(new PayloadReader(hex('ff')), { type: 0x01, unsigned: false })).toBe('-1');
    expect(codec.readBinaryValue(new PayloadReader(hex('ff')), { type: 0x01, unsigned: true })).toBe('255');
    expect(codec.writeBinaryValue(new PayloadWriter(), { type: 0x03, unsigned: false }, '***')).toBe(false);
  });
});

describe('RowRewriter', () => {
  const upper = { columns: new Map([[1, (v: string) => v.toUpperCase()]]) };

  it('rewrites text rows, keeping NULL', () => {
    const rw = new RowRewriter([{ type: 3, unsigned: false }, { type: 0xfd, unsigned: false }], upper, false);
    expect(rw.rewrite(hex('01 31 03 61 62 63')).payload).toEqual(hex('01 31 03 41 42 43'));
    expect(rw.rewrite(hex('01 32 fb')).payload).toEqual(hex('01 32 fb'));
  });

  it('rewrites binary rows; a value the type cannot hold becomes NULL', () => {
    const rw = new RowRewriter([{ type: 3, unsigned: false }, { type: 0xfd, unsigned: false }], upper, true);
    // header, bitmap (2 cols + offset 2 = 1 byte), LONG 7, VAR_STRING "ab"
    expect(rw.rewrite(hex('00 00 07 00 00 00 02 61 62')).payload).toEqual(hex('00 00 07 00 00 00 02 41 42'));
    expect(rw.rewrite(hex('00 08 07 00 00 00')).payload).toEqual(hex('00 08 07 00 00 00'));
    const stars = new RowRewriter([{ type: 3, unsigned: false }], { columns: new Map([[0, () => '***']]) }, true);
    expect(stars.rewrite(hex('00 00 07 00 00 00')).payload).toEqual(hex('00 04'));
  });
});

describe('password proofs', () => {
  const scramble = Buffer.from('ABCDEFGHIJKLMNOPQRST');
  const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest();
  const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

  it('verifies mysql_native_password against SHA1(SHA1(pw))', () => {
    const s1 = sha1(Buffer.from('pw'));
    const mix = sha1(Buffer.concat([scramble, sha1(s1)]));
    const token = Buffer.from(s1.map((b, i) => b ^ mix[i]!));
    expect(codec.verifyNativePassword(token, scramble, sha1(s1))).toBe(true);
    expect(codec.verifyNativePassword(token, scramble, sha1(sha1(Buffer.from('other'))))).toBe(false);
  });

  it('verifies the caching_sha2_password fast path against SHA256(SHA256(pw))', () => {
    const s1 = sha256(Buffer.from('pw'));
    const mix = sha256(Buffer.concat([sha256(s1), scramble]));
    const token = Buffer.from(s1.map((b, i) => b ^ mix[i]!));
    expect(codec.verifyCachingSha2(token, scramble, sha256(s1))).toBe(true);
    expect(codec.verifyCachingSha2(Buffer.alloc(32), scramble, sha256(s1))).toBe(false);
  });
});
