// A small deterministic fuzzer for pure decoders: a seeded PRNG (mulberry32), byte-level mutators,
// and a runner that time-boxes the decoder calls, shrinks failing inputs and reports each problem
// with the seed and iteration that reproduce it. Kept free of the codec under test.
//
// Shared by packages/protocol-postgres/test/fuzz and packages/protocol-mysql/test/fuzz.
import { createContext, Script } from 'node:vm';

/** Fixed by default so CI runs are reproducible; QUERYGATE_FUZZ_SEED overrides it. */
export const DEFAULT_SEED = 0x51a7e5ed;

export function fuzzSeed(): number {
  const raw = process.env.QUERYGATE_FUZZ_SEED;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  const n = Number(raw.trim());
  if (!Number.isFinite(n)) throw new Error(`QUERYGATE_FUZZ_SEED must be a number (decimal or 0x hex), got ${raw}`);
  return n >>> 0;
}

/** Iterations per decoder: `defaultCount` unless QUERYGATE_FUZZ_ITERATIONS says otherwise. */
export function fuzzIterations(defaultCount: number): number {
  const raw = process.env.QUERYGATE_FUZZ_ITERATIONS;
  if (raw === undefined || raw.trim() === '') return defaultCount;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`QUERYGATE_FUZZ_ITERATIONS must be a positive integer, got ${raw}`);
  return n;
}

/** mulberry32: tiny, fast, and good enough to drive mutations; the whole state is one uint32. */
export class Rng {
  private state: number;

  constructor(seed: number) { this.state = seed >>> 0; }

  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, n). */
  int(n: number): number { return n <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * n); }
  /** Uniform in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** Mostly short lengths, sometimes long ones: where decoders' edge cases are. */
  length(max = 300): number {
    const r = this.int(10);
    if (r < 5) return this.int(16);
    if (r < 9) return this.int(80);
    return this.int(max + 1);
  }
}

/** FNV-1a of a string: mixes the decoder name into the seed so decoders get different streams. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** FNV-1a of bytes: derives the incidental choices of a check (chunking...) from its input alone. */
export function hashBytes(b: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

/** Each iteration gets its own generator, so iteration i can be replayed alone. */
export function iterationRng(seed: number, name: string, iteration: number): Rng {
  let h = (seed ^ hashString(name)) >>> 0;
  h = Math.imul(h ^ (iteration + 0x9e3779b9), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return new Rng(h ^ (h >>> 16));
}

// ------------------------------------------------------------------------------------ mutations

export type Endian = 'BE' | 'LE';

/** A length or count field at a known place (a frame header), for targeted mutations. */
export interface LengthField {
  readonly offset: number;
  readonly size: 1 | 2 | 3 | 4;
  readonly endian: Endian;
}

export interface MutateOptions {
  /** Byte order of the protocol's integers (random integer-field mutations use it). */
  readonly endian: Endian;
  /** Known length fields of the input (frame headers). */
  readonly lengthFields?: readonly LengthField[];
  /** Bytes with a meaning in this protocol (MySQL's lenenc prefixes 0xfb..0xff, tags...). */
  readonly specialBytes?: readonly number[];
  /** Most mutations stacked on one input. */
  readonly maxStack?: number;
}

function readField(buf: Buffer, f: LengthField): number {
  if (f.size === 1) return buf[f.offset]!;
  if (f.size === 2) return f.endian === 'BE' ? buf.readUInt16BE(f.offset) : buf.readUInt16LE(f.offset);
  if (f.size === 3) return f.endian === 'BE' ? buf.readUIntBE(f.offset, 3) : buf.readUIntLE(f.offset, 3);
  return f.endian === 'BE' ? buf.readUInt32BE(f.offset) : buf.readUInt32LE(f.offset);
}

function writeField(buf: Buffer, f: LengthField, value: number): void {
  const bits = f.size * 8;
  const v = bits === 32 ? value >>> 0 : ((value % 2 ** bits) + 2 ** bits) % 2 ** bits;
  if (f.size === 1) buf[f.offset] = v;
  else if (f.endian === 'BE') buf.writeUIntBE(v, f.offset, f.size);
  else buf.writeUIntLE(v, f.offset, f.size);
}

/** 0, -1, huge, off by one, the true remaining length and its neighbours, random. */
function interestingValue(rng: Rng, current: number, size: number, remaining: number): number {
  const max = 2 ** (size * 8) - 1;
  const signedMax = 2 ** (size * 8 - 1) - 1;
  switch (rng.int(11)) {
    case 0: return 0;
    case 1: return max; // -1 in two's complement
    case 2: return signedMax;
    case 3: return signedMax + 1; // most negative
    case 4: return current + 1;
    case 5: return current - 1;
    case 6: return remaining;
    case 7: return remaining + rng.pick([-1, 1, 4, -4]);
    case 8: return rng.int(max + 1);
    case 9: return rng.pick([1, 2, 3, 4, 5, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0xfffe]);
    default: return max - rng.int(4);
  }
}

/** One random mutation of `input` (never modifies it). */
export function mutateOnce(rng: Rng, input: Buffer, options: MutateOptions): Buffer {
  const buf = Buffer.from(input);
  const n = buf.length;
  const fields = options.lengthFields ?? [];
  switch (rng.int(13)) {
    case 0: { // bit flips
      if (n === 0) return rng.bytes(1);
      for (let k = rng.range(1, 4); k > 0; k--) buf[rng.int(n)]! ^= 1 << rng.int(8);
      return buf;
    }
    case 1: { // a byte set to a random or special value
      if (n === 0) return rng.bytes(1);
      const specials = [0x00, 0xff, 0x7f, 0x80, 0x01, ...(options.specialBytes ?? [])];
      buf[rng.int(n)] = rng.chance(0.5) ? rng.pick(specials) : rng.int(256);
      return buf;
    }
    case 2: // truncation
      return buf.subarray(0, rng.int(n + 1));
    case 3: // extension
      return Buffer.concat([buf, rng.chance(0.3) ? Buffer.alloc(rng.range(1, 8)) : rng.bytes(rng.length(64))]);
    case 4: { // insertion in the middle
      const at = rng.int(n + 1);
      return Buffer.concat([buf.subarray(0, at), rng.bytes(rng.range(1, 16)), buf.subarray(at)]);
    }
    case 5: { // deletion of a range
      if (n === 0) return buf;
      const at = rng.int(n);
      const len = rng.range(1, Math.min(16, n - at));
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + len)]);
    }
    case 6:
    case 7: { // a known length field set to 0 / -1 / huge / off by one...
      const usable = fields.filter((f) => f.offset + f.size <= n);
      if (usable.length === 0) return mutateOnce(rng, input, { ...options, lengthFields: [] });
      const f = rng.pick(usable);
      writeField(buf, f, interestingValue(rng, readField(buf, f), f.size, n - f.offset));
      return buf;
    }
    case 8: { // any 1/2/4-byte window read as an integer field (counts, lengths inside bodies)
      const size = rng.pick([1, 2, 4] as const);
      if (n < size) return Buffer.concat([buf, rng.bytes(size)]);
      const f: LengthField = { offset: rng.int(n - size + 1), size, endian: options.endian };
      writeField(buf, f, interestingValue(rng, readField(buf, f), size, n - f.offset - size));
      return buf;
    }
    case 9: { // NUL removal: one terminator, or all of them
      const zeros: number[] = [];
      for (let i = 0; i < n; i++) if (buf[i] === 0) zeros.push(i);
      if (zeros.length === 0) return buf;
      if (rng.chance(0.25)) { for (const z of zeros) buf[z] = 0x41; return buf; }
      const z = rng.pick(zeros);
      return Buffer.concat([buf.subarray(0, z), buf.subarray(z + 1)]);
    }
    case 10: { // duplicate a slice
      if (n === 0) return buf;
      const at = rng.int(n);
      const len = rng.range(1, Math.min(32, n - at));
      return Buffer.concat([buf.subarray(0, at + len), buf.subarray(at, at + len), buf.subarray(at + len)]);
    }
    case 11: { // a NUL inserted where a string was running
      const at = rng.int(n + 1);
      return Buffer.concat([buf.subarray(0, at), Buffer.alloc(1), buf.subarray(at)]);
    }
    default: { // overwrite a range with random bytes
      if (n === 0) return rng.bytes(rng.range(1, 8));
      const at = rng.int(n);
      rng.bytes(Math.min(n - at, rng.range(1, 8))).copy(buf, at);
      return buf;
    }
  }
}

/** One to `maxStack` stacked mutations. */
export function mutate(rng: Rng, input: Buffer, options: MutateOptions): Buffer {
  let out = input;
  for (let k = rng.range(1, options.maxStack ?? 3); k > 0; k--) out = mutateOnce(rng, out, options);
  return out;
}

// ------------------------------------------------------------------------------------ runner

/** A decoder under fuzzing. `check` must not throw: it returns a problem, or undefined when fine. */
export interface DecoderSpec {
  readonly name: string;
  /** Iteration i's input, from that iteration's own generator. */
  generate(rng: Rng): Buffer;
  check(input: Buffer): string | undefined;
  /** Fewer iterations for costly decoders (RSA...): a fraction of the configured count. */
  readonly weight?: number;
}

export interface Finding {
  readonly decoder: string;
  readonly seed: number;
  readonly iteration: number;
  readonly problem: string;
  readonly inputHex: string;
  /** The smallest input found that shows the same problem. */
  readonly minimalHex: string;
}

export interface FuzzOptions {
  readonly seed: number;
  readonly iterations: number;
  /** Calls per time-boxed batch. */
  readonly batchSize?: number;
  /** A batch slower than this is re-run call by call to find the one that hangs. */
  readonly batchTimeoutMs?: number;
  /** A single call slower than this (confirmed twice) is reported as a hang. */
  readonly callTimeoutMs?: number;
  /** Distinct problems reported per decoder. */
  readonly maxFindings?: number;
}

export interface FuzzReport {
  readonly findings: Finding[];
  readonly calls: number;
  readonly ms: number;
}

const TIMEOUT = 'ERR_SCRIPT_EXECUTION_TIMEOUT';
const sandbox = createContext({ job: undefined as (() => void) | undefined });
const runJob = new Script('job()');

/**
 * Runs `job` so that even a synchronous endless loop in it is interrupted: vm's watchdog terminates
 * whatever JavaScript runs on the thread, including functions from outside the context. Only a few
 * hundred such calls are made per run (watchdogs started in fast succession can misfire, so a
 * timeout is always confirmed before it counts).
 */
export function timeBoxed(job: () => void, ms: number): boolean {
  sandbox.job = job;
  try {
    runJob.runInContext(sandbox, { timeout: ms });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === TIMEOUT) return false;
    throw err;
  } finally {
    sandbox.job = undefined;
  }
}

/** First line of an error plus where it was thrown: enough to tell two bugs apart and to find one. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `threw a non-Error: ${String(err)}`;
  const frames = (err.stack ?? '').split('\n').slice(1).map((l) => l.trim())
    .filter((l) => l.startsWith('at ') && !/node_modules|\/test\/fuzz\/|evalmachine|node:vm/.test(l))
    .slice(0, 3);
  return `threw ${err.constructor.name}: ${err.message}${frames.length > 0 ? ` [${frames.join(' <- ')}]` : ''}`;
}

/**
 * A problem's identity for de-duplication and shrinking: numbers and quoted text abstracted away,
 * and anything after " | " (details of one occurrence) left out.
 */
export function signature(problem: string): string {
  return problem.split(' | ')[0]!.replace(/\[.*\]$/, '').replace(/0x[0-9a-f]+/gi, 'N').replace(/\b[0-9a-f]{6,}\b/gi, 'H').replace(/\d+/g, 'N')
    .replace(/"[^"]*"/g, 'S').trim();
}

/**
 * Delta debugging by hand: drop chunks, then zero bytes, while the problem stays the same. Runs
 * inside one time box (a smaller input could still hang); on timeout the best so far is kept.
 */
function shrink(input: Buffer, sig: string, check: (b: Buffer) => string | undefined): Buffer {
  let best = input;
  timeBoxed(() => { best = shrinkUnboxed(input, sig, check, (b) => { best = b; }); }, 5000);
  return best;
}

function shrinkUnboxed(input: Buffer, sig: string, check: (b: Buffer) => string | undefined, progress: (b: Buffer) => void): Buffer {
  const same = (b: Buffer): boolean => {
    const problem = check(b);
    return problem !== undefined && signature(problem) === sig;
  };
  let best = input;
  let budget = 3000;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && budget > 0; chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && budget > 0;) {
      budget--;
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)]);
      if (same(candidate)) { best = candidate; progress(best); } else at += chunk;
    }
  }
  // Then simplify bytes: zero what can be zeroed, so the reproduction shows only what matters.
  for (let i = 0; i < best.length && budget > 0; i++) {
    if (best[i] === 0) continue;
    budget--;
    const candidate = Buffer.from(best);
    candidate[i] = 0;
    if (same(candidate)) { best = candidate; progress(best); }
  }
  return best;
}

/** Fuzzes one decoder: `iterations` inputs in time-boxed batches; returns distinct problems. */
export function fuzzDecoder(spec: DecoderSpec, options: FuzzOptions): FuzzReport {
  const started = Date.now();
  const iterations = Math.max(1, Math.round(options.iterations * (spec.weight ?? 1)));
  const batchSize = options.batchSize ?? 1000;
  const batchTimeoutMs = options.batchTimeoutMs ?? 10_000;
  const callTimeoutMs = options.callTimeoutMs ?? 1000;
  const maxFindings = options.maxFindings ?? 5;
  // The smallest input seen per problem; shrunk once at the end.
  const bySignature = new Map<string, { iteration: number; input: Buffer; problem: string; hang: boolean }>();
  const record = (iteration: number, input: Buffer, problem: string, hang: boolean): void => {
    const sig = hang ? 'hang' : signature(problem);
    const known = bySignature.get(sig);
    if (known ? known.input.length <= input.length : bySignature.size >= maxFindings) return;
    bySignature.set(sig, { iteration, input, problem, hang });
  };
  const inputOf = (i: number): Buffer => spec.generate(iterationRng(options.seed, spec.name, i));

  for (let from = 0; from < iterations; from += batchSize) {
    const to = Math.min(iterations, from + batchSize);
    const problems: { i: number; input: Buffer; problem: string }[] = [];
    const finished = timeBoxed(() => {
      for (let i = from; i < to; i++) {
        const input = inputOf(i);
        const problem = spec.check(input);
        if (problem !== undefined) problems.push({ i, input, problem });
      }
    }, batchTimeoutMs);
    if (finished) {
      for (const p of problems) record(p.i, p.input, p.problem, false);
      continue;
    }
    // Too slow: find the call(s) that do not return, one by one.
    for (let i = from; i < to; i++) {
      const input = inputOf(i);
      let problem: string | undefined;
      const ok = timeBoxed(() => { problem = spec.check(input); }, callTimeoutMs)
        || timeBoxed(() => { problem = spec.check(input); }, callTimeoutMs * 3);
      if (!ok) record(i, input, `did not return within ${callTimeoutMs * 3} ms (endless loop or pathological input)`, true);
      else if (problem !== undefined) record(i, input, problem, false);
    }
  }
  const findings = [...bySignature.entries()].map(([sig, f]): Finding => ({
    decoder: spec.name, seed: options.seed, iteration: f.iteration, problem: f.problem,
    inputHex: f.input.toString('hex'),
    minimalHex: (f.hang ? f.input : shrink(f.input, sig, spec.check)).toString('hex'),
  }));
  return { findings, calls: iterations, ms: Date.now() - started };
}

/** One line per finding, with what it takes to replay it. */
export function formatFinding(f: Finding): string {
  return `${f.decoder}: ${f.problem}\n    minimal input: ${f.minimalHex || '(empty)'}\n    ` +
    `found at QUERYGATE_FUZZ_SEED=0x${f.seed.toString(16)} iteration ${f.iteration}, input: ${f.inputHex.slice(0, 400)}${f.inputHex.length > 400 ? '...' : ''}`;
}

/** Stable text of a decoded value (Buffers as hex) for differential checks. */
export function stableText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return `hex:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    }
    if (typeof v === 'bigint') return `bigint:${v.toString()}`;
    if (v instanceof Set) return [...(v as Set<unknown>)];
    return v;
  });
}

/**
 * Splits a byte string into chunks at random offsets (sometimes one byte at a time), as a network
 * would deliver it.
 */
export function chunks(rng: Rng, bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  const byteByByte = bytes.length <= 4096 && rng.chance(0.1);
  while (pos < bytes.length) {
    const len = byteByByte ? 1 : rng.range(1, Math.max(1, Math.min(bytes.length - pos, rng.pick([3, 7, 16, 64, 512, 16384]))));
    out.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}
