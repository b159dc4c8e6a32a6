// A byte-level MySQL client for gateway fuzzing, independent of the codec under test: reads the
// greeting, logs in (caching_sha2_password fast path, written here by hand), sends garbage, and
// records every byte the gateway answers and how the connection ended.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CAP, le32, nul, packet, u8 } from './wire';

export interface RawPacket { readonly seq: number; readonly payload: Buffer }

export class RawSession {
  private chunks: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => { this.chunks.push(d); this.size += d.length; this.wake?.(); });
    socket.on('close', () => { this.closed = true; this.wake?.(); });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawSession(socket)));
      socket.once('error', reject);
    });
  }

  get received(): Buffer { return Buffer.concat(this.chunks, this.size); }
  write(bytes: Buffer): void { if (!this.socket.destroyed) this.socket.write(bytes); }
  finish(): void { if (!this.socket.destroyed) this.socket.end(); }
  destroy(): void { this.socket.destroy(); }

  async settle(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    let last = this.size;
    let quietSince = Date.now();
    while (!this.closed && Date.now() < deadline) {
      await this.waitEvent(Math.min(quietMs, deadline - Date.now()));
      if (this.size !== last) { last = this.size; quietSince = Date.now(); }
      if (Date.now() - quietSince >= quietMs) return;
    }
  }

  /** Waits for at least `count` packets in total; throws when the connection closes first. */
  async packets(count: number, maxMs = 10_000): Promise<RawPacket[]> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const { packets } = splitPackets(this.received);
      if (packets.length >= count) return packets;
      if (this.closed) throw new Error(`closed after ${packets.length} packets: ${packets.map((p) => p.payload.subarray(0, 8).toString('hex')).join(' ')}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${packets.length} packets`);
      await this.waitEvent(deadline - Date.now());
    }
  }

  private waitEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms));
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve(); };
    });
  }
}

export function splitPackets(bytes: Buffer): { packets: RawPacket[]; rest: Buffer } {
  const packets: RawPacket[] = [];
  let pos = 0;
  while (pos + 4 <= bytes.length) {
    const len = bytes.readUIntLE(pos, 3);
    if (pos + 4 + len > bytes.length) break;
    packets.push({ seq: bytes[pos + 3]!, payload: bytes.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
  return { packets, rest: bytes.subarray(pos) };
}

/** The 20-byte scramble of a greeting (HandshakeV10), read without the codec. */
export function scrambleOf(greeting: Buffer): Buffer {
  let o = greeting.indexOf(0, 1) + 1 + 4;
  const part1 = greeting.subarray(o, o + 8);
  o += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
  return Buffer.concat([part1, greeting.subarray(o, o + 12)]);
}

export function cachingSha2Token(password: string, scramble: Buffer): Buffer {
  const sha = (...b: Buffer[]): Buffer => { const h = createHash('sha256'); b.forEach((x) => h.update(x)); return h.digest(); };
  const s1 = sha(Buffer.from(password));
  const mix = sha(sha(s1), scramble);
  return Buffer.from(s1.map((b, i) => b ^ mix[i]!));
}

export function handshakeResponse(user: string, token: Buffer, database: string): Buffer {
  const caps = CAP.PROTOCOL_41 | CAP.SECURE_CONNECTION | CAP.PLUGIN_AUTH | CAP.CONNECT_WITH_DB | CAP.MULTI_STATEMENTS | CAP.MULTI_RESULTS;
  const head = Buffer.concat([le32(caps), le32(1 << 24), u8(45), Buffer.alloc(23)]);
  return Buffer.concat([head, nul(user), u8(token.length), token, nul(database), nul('caching_sha2_password')]);
}

/** Greeting, handshake response, fast-auth OK: resolves when the command phase starts. */
export async function login(s: RawSession, user: string, password: string, database: string): Promise<void> {
  const [greeting] = await s.packets(1);
  s.write(packet(1, handshakeResponse(user, cachingSha2Token(password, scrambleOf(greeting!.payload)), database)));
  const got = await s.packets(3);
  if (got[1]!.payload[0] !== 0x01 || got[2]!.payload[0] !== 0x00) {
    throw new Error(`login failed: ${got.slice(1).map((p) => p.payload.toString('hex').slice(0, 80)).join(' ')}`);
  }
}
