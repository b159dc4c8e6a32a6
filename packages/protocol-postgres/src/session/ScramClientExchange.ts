import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '@querygate/core';
import { attribute } from './ScramServerExchange';

/**
 * The most PBKDF2 iterations querygate computes for an upstream's SCRAM challenge. PostgreSQL's
 * default is 4096 (`scram_iterations`); the count is the server's to choose, so without a bound a
 * hostile or misconfigured upstream could make every login cost minutes of CPU (i=2147483647).
 */
export const MAX_SCRAM_ITERATIONS = 100_000;

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

  /**
   * The client-final-message for the server-first-message. PBKDF2 runs on the thread pool, so a
   * login never blocks other sessions. Rejects a malformed or hostile challenge: a nonce that does
   * not extend ours, or more than `maxIterations` iterations (QG_UPSTREAM_REJECTED).
   */
  async clientFinal(serverFirst: string, maxIterations: number = MAX_SCRAM_ITERATIONS): Promise<string> {
    const nonce = attribute(serverFirst, 'r');
    const salt = attribute(serverFirst, 's');
    const count = attribute(serverFirst, 'i');
    // Digits only (Number() would take '1e4', ' 4096', '0x10'); a count too long for a double is over the cap.
    const iterations = count !== undefined && /^[0-9]+$/.test(count) ? Number(count) : NaN;
    if (!nonce || !nonce.startsWith(this.clientNonce) || salt === undefined || !(iterations >= 1)) {
      throw new GatewayError('QG_UPSTREAM_REJECTED', 'the upstream sent a malformed SCRAM server-first-message');
    }
    if (iterations > maxIterations) {
      throw new GatewayError(
        'QG_UPSTREAM_REJECTED',
        `the upstream asks for ${iterations} SCRAM iterations, more than the ${maxIterations} querygate computes`,
        { detail: 'PostgreSQL\'s default is 4096; lower scram_iterations on the upstream server and reset the password of querygate\'s upstream user.' },
      );
    }
    const salted = await new Promise<Buffer>((resolve, reject) => {
      pbkdf2(this.password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key)));
    });
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
