/** Thrown by the decoders for a payload that does not fit its message layout. */
export class MalformedPacket extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPacket';
  }
}

/** A cursor over one packet payload; every read checks bounds and throws MalformedPacket. */
export class PayloadReader {
  offset: number;

  constructor(readonly buf: Buffer, offset = 0) {
    this.offset = offset;
  }

  get remaining(): number { return this.buf.length - this.offset; }
  get done(): boolean { return this.offset >= this.buf.length; }

  private need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) throw new MalformedPacket(`truncated ${what}`);
  }

  u8(): number {
    this.need(1, 'int<1>');
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.need(2, 'int<2>');
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u24(): number {
    this.need(3, 'int<3>');
    const v = this.buf.readUIntLE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  u32(): number {
    this.need(4, 'int<4>');
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, 'int<8>');
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Length-encoded integer; null for the NULL marker 0xfb. Values above 2^53 are refused. */
  lenencOrNull(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) {
      const v = this.u64();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedPacket('length-encoded integer too large');
      return Number(v);
    }
    throw new MalformedPacket('invalid length-encoded integer prefix 0xff');
  }

  lenenc(): number {
    const v = this.lenencOrNull();
    if (v === null) throw new MalformedPacket('unexpected NULL length');
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n, `string<${n}>`);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }

  lenencString(): string {
    return this.lenencBytes().toString('utf8');
  }

  /** NUL-terminated bytes (the NUL is consumed, not returned). */
  nulBytes(): Buffer {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new MalformedPacket('unterminated string');
    const v = this.buf.subarray(this.offset, end);
    this.offset = end + 1;
    return v;
  }

  nulString(): string {
    return this.nulBytes().toString('utf8');
  }

  rest(): Buffer {
    const v = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return v;
  }

  skip(n: number): void {
    this.need(n, 'filler');
    this.offset += n;
  }
}
