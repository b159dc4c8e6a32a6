import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PluginOptionsError, type Logger } from '@querygate/core';
import type { JwtIssuerOptions, LocalApproverOptions } from '../ApprovalOptions';
import type { Approver } from '../transitions';

export type AuthOutcome =
  | { readonly ok: true; readonly approver: Approver }
  | { readonly ok: false; readonly message: string };

interface Issuer {
  readonly options: JwtIssuerOptions;
  readonly keys: JWTVerifyGetKey;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Who is calling the admin API: a Bearer JWT from a configured issuer (verified against its JWKS),
 * or HTTP Basic for a local approver. Groups decide who may approve; the subject is compared with
 * the requester's so nobody approves their own request.
 */
export class ApproverAuthenticator {
  private readonly issuers: Issuer[];
  private readonly users: ReadonlyMap<string, { digest: Buffer; groups: readonly string[] }>;

  constructor(options: { readonly jwt: readonly JwtIssuerOptions[]; readonly users: readonly LocalApproverOptions[] }, private readonly logger: Logger) {
    this.issuers = options.jwt.map((issuer, i) => ({ options: issuer, keys: keySet(issuer, i, options.jwt.length > 1) }));
    this.users = new Map(options.users.map((u) => [u.name, { digest: digest(u.password.reveal()), groups: u.groups }]));
  }

  get methods(): readonly ('Bearer' | 'Basic')[] {
    return [...(this.issuers.length > 0 ? ['Bearer' as const] : []), ...(this.users.size > 0 ? ['Basic' as const] : [])];
  }

  async authenticate(authorization: string | undefined): Promise<AuthOutcome> {
    if (!authorization) return { ok: false, message: 'authentication required: send Authorization: Bearer <JWT> or Basic credentials' };
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer' && this.issuers.length > 0) return this.bearer(value);
    if (scheme === 'basic' && this.users.size > 0) return this.basic(value);
    return { ok: false, message: `unsupported authorization scheme; use ${this.methods.join(' or ')}` };
  }

  private async bearer(token: string): Promise<AuthOutcome> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return { ok: false, message: 'the bearer token is not a JWT' };
    }
    const issuer = this.issuers.find((i) => i.options.issuer === unverified.iss);
    if (!issuer) return { ok: false, message: 'the token\'s issuer is not configured' };
    const o = issuer.options;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: o.issuer,
        audience: typeof o.audience === 'string' ? o.audience : [...o.audience],
        algorithms: [...o.algorithms],
        clockTolerance: o.clockToleranceSec,
      }));
    } catch (err) {
      this.logger.debug('approver token rejected', { issuer: o.issuer, error: (err as Error).message });
      return { ok: false, message: 'invalid or expired token' };
    }
    const subject = payload[o.subjectClaim];
    if (typeof subject !== 'string' || subject === '') return { ok: false, message: `the token has no "${o.subjectClaim}" claim` };
    const groups = new Set<string>();
    const listed = payload[o.groupsClaim];
    if (Array.isArray(listed)) for (const g of listed) { if (typeof g === 'string') groups.add(g); }
    else if (typeof listed === 'string') groups.add(listed);
    for (const claim of o.groupsFrom) {
      const v = payload[claim];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') groups.add(`${claim}:${String(v)}`);
    }
    return { ok: true, approver: { subject, groups: [...groups], method: 'jwt' } };
  }

  private basic(value: string): AuthOutcome {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, message: 'malformed Basic credentials' };
    const name = decoded.slice(0, colon);
    const user = this.users.get(name);
    // Compare against something even for unknown names, so timing does not tell which names exist.
    const expected = user?.digest ?? digest('\0no such user');
    const matches = timingSafeEqual(expected, digest(decoded.slice(colon + 1)));
    if (!user || !matches) return { ok: false, message: 'wrong user name or password' };
    return { ok: true, approver: { subject: name, groups: user.groups, method: 'basic' } };
  }
}

function keySet(issuer: JwtIssuerOptions, index: number, many: boolean): JWTVerifyGetKey {
  const path = many ? ['auth', 'jwt', index, 'jwks'] : ['auth', 'jwt', 'jwks'];
  if ('url' in issuer.jwks) return createRemoteJWKSet(new URL(issuer.jwks.url), { timeoutDuration: 5_000, cacheMaxAge: 600_000 });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(issuer.jwks.file, 'utf8'));
  } catch (err) {
    throw new PluginOptionsError([...path, 'file'], `cannot read the JWKS file: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw new PluginOptionsError([...path, 'file'], 'not a JWKS (a JSON object with a "keys" list)');
  }
  return createLocalJWKSet(json as Parameters<typeof createLocalJWKSet>[0]);
}
