// postgres.js through querygate: pipelining (several queries in flight on one connection), a
// refusal in the middle of a pipeline, a held statement that later messages wait behind, cancel.
import postgres from 'postgres';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { postgresInfo } from '../../../../test/services';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';

const policy: Interceptor = {
  name: 'policy',
  onStatement(statement) {
    if (statement.text.includes('forbidden_table')) {
      return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-forbidden-table' }));
    }
    if (statement.text.includes('/* hold */')) {
      const decision = new Promise<ReturnType<typeof Verdicts.allow>>((resolve) => setTimeout(() => resolve(Verdicts.allow()), 300));
      return Verdicts.hold(decision, { notice: 'waiting for approval', rule: 'test-hold' });
    }
    return undefined;
  },
};

describe('postgres.js through querygate', () => {
  let gw: TestGateway;
  const pg = postgresInfo();
  beforeAll(async () => { gw = await startTestGateway({ interceptors: [policy] }); });
  afterAll(async () => { await gw?.stop(); });

  const connect = (via: 'gateway' | 'direct', onnotice?: (n: postgres.Notice) => void): postgres.Sql => postgres(via === 'gateway'
    ? { host: gw.host, port: gw.port, user: ALICE.user, pass: ALICE.password, database: 'app', max: 1, ssl: false, onnotice: onnotice ?? (() => undefined) }
    : { host: pg.host, port: pg.port, user: 'app', pass: pg.users.app.password, database: 'app', max: 1, ssl: false, onnotice: () => undefined });

  test('pipelined queries give the same results as a direct connection', async () => {
    const workload = async (sql: postgres.Sql): Promise<unknown> => {
      try {
        const inFlight = [];
        for (let i = 0; i < 20; i++) inFlight.push(sql`SELECT ${i}::int AS i, repeat('x', ${i}) AS s, ${i % 3 === 0 ? null : i * 1.5}::float8 AS f`);
        inFlight.push(sql`SELECT g, md5(g::text) FROM generate_series(1, 300) g`);
        inFlight.push(sql.unsafe('SELECT 1 AS a; SELECT 2 AS b'));
        const results = await Promise.all(inFlight);
        return results.map((r) => [...r]);
      } finally {
        await sql.end();
      }
    };
    expect(await workload(connect('gateway'))).toEqual(await workload(connect('direct')));
  });

  test('a refusal in the middle of a pipeline fails only that query, in order', async () => {
    const sql = connect('gateway');
    try {
      const results = await Promise.allSettled([
        sql`SELECT 1 AS n`,
        sql`SELECT * FROM forbidden_table WHERE id = ${1}`,
        sql`SELECT 3 AS n`,
        sql.unsafe('SELECT * FROM forbidden_table'),
        sql`SELECT 5 AS n`,
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: '42501' });
      expect((results[4] as PromiseFulfilledResult<postgres.RowList<postgres.Row[]>>).value[0]).toEqual({ n: 5 });
    } finally {
      await sql.end();
    }
  });

  test('a held statement: the notice arrives at once, later pipelined statements wait in order', async () => {
    const notices: string[] = [];
    const sql = connect('gateway', (n) => notices.push(n.message));
    try {
      await sql`DROP TABLE IF EXISTS pjs_order`;
      await sql`CREATE TABLE pjs_order (seq serial, label text)`;
      const started = Date.now();
      await Promise.all([
        sql.unsafe(`INSERT INTO pjs_order (label) VALUES ('held') /* hold */`),
        sql`INSERT INTO pjs_order (label) VALUES ('after')`,
      ]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(notices).toContain('waiting for approval');
      const rows = await sql`SELECT label FROM pjs_order ORDER BY seq`;
      expect(rows.map((r) => r.label)).toEqual(['held', 'after']);
    } finally {
      await sql.end();
    }
  });

  test('query.cancel() cancels a running statement through querygate', async () => {
    const sql = connect('gateway');
    try {
      const started = Date.now();
      const q = sql`SELECT pg_sleep(30)`;
      setTimeout(() => q.cancel(), 300);
      await expect(q).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(3000);
      expect([...await sql`SELECT 'alive' AS s`]).toEqual([{ s: 'alive' }]);
    } finally {
      await sql.end();
    }
  });
});
