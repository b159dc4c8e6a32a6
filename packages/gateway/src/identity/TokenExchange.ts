import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdentityRejected, LocalUser, type IdentityDirectory, type Logger, type AdminRouteHandler } from '@querygate/core';
import type { OidcVerifier } from './OidcVerifier';

export interface ExchangedCredential {
  readonly username: string;
  readonly password: string;
  readonly expiresAt: string;
  readonly subject: string;
  readonly groups: readonly string[];
}

/**
 * POST /api/token-exchange: an OIDC token in, a short-lived generated user name and password out,
 * usable with any client's default authentication (SCRAM, mysql_native_password, caching_sha2),
 * for clients that cannot send a token as a cleartext password. The credential carries the token's
 * identity and expires after `ttlMs` (and no later than the token itself).
 */
export class TokenExchange {
  constructor(
    private readonly verifier: OidcVerifier,
    private readonly identities: IdentityDirectory,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly audit: (subject: string, outcome: 'issued' | 'refused', reason?: string) => void,
  ) {}

  async exchange(token: string): Promise<ExchangedCredential> {
    const identity = await this.verifier.verify('', token);
    if (!identity) throw new IdentityRejected('not a JWT');
    const exp = typeof identity.claims.exp === 'number' ? identity.claims.exp * 1000 : Infinity;
    const expiresAt = Math.min(Date.now() + this.ttlMs, exp);
    const username = `qg_${randomBytes(6).toString('hex')}`;
    const password = randomBytes(24).toString('base64url');
    const minted = { ...identity, method: 'exchanged' as const };
    // Fewer PBKDF2 rounds than a stored password: the secret is 192 random bits and lives minutes.
    this.identities.addTemporaryUser(new LocalUser(username, password, identity.groups, {}, 4096, minted), expiresAt);
    this.logger.info('credential minted by token exchange', { subject: identity.subject, username, expiresAt: new Date(expiresAt).toISOString() });
    this.audit(identity.subject, 'issued');
    return { username, password, expiresAt: new Date(expiresAt).toISOString(), subject: identity.subject, groups: identity.groups };
  }

  readonly handler: AdminRouteHandler = async (req: IncomingMessage, res: ServerResponse) => {
    let token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) {
      const body = await readBody(req);
      try {
        token = (JSON.parse(body || '{}') as { token?: string }).token;
      } catch {
        return send(res, 400, { error: 'bad_request', message: 'body must be JSON {"token": "..."} or use Authorization: Bearer' });
      }
    }
    if (!token) return send(res, 400, { error: 'bad_request', message: 'no token: send Authorization: Bearer <token> or {"token": "..."}' });
    try {
      send(res, 200, await this.exchange(token));
    } catch (err) {
      const reason = err instanceof IdentityRejected ? err.reason : 'token rejected';
      this.audit('', 'refused', reason);
      this.logger.warn('token exchange refused', { reason });
      send(res, 401, { error: 'invalid_token', message: reason });
    }
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 64 * 1024) { reject(new Error('body too large')); req.destroy(); }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
