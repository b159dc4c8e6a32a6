// TLS on the client side: a self-signed certificate made with openssl for the test; psql with
// sslmode=require works, `tls.require: true` refuses plaintext; over TLS a non-local user presents
// a token as a cleartext password, resolved by a password verifier.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { IdentityRejected, type Identity } from '@querygate/core';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { run } from '../helpers/run';

describe('TLS listener', () => {
  let dir: string;
  let gw: TestGateway;
  const env = (extra: Record<string, string>): Record<string, string> => ({
    PGHOST: gw.host, PGPORT: String(gw.port), PGUSER: ALICE.user, PGPASSWORD: ALICE.password, PGDATABASE: 'app', ...extra,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-tls-'));
    const cert = join(dir, 'gw.crt');
    const key = join(dir, 'gw.key');
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
    expect(made.code).toBe(0);
    gw = await startTestGateway({ listenerYaml: `    tls: { cert: ${JSON.stringify(cert)}, key: ${JSON.stringify(key)}, require: true }` });
    gw.gateway.identities.addVerifier({
      name: 'test-token',
      async verify(user, secret): Promise<Identity | undefined> {
        if (!secret.startsWith('tok.')) return undefined;
        if (secret !== 'tok.valid') throw new IdentityRejected('bad token');
        return { subject: `ci:${user}`, groups: ['ci'], method: 'oidc', issuer: 'https://issuer.test', claims: {} };
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('psql with sslmode=require works over TLS (SCRAM inside)', async () => {
    const r = await run('psql', ['-X', '-A', '-t', '-c', 'SELECT 40 + 2'], { env: env({ PGSSLMODE: 'require' }) });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('42');
    const info = await run('psql', ['-X', '-c', '\\conninfo'], { env: env({ PGSSLMODE: 'require' }) });
    expect(info.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
  });

  test('require: true refuses sslmode=disable with FATAL 28000', async () => {
    const r = await run('psql', ['-X', '-c', 'SELECT 1'], { env: env({ PGSSLMODE: 'disable' }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/FATAL:\s+listener "pg" requires TLS/);
    const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });
    const err = await c.connect().then(() => undefined, (e: Error & { code?: string }) => e);
    await c.end().catch(() => undefined);
    expect(err?.code).toBe('28000');
  });

  test('a token presented as the password over TLS (cleartext request), and a bad token gets 28P01', async () => {
    const ok = await run('psql', ['-X', '-A', '-t', '-c', 'SELECT 1'], { env: env({ PGSSLMODE: 'require', PGUSER: 'deploy-bot', PGPASSWORD: 'tok.valid' }) });
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('1');
    const bad = await run('psql', ['-X', '-c', 'SELECT 1'], { env: env({ PGSSLMODE: 'require', PGUSER: 'deploy-bot', PGPASSWORD: 'tok.forged' }) });
    expect(bad.stderr).toMatch(/FATAL:\s+authentication failed/);
    const started = gw.audit.filter((e) => e.event === 'session.started').map((e) => e.identity?.subject);
    expect(started).toContain('ci:deploy-bot');
  });

  test('node-postgres over TLS', async () => {
    const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: { rejectUnauthorized: false } });
    await c.connect();
    expect((await c.query('SELECT 5 AS n')).rows).toEqual([{ n: 5 }]);
    await c.end();
  });
});
