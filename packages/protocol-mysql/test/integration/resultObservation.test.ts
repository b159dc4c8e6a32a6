// What result hooks and the recording see of a MySQL result: column type names (TEXT columns are
// text, not blob), rows handed to RowTransform.observe after masking (text and binary protocol,
// NULL as null, bytes as 0x hex), a recorded session's masked rows, and upstream errors passed
// through the error hooks before they reach the client (with and without result hooks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { RecordingStore, type Interceptor, type RecordingRecord, type ResultColumn } from '@querygate/core';
import { describeWith, mariadbConfig } from '../../../../test/services';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';

const TABLE = `qg_observe_${process.pid}`;
const SECRET = 'ann.secret@example.com';

/** Quotes of the secret e-mail in a server's error text become `[redacted]`. */
const redactor: Interceptor = {
  name: 'redactor',
  onError: (error) => (error.message.includes(SECRET) ? { message: error.message.split(SECRET).join('[redacted]') } : undefined),
};

describeWith('mariadb')('result observation, type names and error redaction', () => {
  let direct: Connection;
  let seenColumns: ResultColumn[][] = [];
  let observed: (string | null)[][] = [];
  let dir: string;

  /** Observes the first two rows of results over TABLE; masks `email` when the statement says so. */
  const observer: Interceptor = {
    name: 'observer',
    onResult(result) {
      seenColumns.push([...result.columns]);
      if (!result.statement.text.includes(TABLE)) return undefined;
      const email = result.columns.findIndex((c) => c.name === 'email');
      const mask = /masked/.test(result.statement.text) && email >= 0;
      return {
        columns: mask ? new Map([[email, (v: string) => v.replace(/^[^@]*/, '***')]]) : new Map(),
        observe: (row) => { observed.push([...row]); },
        observeLimit: 2,
      };
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qg-mysql-observe-'));
    direct = await createConnection({ ...mariadbConfig(), multipleStatements: true });
    await direct.query(`
      DROP TABLE IF EXISTS ${TABLE};
      CREATE TABLE ${TABLE} (id INT PRIMARY KEY, email VARCHAR(80) UNIQUE, note TEXT, bin VARBINARY(8), at DATETIME(3),
        tt TINYTEXT, mt MEDIUMTEXT, lt LONGTEXT, b BLOB, js JSON) CHARSET utf8mb4;
      INSERT INTO ${TABLE} (id, email, note, bin, at) VALUES
        (1, '${SECRET}', 'n1', x'00ff', '2024-02-29 13:14:15.123'), (2, NULL, NULL, NULL, NULL), (3, 'user3@example.com', 'n3', x'', '2000-01-01 00:00:00');
    `);
  });
  afterAll(async () => {
    await direct?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await direct?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('with result hooks', () => {
    let gw: MysqlGateway;
    let conn: Connection;
    beforeAll(async () => {
      gw = await startMysqlGateway({ interceptors: [observer, redactor] });
      conn = await createConnection({ host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app' });
    });
    afterAll(async () => {
      await conn?.end();
      await gw?.stop();
    });
    beforeEach(() => { seenColumns = []; observed = []; });

    it('names TEXT columns by size and BLOB columns blob', async () => {
      await conn.query(`SELECT note, tt, mt, lt, b, bin, email FROM ${TABLE} WHERE id = 0`);
      expect(seenColumns[0]!.map((c) => [c.name, c.type])).toEqual([
        ['note', 'text'], ['tt', 'tinytext'], ['mt', 'mediumtext'], ['lt', 'longtext'], ['b', 'blob'], ['bin', 'varchar'], ['email', 'varchar'],
      ]);
    });

    it('observes the first observeLimit rows of a text result, unchanged for the client', async () => {
      const sql = `SELECT id, email, note, bin, at FROM ${TABLE} ORDER BY id`;
      const [rows] = await conn.query<RowDataPacket[]>(sql);
      const [expected] = await direct.query<RowDataPacket[]>(sql);
      expect(rows).toEqual(expected);
      expect(observed).toEqual([
        ['1', SECRET, 'n1', '0x00ff', '2024-02-29 13:14:15.123'],
        ['2', null, null, null, null],
      ]);
    });

    it('observes binary-protocol rows in text form, after masking', async () => {
      const sql = `SELECT id, email, bin, at /* masked */ FROM ${TABLE} WHERE id >= ? ORDER BY id`;
      const [rows] = await conn.execute<RowDataPacket[]>(sql, [1]);
      expect(rows.map((r) => r.email)).toEqual(['***@example.com', null, '***@example.com']);
      expect(observed).toEqual([
        ['1', '***@example.com', '0x00ff', '2024-02-29 13:14:15.123'],
        ['2', null, null, null],
      ]);
    });

    it('passes an upstream error through the error hooks (inspected response)', async () => {
      const err = await conn.query(`INSERT INTO ${TABLE} (id, email) VALUES (9, '${SECRET}')`).then(() => undefined, (e: { errno: number; sqlState: string; message: string }) => e);
      expect(err).toMatchObject({ errno: 1062, sqlState: '23000' });
      expect(err!.message).toContain('[redacted]');
      expect(err!.message).not.toContain(SECRET);
      const viaExecute = await conn.execute(`INSERT INTO ${TABLE} (id, email) VALUES (?, ?)`, [9, SECRET]).then(() => undefined, (e: { errno: number; message: string }) => e);
      expect(viaExecute).toMatchObject({ errno: 1062 });
      expect(viaExecute!.message).not.toContain(SECRET);
      // The connection goes on.
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 AS one');
      expect(rows[0]!.one).toBe(1);
    });
  });

  it('passes an upstream error through the error hooks without result hooks (passthrough)', async () => {
    const gw = await startMysqlGateway({ interceptors: [redactor] });
    const conn = await createConnection({ host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app', multipleStatements: true });
    try {
      const err = await conn.query(`SELECT 1; INSERT INTO ${TABLE} (id, email) VALUES (9, '${SECRET}')`).then(() => undefined, (e: { errno: number; message: string }) => e);
      expect(err).toMatchObject({ errno: 1062 });
      expect(err!.message).toBe(`Duplicate entry '[redacted]' for key 'email'`);
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 2 AS two');
      expect(rows[0]!.two).toBe(2);
    } finally {
      await conn.end();
      await gw.stop();
    }
    expect(gw.audit.some((e) => JSON.stringify(e).includes(SECRET))).toBe(false);
  });

  it('a recorded mysql2 session holds the masked rows, up to maxRowsPerResult', async () => {
    const recordings = join(dir, 'recordings');
    const masking: Interceptor = {
      name: 'masking',
      onResult(result) {
        const i = result.columns.findIndex((c) => c.name === 'email');
        return i < 0 ? undefined : { columns: new Map([[i, (v: string) => v.replace(/^[^@]*/, '***')]]), label: 'masking' };
      },
    };
    const gw = await startMysqlGateway({ interceptors: [masking], gatewayYaml: [`recording: { dir: ${JSON.stringify(recordings)}, maxRowsPerResult: 2 }`] });
    const conn = await createConnection({ host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app' });
    try {
      await conn.query(`SELECT id, email, note FROM ${TABLE} ORDER BY id`);
      await conn.execute(`SELECT id, bin FROM ${TABLE} WHERE id > ? ORDER BY id`, [0]);
    } finally {
      await conn.end();
      await gw.stop();
    }
    const store = new RecordingStore(recordings);
    const [id] = await store.ids();
    const records = (await store.read(id!)).records as RecordingRecord[];
    const results = records.filter((r): r is Extract<RecordingRecord, { type: 'result' }> => r.type === 'result');
    expect(results.map((r) => [r.columns, r.rows])).toEqual([
      [['id', 'email', 'note'], [['1', '***@example.com', 'n1'], ['2', null, null]]],
      [['id', 'bin'], [['1', '0x00ff'], ['2', null]]],
    ]);
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });
});
