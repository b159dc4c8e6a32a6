import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Protocol, ValueMask } from '@querygate/core';
import { typeFamily, type TypeFamily } from './TypeFamily';

/** How a sensitive value is replaced. The parsed form of a rule's `strategy` option. */
export type Strategy =
  /** Fixed text for text columns; with `typed`, a neutral value of the column's type for others. */
  | { readonly kind: 'redact'; readonly text: string; readonly typed: boolean }
  /** Keeps the first `first` and last `last` characters and replaces each other one with `char`. */
  | { readonly kind: 'partial'; readonly first: number; readonly last: number; readonly char: string }
  /** Keeps `keep` characters of the local part and the whole domain: `a***@example.com`. */
  | { readonly kind: 'email'; readonly keep: number }
  /** Keyed HMAC-SHA256, hex truncated to `length` (a number for integer columns, a UUID for uuid). */
  | { readonly kind: 'hash'; readonly length: number }
  /** Keyed, deterministic; same length and character classes (digit, lower, upper); punctuation kept. */
  | { readonly kind: 'pseudonym' }
  /** Turns the value into SQL NULL: the one strategy that does. */
  | { readonly kind: 'null' };

export type StrategyKind = Strategy['kind'];
export const STRATEGY_KINDS: readonly StrategyKind[] = ['redact', 'partial', 'email', 'hash', 'pseudonym', 'null'];

export const DEFAULT_REDACTION = '****';

/** What a mask is compiled for: the result column's type and the session's protocol. */
export interface MaskTarget {
  /** Database type name as the result column reports it. */
  readonly type: string;
  readonly protocol: Protocol;
}

/** The HMAC key for `hash` and `pseudonym`; derived once, shared by every mask. */
export class MaskingKey {
  readonly #key: KeyObject;
  constructor(secret: string) {
    if (secret.length === 0) throw new Error('the masking key is empty');
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }
  /** HMAC-SHA256 of `value`; `block` > 0 derives further blocks for long pseudonyms. */
  mac(value: string, block = 0): Buffer {
    const h = createHmac('sha256', this.#key);
    if (block > 0) h.update(`\u0000${block}\u0000`);
    return h.update(value, 'utf8').digest();
  }
}

/**
 * Builds the mask for one result column. The returned closure holds everything it needs, so a
 * call allocates only its output (and, for hash and pseudonym, the HMAC).
 */
export function compileMask(strategy: Strategy, target: MaskTarget, key: MaskingKey | undefined): ValueMask {
  const family = typeFamily(target.type);
  if (strategy.kind === 'null') return nullMask;
  const fallback = typedRedaction(family, target, DEFAULT_REDACTION);
  switch (strategy.kind) {
    case 'redact': {
      const text = strategy.typed ? typedRedaction(family, target, strategy.text) : strategy.text;
      return () => text;
    }
    case 'partial':
    case 'email': {
      if (!isTextual(family)) return () => fallback;
      const text = textMask(strategy, key);
      return family === 'json' ? jsonString(text) : text;
    }
    case 'hash': {
      const k = requireKey(key, 'hash');
      if (family === 'integer') return integerHash(k, integerDigitsLimit(target.type));
      if (family === 'decimal' || family === 'float' || family === 'money') return integerHash(k, 999_999n);
      if (family === 'uuid') return (value) => uuidOf(k.mac(value));
      if (!isTextual(family)) return () => fallback;
      const text = textMask(strategy, k);
      return family === 'json' ? jsonString(text) : text;
    }
    case 'pseudonym': {
      const k = requireKey(key, 'pseudonym');
      if (family === 'integer') {
        const limit = integerDigitsLimit(target.type);
        const maxDigits = limit.toString().length;
        const hash = integerHash(k, limit);
        return (value) => (/^-?\d+$/.test(value) && value.replace('-', '').length < maxDigits ? pseudonymNumber(k, value) : hash(value));
      }
      if (family === 'decimal') {
        return (value) => (/^-?\d+(\.\d+)?$/.test(value) ? pseudonymNumber(k, value) : fallback);
      }
      if (family === 'float' || family === 'money') return integerHash(k, 999_999n);
      if (family === 'uuid') return (value) => pseudonymHex(k, value);
      if (!isTextual(family)) return () => fallback;
      const text = textMask(strategy, k);
      return family === 'json' ? jsonString(text) : text;
    }
  }
}

/**
 * The strategy applied to free text, ignoring column types: what detector rules apply to each
 * match inside a value. `null` is not allowed here (a substring cannot be NULL).
 */
export function textMask(strategy: Strategy, key: MaskingKey | undefined): (value: string) => string {
  switch (strategy.kind) {
    case 'redact': return () => strategy.text;
    case 'partial': return (value) => partial(value, strategy.first, strategy.last, strategy.char);
    case 'email': return (value) => emailMask(value, strategy.keep);
    case 'hash': {
      const k = requireKey(key, 'hash');
      const length = strategy.length;
      return (value) => k.mac(value).toString('hex', 0, Math.ceil(length / 2)).slice(0, length);
    }
    case 'pseudonym': {
      const k = requireKey(key, 'pseudonym');
      return (value) => pseudonymText(k, value);
    }
    case 'null': return () => DEFAULT_REDACTION;
  }
}

const nullMask: ValueMask = () => null;

function isTextual(family: TypeFamily): boolean {
  return family === 'text' || family === 'json' || family === 'other';
}

function requireKey(key: MaskingKey | undefined, kind: string): MaskingKey {
  // Options validation rejects keyless hash/pseudonym rules; this guards direct library use.
  if (!key) throw new Error(`the ${kind} strategy needs a key`);
  return key;
}

function jsonString(mask: (value: string) => string): ValueMask {
  return (value) => JSON.stringify(mask(value));
}

/**
 * A value the client's driver parses as the column's type, standing for "masked". Text columns
 * get `text`; json gets it as a JSON string; types without a neutral value get `text` too.
 */
export function typedRedaction(family: TypeFamily, target: MaskTarget, text: string): string {
  switch (family) {
    case 'text': case 'other': return text;
    case 'json': return JSON.stringify(text);
    case 'integer': case 'decimal': case 'float': case 'bit': return '0';
    case 'money': return '0.00';
    case 'boolean': return target.protocol === 'postgres' ? 'f' : '0';
    case 'date': return '1970-01-01';
    case 'time': case 'interval': return '00:00:00';
    case 'timetz': return '00:00:00+00';
    case 'timestamp': return '1970-01-01 00:00:00';
    case 'timestamptz': return target.protocol === 'postgres' ? '1970-01-01 00:00:00+00' : '1970-01-01 00:00:00';
    case 'year': return '1970';
    case 'uuid': return '00000000-0000-0000-0000-000000000000';
    case 'inet': return '0.0.0.0';
    case 'cidr': return '0.0.0.0/0';
    case 'macaddr': return '00:00:00:00:00:00';
    case 'macaddr8': return '00:00:00:00:00:00:00:00';
    case 'bytes': return target.protocol === 'postgres' ? '\\x' : text;
    case 'array': return '{}';
  }
}

/** Largest value a hashed integer may take so the column's type still holds it. */
export function integerDigitsLimit(type: string): bigint {
  const t = type.toLowerCase();
  if (t === 'tinyint' || t === 'tiny' || t.startsWith('tinyint')) return 127n;
  if (t === 'int2' || t === 'smallint' || t === 'short' || t.startsWith('smallint')) return 32_767n;
  if (t === 'mediumint' || t === 'int24' || t.startsWith('mediumint')) return 8_388_607n;
  if (t === 'int8' || t === 'bigint' || t === 'longlong' || t === 'bigserial' || t.startsWith('bigint')) return 9_223_372_036_854_775_807n;
  return 2_147_483_647n;
}

function integerHash(key: MaskingKey, limit: bigint): ValueMask {
  const modulus = limit + 1n;
  return (value) => (key.mac(value).readBigUInt64BE(0) % modulus).toString();
}

function uuidOf(mac: Buffer): string {
  const h = mac.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function partial(value: string, first: number, last: number, char: string): string {
  const chars = Array.from(value);
  const n = chars.length;
  // A value too short to hide anything between the kept ends is hidden whole.
  if (n <= first + last) return char.repeat(n);
  return chars.slice(0, first).join('') + char.repeat(n - first - last) + (last > 0 ? chars.slice(n - last).join('') : '');
}

export function emailMask(value: string, keep: number): string {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return DEFAULT_REDACTION;
  const local = value.slice(0, at);
  let kept = '';
  let n = 0;
  for (const ch of local) {
    if (n === keep) break;
    kept += ch;
    n++;
  }
  // Never the whole local part (a one-letter name would be shown in clear).
  if (kept.length === local.length) kept = Array.from(kept).slice(0, -1).join('');
  // A fixed-width middle hides the local part's length.
  return `${kept}***${value.slice(at)}`;
}

/** Keyed stream of bytes for a value: as many HMAC blocks as the value needs. */
function keystream(key: MaskingKey, value: string, need: number): Buffer {
  const first = key.mac(value);
  if (need <= first.length) return first;
  const blocks = [first];
  for (let b = 1; b * first.length < need; b++) blocks.push(key.mac(value, b));
  return Buffer.concat(blocks);
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const HEX_LOWER = '0123456789abcdef';

export function pseudonymText(key: MaskingKey, value: string): string {
  const stream = keystream(key, value, value.length);
  let out = '';
  let i = 0;
  for (const ch of value) {
    const b = stream[i++ % stream.length]!;
    const c = ch.codePointAt(0)!;
    if (c >= 48 && c <= 57) out += String.fromCharCode(48 + (b % 10));
    else if (c >= 97 && c <= 122) out += LOWER[b % 26];
    else if (c >= 65 && c <= 90) out += UPPER[b % 26];
    else if (c > 127 && /\p{Lu}/u.test(ch)) out += UPPER[b % 26];
    else if (c > 127 && /\p{L}/u.test(ch)) out += LOWER[b % 26];
    else if (c > 127 && /\p{Nd}/u.test(ch)) out += String.fromCharCode(48 + (b % 10));
    else out += ch;
  }
  return out;
}

/** Digits to digits, keeping sign, decimal point and a non-zero leading digit (so the length holds). */
function pseudonymNumber(key: MaskingKey, value: string): string {
  const stream = keystream(key, value, value.length);
  let out = '';
  let leading = true;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch < '0' || ch > '9') { out += ch; if (ch === '.') leading = false; continue; }
    const b = stream[i % stream.length]!;
    const integerPartLongerThanOne = leading && /^\d\d/.test(value.slice(i));
    out += integerPartLongerThanOne ? String.fromCharCode(49 + (b % 9)) : String.fromCharCode(48 + (b % 10));
    leading = false;
  }
  return out;
}

function pseudonymHex(key: MaskingKey, value: string): string {
  const stream = keystream(key, value.toLowerCase(), value.length);
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    out += /[0-9a-fA-F]/.test(ch) ? HEX_LOWER[stream[i % stream.length]! % 16] : ch;
  }
  return out;
}
