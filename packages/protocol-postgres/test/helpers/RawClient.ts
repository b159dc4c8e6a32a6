import { connect, type Socket } from 'node:net';

/** One backend message as the raw client saw it. */
export interface RawMessage { readonly type: string; readonly body: Buffer }

/**
 * A deliberately tiny PostgreSQL client for byte-level tests, independent of the codec under test:
 * it builds frames by hand and splits responses with its own loop. Logs in with a cleartext
 * password (the test gateway allows plaintext passwords and accepts a test token).
 */
export class RawClient {
  private buf = Buffer.alloc(0);
  private readonly messages: RawMessage[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 5) {
        const len = this.buf.readInt32BE(1);
        if (this.buf.length < len + 1) break;
        this.messages.push({ type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, len + 1) });
        this.buf = this.buf.subarray(len + 1);
      }
      this.wake?.();
    });
    socket.on('close', () => { this.closed = true; this.wake?.(); });
    socket.on('error', () => undefined);
  }

  static async login(port: number, user: string, password: string): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const client = new RawClient(socket);
    const params = Buffer.from(`user\0${user}\0database\0app\0\0`, 'latin1');
    const head = Buffer.alloc(8);
    head.writeInt32BE(params.length + 8, 0);
    head.writeInt32BE(196608, 4);
    socket.write(Buffer.concat([head, params]));
    const auth = await client.next();
    if (auth.type !== 'R' || auth.body.readInt32BE(0) !== 3) throw new Error(`expected a cleartext password request, got ${auth.type}`);
    socket.write(RawClient.frame('p', Buffer.from(`${password}\0`)));
    await client.until('Z');
    return client;
  }

  static frame(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  }

  static cstr(s: string): Buffer { return Buffer.from(`${s}\0`, 'utf8'); }

  parse(name: string, sql: string): Buffer { return RawClient.frame('P', Buffer.concat([RawClient.cstr(name), RawClient.cstr(sql), Buffer.from([0, 0])])); }
  bind(portal: string, statement: string): Buffer { return RawClient.frame('B', Buffer.concat([RawClient.cstr(portal), RawClient.cstr(statement), Buffer.from([0, 0, 0, 0, 0, 0])])); }
  execute(portal: string): Buffer { return RawClient.frame('E', Buffer.concat([RawClient.cstr(portal), Buffer.from([0, 0, 0, 0])])); }
  sync(): Buffer { return RawClient.frame('S'); }
  query(sql: string): Buffer { return RawClient.frame('Q', RawClient.cstr(sql)); }

  send(...frames: Buffer[]): void { this.socket.write(Buffer.concat(frames)); }

  async next(): Promise<RawMessage> {
    for (;;) {
      const m = this.messages.shift();
      if (m) return m;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** Messages up to and including the first of type `type`. */
  async until(type: string): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    for (;;) {
      const m = await this.next();
      out.push(m);
      if (m.type === type) return out;
    }
  }

  close(): void { this.socket.end(RawClient.frame('X')); }
}

/** The SQLSTATE of an ErrorResponse body. */
export function sqlstate(body: Buffer): string | undefined {
  return /C([0-9A-Z]{5})\0/.exec(body.toString('latin1'))?.[1];
}
