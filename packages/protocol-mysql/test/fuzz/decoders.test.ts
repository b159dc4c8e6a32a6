// Unit-level fuzzing of every MySQL / MariaDB wire decoder the adapter uses: random bytes and
// mutated valid payloads. A decoder must return a value or throw MalformedPacket, never anything
// else and never loop. The PacketFramer must split any byte stream the same way however it
// arrives; the row rewriter must be deterministic and agree with skipBinaryValue.
//
// QUERYGATE_FUZZ_SEED=<n> and QUERYGATE_FUZZ_ITERATIONS=<n> (per decoder) replay or lengthen a run.
import { generateKeyPairSync } from 'node:crypto';
import { PacketFramer } from '../../src/codec/PacketFramer';
import { MalformedPacket, PayloadReader } from '../../src/codec/PayloadReader';
import * as parser from '../../src/codec/parser';
import { readBinaryValue, skipBinaryValue, type ValueType } from '../../src/codec/binaryValues';
import type { ParamType } from '../../src/codec/messages';
import { cleartextOf, rsaDecryptPassword } from '../../src/auth/scramble';
import { RowRewriter } from '../../src/session/RowRewriter';
import {
  chunks, describeError, formatFinding, fuzzDecoder, fuzzIterations, fuzzSeed, hashBytes, mutate, Rng, stableText,
  type DecoderSpec, type LengthField, type MutateOptions,
} from '../../../../test/fuzz/fuzzKit';
import * as wire from './wire';

const SEED = fuzzSeed();
const ITERATIONS = fuzzIterations(5_000);

const OPTIONS: MutateOptions = { endian: 'LE', specialBytes: [0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x23] };

/** Runs `decode`; a problem unless it returned or threw MalformedPacket. */
function tolerated(decode: () => unknown): string | undefined {
  try {
    decode();
    return undefined;
  } catch (err) {
    return err instanceof MalformedPacket ? undefined : describeError(err);
  }
}

function payloadSpec(name: string, seeds: readonly Buffer[], decode: (payload: Buffer) => unknown): DecoderSpec {
  return {
    name,
    generate(rng) {
      if (rng.chance(0.2)) return rng.bytes(rng.length());
      return mutate(rng, rng.pick(seeds), OPTIONS);
    },
    check: (payload) => tolerated(() => decode(payload)),
  };
}

/** Same packets and the same ending, whether the stream comes whole or in pieces. */
function framerSpec(name: string, seeds: readonly Buffer[]): DecoderSpec {
  const run = (parts: readonly Buffer[]): { packets: string[]; end: string } => {
    const framer = new PacketFramer(1 << 20);
    const packets: string[] = [];
    let fed = 0;
    try {
      for (const part of parts) {
        framer.push(part);
        fed += part.length;
        for (let p = framer.next(); p; p = framer.next()) {
          const declared = p.raw.length >= 4 ? p.raw.readUIntLE(0, 3) : -1;
          if (p.raw.length < 4 || (p.payload.length < 0xffffff && declared !== p.payload.length) || p.raw[3] !== p.seq) {
            return { packets, end: `bad packet: raw ${p.raw.toString('hex').slice(0, 40)} payload ${p.payload.length} seq ${p.seq}` };
          }
          packets.push(`${p.seq}/${p.lastSeq}:${p.payload.toString('hex')}`);
          if (packets.length > fed) return { packets, end: 'more packets than bytes: the framer does not advance' };
        }
      }
      return { packets, end: 'incomplete' };
    } catch (err) {
      if (err instanceof MalformedPacket) return { packets, end: 'malformed' };
      return { packets, end: `PROBLEM ${describeError(err)}` };
    }
  };
  const lengthFields = (stream: Buffer): LengthField[] => {
    const fields: LengthField[] = [];
    for (let pos = 0; pos + 4 <= stream.length; pos += 4 + stream.readUIntLE(pos, 3)) {
      fields.push({ offset: pos, size: 3, endian: 'LE' }, { offset: pos + 3, size: 1, endian: 'LE' });
    }
    return fields;
  };
  return {
    name,
    generate(rng) {
      if (rng.chance(0.15)) return rng.bytes(rng.length(600));
      const seed = rng.pick(seeds);
      return mutate(rng, seed, { ...OPTIONS, lengthFields: lengthFields(seed), maxStack: 4 });
    },
    check(stream) {
      const whole = run([stream]);
      if (whole.end.startsWith('PROBLEM ')) return whole.end.slice(8);
      if (whole.end.startsWith('bad ') || whole.end.startsWith('more ')) return whole.end;
      const split = run(chunks(new Rng(hashBytes(stream)), stream));
      if (split.end.startsWith('PROBLEM ')) return split.end.slice(8);
      if (whole.end !== split.end || whole.packets.join() !== split.packets.join()) {
        return `depends on chunking | whole -> ${whole.packets.length} packets, ${whole.end}; chunked -> ${split.packets.length} packets, ${split.end}`;
      }
      return undefined;
    },
  };
}

const commandStream = Buffer.concat(wire.commands.map((c) => wire.packet(0, c)));
const loginStream = Buffer.concat([wire.packet(1, wire.handshakeResponse41[0]!), wire.packet(3, Buffer.from('secret\0'))]);
const responseStream = Buffer.concat([
  wire.packet(1, Buffer.from([3])), ...wire.columnDefinitions.map((c, i) => wire.packet(2 + i, c)), wire.packet(5, wire.eofPackets[0]!),
  wire.packet(6, wire.textRows[0]!), wire.packet(7, wire.okPackets[3]!),
]);

const ALL_CAPS = 0xffffffff;
const OK_ERR_EOF = [...wire.okPackets, ...wire.errPackets, ...wire.eofPackets];

const specs: DecoderSpec[] = [
  framerSpec('PacketFramer (commands, login, a result set)', [commandStream, loginStream, responseStream]),
  payloadSpec('handshake v10', wire.handshakeV10, parser.parseHandshakeV10),
  payloadSpec('handshake response 41', wire.handshakeResponse41, parser.parseHandshakeResponse41),
  payloadSpec('SSLRequest', wire.sslRequest, (p) => (parser.isSslRequest(p) ? parser.parseSslRequest(p) : undefined)),
  payloadSpec('COM_CHANGE_USER (with and without plugin/attribute capabilities)', wire.changeUser, (p) => {
    parser.parseChangeUser(p, ALL_CAPS);
    return parser.parseChangeUser(p, 0);
  }),
  payloadSpec('auth switch request', wire.authSwitchRequest, parser.parseAuthSwitchRequest),
  payloadSpec('OK / ERR / EOF (parseOk, parseErr, parseEof, statusOf, affectedRowsOf)', OK_ERR_EOF, (p) => {
    // Each decoder on its own: one throwing MalformedPacket must not hide another's problem.
    const problems = [
      () => parser.parseOk(p), () => parser.parseErr(p), () => parser.parseEof(p), () => parser.statusOf(p), () => parser.affectedRowsOf(p),
    ].map(tolerated).filter((x) => x !== undefined);
    if (problems.length > 0) throw new Error(problems[0]);
  }),
  payloadSpec('column definition', wire.columnDefinitions, parser.parseColumnDefinition),
  payloadSpec('COM_STMT_PREPARE_OK', wire.stmtPrepareOk, parser.parseStmtPrepareOk),
  payloadSpec('statement id of COM_STMT_*', wire.commands.slice(2, 7), parser.statementIdOf),
  payloadSpec('cleartext password (mysql_clear_password)', [Buffer.from('secret\0'), Buffer.from('tok')], cleartextOf),
];

/** COM_STMT_EXECUTE. Input: param count, previous-types flag, long-data mask, then the payload. */
const EXECUTE_COUNTS = [3, 4, 2];
specs.push({
  name: 'COM_STMT_EXECUTE with parameters (input = count, flags, payload)',
  generate(rng) {
    const k = rng.int(wire.stmtExecutes.length);
    const count = rng.chance(0.8) ? EXECUTE_COUNTS[k]! : rng.int(12);
    const payload = rng.chance(0.15) ? rng.bytes(rng.length()) : mutate(rng, wire.stmtExecutes[k]!, OPTIONS);
    return Buffer.concat([Buffer.from([count, rng.int(3), rng.int(256)]), payload]);
  },
  check(input) {
    if (input.length < 3) return undefined;
    const count = input[0]!;
    const previous: ParamType[] | undefined = input[1] === 0 ? undefined
      : Array.from({ length: input[1] === 1 ? count : count + 1 }, (_, i) => ({ type: [0x03, 0xfd, 0x0c, 0x0b][i % 4]!, unsigned: false }));
    const longData = new Set<number>();
    for (let i = 0; i < 8; i++) if (input[2]! & (1 << i)) longData.add(i);
    return tolerated(() => parser.parseStmtExecute(input.subarray(3), count, previous, longData));
  },
});

/** Length-encoded integers and strings: a random program of PayloadReader reads over the bytes. */
specs.push({
  name: 'lenenc integers / strings and NUL strings (PayloadReader)',
  generate(rng) {
    const seeds = [wire.lenenc(300), wire.lenenc(70_000), wire.lenenc(2 ** 40), wire.lenstr('abc'), Buffer.concat([wire.hex('fe ffffffffffffff7f')]), wire.nul('x')];
    return rng.chance(0.3) ? rng.bytes(rng.length(40)) : mutate(rng, Buffer.concat([rng.pick(seeds), rng.pick(seeds), rng.pick(seeds)]), OPTIONS);
  },
  check(input) {
    const ops = new Rng(hashBytes(input));
    const r = new PayloadReader(input);
    try {
      for (let steps = 0; !r.done && steps <= input.length; steps++) {
        const before = r.offset;
        switch (ops.int(6)) {
          case 0: {
            const v = r.lenencOrNull();
            if (v !== null && !(Number.isSafeInteger(v) && v >= 0)) return `lenencOrNull gave ${v}`;
            break;
          }
          case 1: r.lenencString(); break;
          case 2: r.nulString(); break;
          case 3: r.lenencBytes(); break;
          case 4: r.bytes(ops.int(4)); break;
          default: r.skip(ops.int(3)); break;
        }
        if (r.offset < before || r.offset > input.length) return `reader offset moved from ${before} to ${r.offset} (length ${input.length})`;
      }
      return undefined;
    } catch (err) {
      return err instanceof MalformedPacket ? undefined : describeError(err);
    }
  },
});

/** One binary value: readBinaryValue must agree with skipBinaryValue on where the value ends. */
const VALUE_TYPES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0xf5, 0xf6, 0xfc, 0xfd, 0xfe];
specs.push({
  name: 'binary protocol values (input = type index, flags, decimals, bytes)',
  generate(rng) {
    const seeds = [wire.hex('0b e807 02 1d 17 3b 3a 40e20100'), wire.hex('0c 01 03000000 04 05 06 07000000'), wire.hex('08 00 01000000 02 03 04'), wire.lenstr('hello'), wire.hex('ffffffffffffffff')];
    const value = rng.chance(0.4) ? rng.bytes(rng.length(24)) : mutate(rng, rng.pick(seeds), OPTIONS);
    return Buffer.concat([Buffer.from([rng.int(VALUE_TYPES.length), rng.int(256), rng.int(10)]), value]);
  },
  check(input) {
    if (input.length < 3) return undefined;
    const t: ValueType = { type: VALUE_TYPES[input[0]! % VALUE_TYPES.length]!, unsigned: (input[1]! & 1) === 1, decimals: input[2]!, charset: input[1]! & 2 ? 63 : 45 };
    const value = input.subarray(3);
    let skipped: number | undefined;
    try { skipped = skipBinaryValue(value, 0, t.type); } catch (err) { if (!(err instanceof MalformedPacket)) return `skipBinaryValue ${describeError(err)}`; }
    const r = new PayloadReader(value);
    try {
      const text = readBinaryValue(r, t);
      if (typeof text !== 'string') return `readBinaryValue returned ${typeof text}`;
    } catch (err) {
      return err instanceof MalformedPacket ? undefined : `readBinaryValue ${describeError(err)}`;
    }
    if (skipped !== r.offset) return `skipBinaryValue says the type-${t.type} value ends at ${skipped}, readBinaryValue read to ${r.offset}`;
    return undefined;
  },
});

/**
 * Text and binary result rows through the RowRewriter (masking). Input: column count, mask bits,
 * mode byte, row. It may throw MalformedPacket; otherwise it must give the same bytes twice (no
 * uninitialised memory) and a row of the right shape.
 */
const ROW_TYPES_TEXT = [0x03, 0xfd, 0x0c];
specs.push({
  name: 'text and binary rows through the masking RowRewriter (input = columns, masks, mode, row)',
  generate(rng) {
    const binary = rng.chance(0.5);
    const seed = binary ? rng.pick(wire.binaryRows) : rng.pick(wire.textRows);
    const columns = rng.chance(0.85) ? (binary ? wire.binaryRowTypes.length : ROW_TYPES_TEXT.length) : rng.int(14);
    const row = rng.chance(0.15) ? rng.bytes(rng.length()) : mutate(rng, seed, OPTIONS);
    return Buffer.concat([Buffer.from([columns, rng.int(256), (binary ? 1 : 0) | (rng.int(2) << 1)]), row]);
  },
  check(input) {
    if (input.length < 3) return undefined;
    const n = input[0]!;
    const binary = (input[2]! & 1) === 1;
    const typeList: readonly number[] = binary ? wire.binaryRowTypes : ROW_TYPES_TEXT;
    const types: ValueType[] = Array.from({ length: n }, (_, i) => ({ type: typeList[i % typeList.length]!, unsigned: false, decimals: 6, charset: 45 }));
    const masks = new Map<number, (v: string) => string | null>();
    for (let i = 0; i < n; i++) {
      if (input[1]! & (1 << (i % 8))) masks.set(i, input[2]! & 2 ? () => null : (v) => `*${v.slice(0, 2)}*`);
    }
    const row = input.subarray(3);
    const rewriter = new RowRewriter(types, { columns: masks }, binary);
    let first: Buffer;
    try {
      first = Buffer.from(rewriter.rewrite(row).payload);
    } catch (err) {
      return err instanceof MalformedPacket ? undefined : describeError(err);
    }
    const second = rewriter.rewrite(Buffer.from(row)).payload;
    if (!first.equals(second)) return `not deterministic (uninitialised memory?) | ${first.toString('hex').slice(0, 80)} then ${second.toString('hex').slice(0, 80)}`;
    const shape = rowShapeProblem(first, types.map((t) => t.type), binary);
    return shape === undefined ? undefined : `${shape} | in ${row.toString('hex').slice(0, 80)}, out ${first.toString('hex').slice(0, 80)}`;
  },
});

/** Why `row` is not a well-formed row of `types` (read independently of the codec), if it is not. */
function rowShapeProblem(row: Buffer, types: readonly number[], binary: boolean): string | undefined {
  let pos = 0;
  const lenencAt = (): number | undefined => {
    const first = row[pos];
    if (first === undefined || first === 0xff || first === 0xfb) return undefined;
    const size = first < 0xfb ? 1 : first === 0xfc ? 3 : first === 0xfd ? 4 : 9;
    if (pos + size > row.length) return undefined;
    const n = size === 1 ? first : size === 9 ? Number(row.readBigUInt64LE(pos + 1)) : row.readUIntLE(pos + 1, size - 1);
    pos += size;
    return n;
  };
  if (!binary) {
    for (let i = 0; i < types.length; i++) {
      if (row[pos] === 0xfb) { pos++; continue; }
      const n = lenencAt();
      if (n === undefined || pos + n > row.length) return `column ${i} of the rewritten text row is truncated`;
      pos += n;
    }
    return pos === row.length ? undefined : 'the rewritten text row has trailing bytes';
  }
  const bitmapLength = (types.length + 9) >> 3;
  if (row.length < 1 + bitmapLength) return 'the rewritten binary row is shorter than its NULL bitmap';
  pos = 1 + bitmapLength;
  for (let i = 0; i < types.length; i++) {
    const bit = i + 2;
    if (row[1 + (bit >> 3)]! & (1 << (bit & 7))) continue;
    const fixed: Record<number, number> = { 0x01: 1, 0x02: 2, 0x0d: 2, 0x03: 4, 0x09: 4, 0x04: 4, 0x05: 8, 0x08: 8, 0x06: 0 };
    const t = types[i]!;
    let size: number | undefined = fixed[t];
    if (size === undefined && [0x07, 0x0a, 0x0b, 0x0c, 0x0e].includes(t)) size = row[pos] === undefined ? undefined : 1 + row[pos]!;
    if (size === undefined) { const n = lenencAt(); size = n; }
    if (size === undefined || pos + size > row.length) return `column ${i} (type ${t}) of the rewritten binary row is truncated`;
    pos += size;
  }
  return pos === row.length ? undefined : 'the rewritten binary row has trailing bytes';
}

/** caching_sha2_password full authentication over plaintext: the RSA-encrypted password. */
const keys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const privateKeyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
specs.push({
  name: 'RSA-encrypted password (caching_sha2 full auth)',
  weight: 0.02,
  generate: (rng) => rng.bytes(rng.pick([0, 1, 127, 128, 129, 256])),
  check(input) {
    try {
      const v = rsaDecryptPassword(input, Buffer.alloc(20, 7), privateKeyPem);
      return v === undefined || typeof v === 'string' ? undefined : `returned ${typeof v}`;
    } catch (err) {
      return describeError(err);
    }
  },
});

describe(`MySQL decoders under fuzzing (seed 0x${SEED.toString(16)}, ${ITERATIONS} iterations each)`, () => {
  test.each(specs.map((s) => [s.name, s] as const))('%s', (_name, spec) => {
    const report = fuzzDecoder(spec, { seed: SEED, iterations: ITERATIONS });
    expect(report.findings.map(formatFinding)).toEqual([]);
  });

  test('the seeds themselves decode (the fuzzer mutates valid input)', () => {
    expect(parser.parseHandshakeV10(wire.handshakeV10[0]!).authPluginName).toBe('mysql_native_password');
    expect(parser.parseHandshakeResponse41(wire.handshakeResponse41[0]!).user).toBe('alice');
    expect(parser.parseColumnDefinition(wire.columnDefinitions[2]!).name).toBe('created');
    expect(parser.parseStmtExecute(wire.stmtExecutes[0]!, 3, undefined).values).toEqual(['42', 'abc', '2024-01-02 03:04:05']);
    const rw = new RowRewriter(wire.binaryRowTypes.map((type) => ({ type, unsigned: false, decimals: 6 })), { columns: new Map([[9, () => 'x']]) }, true);
    expect(rw.rewrite(wire.binaryRows[0]!).rewritten).toBe(1);
    expect(stableText(parser.parseOk(wire.okPackets[2]!))).toContain('"affectedRows":1');
  });
});
