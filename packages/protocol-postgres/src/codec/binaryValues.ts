import { TypeOid } from './typeNames';

// Binary <-> text conversion for the types a RowTransform may rewrite in binary-format results.
// Masks work on the text form (core's ValueMask); these functions bridge the two. A type not
// listed here is not convertible: `binaryToText` / `textToBinary` answer undefined and the
// adapter sends NULL for a rewritten value of that type (fail closed: never the unmasked bytes).

const PG_EPOCH_MS = 946684800000; // 2000-01-01T00:00:00Z
const PG_EPOCH_DAYS = 10957; // days from 1970-01-01 to 2000-01-01
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

const TEXT_LIKE = new Set<number>([TypeOid.text, TypeOid.varchar, TypeOid.bpchar, TypeOid.name, TypeOid.json, TypeOid.unknown, TypeOid.char, TypeOid.xml]);
const CONVERTIBLE = new Set<number>([
  ...TEXT_LIKE, TypeOid.bool, TypeOid.int2, TypeOid.int4, TypeOid.int8, TypeOid.oid, TypeOid.float4, TypeOid.float8,
  TypeOid.jsonb, TypeOid.uuid, TypeOid.bytea, TypeOid.date, TypeOid.timestamp, TypeOid.timestamptz, TypeOid.numeric,
]);

export function isBinaryConvertible(typeOid: number): boolean {
  return CONVERTIBLE.has(typeOid);
}

/** The text form of a binary-format value, or undefined when the type or value is not convertible. */
export function binaryToText(typeOid: number, value: Buffer): string | undefined {
  if (TEXT_LIKE.has(typeOid)) return value.toString('utf8');
  switch (typeOid) {
    case TypeOid.bool: return value.length === 1 ? (value[0] ? 't' : 'f') : undefined;
    case TypeOid.int2: return value.length === 2 ? String(value.readInt16BE(0)) : undefined;
    case TypeOid.int4: return value.length === 4 ? String(value.readInt32BE(0)) : undefined;
    case TypeOid.oid: return value.length === 4 ? String(value.readUInt32BE(0)) : undefined;
    case TypeOid.int8: return value.length === 8 ? value.readBigInt64BE(0).toString() : undefined;
    case TypeOid.float4: return value.length === 4 ? float4Text(value.readFloatBE(0)) : undefined;
    case TypeOid.float8: return value.length === 8 ? floatText(value.readDoubleBE(0)) : undefined;
    case TypeOid.jsonb: return value.length >= 1 && value[0] === 1 ? value.toString('utf8', 1) : undefined;
    case TypeOid.uuid: return value.length === 16 ? uuidText(value) : undefined;
    case TypeOid.bytea: return `\\x${value.toString('hex')}`;
    case TypeOid.date: return value.length === 4 ? dateText(value.readInt32BE(0)) : undefined;
    case TypeOid.timestamp: return value.length === 8 ? timestampText(value.readBigInt64BE(0), false) : undefined;
    case TypeOid.timestamptz: return value.length === 8 ? timestampText(value.readBigInt64BE(0), true) : undefined;
    case TypeOid.numeric: return numericText(value);
    default: return undefined;
  }
}

/** The binary form of a text value, or undefined when the type is not convertible or the text is not a valid value. */
export function textToBinary(typeOid: number, text: string): Buffer | undefined {
  if (TEXT_LIKE.has(typeOid)) return Buffer.from(text, 'utf8');
  switch (typeOid) {
    case TypeOid.bool: {
      const t = text.trim().toLowerCase();
      if (['t', 'true', 'yes', 'on', '1'].includes(t)) return Buffer.from([1]);
      if (['f', 'false', 'no', 'off', '0'].includes(t)) return Buffer.from([0]);
      return undefined;
    }
    case TypeOid.int2: return intBuffer(text, 2, -32768, 32767);
    case TypeOid.int4: return intBuffer(text, 4, -2147483648, 2147483647);
    case TypeOid.oid: return intBuffer(text, 4, 0, 4294967295);
    case TypeOid.int8: {
      if (!/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
      const n = BigInt(text.trim());
      if (n > INT64_MAX || n < INT64_MIN) return undefined;
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(n, 0);
      return b;
    }
    case TypeOid.float4:
    case TypeOid.float8: {
      const n = parseFloatText(text);
      if (n === undefined) return undefined;
      const b = Buffer.allocUnsafe(typeOid === TypeOid.float4 ? 4 : 8);
      if (typeOid === TypeOid.float4) b.writeFloatBE(n, 0); else b.writeDoubleBE(n, 0);
      return b;
    }
    case TypeOid.jsonb: return Buffer.concat([Buffer.from([1]), Buffer.from(text, 'utf8')]);
    case TypeOid.uuid: {
      const hex = text.replace(/[{}-]/g, '');
      return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
    }
    case TypeOid.bytea: {
      if (text.startsWith('\\x')) {
        const hex = text.slice(2);
        return /^([0-9a-fA-F]{2})*$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
      }
      return Buffer.from(text, 'utf8');
    }
    case TypeOid.date: {
      const days = parseDate(text);
      if (days === undefined) return undefined;
      const b = Buffer.allocUnsafe(4);
      b.writeInt32BE(days, 0);
      return b;
    }
    case TypeOid.timestamp:
    case TypeOid.timestamptz: {
      const micros = parseTimestamp(text, typeOid === TypeOid.timestamptz);
      if (micros === undefined) return undefined;
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64BE(micros, 0);
      return b;
    }
    case TypeOid.numeric: return numericBinary(text);
    default: return undefined;
  }
}

function intBuffer(text: string, size: 2 | 4, min: number, max: number): Buffer | undefined {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  if (n < min || n > max) return undefined;
  const b = Buffer.allocUnsafe(size);
  if (size === 2) b.writeInt16BE(n, 0);
  else if (min === 0) b.writeUInt32BE(n, 0);
  else b.writeInt32BE(n, 0);
  return b;
}

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

/** Shortest decimal that reads back as the same float4, as PostgreSQL prints it. */
function float4Text(n: number): string {
  if (!Number.isFinite(n)) return floatText(n);
  for (let p = 1; p <= 9; p++) {
    const s = n.toPrecision(p);
    if (Math.fround(Number(s)) === n) return String(Number(s));
  }
  return String(n);
}

function parseFloatText(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?infinity$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function ymd(d: Date): string | undefined {
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999 || Number.isNaN(y)) return undefined; // BC and far-future dates: not converted
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

function dateText(days: number): string | undefined {
  if (days === 0x7fffffff) return 'infinity';
  if (days === -0x80000000) return '-infinity';
  return ymd(new Date((days + PG_EPOCH_DAYS) * 86400000));
}

function timestampText(micros: bigint, withZone: boolean): string | undefined {
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_MIN) return '-infinity';
  let ms = micros / 1000n;
  let frac = micros % 1000000n;
  if (frac < 0n) frac += 1000000n;
  if (micros < 0n && micros % 1000n !== 0n) ms -= 1n;
  const d = new Date(PG_EPOCH_MS + Number(ms));
  const date = ymd(d);
  if (date === undefined) return undefined;
  let s = `${date} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (frac !== 0n) s += `.${frac.toString().padStart(6, '0').replace(/0+$/, '')}`;
  return withZone ? `${s}+00` : s;
}

function parseDate(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'infinity') return 0x7fffffff;
  if (t === '-infinity') return -0x80000000;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(ms) ? undefined : Math.round(ms / 86400000) - PG_EPOCH_DAYS;
}

function parseTimestamp(text: string, withZone: boolean): bigint | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'infinity') return INT64_MAX;
  if (t === '-infinity') return INT64_MIN;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ t](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:(z)|([+-])(\d{2})(?::?(\d{2}))?)?$/.exec(t);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return undefined;
  let micros = BigInt(ms - PG_EPOCH_MS) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0') || '0');
  if (withZone && m[9] !== undefined) {
    const offsetMin = Number(m[10]) * 60 + Number(m[11] ?? '0');
    micros -= BigInt((m[9] === '-' ? -offsetMin : offsetMin) * 60_000_000);
  }
  return micros;
}

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

function numericText(b: Buffer): string | undefined {
  if (b.length < 8) return undefined;
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (b.length !== 8 + ndigits * 2 || ndigits < 0 || dscale < 0) return undefined;
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  const digit = (i: number): number => (i >= 0 && i < ndigits ? b.readInt16BE(8 + i * 2) : 0);
  let s = sign === NUMERIC_NEG ? '-' : '';
  if (weight < 0) s += '0';
  else for (let i = 0; i <= weight; i++) s += i === 0 ? String(digit(i)) : pad(digit(i), 4);
  if (dscale > 0) {
    let frac = '';
    for (let i = weight + 1; frac.length < dscale; i++) frac += pad(digit(i), 4);
    s += `.${frac.slice(0, dscale)}`;
  }
  return s;
}

function numericBinary(text: string): Buffer | undefined {
  const t = text.trim();
  const head = (ndigits: number, weight: number, sign: number, dscale: number): Buffer => {
    const out = Buffer.alloc(8 + ndigits * 2);
    out.writeInt16BE(ndigits, 0);
    out.writeInt16BE(weight, 2);
    out.writeUInt16BE(sign, 4);
    out.writeInt16BE(dscale, 6);
    return out;
  };
  if (/^nan$/i.test(t)) return head(0, 0, NUMERIC_NAN, 0);
  if (/^\+?infinity$/i.test(t)) return head(0, 0, NUMERIC_PINF, 0);
  if (/^-infinity$/i.test(t)) return head(0, 0, NUMERIC_NINF, 0);
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const negative = m[1] === '-';
  const intPart = (m[2] ?? '').replace(/^0+/, '');
  const fracPart = m[3] ?? '';
  const dscale = fracPart.length;
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  while (groups.length > 0 && groups[0] === 0) { groups.shift(); weight--; }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) return head(0, 0, NUMERIC_POS, dscale);
  const out = head(groups.length, weight, negative ? NUMERIC_NEG : NUMERIC_POS, dscale);
  groups.forEach((g, i) => out.writeInt16BE(g, 8 + i * 2));
  return out;
}
