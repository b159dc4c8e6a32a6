// A hand-rolled MySQL client over net.Socket for malformed-input tests. Independent of src/codec.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawPacket { seq: number; payload: Buffer }

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => { this.buf = Buffer.concat([this.buf, c]); this.wake(); });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }

  /** The next packet, or undefined when the server closed the connection first. */
  async read(timeoutMs = 5000): Promise<RawPacket | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length >= 4) {
        const len = this.buf[0]! | (this.buf[1]! << 8) | (this.buf[2]! << 16);
        if (this.buf.length >= 4 + len) {
          const p = { seq: this.buf[3]!, payload: this.buf.subarray(4, 4 + len) };
          this.buf = this.buf.subarray(4 + len);
          return p;
        }
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('read timed out');
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }

  /** Resolves true once the server has closed the connection. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  send(seq: number, payload: Buffer): void {
    const h = Buffer.alloc(4);
    h.writeUIntLE(payload.length, 0, 3);
    h[3] = seq;
    this.socket.write(Buffer.concat([h, payload]));
  }

  sendRaw(bytes: Buffer): void { this.socket.write(bytes); }

  /** Reads the greeting and logs in with caching_sha2_password's fast path. Returns the greeting payload. */
  async login(user: string, password: string): Promise<Buffer> {
    const greeting = (await this.read())!.payload;
    let o = 1;
    o = greeting.indexOf(0, o) + 1; // server version
    o += 4; // connection id
    const part1 = greeting.subarray(o, o + 8);
    o += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    const part2 = greeting.subarray(o, o + 12);
    const scramble = Buffer.concat([part1, part2]);
    const sha = (...b: Buffer[]): Buffer => { const h = createHash('sha256'); b.forEach((x) => h.update(x)); return h.digest(); };
    const s1 = sha(Buffer.from(password));
    const mix = sha(sha(s1), scramble);
    const token = Buffer.from(s1.map((b, i) => b ^ mix[i]!));
    const caps = 0x200 | 0x8000 | 0x80000 | 0x8 | 0x10000 | 0x20000;
    const head = Buffer.alloc(32);
    head.writeUInt32LE(caps, 0);
    head.writeUInt32LE(1 << 24, 4);
    head[8] = 45;
    const payload = Buffer.concat([
      head, Buffer.from(`${user}\0`), Buffer.from([token.length]), token, Buffer.from('app\0'), Buffer.from('caching_sha2_password\0'),
    ]);
    this.send(1, payload);
    const more = await this.read();
    if (!more || more.payload[0] !== 0x01 || more.payload[1] !== 0x03) throw new Error(`login failed: ${more?.payload.toString('hex')}`);
    const ok = await this.read();
    if (!ok || ok.payload[0] !== 0x00) throw new Error(`login failed: ${ok?.payload.toString('hex')}`);
    return greeting;
  }

  close(): void { this.socket.destroy(); }
}

/** errno of an ERR payload. */
export function errnoOf(payload: Buffer | undefined): number | undefined {
  return payload && payload[0] === 0xff ? payload.readUInt16LE(1) : undefined;
}
