import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { attribute } from './ScramServerExchange';

/** The client side of SCRAM-SHA-256, for querygate's own login to the upstream server. */
export class ScramClientExchange {
  private clientFirstBare = '';
  private serverSignature: Buffer | undefined;

  /** `clientNonce` and `user` are for test vectors only (PostgreSQL ignores the SCRAM user name). */
  constructor(private readonly password: string, private readonly clientNonce: string = randomBytes(18).toString('base64'), private readonly user = '*') {}

  clientFirst(): string {
    this.clientFirstBare = `n=${this.user},r=${this.clientNonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  /** The client-final-message for the server-first-message; throws on a malformed or hostile one. */
  clientFinal(serverFirst: string): string {
    const nonce = attribute(serverFirst, 'r');
    const salt = attribute(serverFirst, 's');
    const iterations = Number(attribute(serverFirst, 'i'));
    if (!nonce || !nonce.startsWith(this.clientNonce) || salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error('malformed SCRAM server-first-message');
    }
    const salted = pbkdf2Sync(this.password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    this.serverSignature = createHmac('sha256', serverKey).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** True when the server proved it knows the password too. */
  verifyServerFinal(serverFinal: string): boolean {
    const v = attribute(serverFinal, 'v');
    if (v === undefined || this.serverSignature === undefined) return false;
    const got = Buffer.from(v, 'base64');
    return got.length === this.serverSignature.length && timingSafeEqual(got, this.serverSignature);
  }
}
