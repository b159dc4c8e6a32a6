import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../Identity';

/** RFC 5802 / 7677 verifier: what a SCRAM-SHA-256 server stores instead of the password. */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/**
 * A local user with verifiers derived at load; the cleartext password is not kept. One verifier
 * per wire mechanism: SCRAM-SHA-256 (PostgreSQL), SHA1(SHA1(pw)) for mysql_native_password, and
 * SHA256(SHA256(pw)) for caching_sha2_password's fast path.
 */
export class LocalUser {
  readonly scram: ScramVerifier;
  readonly mysqlNative: Buffer;
  readonly sha256Twice: Buffer;
  readonly identity: Identity;
  readonly #sha256: Buffer;

  constructor(
    readonly name: string,
    password: string,
    groups: readonly string[],
    claims: Readonly<Record<string, unknown>> = {},
    iterations = 4096,
    /** Who this credential stands for, when it is not a configured local user (a minted credential). */
    identity?: Identity,
  ) {
    this.scram = scramVerifier(password, randomBytes(16), iterations);
    const sha1 = createHash('sha1').update(password, 'utf8').digest();
    this.mysqlNative = createHash('sha1').update(sha1).digest();
    this.#sha256 = createHash('sha256').update(password, 'utf8').digest();
    this.sha256Twice = createHash('sha256').update(this.#sha256).digest();
    this.identity = identity ?? Object.freeze({ subject: name, groups: Object.freeze([...groups]), method: 'local', claims: Object.freeze({ ...claims }) });
  }

  /** For mechanisms where the client sends the cleartext password (over TLS). */
  checkPassword(password: string): boolean {
    const candidate = createHash('sha256').update(password, 'utf8').digest();
    return timingSafeEqual(candidate, this.#sha256);
  }
}

export function scramVerifier(password: string, salt: Buffer, iterations: number): ScramVerifier {
  // SASLprep is skipped: PostgreSQL itself falls back to the raw bytes for passwords it cannot prep.
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { iterations, salt, storedKey, serverKey };
}
