import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify,
  type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { IdentityRejected, type Identity, type OidcIssuerConfig, type PasswordVerifier } from '@querygate/core';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface Issuer {
  readonly config: OidcIssuerConfig;
  readonly keys: JWTVerifyGetKey;
}

/**
 * Verifies OIDC/JWT tokens presented as a password. The issuer is chosen by the token's `iss`
 * among the configured ones; then signature (only the configured asymmetric algorithms: never
 * `none`, never HMAC, so a token "signed" with the public key as an HMAC secret is refused), audience,
 * exp/nbf/iat within the clock skew, and required claims. Configured claims become groups.
 */
export class OidcVerifier implements PasswordVerifier {
  readonly name = 'oidc';
  private readonly issuers: Issuer[];

  constructor(configs: readonly OidcIssuerConfig[]) {
    this.issuers = configs.map((config) => ({ config, keys: keySet(config) }));
  }

  async verify(_user: string, secret: string): Promise<Identity | undefined> {
    if (!JWT_SHAPE.test(secret)) return undefined;
    let claims: JWTPayload;
    let alg: string | undefined;
    try {
      claims = decodeJwt(secret);
      alg = decodeProtectedHeader(secret).alg;
    } catch {
      return undefined;
    }
    const issuer = this.issuers.find((i) => i.config.issuer === claims.iss);
    if (!issuer) throw new IdentityRejected(`token issuer ${JSON.stringify(claims.iss)} is not configured`);
    const { config } = issuer;
    if (!alg || !(config.algorithms as readonly string[]).includes(alg)) {
      throw new IdentityRejected(`token algorithm ${JSON.stringify(alg)} is not allowed for ${config.issuer}`);
    }
    const skew = Math.round(config.clockSkew / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(secret, issuer.keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: [...config.algorithms],
        clockTolerance: skew,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (err) {
      throw new IdentityRejected(describeJoseError(err));
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + skew) throw new IdentityRejected('token issued in the future (iat)');
    for (const [claim, expected] of Object.entries(config.require)) {
      if (payload[claim] !== expected) throw new IdentityRejected(`required claim ${claim} does not match`);
    }
    const subject = payload[config.subjectClaim];
    if (typeof subject !== 'string' || subject === '') throw new IdentityRejected(`token has no ${config.subjectClaim} claim`);
    const groups: string[] = [];
    for (const claim of config.groupsFrom) {
      const value = payload[claim];
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') groups.push(`${claim}:${v}`);
      }
    }
    return Object.freeze({ subject, groups: Object.freeze(groups), method: 'oidc' as const, issuer: config.issuer, claims: Object.freeze({ ...payload }) });
  }
}

function keySet(config: OidcIssuerConfig): JWTVerifyGetKey {
  const jwks = config.jwks;
  if ('file' in jwks) {
    let parsed: JSONWebKeySet;
    try {
      parsed = JSON.parse(readFileSync(jwks.file, 'utf8')) as JSONWebKeySet;
    } catch (err) {
      throw new Error(`cannot read the JWKS file ${jwks.file} for ${config.issuer}: ${(err as Error).message}`);
    }
    return createLocalJWKSet(parsed);
  }
  // Fetched lazily, cached for cacheMaxAge, and refetched (rate-limited) when a token names an unknown kid.
  return createRemoteJWKSet(new URL(jwks.url), { timeoutDuration: jwks.timeout, cacheMaxAge: jwks.cacheMaxAge, cooldownDuration: 30_000 });
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim ${err.claim} invalid: ${err.reason}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token (unknown kid)';
  if (err instanceof errors.JWKSTimeout) return 'JWKS fetch timed out';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JOSEError) return `token rejected: ${err.code}`;
  return `token rejected: ${(err as Error).message}`;
}
