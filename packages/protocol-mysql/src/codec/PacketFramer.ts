import { MAX_PACKET_PAYLOAD } from './constants';
import type { Packet } from './messages';
import { MalformedPacket } from './PayloadReader';

/**
 * Cuts a byte stream into logical packets. Chunks are kept as they arrived and read by advancing a
 * cursor; only an incomplete tail is carried into the next chunk (copied once). A payload of 16 MB
 * or more spans several physical packets with consecutive sequence ids; it is joined and checked
 * against `maxPayload` from the declared lengths, before its bytes are buffered.
 */
export class PacketFramer {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(readonly maxPayload: number) {}

  push(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    }
    this.pos = 0;
  }

  /** Bytes received but not yet returned as packets. */
  get buffered(): number { return this.buf.length - this.pos; }

  /** Takes what is buffered (e.g. before a TLS upgrade, where nothing may be). */
  drain(): Buffer {
    const rest = this.buf.subarray(this.pos);
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return rest;
  }

  /** The next complete logical packet, or undefined when more bytes are needed. */
  next(): Packet | undefined {
    const buf = this.buf;
    const start = this.pos;
    if (buf.length - start < 4) return undefined;
    const len = buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16);
    const seq = buf[start + 3]!;
    if (len < MAX_PACKET_PAYLOAD) {
      if (len > this.maxPayload) throw new MalformedPacket(`packet of ${len} bytes exceeds the ${this.maxPayload}-byte limit`);
      const end = start + 4 + len;
      if (end > buf.length) return undefined;
      this.pos = end;
      return { seq, lastSeq: seq, payload: buf.subarray(start + 4, end), raw: buf.subarray(start, end) };
    }
    // A multi-packet payload: walk the headers, checking lengths and sequence ids as they come.
    let offset = start;
    let total = 0;
    let expect = seq;
    const pieces: Buffer[] = [];
    for (;;) {
      if (buf.length - offset < 4) return undefined;
      const n = buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16);
      const s = buf[offset + 3]!;
      if (s !== expect) throw new MalformedPacket(`sequence id ${s} where ${expect} was expected`);
      total += n;
      if (total > this.maxPayload) throw new MalformedPacket(`packet of more than ${this.maxPayload} bytes exceeds the limit`);
      if (offset + 4 + n > buf.length) return undefined;
      pieces.push(buf.subarray(offset + 4, offset + 4 + n));
      offset += 4 + n;
      if (n < MAX_PACKET_PAYLOAD) {
        this.pos = offset;
        return { seq, lastSeq: s, payload: Buffer.concat(pieces, total), raw: buf.subarray(start, offset) };
      }
      expect = (expect + 1) & 0xff;
    }
  }
}
