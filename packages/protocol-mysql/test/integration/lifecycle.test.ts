import { createServer, type Server } from 'node:net';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { describeWith, mariadbConfig } from '../../../../test/services';
import { ALICE, startMysqlGateway } from '../helpers/mysqlGateway';

const login = (port: number): Parameters<typeof createConnection>[0] =>
  ({ host: '127.0.0.1', port, user: ALICE.name, password: ALICE.password, database: 'app', connectTimeout: 5000 });

describeWith('mariadb')('upstream failures and shutdown', () => {
  it('answers 2003 naming the listener when the upstream is down', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const gw = await startMysqlGateway({ upstream: { host: '127.0.0.1', port } });
    try {
      const t0 = Date.now();
      await expect(createConnection(login(gw.port))).rejects.toMatchObject({ errno: 2003, message: expect.stringContaining('listener "mysql"') });
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      await gw.stop();
    }
  });

  it('answers 2003 when the upstream refuses querygate\'s login', async () => {
    const gw = await startMysqlGateway({ upstream: { ...{ host: '127.0.0.1', port: Number(mariadbConfig().port) }, password: 'not-the-password' } });
    try {
      await expect(createConnection(login(gw.port))).rejects.toMatchObject({ errno: 2003 });
    } finally {
      await gw.stop();
    }
  });

  it('ends the session with 2013 when the upstream connection dies, and other sessions go on', async () => {
    const gw = await startMysqlGateway();
    const victim = await createConnection(login(gw.port));
    const other = await createConnection(login(gw.port));
    const root = await createConnection(mariadbConfig('root'));
    try {
      const [rows] = await victim.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      // CONNECTION_ID() is the upstream's thread id; the client's handshake id is querygate's.
      expect(Number(rows[0]!.id)).not.toBe(victim.threadId);
      const lost = new Promise<{ errno?: number; code?: unknown }>((resolve) => victim.on('error', resolve));
      await root.query(`KILL ${Number(rows[0]!.id)}`);
      // mysql2 reports an ERR that arrives between commands with the errno as `code`.
      const e = await lost;
      expect(e.errno ?? e.code).toBe(2013);
      expect(String((e as Error).message)).toContain('upstream');
      await expect(victim.query('SELECT 1')).rejects.toThrow();
      const [ok] = await other.query<RowDataPacket[]>('SELECT 2 AS v');
      expect(ok[0]!.v).toBe(2);
    } finally {
      victim.destroy();
      await other.end();
      await root.end();
      await gw.stop();
    }
  });

  it('drains: an idle session gets 1053 and the listener stops accepting', async () => {
    const gw = await startMysqlGateway();
    const conn = await createConnection(login(gw.port));
    const errors: { errno?: number; code?: unknown }[] = [];
    conn.on('error', (e: { errno?: number; code?: unknown }) => errors.push(e));
    await gw.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.map((e) => e.errno ?? e.code)).toContain(1053);
    expect(gw.listener.activeSessions).toBe(0);
    conn.destroy();
  });
});
