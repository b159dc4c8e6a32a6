// What the adapter reads from the session and its statements before judging: the server's
// NO_BACKSLASH_ESCAPES status flag (it changes where statements split) and the analyser's commands
// for what querygate refuses itself (LOAD DATA / XML LOCAL, KILL inside PREPARE).
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import type { Interceptor } from '@querygate/core';
import { describeWith } from '../../../../test/services';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

describeWith('mariadb')('session state and refusals', () => {
  let gw: MysqlGateway;
  const judged: string[] = [];
  const recorder: Interceptor = {
    name: 'recorder',
    onStatement(statement) { judged.push(statement.text); return undefined; },
  };

  beforeAll(async () => {
    gw = await startMysqlGateway({ interceptors: [recorder] });
  });

  afterAll(async () => {
    await gw?.stop();
  });

  const connect = (): ReturnType<typeof createConnection> => createConnection({
    host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app', connectTimeout: 5000, multipleStatements: true,
  });

  async function completedSince(count: number, expected: number): Promise<number> {
    const until = Date.now() + 2000;
    for (;;) {
      const n = gw.audit.filter((e) => e.event === 'statement.completed').length - count;
      if (n >= expected || Date.now() > until) return n;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('splits the way the server does once sql_mode has NO_BACKSLASH_ESCAPES, and back', async () => {
    // With backslash escapes: one SELECT of the string "x'; SELECT 2; -- ".
    // Without: SELECT 'x\' ; SELECT 2 ; and a comment.
    const sql = "SELECT 'x\\'; SELECT 2 AS two; -- '";
    const conn = await connect();
    try {
      judged.length = 0;
      const [one] = await conn.query<RowDataPacket[]>(sql);
      expect(one).toHaveLength(1);
      expect(Object.values(one[0]!)[0]).toBe("x'; SELECT 2 AS two; -- ");
      expect(judged[0]).toBe(sql);

      await conn.query("SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
      judged.length = 0;
      let before = gw.audit.filter((e) => e.event === 'statement.completed').length;
      const [two] = await conn.query<RowDataPacket[][]>(sql);
      // MariaDB also answers the comment after the last `;` (an empty OK).
      expect(two.length).toBeGreaterThanOrEqual(2);
      expect(Object.values(two[0]![0]!)[0]).toBe('x\\');
      expect(two[1]![0]!.two).toBe(2);
      // The server's two statements are the top-level ones, each completed on its own result (the
      // other reading is still judged, nested under the statement it overlaps).
      expect(judged[0]).toBe("SELECT 'x\\'");
      expect(judged).toContain('SELECT 2 AS two');
      expect(await completedSince(before, 2)).toBe(2);

      await conn.query("SET sql_mode = ''");
      judged.length = 0;
      before = gw.audit.filter((e) => e.event === 'statement.completed').length;
      await conn.query(sql);
      expect(judged[0]).toBe(sql);
      expect(await completedSince(before, 1)).toBe(1);
    } finally {
      await conn.end();
    }
  });

  it('refuses LOAD DATA / LOAD XML LOCAL wherever the analyser finds it, and only there', async () => {
    const conn = await connect();
    try {
      for (const sql of [
        "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t",
        "LOAD DATA LOW_PRIORITY LOCAL INFILE '/etc/passwd' INTO TABLE t",
        "/* hidden */ LOAD XML LOCAL INFILE '/etc/passwd' INTO TABLE t",
        "SELECT 1; LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t",
        "PREPARE s FROM 'LOAD DATA LOCAL INFILE ''/etc/passwd'' INTO TABLE t'",
      ]) {
        await expect(conn.query(sql)).rejects.toMatchObject({ errno: 1148 });
      }
      await expect(conn.prepare("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t")).rejects.toMatchObject({ errno: 1148 });
      // Words in a string are not a statement.
      const [rows] = await conn.query<RowDataPacket[]>("SELECT 'load data local infile' AS s");
      expect(rows[0]!.s).toBe('load data local infile');
      const denied = gw.audit.filter((e) => e.event === 'statement.denied' && e.rule === 'local-infile');
      expect(denied.length).toBeGreaterThanOrEqual(5);
    } finally {
      await conn.end();
    }
  });

  it('refuses KILL inside PREPARE, which would reach the upstream with an upstream thread id', async () => {
    const conn = await connect();
    try {
      await expect(conn.query("PREPARE k FROM 'KILL 1'")).rejects.toMatchObject({ errno: 1235 });
      await expect(conn.prepare('KILL 1')).rejects.toMatchObject({ errno: 1235 });
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 AS v');
      expect(rows[0]!.v).toBe(1);
    } finally {
      await conn.end();
    }
  });
});
