// node-postgres (`pg`) through querygate against the harness's PostgreSQL: results identical to a
// direct connection, prepared statements, cursors, LISTEN/NOTIFY, refusals, SCRAM, cancel, masking.
import { connect } from 'node:net';
import { Client, type ClientConfig, type DatabaseError, type QueryConfig } from 'pg';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { pgClientConfig } from '../../../../test/services';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { withClient } from '../helpers/withClient';

const T = 'np_items';
const USERS = 'np_users';

const denyForbidden: Interceptor = {
  name: 'deny-forbidden',
  onStatement(statement) {
    if (statement.text.includes('forbidden_table')) {
      return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-forbidden-table', detail: 'forbidden_table is off limits' }));
    }
    return undefined;
  },
};

const upperEmail: Interceptor = {
  name: 'upper-email',
  onResult(result) {
    const columns = new Map<number, (v: string) => string | null>();
    result.columns.forEach((c, i) => {
      if (c.origin?.table === USERS && c.origin.column === 'email') columns.set(i, (v) => v.toUpperCase());
      if (c.origin?.table === USERS && c.origin.column === 'score') columns.set(i, (v) => String(Number(v) * 10));
    });
    return columns.size > 0 ? { columns, label: 'upper' } : undefined;
  },
};

/** node-postgres supports per-query binary results; its type definitions do not list the flag. */
function binary(text: string, values: unknown[]): QueryConfig {
  const config: QueryConfig & { binary: boolean } = { text, values, binary: true };
  return config;
}


function viaGateway(gw: TestGateway, extra: Partial<ClientConfig> = {}): ClientConfig {
  return { host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false, ...extra };
}

async function connectError(config: ClientConfig): Promise<DatabaseError> {
  const client = new Client(config);
  try {
    await client.connect();
  } catch (err) {
    return err as DatabaseError;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('connect unexpectedly succeeded');
}

describe('node-postgres through querygate', () => {
  let gw: TestGateway;
  const direct = pgClientConfig('app');

  beforeAll(async () => {
    await withClient(direct, async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${T}, ${USERS}, forbidden_table`);
      await c.query(`CREATE TABLE ${T} (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz, tags text[], doc jsonb)`);
      await c.query(`INSERT INTO ${T} SELECT g, 'item ' || g, g * 1.25, '2024-01-01'::timestamptz + g * interval '1 hour', ARRAY['a','b'], jsonb_build_object('n', g) FROM generate_series(1, 50) g`);
      await c.query(`CREATE TABLE ${USERS} (id int PRIMARY KEY, email text, score int4, note varchar(20))`);
      await c.query(`INSERT INTO ${USERS} VALUES (1, 'a@example.com', 7, 'x'), (2, NULL, NULL, NULL), (3, 'c@example.com', 5, 'z')`);
      await c.query('CREATE TABLE forbidden_table (id int)');
    });
    gw = await startTestGateway({ interceptors: [denyForbidden] });
  });

  afterAll(async () => {
    await gw?.stop();
  });

  test('simple and parameterised queries give the same results as a direct connection', async () => {
    const sqls = [
      `SELECT * FROM ${T} ORDER BY id`,
      `SELECT count(*), sum(price), max(at) FROM ${T}`,
      `SELECT 1 AS one, 'two' AS two, NULL::int AS three, now() IS NOT NULL AS four`,
    ];
    const run = async (config: ClientConfig): Promise<unknown[]> => withClient(config, async (c) => {
      const out: unknown[] = [];
      for (const sql of sqls) out.push((await c.query(sql)).rows);
      out.push((await c.query(`SELECT * FROM ${T} WHERE id = $1 OR name = $2`, [7, 'item 9'])).rows);
      out.push((await c.query(binary(`SELECT id, doc FROM ${T} WHERE id < $1 ORDER BY id`, [4]))).rows);
      return out;
    });
    expect(await run(viaGateway(gw))).toEqual(await run(direct));
  });

  test('named prepared statements are reused across executions', async () => {
    await withClient(viaGateway(gw), async (c) => {
      for (let i = 1; i <= 5; i++) {
        const r = await c.query({ name: 'by-id', text: `SELECT name FROM ${T} WHERE id = $1`, values: [i] });
        expect(r.rows).toEqual([{ name: `item ${i}` }]);
      }
    });
  });

  test('cursors with DECLARE / FETCH in a transaction', async () => {
    await withClient(viaGateway(gw), async (c) => {
      await c.query('BEGIN');
      await c.query(`DECLARE cur CURSOR FOR SELECT id FROM ${T} ORDER BY id`);
      const a = await c.query('FETCH 10 FROM cur');
      const b = await c.query('FETCH 5 FROM cur');
      await c.query('CLOSE cur');
      await c.query('COMMIT');
      expect(a.rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(b.rows.map((r) => r.id)).toEqual([11, 12, 13, 14, 15]);
      expect(a.rowCount).toBe(10);
    });
  });

  test('LISTEN / NOTIFY notifications pass through', async () => {
    await withClient(viaGateway(gw), async (listener) => {
      await listener.query('LISTEN np_channel');
      const got = new Promise<string | undefined>((resolve) => listener.on('notification', (n) => resolve(n.payload)));
      await withClient(viaGateway(gw), async (sender) => { await sender.query(`NOTIFY np_channel, 'hello'`); });
      await expect(got).resolves.toBe('hello');
    });
  });

  test('an error mid-transaction and ROLLBACK keep the session usable', async () => {
    await withClient(viaGateway(gw), async (c) => {
      await c.query('BEGIN');
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
    });
  });

  test('a denied statement reaches neither the server nor the client, simple and extended', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const simple = c.query('INSERT INTO forbidden_table VALUES (1)');
      await expect(simple).rejects.toMatchObject({ code: '42501' });
      await expect(simple).rejects.toThrow(/no-forbidden-table/);
      const extended = c.query('INSERT INTO forbidden_table VALUES ($1)', [2]);
      await expect(extended).rejects.toMatchObject({ code: '42501', detail: 'forbidden_table is off limits' });
      // Within a transaction, the status stays usable, and a pipelined batch after the refusal works.
      await c.query('BEGIN');
      await expect(c.query('INSERT INTO forbidden_table VALUES (3)')).rejects.toMatchObject({ code: '42501' });
      await c.query(`SELECT 1`);
      await c.query('COMMIT');
      expect((await c.query(`SELECT id FROM ${T} WHERE id = $1`, [1])).rows).toEqual([{ id: 1 }]);
    });
    const rows = await withClient(direct, async (c) => (await c.query('SELECT count(*)::int AS n FROM forbidden_table')).rows);
    expect(rows).toEqual([{ n: 0 }]);
  });

  test('SCRAM: wrong password and unknown user fail identically with 28P01', async () => {
    const wrong = await connectError(viaGateway(gw, { password: 'not-it' }));
    const unknown = await connectError(viaGateway(gw, { user: 'mallory', password: 'whatever' }));
    expect(wrong.code).toBe('28P01');
    expect(unknown.code).toBe('28P01');
    expect(unknown.message).toBe(wrong.message);
    expect(gw.audit.filter((e) => e.event === 'auth.failed').length).toBeGreaterThanOrEqual(2);
  });

  test('a query cancel reaches the upstream backend within a couple of seconds', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const started = Date.now();
      const sleeping = c.query('SELECT pg_sleep(30)');
      await new Promise((r) => setTimeout(r, 300));
      // A CancelRequest with the BackendKeyData querygate gave this client (what pg's cancel sends).
      const connection = (c as unknown as { processID: number; secretKey: number });
      await new Promise<void>((resolve, reject) => {
        const s = connect(gw.port, gw.host, () => {
          const b = Buffer.alloc(16);
          b.writeInt32BE(16, 0); b.writeInt32BE(80877102, 4); b.writeInt32BE(connection.processID, 8); b.writeInt32BE(connection.secretKey, 12);
          s.end(b);
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
      await expect(sleeping).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });
  });
});

describe('result rewriting through querygate', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ interceptors: [upperEmail] });
  });
  afterAll(async () => { await gw?.stop(); });

  test('text format: the masked column is rewritten, NULL stays NULL, other columns untouched', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const r = await c.query(`SELECT id, email, score, note FROM ${USERS} ORDER BY id`);
      expect(r.rows).toEqual([
        { id: 1, email: 'A@EXAMPLE.COM', score: 70, note: 'x' },
        { id: 2, email: null, score: null, note: null },
        { id: 3, email: 'C@EXAMPLE.COM', score: 50, note: 'z' },
      ]);
      const p = await c.query(`SELECT email AS e FROM ${USERS} WHERE id = $1`, [3]);
      expect(p.rows).toEqual([{ e: 'C@EXAMPLE.COM' }]);
    });
  });

  // node-postgres decodes every field as a UTF-8 string, binary ones too, so binary values here keep
  // to bytes below 0x80 (small positive integers, ASCII text) for the comparison to be meaningful.
  test('binary format: values are converted, rewritten and re-framed', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const r = await c.query(binary(`SELECT id, email, score, note FROM ${USERS} WHERE id > $1 ORDER BY id`, [0]));
      expect(r.rows).toEqual([
        { id: 1, email: 'A@EXAMPLE.COM', score: 70, note: 'x' },
        { id: 2, email: null, score: null, note: null },
        { id: 3, email: 'C@EXAMPLE.COM', score: 50, note: 'z' },
      ]);
    });
    const masked = gw.audit.filter((e) => e.event === 'masking.applied');
    expect(masked.length).toBeGreaterThan(0);
  });
});
