// Unit-level fuzzing of every PostgreSQL wire decoder the adapter uses: random bytes and mutated
// valid messages. A decoder must return a value or throw GatewayError QG_PROTOCOL_VIOLATION, never
// anything else, never loop, and never read past the end of its message. The Framer must split any
// byte stream the same way however it arrives.
//
// QUERYGATE_FUZZ_SEED=<n> and QUERYGATE_FUZZ_ITERATIONS=<n> (per decoder) replay or lengthen a run.
import { GatewayError, scramVerifier } from '@querygate/core';
import { Framer } from '../../src/codec/Framer';
import * as parser from '../../src/codec/parser';
import { binaryToText } from '../../src/codec/binaryValues';
import { TypeOid } from '../../src/codec/typeNames';
import { ScramServerExchange } from '../../src/session/ScramServerExchange';
import {
  chunks, describeError, formatFinding, fuzzDecoder, fuzzIterations, fuzzSeed, hashBytes, mutate, Rng, stableText,
  timeBoxed, type DecoderSpec, type LengthField, type MutateOptions,
} from '../../../../test/fuzz/fuzzKit';
import { backendBodies, backendStream, be32, frontendBodies, frontendStream, hex, tagged, untagged } from './wire';

const SEED = fuzzSeed();
const ITERATIONS = fuzzIterations(5_000);

type Decode = (buf: Buffer, bodyStart: number, end: number) => unknown;
type Outcome = { readonly value: string } | { readonly violation: true } | { readonly problem: string };

function outcome(run: () => unknown): Outcome {
  try {
    return { value: stableText(run()) };
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'QG_PROTOCOL_VIOLATION') return { violation: true };
    return { problem: describeError(err) };
  }
}

const BODY_OPTIONS: MutateOptions = { endian: 'BE', specialBytes: [0x53, 0x50, 0x3d, 0x2c] };
// Bytes placed around a message: NULs that would end a runaway string, large counts, 'S'/'P' tags.
const AROUND = hex('aa 00 ff ff ff ff 7f');
const AFTER = hex('00 00 00 00 00 ff ff ff ff 53 00 50 00 00 00 00 7f ff ff ff 00 41 00');

/**
 * A body decoder: its input is a message body. It is decoded once as a message alone in its
 * buffer and once embedded between unrelated bytes; both must agree (no read outside [start, end)).
 */
function bodySpec(name: string, type: number, seeds: readonly Buffer[], decode: Decode): DecoderSpec {
  return {
    name,
    generate(rng) {
      if (rng.chance(0.2)) return rng.bytes(rng.length());
      return mutate(rng, rng.pick(seeds), BODY_OPTIONS);
    },
    check(body) {
      const head = type === 0 ? be32(body.length + 4) : Buffer.concat([Buffer.from([type]), be32(body.length + 4)]);
      const alone = Buffer.concat([head, body]);
      const a = outcome(() => decode(alone, head.length, alone.length));
      if ('problem' in a) return a.problem;
      const start = AROUND.length + head.length;
      const embedded = Buffer.concat([AROUND, head, body, AFTER]);
      const b = outcome(() => decode(embedded, start, start + body.length));
      if ('problem' in b) return b.problem;
      if (stableText(a) !== stableText(b)) {
        return `reads outside its message | alone ${stableText(a).slice(0, 120)}, embedded ${stableText(b).slice(0, 120)}`;
      }
      return undefined;
    },
  };
}

/**
 * The Framer over a byte stream: fed whole, then in chunks derived from the input, both runs must
 * yield the same messages and end the same way (incomplete tail, or QG_PROTOCOL_VIOLATION), and
 * every message must lie inside the buffer it is reported in.
 */
function framerSpec(name: string, untaggedMode: boolean, seeds: readonly Buffer[], lengthFieldsOf: (b: Buffer) => LengthField[]): DecoderSpec {
  const run = (parts: readonly Buffer[]): { messages: string[]; end: string } => {
    const framer = new Framer(untaggedMode);
    const messages: string[] = [];
    let fed = 0;
    try {
      for (const part of parts) {
        framer.push(part);
        fed += part.length;
        while (framer.next()) {
          const { start, bodyStart, end, buffer, type } = framer;
          const headLength = untaggedMode ? 4 : 5;
          if (start < 0 || bodyStart !== start + headLength || end < bodyStart || end > buffer.length) {
            return { messages, end: `bad bounds start=${start} bodyStart=${bodyStart} end=${end} buffer=${buffer.length}` };
          }
          if (!untaggedMode && type !== buffer[start]) return { messages, end: `type ${type} is not the byte at start` };
          messages.push(`${type}:${buffer.subarray(bodyStart, end).toString('hex')}`);
          if (messages.length > fed) return { messages, end: 'more messages than bytes: the framer does not advance' };
        }
      }
      return { messages, end: `incomplete ${framer.buffered}` };
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'QG_PROTOCOL_VIOLATION') return { messages, end: 'violation' };
      return { messages, end: `PROBLEM ${describeError(err)}` };
    }
  };
  return {
    name,
    generate(rng) {
      if (rng.chance(0.15)) return rng.bytes(rng.length(600));
      const seed = rng.pick(seeds);
      return mutate(rng, seed, { endian: 'BE', lengthFields: lengthFieldsOf(seed), maxStack: 4 });
    },
    check(stream) {
      const whole = run([stream]);
      if (whole.end.startsWith('PROBLEM ') || whole.end.startsWith('bad ') || whole.end.startsWith('type ') || whole.end.startsWith('more ')) {
        return whole.end.replace(/^PROBLEM /, '');
      }
      const split = run(chunks(new Rng(hashBytes(stream)), stream));
      if (split.end.startsWith('PROBLEM ')) return split.end.slice(8);
      const sameEnd = whole.end === split.end || (whole.end.startsWith('incomplete') && split.end.startsWith('incomplete'));
      if (!sameEnd || whole.messages.join() !== split.messages.join()) {
        return `depends on chunking | whole -> ${whole.messages.length} messages, ${whole.end}; chunked -> ${split.messages.length} messages, ${split.end}`;
      }
      return undefined;
    },
  };
}

/** Header length fields of every message in a valid tagged stream. */
function taggedLengthFields(stream: Buffer): LengthField[] {
  const fields: LengthField[] = [];
  for (let pos = 0; pos + 5 <= stream.length; pos += 1 + stream.readUInt32BE(pos + 1)) fields.push({ offset: pos + 1, size: 4, endian: 'BE' });
  return fields;
}

function untaggedLengthFields(stream: Buffer): LengthField[] {
  const fields: LengthField[] = [];
  for (let pos = 0; pos + 4 <= stream.length; pos += stream.readUInt32BE(pos)) fields.push({ offset: pos, size: 4, endian: 'BE' }, { offset: pos + 4, size: 4, endian: 'BE' });
  return fields;
}

/** A big message so the Framer's collect-the-chunks path (messages over 64 KiB) is fuzzed too. */
const bigQuery = tagged('Q', Buffer.from(`SELECT '${'x'.repeat(70_000)}'\0`));

const F = frontendBodies;
const B = backendBodies;
const c = (ch: string): number => ch.charCodeAt(0);

const specs: DecoderSpec[] = [
  bodySpec('StartupMessage / SSLRequest / GSSENCRequest / CancelRequest', 0, F.startup, parser.parseStartupPacket),
  bodySpec('Query', c('Q'), F.query, parser.parseQuery),
  bodySpec('Parse', c('P'), F.parse, parser.parseParse),
  bodySpec('Bind', c('B'), F.bind, parser.parseBind),
  bodySpec('Bind (names only)', c('B'), F.bind, parser.parseBindNames),
  bodySpec('Describe', c('D'), F.describe, (b, s, e) => parser.parseTarget(b, s, e, 'Describe')),
  bodySpec('Close', c('C'), F.close, (b, s, e) => parser.parseTarget(b, s, e, 'Close')),
  bodySpec('Execute', c('E'), F.execute, parser.parseExecute),
  bodySpec('FunctionCall', c('F'), F.functionCall, parser.parseFunctionCall),
  bodySpec('PasswordMessage', c('p'), F.password, parser.parsePassword),
  bodySpec('SASLInitialResponse', c('p'), F.saslInitial, parser.parseSaslInitialResponse),
  bodySpec('SASLResponse', c('p'), F.saslResponse, parser.parseSaslResponse),
  bodySpec('RowDescription', c('T'), B.rowDescription, parser.parseRowDescription),
  bodySpec('DataRow', c('D'), B.dataRow, parser.parseDataRow),
  bodySpec('ErrorResponse / NoticeResponse', c('E'), B.errorResponse, parser.parseErrorFields),
  bodySpec('CommandComplete (+ row count of its tag)', c('C'), B.commandComplete, (b, s, e) => {
    const tag = parser.parseCommandTag(b, s, e);
    const rows = parser.rowsOfTag(tag);
    if (rows !== undefined && !(Number.isFinite(rows) && rows >= 0)) throw new Error(`rowsOfTag gave ${rows} for "${tag}"`);
    return { tag, rows };
  }),
  bodySpec('ParameterStatus', c('S'), B.parameterStatus, parser.parseParameterStatus),
  bodySpec('BackendKeyData', c('K'), B.backendKeyData, parser.parseBackendKeyData),
  bodySpec('Authentication*', c('R'), B.authentication, parser.parseAuthentication),
  framerSpec('Framer (frontend messages, incl. Sync/Flush/CopyData/CopyDone/CopyFail/Terminate)', false,
    [frontendStream(), tagged('S'), Buffer.concat([tagged('d', F.copyData[0]), tagged('c')])], taggedLengthFields),
  { ...framerSpec('Framer (a message over 64 KiB, collected chunk by chunk)', false, [bigQuery], taggedLengthFields), weight: 0.01 },
  framerSpec('Framer (backend messages)', false, [backendStream()], taggedLengthFields),
  framerSpec('Framer (startup phase, untagged)', true,
    [untagged(be32(80877103)), untagged(F.startup[1]), Buffer.concat([untagged(be32(80877103)), untagged(F.startup[0])]), untagged(F.startup[6])],
    untaggedLengthFields),
];

/** binaryToText decodes binary-format DataRow values: never throws, whatever the bytes. */
const BINARY_TYPES = [
  TypeOid.bool, TypeOid.int2, TypeOid.int4, TypeOid.int8, TypeOid.oid, TypeOid.float4, TypeOid.float8, TypeOid.jsonb,
  TypeOid.uuid, TypeOid.bytea, TypeOid.date, TypeOid.timestamp, TypeOid.timestamptz, TypeOid.numeric, TypeOid.text,
  TypeOid.interval, TypeOid._int4,
];
const NUMERIC_SEEDS = [hex('0002 0000 0000 0002 0001 1388'), hex('0000 0000 c000 0000'), hex('0003 0001 4000 0004 0001 0002 0003')];
specs.push({
  name: 'binaryToText (binary DataRow values, input = type index byte + value)',
  generate(rng) {
    const t = rng.int(BINARY_TYPES.length);
    const value = BINARY_TYPES[t] === TypeOid.numeric && rng.chance(0.7)
      ? mutate(rng, rng.pick(NUMERIC_SEEDS), BODY_OPTIONS)
      : rng.chance(0.5) ? rng.bytes(rng.pick([0, 1, 2, 4, 8, 16])) : rng.bytes(rng.length(40));
    return Buffer.concat([Buffer.from([t]), value]);
  },
  check(input) {
    if (input.length === 0) return undefined;
    const oid = BINARY_TYPES[input[0]! % BINARY_TYPES.length]!;
    try {
      const text = binaryToText(oid, input.subarray(1));
      return text === undefined || typeof text === 'string' ? undefined : `returned ${typeof text}`;
    } catch (err) {
      return describeError(err);
    }
  },
});

/** The SCRAM messages a client sends (inside SASLInitialResponse / SASLResponse) are decoded too. */
const verifier = scramVerifier('alice-Secret-1', Buffer.from('salt-for-the-fuzzer'), 16);
const SCRAM_SEEDS = [Buffer.from('n,,n=,r=rOprNGfwEbeRWgbNEkqO'), Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqOsuffix,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')];
specs.push({
  name: 'SCRAM client-first / client-final (input = 0|1 + text)',
  generate(rng) {
    const which = rng.int(2);
    const text = rng.chance(0.2) ? rng.bytes(rng.length()) : mutate(rng, SCRAM_SEEDS[which]!, { endian: 'BE', specialBytes: [0x2c, 0x3d] });
    return Buffer.concat([Buffer.from([which]), text]);
  },
  check(input) {
    if (input.length === 0) return undefined;
    const text = input.subarray(1).toString('utf8');
    try {
      const exchange = new ScramServerExchange(verifier, 'suffix');
      if (input[0]! % 2 === 0) {
        const r = exchange.first(text);
        return r === undefined || typeof r === 'string' ? undefined : `first returned ${typeof r}`;
      }
      exchange.first('n,,n=,r=rOprNGfwEbeRWgbNEkqO');
      const r = exchange.final(text);
      return r === undefined || typeof r === 'string' ? undefined : `final returned ${typeof r}`;
    } catch (err) {
      return describeError(err);
    }
  },
});

describe(`PostgreSQL decoders under fuzzing (seed 0x${SEED.toString(16)}, ${ITERATIONS} iterations each)`, () => {
  test.each(specs.map((s) => [s.name, s] as const))('%s', (_name, spec) => {
    const report = fuzzDecoder(spec, { seed: SEED, iterations: ITERATIONS });
    expect(report.findings.map(formatFinding)).toEqual([]);
  });
});

describe('the fuzzer itself', () => {
  test('finds a wrong error type, shrinks the input, and reports the seed', () => {
    const buggy: DecoderSpec = {
      name: 'buggy',
      generate: (rng) => rng.bytes(rng.length()),
      check: (input) => outcomeProblem(() => { if (input.includes(0x2a)) throw new RangeError('boom'); }),
    };
    const report = fuzzDecoder(buggy, { seed: 1, iterations: 2000 });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]!.problem).toMatch(/^threw RangeError: boom/);
    expect(report.findings[0]!.minimalHex).toBe('2a');
    expect(formatFinding(report.findings[0]!)).toContain('QUERYGATE_FUZZ_SEED=0x1 iteration');
  });

  test('interrupts a decoder that never returns and names the input', () => {
    const looping: DecoderSpec = {
      name: 'looping',
      generate: (rng) => rng.bytes(4),
      check: (input) => {
        // eslint-disable-next-line no-empty
        if (input[0] === 7) for (;;) {}
        return undefined;
      },
    };
    const report = fuzzDecoder(looping, { seed: 3, iterations: 600, batchSize: 300, batchTimeoutMs: 500, callTimeoutMs: 100, maxFindings: 1 });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]!.problem).toMatch(/did not return/);
    expect(report.findings[0]!.inputHex.slice(0, 2)).toBe('07');
    expect(timeBoxed(() => undefined, 1000)).toBe(true);
  });

  test('the same seed gives the same inputs', () => {
    const a = new Rng(SEED);
    const b = new Rng(SEED);
    const seed = frontendStream();
    expect(mutate(a, seed, BODY_OPTIONS).equals(mutate(b, seed, BODY_OPTIONS))).toBe(true);
  });
});

function outcomeProblem(run: () => unknown): string | undefined {
  const o = outcome(run);
  return 'problem' in o ? o.problem : undefined;
}
