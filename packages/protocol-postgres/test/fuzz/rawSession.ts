// A byte-level PostgreSQL client for gateway fuzzing, independent of the codec under test: it logs
// in (cleartext or SCRAM-SHA-256, written here by hand), sends garbage, and records every byte the
// gateway answers and how the connection ended.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { be32, cstr, startupBody, tagged, untagged } from './wire';

export interface ServerMessage { readonly type: string; readonly body: Buffer }

export class RawSession {
  private chunks: Buffer[] = [];
  private size = 0;
  private wake: (() => void) | undefined;
  closed = false;
  /** When the gateway closed the connection (Date.now()), once it has. */
  closedAt = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => { this.chunks.push(d); this.size += d.length; this.wake?.(); });
    socket.on('close', () => { this.closed = true; this.closedAt = Date.now(); this.wake?.(); });
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

  /** Half-closes our side: a gateway waiting for the rest of a frame must now let go. */
  finish(): void { if (!this.socket.destroyed) this.socket.end(); }

  destroy(): void { this.socket.destroy(); }

  /** Waits until the connection closes, or no byte arrived for `quietMs`, or `maxMs` passed. */
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

  /** Waits until `done(messages)` holds; throws when the connection closes first or time runs out. */
  async until(done: (messages: readonly ServerMessage[]) => boolean, maxMs = 10_000, skipLeadingN = false): Promise<ServerMessage[]> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const { messages } = splitMessages(this.received, skipLeadingN);
      if (done(messages)) return messages;
      if (this.closed) throw new Error(`closed while waiting; got ${messages.map((m) => m.type).join('')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting; got ${messages.map((m) => m.type).join('')}`);
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

/** Splits a server byte stream into tagged messages; `rest` is a trailing incomplete part. */
export function splitMessages(bytes: Buffer, skipLeadingN = false): { messages: ServerMessage[]; rest: Buffer; leadingN: number } {
  let pos = 0;
  let leadingN = 0;
  // Answers to SSLRequest / GSSENCRequest are a single untagged 'N'.
  while (skipLeadingN && bytes[pos] === 0x4e && (bytes.length - pos < 5 || bytes.readInt32BE(pos + 1) > 0x10000)) { pos++; leadingN++; }
  const messages: ServerMessage[] = [];
  while (pos + 5 <= bytes.length) {
    const len = bytes.readInt32BE(pos + 1);
    if (len < 4 || pos + 1 + len > bytes.length) break;
    messages.push({ type: String.fromCharCode(bytes[pos]!), body: bytes.subarray(pos + 5, pos + 1 + len) });
    pos += 1 + len;
  }
  return { messages, rest: bytes.subarray(pos), leadingN };
}

/** Fields of an ErrorResponse body by their one-letter code. */
export function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const end = body.indexOf(0, pos + 1);
    if (end < 0) break;
    out[String.fromCharCode(body[pos]!)] = body.toString('utf8', pos + 1, end);
    pos = end + 1;
  }
  return out;
}

const authCode = (m: ServerMessage): number => (m.type === 'R' && m.body.length >= 4 ? m.body.readInt32BE(0) : -1);

export function startupPacket(user: string, applicationName: string): Buffer {
  return untagged(startupBody({ user, database: 'app', application_name: applicationName }));
}

/** Startup then a cleartext password: resolves at the first ReadyForQuery. */
export async function loginCleartext(s: RawSession, user: string, password: string, applicationName: string): Promise<void> {
  s.write(startupPacket(user, applicationName));
  await s.until((m) => m.some((x) => authCode(x) === 3));
  s.write(tagged('p', cstr(password)));
  await s.until((m) => m.some((x) => x.type === 'Z'));
}

/** Startup and the first half of SCRAM: resolves with what the client needs for the second half. */
export async function scramFirstHalf(s: RawSession, user: string, applicationName: string): Promise<{ bare: string; serverFirst: string }> {
  s.write(startupPacket(user, applicationName));
  await s.until((m) => m.some((x) => authCode(x) === 10));
  const bare = `n=,r=${randomBytes(18).toString('base64')}`;
  const first = Buffer.from(`n,,${bare}`);
  s.write(tagged('p', cstr('SCRAM-SHA-256'), be32(first.length), first));
  const messages = await s.until((m) => m.some((x) => authCode(x) === 11));
  const serverFirst = messages.find((x) => authCode(x) === 11)!.body.subarray(4).toString('utf8');
  return { bare, serverFirst };
}

export function scramFinal(password: string, bare: string, serverFirst: string): Buffer {
  const attr = (name: string): string => serverFirst.split(',').find((p) => p.startsWith(`${name}=`))!.slice(2);
  const salted = pbkdf2Sync(password, Buffer.from(attr('s'), 'base64'), Number(attr('i')), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${attr('r')}`;
  const signature = createHmac('sha256', storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
  return tagged('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
}

/** A full SCRAM-SHA-256 login: resolves at the first ReadyForQuery. */
export async function loginScram(s: RawSession, user: string, password: string, applicationName: string): Promise<void> {
  const { bare, serverFirst } = await scramFirstHalf(s, user, applicationName);
  s.write(scramFinal(password, bare, serverFirst));
  await s.until((m) => m.some((x) => x.type === 'Z'));
}
