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
  private readonly verifiers: PasswordVerifier[] = [];
  private readonly fakeKey = randomBytes(32);

  addUser(user: LocalUser): void { this.users.set(user.name, user); }
  addVerifier(verifier: PasswordVerifier): void { this.verifiers.push(verifier); }

  localUser(name: string): LocalUser | undefined { return this.users.get(name); }

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
    const local = this.users.get(user);
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
