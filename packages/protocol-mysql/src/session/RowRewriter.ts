import type { RowTransform } from '@querygate/core';
import { readBinaryValue, skipBinaryValue, stringEncoding, writeBinaryValue, type ValueType } from '../codec/binaryValues';
import { PayloadReader } from '../codec/PayloadReader';
import { PayloadWriter } from '../codec/PayloadWriter';

/**
 * Applies a RowTransform to text rows (lenenc strings, 0xfb = NULL) or binary rows (0x00, NULL
 * bitmap with offset 2, typed values). Columns not named are copied as bytes; NULL stays NULL; a
 * mask's text that the column's binary type cannot hold becomes NULL rather than the original.
 */
export class RowRewriter {
  private readonly masks: ((value: string) => string | null)[] = [];

  constructor(private readonly types: readonly ValueType[], transform: RowTransform, private readonly binary: boolean) {
    for (const [index, mask] of transform.columns) this.masks[index] = mask;
  }

  rewrite(row: Buffer): { payload: Buffer; rewritten: number } {
    return this.binary ? this.rewriteBinary(row) : this.rewriteText(row);
  }

  private rewriteText(row: Buffer): { payload: Buffer; rewritten: number } {
    const w = new PayloadWriter(row.length + 16);
    const r = new PayloadReader(row);
    let rewritten = 0;
    for (let i = 0; i < this.types.length; i++) {
      const start = r.offset;
      if (row[start] === 0xfb) { r.skip(1); w.u8(0xfb); continue; }
      const value = r.lenencBytes();
      const mask = this.masks[i];
      if (!mask) { w.bytes(row.subarray(start, r.offset)); continue; }
      const enc = stringEncoding(this.types[i]!);
      const masked = mask(value.toString(enc));
      rewritten++;
      if (masked === null) w.u8(0xfb);
      else w.lenencBytes(Buffer.from(masked, enc));
    }
    return { payload: w.payload(), rewritten };
  }

  private rewriteBinary(row: Buffer): { payload: Buffer; rewritten: number } {
    const n = this.types.length;
    const bitmapLength = (n + 7 + 2) >> 3;
    const bitmap = Buffer.from(row.subarray(1, 1 + bitmapLength));
    const values = new PayloadWriter(row.length + 16);
    let offset = 1 + bitmapLength;
    let rewritten = 0;
    for (let i = 0; i < n; i++) {
      const bit = i + 2;
      if (bitmap[bit >> 3]! & (1 << (bit & 7))) continue;
      const type = this.types[i]!;
      const end = skipBinaryValue(row, offset, type.type);
      const mask = this.masks[i];
      if (!mask) {
        values.bytes(row.subarray(offset, end));
      } else {
        const text = readBinaryValue(new PayloadReader(row, offset), type);
        const masked = mask(text);
        rewritten++;
        if (masked === null || !writeBinaryValue(values, type, masked)) bitmap[bit >> 3]! |= 1 << (bit & 7);
      }
      offset = end;
    }
    const body = values.payload();
    const out = Buffer.allocUnsafe(1 + bitmapLength + body.length);
    out[0] = 0;
    bitmap.copy(out, 1);
    body.copy(out, 1 + bitmapLength);
    return { payload: out, rewritten };
  }
}
