import type { RowObserver, RowTransform, ValueMask } from '@querygate/core';
import {
  observedBinaryValue, readBinaryValue, skipBinaryValue, stringEncoding, textValueText, writeBinaryValue, type ValueType,
} from '../codec/binaryValues';
import { MalformedPacket, PayloadReader } from '../codec/PayloadReader';
import { PayloadWriter } from '../codec/PayloadWriter';

type Observed = (string | null)[];

/**
 * Applies a RowTransform to the rows of one result set: text rows (lenenc strings, 0xfb = NULL) or
 * binary rows (0x00, NULL bitmap with offset 2, typed values). Columns not named are copied as
 * bytes; NULL stays NULL; a mask's text that the column's binary type cannot hold becomes NULL
 * rather than the original, and so does the value of a mask that throws. While the plan observes
 * rows (session recording), the first `observeLimit` rows are handed to `observe` as the client
 * receives them. A row that does not fit its columns throws MalformedPacket, never goes out re-framed.
 * One instance per result set (a cursor's fetches share it): it counts the rows observed.
 */
export class RowRewriter {
  private readonly masks: (ValueMask | undefined)[] = [];
  private readonly masking: boolean;
  private readonly observe: RowObserver | undefined;
  private readonly observeLimit: number;
  private observed = 0;

  /** Whether `transform` asks for any row to be decoded: it masks a column or observes rows. */
  static wanted(transform: RowTransform | undefined): transform is RowTransform {
    return transform !== undefined && (transform.columns.size > 0 || (transform.observe !== undefined && (transform.observeLimit ?? 0) > 0));
  }

  constructor(private readonly types: readonly ValueType[], transform: RowTransform, private readonly binary: boolean) {
    for (const [index, mask] of transform.columns) this.masks[index] = mask;
    this.masking = transform.columns.size > 0;
    this.observe = transform.observe;
    this.observeLimit = transform.observeLimit ?? 0;
  }

  /** Nothing left to do: no column is masked and the rows to observe have been seen. */
  get idle(): boolean {
    return !this.masking && (this.observe === undefined || this.observed >= this.observeLimit);
  }

  /** The row as the client must receive it (`row` itself when no column is masked). */
  rewrite(row: Buffer): { payload: Buffer; rewritten: number } {
    const texts: Observed | undefined = this.observe !== undefined && this.observed < this.observeLimit
      ? new Array<string | null>(this.types.length)
      : undefined;
    const out = this.binary ? this.rewriteBinary(row, texts) : this.rewriteText(row, texts);
    if (texts !== undefined) {
      this.observed++;
      try {
        this.observe!(texts);
      } catch {
        // The observer is the gateway's own recording: its failure never touches the client's rows.
      }
    }
    return out;
  }

  private applyMask(mask: ValueMask, text: string): string | null {
    try {
      return mask(text);
    } catch {
      // Fail closed: a mask that throws sends NULL, never the value.
      return null;
    }
  }

  private rewriteText(row: Buffer, texts: Observed | undefined): { payload: Buffer; rewritten: number } {
    const w = this.masking ? new PayloadWriter(row.length + 16) : undefined;
    const r = new PayloadReader(row);
    let rewritten = 0;
    for (let i = 0; i < this.types.length; i++) {
      const start = r.offset;
      if (row[start] === 0xfb) {
        r.skip(1);
        w?.u8(0xfb);
        if (texts) texts[i] = null;
        continue;
      }
      const value = r.lenencBytes();
      const type = this.types[i]!;
      const mask = this.masks[i];
      if (!mask) {
        w?.bytes(row.subarray(start, r.offset));
        if (texts) texts[i] = textValueText(value, type);
        continue;
      }
      const enc = stringEncoding(type);
      const masked = this.applyMask(mask, value.toString(enc));
      rewritten++;
      if (masked === null) w!.u8(0xfb);
      else w!.lenencBytes(Buffer.from(masked, enc));
      if (texts) texts[i] = masked;
    }
    if (r.offset !== row.length) throw new MalformedPacket('text row longer than its columns');
    return { payload: w ? w.payload() : row, rewritten };
  }

  private rewriteBinary(row: Buffer, texts: Observed | undefined): { payload: Buffer; rewritten: number } {
    const n = this.types.length;
    const bitmapLength = (n + 7 + 2) >> 3;
    if (row.length < 1 + bitmapLength) throw new MalformedPacket('binary row shorter than its NULL bitmap');
    if (row[0] !== 0x00) throw new MalformedPacket(`binary row with header 0x${row[0]!.toString(16)}`);
    // A copy: masked values that cannot be written set their NULL bit.
    const bitmap = Buffer.from(row.subarray(1, 1 + bitmapLength));
    const values = this.masking ? new PayloadWriter(row.length + 16) : undefined;
    let offset = 1 + bitmapLength;
    let rewritten = 0;
    for (let i = 0; i < n; i++) {
      const bit = i + 2;
      if (bitmap[bit >> 3]! & (1 << (bit & 7))) {
        if (texts) texts[i] = null;
        continue;
      }
      const type = this.types[i]!;
      const end = skipBinaryValue(row, offset, type.type);
      const mask = this.masks[i];
      if (!mask) {
        values?.bytes(row.subarray(offset, end));
        if (texts) texts[i] = observedBinaryValue(new PayloadReader(row, offset), type);
      } else {
        const text = readBinaryValue(new PayloadReader(row, offset), type);
        const masked = this.applyMask(mask, text);
        rewritten++;
        const written = masked !== null && writeBinaryValue(values!, type, masked);
        if (!written) bitmap[bit >> 3]! |= 1 << (bit & 7);
        if (texts) texts[i] = written ? masked : null;
      }
      offset = end;
    }
    if (offset !== row.length) throw new MalformedPacket('binary row longer than its columns');
    if (!values) return { payload: row, rewritten };
    // Every byte of the output is written here: header, bitmap, values.
    const out = new PayloadWriter(1 + bitmapLength + values.length).u8(0).bytes(bitmap).bytes(values.payload()).payload();
    return { payload: out, rewritten };
  }
}
