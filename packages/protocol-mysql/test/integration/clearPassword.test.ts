// A listener with `allowPlaintextPasswords: true`, without TLS: a user querygate does not know
// (an OIDC token as the password) is switched to mysql_clear_password at once, so stock mysql2
// (`enableCleartextPlugin`) sends the token as it is instead of RSA-encrypting it, which a JWT is
// too long for. Local users keep caching_sha2_password; every refusal is the same 1045.
import { createConnection, type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';
import { IdentityRejected, type PasswordVerifier } from '@querygate/core';
import { describeWith } from '../../../../test/services';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

/** As long as a real JWT (~700 bytes): RSA-OAEP with a 2048-bit key holds at most 214. */
const TOKEN = 'eyJ.' + 'a'.repeat(700);

const tokenVerifier: PasswordVerifier = {
  name: 'test-token',
  async verify(user, secret) {
    if (!secret.startsWith('eyJ.')) return undefined;
    if (secret !== TOKEN) throw new IdentityRejected('bad token');
    return { subject: `ci:${user}`, groups: ['ci'], method: 'oidc', issuer: 'https://issuer.test', claims: {} };
  },
};

describeWith('mariadb')('allowPlaintextPasswords without TLS', () => {
  let gw: MysqlGateway;
  const options = (extra: Partial<ConnectionOptions> = {}): ConnectionOptions => ({
    host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app', connectTimeout: 5000, ...extra,
  });
  const attempt = async (o: ConnectionOptions): Promise<{ errno?: number; code?: string; message: string } | undefined> => {
    try {
      const c = await createConnection(o);
      const [rows] = await c.query<RowDataPacket[]>('SELECT 1 AS one');
      expect(rows[0]!.one).toBe(1);
      await c.end();
      return undefined;
    } catch (err) {
      const e = err as { errno?: number; code?: string; message: string };
      return { errno: e.errno, code: e.code, message: e.message };
    }
  };

  beforeAll(async () => {
    gw = await startMysqlGateway({ verifiers: [tokenVerifier], listenerYaml: ['allowPlaintextPasswords: true'] });
  });
  afterAll(async () => { await gw?.stop(); });

  it('stock mysql2 logs in with a token (mysql_clear_password, no custom plugin)', async () => {
    expect(await attempt(options({ user: 'deploy-bot', password: TOKEN, enableCleartextPlugin: true }))).toBeUndefined();
    expect(gw.audit.find((e) => e.event === 'session.started' && e.identity?.subject === 'ci:deploy-bot')?.identity?.method).toBe('oidc');
  });

  it('a local user still authenticates with caching_sha2_password (no cleartext opt-in needed)', async () => {
    expect(await attempt(options())).toBeUndefined();
  });

  it('wrong password, wrong token and unknown user all get 1045 with the same message', async () => {
    const refused = [
      await attempt(options({ password: 'wrong' })),
      await attempt(options({ user: 'deploy-bot', password: 'eyJ.wrong', enableCleartextPlugin: true })),
      await attempt(options({ user: 'nobody', password: 'x', enableCleartextPlugin: true })),
    ];
    expect(refused.map((r) => r?.errno)).toEqual([1045, 1045, 1045]);
    expect(new Set(refused.map((r) => r?.message)).size).toBe(1);
  });
});
