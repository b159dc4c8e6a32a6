// TLS on the client side of a MySQL listener: a self-signed certificate made with openssl for the
// test. mysql2 writes its TLS ClientHello right behind the SSLRequest, often in the same TCP
// segment; those bytes belong to the TLS socket. A coalescing TCP relay in front of the listener
// makes that happen every time. `tls.require: true` refuses plaintext.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';
import { IdentityRejected, type PasswordVerifier } from '@querygate/core';
import { describeWith } from '../../../../test/services';
import { runCli } from '../helpers/cli';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

const TOKEN = 'tok.' + 'x'.repeat(700);

/** Accepts any user presenting TOKEN, the way an OIDC verifier accepts a JWT (too long for RSA). */
const tokenVerifier: PasswordVerifier = {
  name: 'test-token',
  async verify(user, secret) {
    if (!secret.startsWith('tok.')) return undefined;
    if (secret !== TOKEN) throw new IdentityRejected('bad token');
    return { subject: `ci:${user}`, groups: ['ci'], method: 'oidc', issuer: 'https://issuer.test', claims: {} };
  },
};

/**
 * A TCP relay that holds client bytes for a moment and forwards each batch in one write: the
 * SSLRequest and the ClientHello reach the listener as one chunk.
 */
function coalescingRelay(target: number): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    upstream.on('data', (b: Buffer) => client.write(b));
    let pending: Buffer[] = [];
    client.on('data', (b: Buffer) => {
      if (pending.length === 0) {
        setTimeout(() => {
          const batch = Buffer.concat(pending);
          pending = [];
          upstream.write(batch);
        }, 30);
      }
      pending.push(b);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ port: typeof address === 'object' && address ? address.port : 0, server, sockets });
  }));
}

describeWith('mariadb')('MySQL listener with TLS', () => {
  let dir: string;
  let gw: MysqlGateway;
  let relay: { port: number; server: Server; sockets: Set<Socket> };

  const options = (extra: Partial<ConnectionOptions> = {}): ConnectionOptions => ({
    host: '127.0.0.1', port: relay.port, user: ALICE.name, password: ALICE.password, database: 'app', connectTimeout: 5000,
    // Self-signed: this test checks the upgrade, not certificate chains.
    ssl: { rejectUnauthorized: false },
    ...extra,
  });
  const failure = async (o: ConnectionOptions): Promise<{ errno?: number; code?: string; message: string } | undefined> => {
    try {
      const c = await createConnection(o);
      await c.query('SELECT 1');
      await c.end();
      return undefined;
    } catch (err) {
      const e = err as { errno?: number; code?: string; message: string };
      return { errno: e.errno, code: e.code, message: e.message };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-mysql-tls-'));
    const cert = join(dir, 'gw.crt');
    const key = join(dir, 'gw.key');
    const made = await runCli('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
    expect(made.code).toBe(0);
    gw = await startMysqlGateway({ verifiers: [tokenVerifier], listenerYaml: [`tls: { cert: ${JSON.stringify(cert)}, key: ${JSON.stringify(key)}, require: true }`] });
    relay = await coalescingRelay(gw.port);
  });

  afterAll(async () => {
    for (const s of relay?.sockets ?? []) s.destroy();
    await new Promise((resolve) => relay?.server.close(resolve) ?? resolve(undefined));
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mysql2 with ssl: the ClientHello in the same chunk as the SSLRequest, a local user (caching_sha2)', async () => {
    const conn = await createConnection(options());
    try {
      const [rows] = await conn.query<RowDataPacket[]>("SELECT 40 + 2 AS v, @@version AS version");
      expect(rows[0]!.v).toBe(42);
      const [exec] = await conn.execute<RowDataPacket[]>('SELECT ? AS echo', ['over tls']);
      expect(exec[0]!.echo).toBe('over tls');
    } finally {
      await conn.end();
    }
    expect(gw.audit.find((e) => e.event === 'session.started' && e.identity?.subject === ALICE.name)).toBeDefined();
  });

  it('mysql2 with ssl straight to the listener (no relay)', async () => {
    const conn = await createConnection(options({ port: gw.port }));
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 AS one');
      expect(rows[0]!.one).toBe(1);
    } finally {
      await conn.end();
    }
  });

  it('a token too long for RSA works over TLS with stock mysql2; a wrong one gets 1045 like a wrong password', async () => {
    expect(await failure(options({ user: 'deploy-bot', password: TOKEN }))).toBeUndefined();
    expect(gw.audit.find((e) => e.event === 'session.started' && e.identity?.subject === 'ci:deploy-bot')).toBeDefined();
    const badToken = await failure(options({ user: 'deploy-bot', password: 'tok.wrong' }));
    const badPassword = await failure(options({ password: 'wrong' }));
    expect([badToken?.errno, badPassword?.errno]).toEqual([1045, 1045]);
    expect(badToken?.message).toBe(badPassword?.message);
  });

  it('refuses a client without TLS (require: true)', async () => {
    const refused = await failure(options({ ssl: undefined }));
    expect(refused?.errno).toBeGreaterThan(0);
    expect(refused?.message).toMatch(/TLS/i);
  });

  it('the mariadb CLI over TLS through the coalescing relay', async () => {
    const r = await runCli('mariadb', ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(relay.port), '-u', ALICE.name, `-p${ALICE.password}`,
      '--ssl', '--skip-ssl-verify-server-cert', '--batch', '--skip-column-names', '-e', 'SELECT 6 * 7', 'app']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').pop()).toBe('42');
  });
});
