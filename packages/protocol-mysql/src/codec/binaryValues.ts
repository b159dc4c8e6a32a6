// Binary protocol values (COM_STMT_EXECUTE parameters and binary result rows) to text and back.
// Text is the form masks and hooks see; it follows what the text protocol would have sent.
import { BINARY_CHARSET, ColumnFlag, ColumnType } from './constants';
import { MalformedPacket, PayloadReader } from './PayloadReader';
import type { PayloadWriter } from './PayloadWriter';

/** What value conversion needs to know about a column or parameter. */
export interface ValueType {
  readonly type: number;
  readonly unsigned: boolean;
  /** Fractional digits (column `decimals`), for temporal and float text forms. */
  readonly decimals?: number;
  /** Character set id; 63 (binary) means the value is bytes. */
  readonly charset?: number;
}

export function valueTypeOf(column: { readonly type: number; readonly flags: number; readonly decimals: number; readonly charset: number }): ValueType {
  return { type: column.type, unsigned: (column.flags & ColumnFlag.UNSIGNED) !== 0, decimals: column.decimals, charset: column.charset };
}

function isLenencType(type: number): boolean {
  switch (type) {
    case ColumnType.TINY: case ColumnType.SHORT: case ColumnType.YEAR: case ColumnType.INT24: case ColumnType.LONG:
    case ColumnType.LONGLONG: case ColumnType.FLOAT: case ColumnType.DOUBLE: case ColumnType.DATE:
    case ColumnType.DATETIME: case ColumnType.TIMESTAMP: case ColumnType.NEWDATE: case ColumnType.TIME:
    case ColumnType.NULL:
      return false;
    default:
      return true;
  }
}

/** Encoding used for string values: bytes for binary-collation columns survive latin1 both ways. */
export function stringEncoding(t: ValueType): BufferEncoding {
  return t.charset === BINARY_CHARSET ? 'latin1' : 'utf8';
}

/**
 * Offset just past the binary value that starts at `offset`. Throws MalformedPacket when the value
 * runs past the end of `buf`: a caller copying `subarray(offset, end)` would otherwise get a
 * silently shorter value (subarray clamps) and forward a truncated row as if it were whole.
 */
export function skipBinaryValue(buf: Buffer, offset: number, type: number): number {
  let end: number;
  switch (type) {
    case ColumnType.NULL: end = offset; break;
    case ColumnType.TINY: end = offset + 1; break;
    case ColumnType.SHORT: case ColumnType.YEAR: end = offset + 2; break;
    case ColumnType.INT24: case ColumnType.LONG: case ColumnType.FLOAT: end = offset + 4; break;
    case ColumnType.LONGLONG: case ColumnType.DOUBLE: end = offset + 8; break;
    case ColumnType.DATE: case ColumnType.DATETIME: case ColumnType.TIMESTAMP: case ColumnType.NEWDATE:
    case ColumnType.TIME: {
      if (offset >= buf.length) throw new MalformedPacket('truncated temporal value');
      end = offset + 1 + buf[offset]!;
      break;
    }
    default: {
      const r = new PayloadReader(buf, offset);
      const n = r.lenenc();
      end = r.offset + n;
    }
  }
  if (end > buf.length) throw new MalformedPacket(`truncated binary value of type ${type}`);
  return end;
}

/**
 * Whether the column's values are bytes rather than text: binary-collation strings and blobs, BIT
 * and GEOMETRY. Shown to observers as a `0x` hex literal, since no character set decodes them.
 */
export function isByteValued(t: ValueType): boolean {
  switch (t.type) {
    case ColumnType.BIT: case ColumnType.GEOMETRY:
      return true;
    case ColumnType.VARCHAR: case ColumnType.VAR_STRING: case ColumnType.STRING: case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB: case ColumnType.LONG_BLOB: case ColumnType.BLOB:
      return t.charset === BINARY_CHARSET;
    default:
      return false;
  }
}

/** A text-protocol value (the bytes of one lenenc string) in the text form observers see. */
export function textValueText(bytes: Buffer, t: ValueType): string {
  return isByteValued(t) ? `0x${bytes.toString('hex')}` : bytes.toString(stringEncoding(t));
}

/** One binary-protocol value in the text form observers see (readBinaryValue, bytes as hex). */
export function observedBinaryValue(r: PayloadReader, t: ValueType): string {
  return isByteValued(t) ? `0x${r.lenencBytes().toString('hex')}` : readBinaryValue(r, t);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function fraction(micros: number, decimals: number | undefined): string {
  const digits = decimals !== undefined && decimals > 0 && decimals <= 6 ? decimals : micros > 0 ? 6 : 0;
  if (digits === 0) return '';
  return `.${pad(micros, 6).slice(0, digits)}`;
}

function floatText(v: number, single: boolean): string {
  if (!Number.isFinite(v)) return String(v);
  // A float32 printed with all its double digits would show noise the server never sent.
  return single ? String(Number(v.toPrecision(6))) : String(v);
}

/** Reads one binary value as text. */
export function readBinaryValue(r: PayloadReader, t: ValueType): string {
  switch (t.type) {
    case ColumnType.TINY: { const v = r.u8(); return String(t.unsigned ? v : (v << 24) >> 24); }
    case ColumnType.SHORT: case ColumnType.YEAR: { const v = r.u16(); return String(t.unsigned || t.type === ColumnType.YEAR ? v : (v << 16) >> 16); }
    case ColumnType.INT24: case ColumnType.LONG: { const v = r.u32(); return String(t.unsigned ? v : v | 0); }
    case ColumnType.LONGLONG: { const v = r.u64(); return String(t.unsigned ? v : BigInt.asIntN(64, v)); }
    case ColumnType.FLOAT: { const b = r.bytes(4); return floatText(b.readFloatLE(0), true); }
    case ColumnType.DOUBLE: { const b = r.bytes(8); return floatText(b.readDoubleLE(0), false); }
    case ColumnType.DATE: case ColumnType.NEWDATE: case ColumnType.DATETIME: case ColumnType.TIMESTAMP: {
      const len = r.u8();
      const b = r.bytes(len);
      const year = len >= 4 ? b.readUInt16LE(0) : 0;
      const month = len >= 4 ? b[2]! : 0;
      const day = len >= 4 ? b[3]! : 0;
      const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
      if (t.type === ColumnType.DATE || t.type === ColumnType.NEWDATE) return date;
      const hour = len >= 7 ? b[4]! : 0;
      const minute = len >= 7 ? b[5]! : 0;
      const second = len >= 7 ? b[6]! : 0;
      const micros = len >= 11 ? b.readUInt32LE(7) : 0;
      return `${date} ${pad(hour)}:${pad(minute)}:${pad(second)}${fraction(micros, t.decimals)}`;
    }
    case ColumnType.TIME: {
      const len = r.u8();
      const b = r.bytes(len);
      if (len === 0) return `00:00:00${fraction(0, t.decimals)}`;
      if (len < 8) throw new MalformedPacket('bad TIME length');
      const negative = b[0] === 1;
      const hours = b.readUInt32LE(1) * 24 + b[5]!;
      const micros = len >= 12 ? b.readUInt32LE(8) : 0;
      return `${negative ? '-' : ''}${pad(hours)}:${pad(b[6]!)}:${pad(b[7]!)}${fraction(micros, t.decimals)}`;
    }
    case ColumnType.NULL: return '';
    default:
      return r.lenencBytes().toString(stringEncoding(t));
  }
}

const DATE_RE = /^(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?)?$/;
const TIME_RE = /^(-)?(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/;

function micro(frac: string | undefined): number {
  return frac === undefined ? 0 : Number(frac.padEnd(6, '0'));
}

/**
 * Writes `text` as a binary value of type `t`. False when the text cannot be represented in that
 * type (a mask that turns a number into stars); the caller then sends NULL rather than leak.
 */
export function writeBinaryValue(w: PayloadWriter, t: ValueType, text: string): boolean {
  if (isLenencType(t.type)) {
    w.lenencBytes(Buffer.from(text, stringEncoding(t)));
    return true;
  }
  switch (t.type) {
    case ColumnType.TINY: case ColumnType.SHORT: case ColumnType.YEAR: case ColumnType.INT24: case ColumnType.LONG: case ColumnType.LONGLONG: {
      if (!/^-?\d+$/.test(text.trim())) return false;
      const v = BigInt(text.trim());
      const bytes = t.type === ColumnType.TINY ? 1 : t.type === ColumnType.SHORT || t.type === ColumnType.YEAR ? 2 : t.type === ColumnType.LONGLONG ? 8 : 4;
      const bits = BigInt(bytes * 8);
      const min = t.unsigned ? 0n : -(1n << (bits - 1n));
      const max = t.unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
      if (v < min || v > max) return false;
      const u = BigInt.asUintN(bytes * 8, v);
      if (bytes === 1) w.u8(Number(u));
      else if (bytes === 2) w.u16(Number(u));
      else if (bytes === 4) w.u32(Number(u));
      else w.u64(u);
      return true;
    }
    case ColumnType.FLOAT: case ColumnType.DOUBLE: {
      const v = Number(text);
      if (text.trim() === '' || Number.isNaN(v)) return false;
      const b = Buffer.allocUnsafe(t.type === ColumnType.FLOAT ? 4 : 8);
      if (t.type === ColumnType.FLOAT) b.writeFloatLE(v, 0); else b.writeDoubleLE(v, 0);
      w.bytes(b);
      return true;
    }
    case ColumnType.DATE: case ColumnType.NEWDATE: case ColumnType.DATETIME: case ColumnType.TIMESTAMP: {
      const m = DATE_RE.exec(text.trim());
      if (!m) return false;
      const us = micro(m[7]);
      const hasTime = m[4] !== undefined && t.type !== ColumnType.DATE && t.type !== ColumnType.NEWDATE;
      const len = !hasTime ? 4 : us > 0 ? 11 : 7;
      w.u8(len).u16(Number(m[1])).u8(Number(m[2])).u8(Number(m[3]));
      if (len >= 7) w.u8(Number(m[4])).u8(Number(m[5])).u8(Number(m[6]));
      if (len === 11) w.u32(us);
      return true;
    }
    case ColumnType.TIME: {
      const m = TIME_RE.exec(text.trim());
      if (!m) return false;
      const hours = Number(m[2]);
      const us = micro(m[5]);
      w.u8(us > 0 ? 12 : 8).u8(m[1] ? 1 : 0).u32(Math.floor(hours / 24)).u8(hours % 24).u8(Number(m[3])).u8(Number(m[4]));
      if (us > 0) w.u32(us);
      return true;
    }
    default:
      return false;
  }
}
