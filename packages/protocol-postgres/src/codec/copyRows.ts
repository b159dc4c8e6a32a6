import { GatewayError } from '@querygate/core';
import { Backend } from './messages';

// The rows of COPY ... TO STDOUT in text and CSV format: CopyOutResponse, a streaming row splitter
// (CopyData boundaries are not row boundaries), field decoding and re-encoding. Pure functions over
// Buffers; the special bytes of both formats are ASCII, so working on UTF-8 bytes is safe.

export type CopyFormat = 'text' | 'csv' | 'binary';

/** COPY's data options, with PostgreSQL's defaults filled in. Single-byte options are byte values. */
export interface CopyOptions {
  readonly format: CopyFormat;
  readonly delimiter: number;
  /** The NULL marker exactly as the server writes it (`\N` in text, empty in CSV by default). */
  readonly nullString: Buffer;
  /** CSV only (0 in text and binary). */
  readonly quote: number;
  /** CSV only: defaults to the quote character. */
  readonly escape: number;
  /** The first line is the column names (CSV, and text since PostgreSQL 15). */
  readonly header: boolean;
  /** The ENCODING option as written, when given: the data are in that encoding, not client_encoding. */
  readonly encoding: string | undefined;
}

export interface CopyOutResponse {
  /** Overall format: binary, or text (text and CSV alike). */
  readonly binary: boolean;
  /** Per-column format codes (0 text, 1 binary). */
  readonly columnFormats: readonly number[];
}

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

function violation(what: string): GatewayError {
  return new GatewayError('QG_PROTOCOL_VIOLATION', `malformed ${what} message`);
}

export function parseCopyOutResponse(buf: Buffer, bodyStart: number, end: number): CopyOutResponse {
  if (end - bodyStart < 3) throw violation('CopyOutResponse');
  const binary = buf[bodyStart] !== 0;
  const n = buf.readInt16BE(bodyStart + 1);
  if (n < 0 || bodyStart + 3 + 2 * n > end) throw violation('CopyOutResponse');
  const columnFormats: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) columnFormats[i] = buf.readInt16BE(bodyStart + 3 + 2 * i);
  return { binary, columnFormats };
}

/** A CopyData message around `payload`. */
export function copyData(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 5);
  out[0] = Backend.CopyData;
  out.writeInt32BE(payload.length + 4, 1);
  payload.copy(out, 5);
  return out;
}

/**
 * Cuts a stream of COPY data into rows, whatever the CopyData boundaries. Text: a row ends at a
 * newline not escaped by a backslash (the format escapes newlines inside values). CSV: at a newline
 * outside quotes; inside quotes the escape character takes the next quote or escape literally, and
 * with the escape equal to the quote a doubled quote is one literal quote.
 */
export class CopyRowSplitter {
  private readonly csv: boolean;
  private readonly quote: number;
  private readonly escape: number;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private inQuote = false;
  /** Text: the previous byte was an escaping backslash. CSV: an escape (or quote) inside quotes waits for its next byte. */
  private escaped = false;

  constructor(options: Pick<CopyOptions, 'format' | 'quote' | 'escape'>) {
    if (options.format === 'binary') throw new Error('binary COPY data has no rows to split');
    this.csv = options.format === 'csv';
    this.quote = options.quote;
    this.escape = options.escape;
  }

  /** Bytes of an incomplete row, kept for the next push. */
  get pending(): number { return this.partBytes; }

  /**
   * Adds bytes [start, end) of `buf`; returns the rows they complete, each with its line ending.
   * Rows lying wholly in `buf` are views into it; a row begun in an earlier push is a new buffer.
   */
  push(buf: Buffer, start: number, end: number): Buffer[] {
    const rows: Buffer[] = [];
    let rowStart = start;
    for (let i = start; i < end; i++) {
      if (!this.endsRow(buf[i]!)) continue;
      if (this.partBytes > 0) {
        this.parts.push(buf.subarray(rowStart, i + 1));
        rows.push(Buffer.concat(this.parts, this.partBytes + i + 1 - rowStart));
        this.parts = [];
        this.partBytes = 0;
      } else {
        rows.push(buf.subarray(rowStart, i + 1));
      }
      rowStart = i + 1;
    }
    if (rowStart < end) {
      // Copied: a view would keep the whole received chunk alive.
      this.parts.push(Buffer.from(buf.subarray(rowStart, end)));
      this.partBytes += end - rowStart;
    }
    return rows;
  }

  /** Advances the scanner over one byte; true when it ends a row. */
  private endsRow(c: number): boolean {
    if (!this.csv) {
      if (this.escaped) { this.escaped = false; return false; }
      if (c === BACKSLASH) { this.escaped = true; return false; }
      return c === LF;
    }
    if (this.escaped) {
      this.escaped = false;
      if (c === this.quote || c === this.escape) return false;
      // The quote that waited closed the quoted part; an escape before anything else was a literal.
      if (this.escape === this.quote) this.inQuote = false;
    }
    if (this.inQuote) {
      if (c === this.escape) this.escaped = true;
      else if (c === this.quote) this.inQuote = false;
      return false;
    }
    if (c === this.quote) { this.inQuote = true; return false; }
    return c === LF;
  }
}

/** One field of a row: its raw bytes are row[start, end). */
export interface CopyField {
  readonly start: number;
  readonly end: number;
  /** CSV: some of it was quoted (so it is never NULL, and re-encoding keeps it quoted). */
  readonly quoted: boolean;
  readonly isNull: boolean;
}

export interface CopyRowFields {
  readonly fields: CopyField[];
  /** Where the line ending (LF or CR LF) starts. */
  readonly contentEnd: number;
}

/**
 * The fields of one complete row (as CopyRowSplitter returns it, line ending included). Undefined
 * when the row is malformed: no line ending, or a CSV quote left open.
 */
export function copyRowFields(row: Buffer, options: CopyOptions): CopyRowFields | undefined {
  const n = row.length;
  if (n === 0 || row[n - 1] !== LF) return undefined;
  const last = n - 1;
  const fields: CopyField[] = [];
  const delimiter = options.delimiter;
  let fieldStart = 0;
  let quoted = false;
  let crEscaped = false;
  if (options.format === 'csv') {
    const { quote, escape } = options;
    let inQuote = false;
    for (let i = 0; i < last; i++) {
      const c = row[i]!;
      if (inQuote) {
        if (c === escape && i + 1 < last && (row[i + 1] === quote || row[i + 1] === escape)) i++;
        else if (c === quote) inQuote = false;
      } else if (c === quote) {
        inQuote = true;
        quoted = true;
      } else if (c === delimiter) {
        fields.push(field(row, fieldStart, i, quoted, options));
        fieldStart = i + 1;
        quoted = false;
      }
    }
    if (inQuote) return undefined;
  } else {
    for (let i = 0; i < last; i++) {
      const c = row[i]!;
      if (c === BACKSLASH) {
        i++;
        if (i === last - 1) crEscaped = true;
      } else if (c === delimiter) {
        fields.push(field(row, fieldStart, i, false, options));
        fieldStart = i + 1;
      }
    }
  }
  // A CR before the LF is part of the line ending (a server on Windows), unless escaped (text).
  const contentEnd = last > fieldStart && row[last - 1] === CR && !crEscaped ? last - 1 : last;
  fields.push(field(row, fieldStart, contentEnd, quoted, options));
  return { fields, contentEnd };
}

function field(row: Buffer, start: number, end: number, quoted: boolean, options: CopyOptions): CopyField {
  const nul = options.nullString;
  // NULL is recognised on the raw bytes, before any unescaping (and never when quoted), as the server does.
  const isNull = !quoted && end - start === nul.length && row.compare(nul, 0, nul.length, start, end) === 0;
  return { start, end, quoted, isNull };
}

/** A field's value as bytes (escapes resolved, quotes removed), or null for NULL. */
export function copyFieldValue(row: Buffer, f: CopyField, options: CopyOptions): Buffer | null {
  if (f.isNull) return null;
  return options.format === 'csv' ? csvValue(row, f.start, f.end, options) : textValue(row, f.start, f.end);
}

function textValue(row: Buffer, start: number, end: number): Buffer {
  if (row.indexOf(BACKSLASH, start) < 0 || row.indexOf(BACKSLASH, start) >= end) return row.subarray(start, end);
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = row[i]!;
    if (c !== BACKSLASH || i + 1 >= end) { out[o++] = c; continue; }
    const e = row[++i]!;
    switch (e) {
      case 0x62: out[o++] = 0x08; break; // \b
      case 0x66: out[o++] = 0x0c; break; // \f
      case 0x6e: out[o++] = LF; break; // \n
      case 0x72: out[o++] = CR; break; // \r
      case 0x74: out[o++] = 0x09; break; // \t
      case 0x76: out[o++] = 0x0b; break; // \v
      case 0x78: { // \xH or \xHH; \x without a hex digit is x
        let v = hexDigit(row[i + 1]);
        if (i + 1 >= end || v < 0) { out[o++] = e; break; }
        i++;
        const second = i + 1 < end ? hexDigit(row[i + 1]) : -1;
        if (second >= 0) { v = v * 16 + second; i++; }
        out[o++] = v;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) { // \o, \oo, \ooo
          let v = e - 0x30;
          for (let k = 0; k < 2 && i + 1 < end && row[i + 1]! >= 0x30 && row[i + 1]! <= 0x37; k++) v = v * 8 + (row[++i]! - 0x30);
          out[o++] = v & 0xff;
        } else {
          out[o++] = e; // any other escaped character stands for itself (\\, \ followed by the delimiter)
        }
    }
  }
  return out.subarray(0, o);
}

function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function csvValue(row: Buffer, start: number, end: number, options: CopyOptions): Buffer {
  const { quote, escape } = options;
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let inQuote = false;
  for (let i = start; i < end; i++) {
    const c = row[i]!;
    if (inQuote) {
      if (c === escape && i + 1 < end && (row[i + 1] === quote || row[i + 1] === escape)) out[o++] = row[++i]!;
      else if (c === quote) inQuote = false;
      else out[o++] = c;
    } else if (c === quote) {
      inQuote = true;
    } else {
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

const TEXT_ESCAPES: Readonly<Record<number, number>> = { 0x08: 0x62, 0x0c: 0x66, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x0b: 0x76 };

/**
 * A value encoded as the server would write it in this format; null becomes the NULL marker.
 * CSV: quoted when `quote` (the field was quoted: FORCE_QUOTE, or it needed it), or when it contains
 * the delimiter, the quote or escape character, CR or LF, equals the NULL marker, or is `\.` alone
 * in a one-column row (the old end-of-data marker).
 */
export function encodeCopyValue(value: Buffer | null, options: CopyOptions, quote: boolean, singleColumn: boolean): Buffer {
  if (value === null) return options.nullString;
  return options.format === 'csv' ? encodeCsv(value, options, quote, singleColumn) : encodeText(value, options.delimiter);
}

function encodeText(value: Buffer, delimiter: number): Buffer {
  let extra = 0;
  for (const c of value) if (c === BACKSLASH || c === delimiter || TEXT_ESCAPES[c] !== undefined) extra++;
  if (extra === 0) return value;
  const out = Buffer.allocUnsafe(value.length + extra);
  let o = 0;
  for (const c of value) {
    const escaped = TEXT_ESCAPES[c];
    if (escaped !== undefined) { out[o++] = BACKSLASH; out[o++] = escaped; } else if (c === BACKSLASH || c === delimiter) { out[o++] = BACKSLASH; out[o++] = c; } else out[o++] = c;
  }
  return out;
}

const END_OF_DATA = Buffer.from('\\.', 'latin1');

function encodeCsv(value: Buffer, options: CopyOptions, quote: boolean, singleColumn: boolean): Buffer {
  const { delimiter, quote: q, escape } = options;
  let specials = 0;
  let needs = quote || value.equals(options.nullString) || (singleColumn && value.equals(END_OF_DATA));
  for (const c of value) {
    if (c === q || c === escape) { specials++; needs = true; } else if (c === delimiter || c === LF || c === CR) needs = true;
  }
  if (!needs) return value;
  const out = Buffer.allocUnsafe(value.length + specials + 2);
  let o = 0;
  out[o++] = q;
  for (const c of value) {
    if (c === q || c === escape) out[o++] = escape;
    out[o++] = c;
  }
  out[o++] = q;
  return out;
}

/**
 * The row with some fields replaced by already-encoded bytes; every other byte (untouched fields,
 * delimiters, the line ending) as it was.
 */
export function rebuildCopyRow(row: Buffer, split: CopyRowFields, replaced: ReadonlyMap<number, Buffer>): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const [index, bytes] of [...replaced].sort((a, b) => a[0] - b[0])) {
    const f = split.fields[index];
    if (f === undefined) continue;
    parts.push(row.subarray(from, f.start), bytes);
    from = f.end;
  }
  parts.push(row.subarray(from));
  return Buffer.concat(parts);
}
