import { TypeOid } from './typeNames';

// Binary <-> text conversion for the types a RowTransform may rewrite in binary-format results.
// Masks work on the text form (core's ValueMask); these functions bridge the two. A type not
// listed here is not convertible: `binaryToText` / `textToBinary` answer undefined and the
// adapter sends NULL for a rewritten value of that type (fail closed: never the unmasked bytes).
//
// Arrays and composites (records) are self-describing in binary: an array carries its element
// type, a composite each field's type. They convert when every element / field does, including
// user-defined array and composite types (OIDs the server assigned), whose kind is read from the
// value's own layout.

const PG_EPOCH_MS = 946684800000; // 2000-01-01T00:00:00Z
const PG_EPOCH_DAYS = 10957; // days from 1970-01-01 to 2000-01-01
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
/** OIDs below this are built in (pg_type.dat); user and extension types get OIDs from here on. */
const FIRST_NORMAL_OID = 16384;
/** PostgreSQL's MAXDIM. */
const MAX_DIMENSIONS = 6;
/** PostgreSQL's MaxTupleAttributeNumber. */
const MAX_FIELDS = 1664;
/** Arrays of records of arrays...: deeper values are not converted (no value is that deep in practice). */
const MAX_NESTING = 16;

const TEXT_LIKE = new Set<number>([TypeOid.text, TypeOid.varchar, TypeOid.bpchar, TypeOid.name, TypeOid.json, TypeOid.unknown, TypeOid.char, TypeOid.xml]);
const CONVERTIBLE = new Set<number>([
  ...TEXT_LIKE, TypeOid.bool, TypeOid.int2, TypeOid.int4, TypeOid.int8, TypeOid.oid, TypeOid.float4, TypeOid.float8,
  TypeOid.jsonb, TypeOid.uuid, TypeOid.bytea, TypeOid.date, TypeOid.timestamp, TypeOid.timestamptz, TypeOid.numeric,
]);
/** Built-in array types whose elements convert, with their element type (pg_type.dat typelem). */
const ARRAY_ELEMENTS = new Map<number, number>([
  [TypeOid._bool, TypeOid.bool], [1001, TypeOid.bytea], [1002, TypeOid.char], [1003, TypeOid.name],
  [TypeOid._int2, TypeOid.int2], [TypeOid._int4, TypeOid.int4], [TypeOid._text, TypeOid.text], [1014, TypeOid.bpchar],
  [TypeOid._varchar, TypeOid.varchar], [TypeOid._int8, TypeOid.int8], [1028, TypeOid.oid], [TypeOid._float4, TypeOid.float4],
  [TypeOid._float8, TypeOid.float8], [TypeOid._json, TypeOid.json], [143, TypeOid.xml], [TypeOid._date, TypeOid.date],
  [TypeOid._timestamp, TypeOid.timestamp], [TypeOid._timestamptz, TypeOid.timestamptz], [TypeOid._numeric, TypeOid.numeric],
  [TypeOid._uuid, TypeOid.uuid], [TypeOid._jsonb, TypeOid.jsonb], [2287, TypeOid.record],
]);

/**
 * True when every value of the type converts: the scalar types above, arrays of them, and
 * records whose fields convert (a record's field types show only in its values: `binaryToText`
 * answers undefined for one that does not). User-defined types are not listed: an array or
 * composite of them converts like a built-in one (see above), which its OID alone cannot tell.
 */
export function isBinaryConvertible(typeOid: number): boolean {
  return CONVERTIBLE.has(typeOid) || ARRAY_ELEMENTS.has(typeOid) || typeOid === TypeOid.record;
}

/** The text form of a binary-format value, as the server prints it; undefined when the type or value is not convertible. */
export function binaryToText(typeOid: number, value: Buffer): string | undefined {
  return valueText(typeOid, value, 0);
}

/**
 * The binary form of a text value, or undefined when the type is not convertible or the text is
 * not a valid value of it.
 *
 * `original` is the binary value `text` replaces (a masked value's clear form). Arrays and
 * records need it for what their text does not say: the element type of a user-defined array,
 * a record's field types (and those of nested records). With it, a text that is not a valid
 * literal of that shape (a mask's `****` for a record) becomes the shape's emptiest value rather
 * than undefined, so a masked non-NULL value stays a valid non-NULL value of its type: an array
 * becomes an empty array of the same element type, a record one with the same fields, all NULL.
 * Nothing of `original` but its types reaches the result.
 */
export function textToBinary(typeOid: number, text: string, original?: Buffer): Buffer | undefined {
  const exact = valueBinary(typeOid, text, original, 0);
  if (exact !== undefined || original === undefined) return exact;
  return emptiest(typeOid, original);
}

function valueText(typeOid: number, value: Buffer, depth: number): string | undefined {
  if (CONVERTIBLE.has(typeOid)) return scalarText(typeOid, value);
  if (depth >= MAX_NESTING) return undefined;
  const shape = shapeOf(typeOid, value);
  if (shape === undefined) return undefined;
  return shape.kind === 'array' ? arrayText(shape, depth) : recordText(shape, depth);
}

function valueBinary(typeOid: number, text: string, template: Buffer | undefined, depth: number): Buffer | undefined {
  if (CONVERTIBLE.has(typeOid)) return scalarBinary(typeOid, text);
  if (depth >= MAX_NESTING) return undefined;
  const element = ARRAY_ELEMENTS.get(typeOid);
  const shape = template === undefined ? undefined : shapeOf(typeOid, template);
  if (element !== undefined) {
    // A built-in array type says its element type: no template needed, except for its elements' own.
    if (shape !== undefined && (shape.kind !== 'array' || shape.element !== element)) return undefined;
    return arrayBinary(element, text, shape?.kind === 'array' ? shape.values : [], depth);
  }
  if (shape === undefined) return undefined;
  return shape.kind === 'array' ? arrayBinary(shape.element, text, shape.values, depth) : recordBinary(shape.fields, text, depth);
}

/** An empty array of `original`'s element type, or a record of `original`'s fields all NULL. */
function emptiest(typeOid: number, original: Buffer): Buffer | undefined {
  const shape = shapeOf(typeOid, original);
  if (shape === undefined) return undefined;
  if (shape.kind === 'array') {
    const out = Buffer.alloc(12);
    out.writeUInt32BE(shape.element, 8);
    return out;
  }
  const out = Buffer.alloc(4 + shape.fields.length * 8);
  out.writeInt32BE(shape.fields.length, 0);
  shape.fields.forEach((f, i) => {
    out.writeUInt32BE(f.type, 4 + i * 8);
    out.writeInt32BE(-1, 8 + i * 8);
  });
  return out;
}

// ---- arrays and records: binary layout ----

interface ArrayShape {
  readonly kind: 'array';
  readonly element: number;
  /** Per dimension, as array_send writes them. Empty for an empty array. */
  readonly dims: readonly { readonly length: number; readonly lower: number }[];
  /** Elements in row-major order; null for SQL NULL. */
  readonly values: readonly (Buffer | null)[];
}

interface RecordShape {
  readonly kind: 'record';
  readonly fields: readonly { readonly type: number; readonly value: Buffer | null }[];
}

/**
 * The layout of an array or record value: by its type for built-in types, by the value's own
 * layout for user-defined ones (the two cannot be confused: an array's second word is its
 * has-nulls flag, 0 or 1, where a record's is its first field's type OID, an OID no type has).
 */
function shapeOf(typeOid: number, value: Buffer): ArrayShape | RecordShape | undefined {
  const element = ARRAY_ELEMENTS.get(typeOid);
  if (element !== undefined) {
    const shape = readArray(value);
    return shape?.element === element ? shape : undefined;
  }
  if (typeOid === TypeOid.record) return readRecord(value);
  if (typeOid < FIRST_NORMAL_OID) return undefined;
  return readArray(value) ?? readRecord(value);
}

/** array_send: int32 ndim, int32 has-nulls, oid element; per dimension int32 length, int32 lower bound; per element int32 length (-1 NULL) + bytes. */
function readArray(value: Buffer): ArrayShape | undefined {
  if (value.length < 12) return undefined;
  const ndim = value.readInt32BE(0);
  const flags = value.readInt32BE(4);
  const element = value.readUInt32BE(8);
  if (ndim < 0 || ndim > MAX_DIMENSIONS || (flags !== 0 && flags !== 1) || element === 0) return undefined;
  let pos = 12;
  if (value.length < pos + ndim * 8) return undefined;
  const dims: { length: number; lower: number }[] = [];
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d++) {
    const length = value.readInt32BE(pos);
    const lower = value.readInt32BE(pos + 4);
    pos += 8;
    // Upper bounds must fit int4 as in array_recv; each element takes at least its 4-byte length.
    if (length <= 0 || lower + length - 1 > INT32_MAX) return undefined;
    count *= length;
    if (count * 4 > value.length - pos) return undefined;
    dims.push({ length, lower });
  }
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    const item = readItem(value, pos);
    if (item === undefined) return undefined;
    values.push(item.value);
    pos = item.next;
  }
  return pos === value.length ? { kind: 'array', element, dims, values } : undefined;
}

/** record_send: int32 field count; per field oid type, int32 length (-1 NULL) + bytes. */
function readRecord(value: Buffer): RecordShape | undefined {
  if (value.length < 4) return undefined;
  const count = value.readInt32BE(0);
  if (count < 0 || count > MAX_FIELDS || count * 8 > value.length - 4) return undefined;
  let pos = 4;
  const fields: { type: number; value: Buffer | null }[] = [];
  for (let i = 0; i < count; i++) {
    if (value.length < pos + 4) return undefined;
    const type = value.readUInt32BE(pos);
    if (type <= 1) return undefined;
    const item = readItem(value, pos + 4);
    if (item === undefined) return undefined;
    fields.push({ type, value: item.value });
    pos = item.next;
  }
  return pos === value.length ? { kind: 'record', fields } : undefined;
}

function readItem(value: Buffer, pos: number): { value: Buffer | null; next: number } | undefined {
  if (value.length < pos + 4) return undefined;
  const length = value.readInt32BE(pos);
  if (length === -1) return { value: null, next: pos + 4 };
  if (length < 0 || value.length < pos + 4 + length) return undefined;
  return { value: value.subarray(pos + 4, pos + 4 + length), next: pos + 4 + length };
}

function writeItems(head: Buffer, items: readonly (Buffer | null)[]): Buffer {
  const parts: Buffer[] = [head];
  for (const item of items) {
    const length = Buffer.allocUnsafe(4);
    length.writeInt32BE(item === null ? -1 : item.length, 0);
    parts.push(length);
    if (item !== null) parts.push(item);
  }
  return Buffer.concat(parts);
}

// ---- arrays and records: text form (array_out / array_in, record_out / record_in) ----

/** array_isspace / scanner_isspace: what PostgreSQL's literal parsers and printers treat as whitespace. */
const PG_SPACE = /[ \t\n\r\v\f]/;
const ARRAY_QUOTE = /[{}",\\ \t\n\r\v\f]/;
const RECORD_QUOTE = /[()",\\ \t\n\r\v\f]/;

function arrayText(shape: ArrayShape, depth: number): string | undefined {
  const items: string[] = [];
  for (const v of shape.values) {
    if (v === null) { items.push('NULL'); continue; }
    const text = valueText(shape.element, v, depth + 1);
    if (text === undefined) return undefined;
    // array_out quotes what array_in would otherwise read differently: empty, NULL, delimiters, spaces.
    items.push(text === '' || /^null$/i.test(text) || ARRAY_QUOTE.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text);
  }
  if (shape.dims.length === 0) return '{}';
  let pos = 0;
  const level = (d: number): string => {
    const parts: string[] = [];
    for (let i = 0; i < shape.dims[d]!.length; i++) parts.push(d === shape.dims.length - 1 ? items[pos++]! : level(d + 1));
    return `{${parts.join(',')}}`;
  };
  const bounds = shape.dims.some((d) => d.lower !== 1)
    ? `${shape.dims.map((d) => `[${d.lower}:${d.lower + d.length - 1}]`).join('')}=`
    : '';
  return bounds + level(0);
}

function recordText(shape: RecordShape, depth: number): string | undefined {
  const items: string[] = [];
  for (const f of shape.fields) {
    if (f.value === null) { items.push(''); continue; }
    const text = valueText(f.type, f.value, depth + 1);
    if (text === undefined) return undefined;
    // record_out doubles quotes and backslashes inside quotes.
    items.push(text === '' || RECORD_QUOTE.test(text) ? `"${text.replace(/["\\]/g, '$&$&')}"` : text);
  }
  return `(${items.join(',')})`;
}

function arrayBinary(element: number, text: string, templates: readonly (Buffer | null)[], depth: number): Buffer | undefined {
  const literal = parseArrayLiteral(text);
  if (literal === undefined) return undefined;
  // An element's nested types come from the clear element at the same place, or any other.
  const fallbackTemplate = templates.find((t) => t !== null) ?? undefined;
  const items: (Buffer | null)[] = [];
  for (let i = 0; i < literal.values.length; i++) {
    const v = literal.values[i]!;
    if (v === null) { items.push(null); continue; }
    const encoded = valueBinary(element, v, templates[i] ?? fallbackTemplate, depth + 1);
    if (encoded === undefined) return undefined;
    items.push(encoded);
  }
  const head = Buffer.alloc(12 + literal.dims.length * 8);
  head.writeInt32BE(literal.dims.length, 0);
  head.writeInt32BE(items.includes(null) ? 1 : 0, 4);
  head.writeUInt32BE(element, 8);
  literal.dims.forEach((d, i) => {
    head.writeInt32BE(d.length, 12 + i * 8);
    head.writeInt32BE(d.lower, 16 + i * 8);
  });
  return writeItems(head, items);
}

function recordBinary(fields: RecordShape['fields'], text: string, depth: number): Buffer | undefined {
  const values = parseRecordLiteral(text, fields.length);
  if (values === undefined) return undefined;
  const head = Buffer.allocUnsafe(4);
  head.writeInt32BE(fields.length, 0);
  const parts: Buffer[] = [head];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const v = values[i]!;
    const encoded = v === null ? null : valueBinary(field.type, v, field.value ?? undefined, depth + 1);
    if (encoded === undefined) return undefined;
    const meta = Buffer.allocUnsafe(8);
    meta.writeUInt32BE(field.type, 0);
    meta.writeInt32BE(encoded === null ? -1 : encoded.length, 4);
    parts.push(meta);
    if (encoded !== null) parts.push(encoded);
  }
  return Buffer.concat(parts);
}

interface ArrayLiteral {
  readonly dims: readonly { readonly length: number; readonly lower: number }[];
  readonly values: readonly (string | null)[];
}

/** A nested list as array_in reads it: strings (NULL as null) or sub-lists. */
type Level = (string | null | Level)[];

/**
 * array_in's syntax: optional `[lo:hi]...=` bounds, then `{...}` nested to the dimensions, with
 * elements quoted ("..." with backslash escapes) or bare (trimmed; NULL in any case is SQL NULL).
 * Dimensions must be rectangular. Undefined for anything array_in would reject.
 */
function parseArrayLiteral(text: string): ArrayLiteral | undefined {
  let pos = 0;
  const skipSpace = (): void => { while (pos < text.length && PG_SPACE.test(text[pos]!)) pos++; };
  skipSpace();
  let bounds: { length: number; lower: number }[] | undefined;
  if (text[pos] === '[') {
    bounds = [];
    const dim = /\[\s*([+-]?\d+)\s*(?::\s*([+-]?\d+)\s*)?\]/y;
    while (text[pos] === '[') {
      dim.lastIndex = pos;
      const m = dim.exec(text);
      if (m === null) return undefined;
      const lower = m[2] === undefined ? 1 : Number(m[1]);
      const upper = Number(m[2] ?? m[1]);
      if (lower < INT32_MIN || upper > INT32_MAX || upper < lower - 1) return undefined;
      bounds.push({ lower, length: upper - lower + 1 });
      pos = dim.lastIndex;
    }
    skipSpace();
    if (text[pos] !== '=') return undefined;
    pos++;
    skipSpace();
  }
  const readLevel = (nesting: number): Level | undefined => {
    if (text[pos] !== '{' || nesting > MAX_DIMENSIONS) return undefined;
    pos++;
    const items: Level = [];
    skipSpace();
    if (text[pos] === '}') { pos++; return items; }
    for (;;) {
      skipSpace();
      if (text[pos] === '{') {
        const sub = readLevel(nesting + 1);
        if (sub === undefined) return undefined;
        items.push(sub);
      } else {
        const element = readElement();
        if (element === undefined) return undefined;
        items.push(element);
      }
      skipSpace();
      const c = text[pos++];
      if (c === '}') return items;
      if (c !== ',') return undefined;
    }
  };
  const readElement = (): string | null | undefined => {
    let out = '';
    let quoted = false;
    let bare = false;
    // Bare text up to the last non-space character, so trailing unescaped spaces are dropped.
    let keep = 0;
    // array_in reads a bare NULL as SQL NULL only when nothing in it was quoted or escaped.
    let escaped = false;
    while (pos < text.length) {
      const c = text[pos]!;
      if (c === '"') {
        if (quoted || bare) return undefined;
        quoted = true;
        pos++;
        for (;;) {
          if (pos >= text.length) return undefined;
          const q = text[pos++]!;
          if (q === '"') break;
          if (q === '\\') {
            if (pos >= text.length) return undefined;
            out += text[pos++]!;
          } else out += q;
        }
        keep = out.length;
        continue;
      }
      if (c === ',' || c === '}' || c === '{') break;
      if (quoted) {
        if (!PG_SPACE.test(c)) return undefined;
        pos++;
        continue;
      }
      bare = true;
      pos++;
      if (c === '\\') {
        if (pos >= text.length) return undefined;
        out += text[pos++]!;
        keep = out.length;
        escaped = true;
      } else {
        out += c;
        if (!PG_SPACE.test(c)) keep = out.length;
      }
    }
    if (quoted) return out;
    if (!bare) return undefined;
    out = out.slice(0, keep);
    if (out === '') return undefined;
    return !escaped && /^null$/i.test(out) ? null : out;
  };
  const top = readLevel(1);
  if (top === undefined) return undefined;
  skipSpace();
  if (pos !== text.length) return undefined;
  const dims: { length: number; lower: number }[] = [];
  const values: (string | null)[] = [];
  if (!flatten(top, 0, dims, values)) return undefined;
  if (bounds !== undefined) {
    if (values.length === 0) return bounds.every((b) => b.length === 0) || bounds.length === 0 ? { dims: [], values } : undefined;
    if (bounds.length !== dims.length || bounds.some((b, i) => b.length !== dims[i]!.length)) return undefined;
    return { dims: bounds, values };
  }
  return { dims, values };
}

/** Rectangular check and row-major flattening; `dims` is filled from the first path down. */
function flatten(level: Level, depth: number, dims: { length: number; lower: number }[], values: (string | null)[]): boolean {
  if (level.length === 0) return depth === 0;
  if (dims.length === depth) dims.push({ length: level.length, lower: 1 });
  else if (dims[depth]!.length !== level.length) return false;
  const nested = Array.isArray(level[0]);
  for (const item of level) {
    if (Array.isArray(item) !== nested) return false;
    if (Array.isArray(item)) {
      if (!flatten(item, depth + 1, dims, values)) return false;
    } else {
      if (dims.length !== depth + 1) return false;
      values.push(item);
    }
  }
  return true;
}

/**
 * record_in's syntax for `count` fields: `(a,b,"c d",)`; an empty field is NULL, `""` is the
 * empty string, quotes may cover part of a field, `""` inside quotes and `\x` anywhere escape.
 * Spaces are kept (record_in does not trim). Undefined for anything record_in would reject.
 */
function parseRecordLiteral(text: string, count: number): (string | null)[] | undefined {
  let pos = 0;
  while (pos < text.length && PG_SPACE.test(text[pos]!)) pos++;
  if (text[pos++] !== '(') return undefined;
  const values: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && text[pos++] !== ',') return undefined;
    if (text[pos] === ',' || text[pos] === ')') { values.push(null); continue; }
    let out = '';
    let quoted = false;
    while (pos < text.length) {
      const c = text[pos]!;
      if (!quoted && (c === ',' || c === ')')) break;
      pos++;
      if (c === '\\') {
        if (pos >= text.length) return undefined;
        out += text[pos++]!;
      } else if (c === '"') {
        if (!quoted) quoted = true;
        else if (text[pos] === '"') { out += '"'; pos++; } else quoted = false;
      } else out += c;
    }
    if (quoted || pos >= text.length) return undefined;
    values.push(out);
  }
  if (text[pos++] !== ')') return undefined;
  while (pos < text.length && PG_SPACE.test(text[pos]!)) pos++;
  return pos === text.length ? values : undefined;
}

// ---- scalars ----

function scalarText(typeOid: number, value: Buffer): string | undefined {
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

function scalarBinary(typeOid: number, text: string): Buffer | undefined {
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
