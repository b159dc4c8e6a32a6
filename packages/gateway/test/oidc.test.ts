import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { IdentityRejected, type OidcIssuerConfig } from '@querygate/core';
import { OidcVerifier } from '../src/identity/OidcVerifier';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const ISSUER = 'https://token.actions.githubusercontent.com';
const AUDIENCE = 'querygate';

describe('OidcVerifier', () => {
  let key: SigningKey;
  let publicJwk: JWK;
  let otherKey: SigningKey;
  let verifier: OidcVerifier;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const dir = mkdtempSync(join(tmpdir(), 'qg-oidc-'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [publicJwk] }));
    const config: OidcIssuerConfig = {
      issuer: ISSUER, audience: AUDIENCE, jwks: { file: join(dir, 'jwks.json') }, algorithms: ['RS256'], clockSkew: 30_000,
      subjectClaim: 'sub', groupsFrom: ['repository', 'environment'], require: { repository_owner: 'acme' },
    };
    verifier = new OidcVerifier([config]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: ISSUER, aud: AUDIENCE, sub: 'repo:acme/api:ref:refs/heads/main', repository: 'acme/api', repository_owner: 'acme',
    environment: 'production', iat: now() - 10, exp: now() + 300, ...over,
  });
  const sign = (payload: Record<string, unknown>, signingKey: SigningKey = key, kid = 'k1') =>
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(signingKey);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const reject = async (token: string, reason: RegExp) => {
    const error = await verifier.verify('anyone', token).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityRejected);
    expect((error as IdentityRejected).reason).toMatch(reason);
  };

  it('accepts a valid GitHub Actions-style token and maps claims to groups', async () => {
    const identity = await verifier.verify('ignored-startup-user', await sign(claims()));
    expect(identity).toMatchObject({
      subject: 'repo:acme/api:ref:refs/heads/main', method: 'oidc', issuer: ISSUER,
      groups: ['repository:acme/api', 'environment:production'],
    });
  });

  it('ignores what is not a JWT (a password)', async () => {
    await expect(verifier.verify('u', 'hunter2')).resolves.toBeUndefined();
  });

  it('refuses an expired token', async () => reject(await sign(claims({ exp: now() - 120 })), /expired/));
  it('refuses a token that is not yet valid', async () => reject(await sign(claims({ nbf: now() + 600 })), /nbf/));
  it('refuses a token issued in the future', async () => reject(await sign(claims({ iat: now() + 600 })), /iat|future/));
  it('refuses a wrong issuer', async () => reject(await sign(claims({ iss: 'https://evil.example' })), /issuer/));
  it('refuses a wrong audience', async () => reject(await sign(claims({ aud: 'someone-else' })), /aud/));
  it('refuses an unknown kid', async () => reject(await sign(claims(), key, 'k2'), /kid|no key/));
  it('refuses a bad signature', async () => reject(await sign(claims(), otherKey), /signature/));
  it('refuses a missing required claim', async () => reject(await sign(claims({ repository_owner: 'mallory' })), /repository_owner/));
  it('refuses a token without exp', async () => {
    const { exp: _exp, ...rest } = claims();
    await reject(await sign(rest), /exp/);
  });
  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', kid: 'k1' })}.${b64(claims())}.`;
    await reject(token, /algorithm/);
  });
  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    const header = b64({ alg: 'HS256', kid: 'k1' });
    const payload = b64(claims());
    const secret = JSON.stringify(publicJwk);
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    await reject(`${header}.${payload}.${signature}`, /algorithm/);
  });
});
