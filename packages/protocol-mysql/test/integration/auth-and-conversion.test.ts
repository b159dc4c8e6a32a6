import { createConnection, type RowDataPacket } from 'mysql2/promise';
import type { Interceptor, PasswordVerifier } from '@querygate/core';
import { describeWith, mariadbConfig } from '../../../../test/services';
import { startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

/** Accepts user "robot" with a token, the way an OIDC verifier accepts a JWT. */
const robotVerifier: PasswordVerifier = {
  name: 'robot-token',
  async verify(user, secret) {
    if (user !== 'robot' || secret !== 'token-abc.def.ghi') return undefined;
    return { subject: 'robot', groups: ['ci'], method: 'oidc', issuer: 'https://issuer.test', claims: {} };
  },
};

/** Rewrites every column of `kinds` with an identity mask: binary values go to text and back. */
const identityMask: Interceptor = {
  name: 'identity-mask',
  onResult(result) {
    if (!/kinds/.test(result.statement.text)) return undefined;
    return { columns: new Map(result.columns.map((_, i) => [i, (v: string) => v] as const)) };
  },
};

describeWith('mariadb')('authentication paths and binary conversions', () => {
  let gw: MysqlGateway;

  beforeAll(async () => {
    const direct = await createConnection({ ...mariadbConfig(), multipleStatements: true });
    await direct.query(`
      CREATE TABLE IF NOT EXISTS kinds2 (i INT, ti TINYINT, si SMALLINT UNSIGNED, bi BIGINT, d DECIMAL(10,2), f FLOAT, db DOUBLE,
        dt DATE, ts DATETIME(3), ts0 DATETIME, tm TIME, tm6 TIME(6), y YEAR, s VARCHAR(20), b VARBINARY(8), e ENUM('a','b'), j TEXT, n INT);
      TRUNCATE kinds2;
      INSERT INTO kinds2 VALUES (-5, -128, 65535, -9007199254740993, -12.34, 1.5, 2.25, '2024-02-29', '2024-02-29 13:14:15.123',
        '1999-12-31 23:59:59', '-838:59:59', '12:00:00.000001', 2024, 'hé', x'00ff', 'b', '{"a":1}', NULL),
        (0, 0, 0, 0, 0, 0, 0, '0000-00-00', '0000-00-00 00:00:00', '2000-01-01 00:00:00', '00:00:00', '00:00:00', 1901, '', x'', 'a', '', 1);
    `);
    await direct.end();
    gw = await startMysqlGateway({ interceptors: [identityMask], verifiers: [robotVerifier] });
  });

  afterAll(async () => { await gw?.stop(); });

  it('resolves a token user through caching_sha2_password full auth with the RSA key exchange', async () => {
    const conn = await createConnection({ host: '127.0.0.1', port: gw.port, user: 'robot', password: 'token-abc.def.ghi', database: 'app' });
    try {
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 7 AS v');
      expect(rows[0]!.v).toBe(7);
    } finally {
      await conn.end();
    }
    const started = gw.audit.find((e) => e.event === 'session.started' && e.identity?.subject === 'robot');
    expect(started?.identity?.method).toBe('oidc');
    await expect(createConnection({ host: '127.0.0.1', port: gw.port, user: 'robot', password: 'token-wrong' })).rejects.toMatchObject({ errno: 1045 });
  });

  it('converts every common binary type to text and back unchanged', async () => {
    const direct = await createConnection(mariadbConfig());
    const conn = await createConnection({ host: '127.0.0.1', port: gw.port, user: 'alice', password: 'alice-secret-1', database: 'app', dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
    const directStr = await createConnection({ ...mariadbConfig(), dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const sql = 'SELECT * FROM kinds2 WHERE i > ? OR i = ? ORDER BY i';
      const [viaGw] = await conn.execute(sql, [-100, 0]);
      const [viaDirect] = await directStr.execute(sql, [-100, 0]);
      expect(viaGw).toEqual(viaDirect);
      const [textGw] = await conn.query('SELECT * FROM kinds2 ORDER BY i');
      const [textDirect] = await directStr.query('SELECT * FROM kinds2 ORDER BY i');
      expect(textGw).toEqual(textDirect);
      expect(gw.audit.filter((e) => e.event === 'masking.applied').length).toBeGreaterThanOrEqual(2);
    } finally {
      await conn.end();
      await direct.end();
      await directStr.end();
    }
  });
});
