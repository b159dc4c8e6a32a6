import { createHmac, randomBytes } from 'node:crypto';
import type { Identity } from '../Identity';
import { LocalUser, type ScramVerifier } from './LocalUser';

export interface PasswordContext {
  readonly listener: string;
  readonly tls: boolean;
  readonly clientAddress: string;
}

/**
 * Checks a user name and a cleartext secret (a token, or a minted credential). Answers undefined
 * when the secret is not its kind; throws IdentityRejected when it is its kind but invalid, so the
 * reason reaches the audit trail.
 */
export interface PasswordVerifier {
  readonly name: string;
  verify(user: string, secret: string, context: PasswordContext): Promise<Identity | undefined>;
}

export class IdentityRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'IdentityRejected';
  }
}

/** Who can log in: local users (verifiers) and any number of password verifiers (OIDC, exchange). */
export class IdentityDirectory {
  private readonly users = new Map<string, LocalUser>();
  /** Minted short-lived credentials (token exchange), by user name, with their expiry (epoch ms). */
  private readonly temporary = new Map<string, { user: LocalUser; expiresAt: number }>();
  private readonly verifiers: PasswordVerifier[] = [];
  private readonly fakeKey = randomBytes(32);

  addUser(user: LocalUser): void { this.users.set(user.name, user); }
  addVerifier(verifier: PasswordVerifier): void { this.verifiers.push(verifier); }

  /**
   * A credential that works like a local user (every wire mechanism) until `expiresAt`; it carries
   * the identity it was minted for.
   */
  addTemporaryUser(user: LocalUser, expiresAt: number): void {
    this.sweep();
    this.temporary.set(user.name, { user, expiresAt });
  }

  localUser(name: string): LocalUser | undefined {
    const local = this.users.get(name);
    if (local) return local;
    const minted = this.temporary.get(name);
    if (!minted) return undefined;
    if (minted.expiresAt <= Date.now()) {
      this.temporary.delete(name);
      return undefined;
    }
    return minted.user;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [name, entry] of this.temporary) if (entry.expiresAt <= now) this.temporary.delete(name);
  }

  /**
   * A SCRAM verifier for a user that does not exist, stable per name, so that an unknown user goes
   * through the same exchange as a known one with a wrong password (no user enumeration).
   */
  fakeScram(name: string): ScramVerifier {
    const salt = createHmac('sha256', this.fakeKey).update(`salt:${name}`).digest().subarray(0, 16);
    return { iterations: 4096, salt, storedKey: randomBytes(32), serverKey: randomBytes(32) };
  }

  /**
   * Resolves a cleartext secret: a local user's password first, then each verifier (OIDC tokens,
   * exchanged credentials). Undefined when nothing accepts it; IdentityRejected carries a reason.
   */
  async verifyPassword(user: string, secret: string, context: PasswordContext): Promise<Identity | undefined> {
    const local = this.localUser(user);
    if (local && local.checkPassword(secret)) return local.identity;
    let rejection: IdentityRejected | undefined;
    for (const verifier of this.verifiers) {
      try {
        const identity = await verifier.verify(user, secret, context);
        if (identity) return identity;
      } catch (err) {
        if (err instanceof IdentityRejected) rejection ??= err;
        else throw err;
      }
    }
    if (rejection) throw rejection;
    return undefined;
  }
}
