import { createConnection, createPool, type Connection, type RowDataPacket } from 'mysql2/promise';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { describeWith, mariadbConfig, mariadbInfo } from '../../../../test/services';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

const denyForbidden: Interceptor = {
  name: 'deny-forbidden',
  onStatement(statement) {
    if (/forbidden_table/i.test(statement.text)) {
      return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'statement refused by policy', { rule: 'no-forbidden-table' }));
    }
    return undefined;
  },
};

const upperEmail: Interceptor = {
  name: 'upper-email',
  onResult(result) {
    const columns = new Map<number, (v: string) => string | null>();
    result.columns.forEach((c, i) => {
      if (c.origin?.schema === 'app' && c.origin.table === 'users' && c.origin.column === 'email') columns.set(i, (v) => v.toUpperCase());
    });
    return columns.size > 0 ? { columns, label: 'upper' } : undefined;
  },
};

function through(gw: MysqlGateway, extra: Record<string, unknown> = {}): Parameters<typeof createConnection>[0] {
  return { host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app', connectTimeout: 5000, ...extra };
}

describeWith('mariadb')('mysql2 through querygate', () => {
  let gw: MysqlGateway;
  let direct: Connection;

  beforeAll(async () => {
    direct = await createConnection({ ...mariadbConfig(), multipleStatements: true });
    await direct.query(`
      DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS forbidden_table; DROP TABLE IF EXISTS kinds;
      CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100), name VARCHAR(100));
      INSERT INTO users VALUES (1, 'ann@example.com', 'Ann'), (2, NULL, 'Bo'), (3, 'cy@example.com', NULL);
      CREATE TABLE forbidden_table (id INT);
      CREATE TABLE kinds (i INT, bi BIGINT UNSIGNED, d DECIMAL(10,2), f FLOAT, db DOUBLE, dt DATE, ts DATETIME(3), tm TIME, s VARCHAR(20), b BLOB, n INT);
      INSERT INTO kinds VALUES (-5, 18446744073709551615, 12.34, 1.5, 2.25, '2024-02-29', '2024-02-29 13:14:15.123', '-838:59:59', 'hé', x'00ff', NULL);
    `);
    gw = await startMysqlGateway({ interceptors: [denyForbidden, upperEmail] });
  });

  afterAll(async () => {
    await gw?.stop();
    await direct?.end();
  });

  it('runs query() and execute() with the same results as direct', async () => {
    const conn = await createConnection(through(gw));
    try {
      for (const sql of ['SELECT * FROM kinds', 'SELECT id, name FROM users ORDER BY id', 'SELECT 1 + 1 AS two, NULL AS nothing']) {
        const [viaGw] = await conn.query(sql);
        const [viaDirect] = await direct.query(sql);
        expect(viaGw).toEqual(viaDirect);
        const [exGw] = await conn.execute(sql);
        const [exDirect] = await direct.execute(sql);
        expect(exGw).toEqual(exDirect);
      }
      const [rows] = await conn.execute<RowDataPacket[]>('SELECT name FROM users WHERE id = ?', [1]);
      expect(rows).toEqual([{ name: 'Ann' }]);
      const [res] = await conn.execute('INSERT INTO kinds (i, s) VALUES (?, ?)', [7, 'x']);
      expect((res as { affectedRows: number }).affectedRows).toBe(1);
    } finally {
      await conn.end();
    }
  });

  it('uses caching_sha2_password (fast path) and reports querygate\'s connection id', async () => {
    const conn = await createConnection(through(gw));
    try {
      expect(conn.threadId).toBeGreaterThan(0);
      const [rows] = await conn.query<RowDataPacket[]>('SELECT CURRENT_USER() AS u');
      expect(String(rows[0]!.u)).toMatch(/^app@/);
    } finally {
      await conn.end();
    }
  });

  it('refuses a wrong password and an unknown user with the same 1045', async () => {
    const errors: { errno?: number; sqlState?: string; message: string }[] = [];
    for (const extra of [{ password: 'wrong' }, { user: 'nobody', password: 'x' }]) {
      try {
        const c = await createConnection(through(gw, extra));
        await c.end();
        throw new Error('connected');
      } catch (err) {
        errors.push(err as { errno?: number; sqlState?: string; message: string });
      }
    }
    expect(errors.map((e) => e.errno)).toEqual([1045, 1045]);
    expect(errors[0]!.sqlState).toBe('28000');
    expect(errors[0]!.message).toBe(errors[1]!.message);
    expect(gw.audit.filter((e) => e.event === 'auth.failed').length).toBeGreaterThanOrEqual(2);
  });

  it('runs multi-statements and a pool of 5', async () => {
    const conn = await createConnection(through(gw, { multipleStatements: true }));
    try {
      const [results] = await conn.query('SELECT 1 AS a; SELECT id FROM users ORDER BY id; UPDATE kinds SET n = n WHERE 0');
      const [directResults] = await direct.query('SELECT 1 AS a; SELECT id FROM users ORDER BY id; UPDATE kinds SET n = n WHERE 0');
      expect(results).toEqual(directResults);
    } finally {
      await conn.end();
    }
    const pool = createPool({ ...through(gw), connectionLimit: 5 });
    try {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query<RowDataPacket[]>('SELECT ? AS v', [i])));
      expect(answers.map(([rows]) => Number(rows[0]!.v))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await pool.end();
    }
  });

  it('denies a statement before it reaches the server, also as the second of a multi-statement and at prepare', async () => {
    const conn = await createConnection(through(gw, { multipleStatements: true }));
    try {
      await direct.query('DELETE FROM kinds WHERE i = 99');
      await expect(conn.query('SELECT * FROM forbidden_table')).rejects.toMatchObject({ errno: 1142, sqlState: '42000', message: expect.stringContaining('no-forbidden-table') });
      await expect(conn.query('INSERT INTO kinds (i) VALUES (99); SELECT * FROM forbidden_table')).rejects.toMatchObject({ errno: 1142 });
      const [rows] = await direct.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM kinds WHERE i = 99');
      expect(Number(rows[0]!.n)).toBe(0);
      await expect(conn.execute('SELECT * FROM forbidden_table WHERE id = ?', [1])).rejects.toMatchObject({ errno: 1142 });
      // The session keeps working.
      const [ok] = await conn.query<RowDataPacket[]>('SELECT 42 AS v');
      expect(ok[0]!.v).toBe(42);
    } finally {
      await conn.end();
    }
  });

  it('rewrites masked columns in text and binary rows, NULL staying NULL', async () => {
    const conn = await createConnection(through(gw));
    try {
      const [text] = await conn.query<RowDataPacket[]>('SELECT id, email, name FROM users ORDER BY id');
      expect(text.map((r) => r.email)).toEqual(['ANN@EXAMPLE.COM', null, 'CY@EXAMPLE.COM']);
      expect(text.map((r) => r.name)).toEqual(['Ann', 'Bo', null]);
      const [binary] = await conn.execute<RowDataPacket[]>('SELECT id, email, name FROM users WHERE id >= ? ORDER BY id', [1]);
      expect(binary.map((r) => r.email)).toEqual(['ANN@EXAMPLE.COM', null, 'CY@EXAMPLE.COM']);
      expect(binary.map((r) => r.id)).toEqual([1, 2, 3]);
    } finally {
      await conn.end();
    }
    expect(gw.audit.some((e) => e.event === 'masking.applied')).toBe(true);
  });

  it('refuses LOAD DATA LOCAL INFILE with 1148', async () => {
    const conn = await createConnection(through(gw));
    try {
      await expect(conn.query("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE users")).rejects.toMatchObject({ errno: 1148 });
    } finally {
      await conn.end();
    }
  });

  it('kills a running query by querygate connection id from a second connection', async () => {
    const a = await createConnection(through(gw));
    const b = await createConnection(through(gw));
    try {
      const started = Date.now();
      const sleeping = a.query('SELECT SLEEP(30) AS s').then(() => 'done', (e: { errno?: number }) => `error ${e.errno}`);
      await new Promise((r) => setTimeout(r, 300));
      await b.query(`KILL QUERY ${a.threadId}`);
      const outcome = await sleeping;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(outcome).toMatch(/done|error 1317/);
      // Not someone else's session, and not an upstream thread id.
      await expect(b.query('KILL QUERY 999999')).rejects.toMatchObject({ errno: 1142 });
      const [still] = await a.query<RowDataPacket[]>('SELECT 1 AS v');
      expect(still[0]!.v).toBe(1);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('passes COM_PING, COM_INIT_DB, COM_CHANGE_USER and COM_RESET_CONNECTION', async () => {
    const conn = await createConnection(through(gw));
    try {
      await conn.ping();
      await conn.changeUser({ user: 'bob', password: 'bob-secret-2', database: 'app' });
      const [rows] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS d, CURRENT_USER() AS u');
      expect(rows[0]!.d).toBe('app');
      expect(String(rows[0]!.u)).toMatch(/^app@/);
      await conn.query('USE app');
      await expect(conn.changeUser({ user: 'bob', password: 'nope' })).rejects.toMatchObject({ errno: 1045 });
    } finally {
      conn.destroy();
    }
    expect(mariadbInfo().port).toBeGreaterThan(0);
  });
});
