// Two adapter duties besides masking, through a real gateway in front of the harness's PostgreSQL:
// handing the rows the client receives to RowTransform.observe (session recording), and passing
// every upstream ErrorResponse through the error hooks (Interceptor.onError) before the client, the
// audit trail and the recording see it.
import { Client, type ClientConfig, type DatabaseError, type QueryConfig } from 'pg';
import type { Interceptor, RowTransform, ValueMask } from '@querygate/core';
import { pgClientConfig } from '../../../../test/services';
import { RawClient, type RawMessage } from '../helpers/RawClient';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { withClient } from '../helpers/withClient';

const USERS = 'obs_users';
const SECRET = 'ann.secret@example.com';

type Row = readonly (string | null)[];

/** What the observing interceptor does for the next result sets; tests set it before each query. */
interface ObserveSetting {
  limit: number | undefined;
  mask: boolean;
  throws: boolean;
}

function observing(setting: ObserveSetting, seen: Row[]): Interceptor {
  return {
    name: 'observer',
    onResult(result): RowTransform {
      const columns = new Map<number, ValueMask>();
      if (setting.mask) {
        result.columns.forEach((c, i) => { if (c.name === 'email') columns.set(i, (v) => v.replace(/^[^@]*/, '***')); });
      }
      return {
        columns,
        label: 'observer',
        observe: (row) => {
          if (setting.throws) throw new Error('observer failed');
          seen.push(row.slice());
        },
        observeLimit: setting.limit,
      };
    },
  };
}

/** Uppercases message, detail and hint, and drops CONTEXT, of every error quoting a value. */
const shouting: Interceptor = {
  name: 'shouting',
  onError(error) {
    if (error.code === '23505') return { message: 'duplicate key (value withheld)', hint: 'ask the DBA' };
    if (!/syntax|zero|invalid|secret/i.test(`${error.message} ${error.detail ?? ''}`)) return undefined;
    return { message: error.message.toUpperCase(), detail: error.detail?.toUpperCase(), hint: error.hint?.toUpperCase() };
  },
};

function binary(text: string, values: unknown[]): QueryConfig {
  const config: QueryConfig & { binary: boolean } = { text, values, binary: true };
  return config;
}


async function failure(c: Client, query: string | QueryConfig, values?: unknown[]): Promise<DatabaseError> {
  try {
    if (typeof query === 'string') await c.query(query, values);
    else await c.query(query);
  } catch (err) {
    return err as DatabaseError;
  }
  throw new Error('query unexpectedly succeeded');
}

function viaGateway(gw: TestGateway): ClientConfig {
  return { host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false };
}

/** ErrorResponse fields, parsed here independently of the codec under test. */
function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    out[code] = body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return out;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

beforeAll(async () => {
  await withClient(pgClientConfig('app'), async (c) => {
    await c.query(`DROP TABLE IF EXISTS ${USERS}`);
    await c.query(`CREATE TABLE ${USERS} (id int PRIMARY KEY, email text, score int4)`);
    await c.query(`INSERT INTO ${USERS} VALUES (1, '${SECRET}', 7), (2, NULL, NULL), (3, 'c@example.com', 5), (4, 'd@example.com', 4)`);
  });
});

afterAll(async () => {
  await withClient(pgClientConfig('app'), (c) => c.query(`DROP TABLE IF EXISTS ${USERS}`));
});

describe('RowTransform.observe', () => {
  let gw: TestGateway;
  const seen: Row[] = [];
  const setting: ObserveSetting = { limit: 2, mask: false, throws: false };

  beforeAll(async () => {
    gw = await startTestGateway({ interceptors: [observing(setting, seen)], listenerYaml: '    allowPlaintextPasswords: true' });
    gw.gateway.identities.addVerifier({
      name: 'raw-token',
      async verify(user, secret) { return secret === 'obs-token' ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
    });
  });
  afterAll(async () => { await gw?.stop(); });
  beforeEach(() => {
    seen.length = 0;
    Object.assign(setting, { limit: 2, mask: false, throws: false });
  });

  test('an observe-only plan (no columns) sees the first observeLimit rows; the client gets every row unchanged', async () => {
    const rows = await withClient(viaGateway(gw), async (c) => (await c.query(`SELECT id, email, score FROM ${USERS} ORDER BY id`)).rows);
    expect(rows).toEqual([
      { id: 1, email: SECRET, score: 7 },
      { id: 2, email: null, score: null },
      { id: 3, email: 'c@example.com', score: 5 },
      { id: 4, email: 'd@example.com', score: 4 },
    ]);
    expect(seen).toEqual([['1', SECRET, '7'], ['2', null, null]]);
  });

  test('the observer sees the masked values, NULL as null; each result set of a multi-statement query counts anew', async () => {
    setting.mask = true;
    setting.limit = 3;
    await withClient(viaGateway(gw), async (c) => {
      const results = await c.query(`SELECT id, email FROM ${USERS} ORDER BY id; SELECT email, 'x' AS k FROM ${USERS} WHERE id = 1`) as unknown as { rows: unknown[] }[];
      expect(results[0]!.rows).toEqual([
        { id: 1, email: '***@example.com' }, { id: 2, email: null }, { id: 3, email: '***@example.com' }, { id: 4, email: '***@example.com' },
      ]);
      expect(results[1]!.rows).toEqual([{ email: '***@example.com', k: 'x' }]);
    });
    expect(seen).toEqual([['1', '***@example.com'], ['2', null], ['3', '***@example.com'], ['***@example.com', 'x']]);
  });

  test('binary-format values are handed over in their text form (extended protocol)', async () => {
    setting.limit = 10;
    const rows = await withClient(viaGateway(gw), async (c) => (await c.query(binary(`SELECT id, score, email FROM ${USERS} WHERE id > $1 ORDER BY id`, [2]))).rows);
    expect(rows).toHaveLength(2);
    expect(seen).toEqual([['3', '5', 'c@example.com'], ['4', '4', 'd@example.com']]);
  });

  test('a portal read in pieces (Execute with a row limit) counts its rows across Executes', async () => {
    setting.limit = 3;
    const c = await RawClient.login(gw.port, 'raw-user', 'obs-token');
    try {
      const execute = (n: number): Buffer => RawClient.frame('E', Buffer.concat([RawClient.cstr(''), int32(n)]));
      // Bind with one result format code: binary (1) for every column.
      const bindBinary = RawClient.frame('B', Buffer.concat([RawClient.cstr(''), RawClient.cstr(''), Buffer.from([0, 0, 0, 0, 0, 1, 0, 1])]));
      c.send(c.parse('', `SELECT id, email FROM ${USERS} ORDER BY id`), bindBinary, RawClient.frame('D', Buffer.from('P\0')), execute(2), execute(5), c.sync());
      const got: RawMessage[] = await c.until('Z');
      expect(got.map((m) => m.type).join('')).toBe('12TDDsDDCZ');
    } finally {
      c.close();
    }
    expect(seen).toEqual([['1', SECRET], ['2', null], ['3', 'c@example.com']]);
  });

  test('observeLimit 0 or absent observes nothing; an observer that throws does not touch the rows', async () => {
    setting.limit = 0;
    await withClient(viaGateway(gw), (c) => c.query(`SELECT id FROM ${USERS}`));
    setting.limit = undefined;
    await withClient(viaGateway(gw), (c) => c.query(`SELECT id FROM ${USERS}`));
    expect(seen).toEqual([]);
    Object.assign(setting, { limit: 5, throws: true, mask: true });
    const rows = await withClient(viaGateway(gw), async (c) => (await c.query(`SELECT email FROM ${USERS} WHERE id = 1`)).rows);
    expect(rows).toEqual([{ email: '***@example.com' }]);
  });

  test('COPY TO STDOUT with an observe-only plan is relayed, not refused', async () => {
    const c = await RawClient.login(gw.port, 'raw-user', 'obs-token');
    try {
      c.send(c.query(`COPY (SELECT id FROM ${USERS} ORDER BY id) TO STDOUT`));
      const got = await c.until('Z');
      expect(got.map((m) => m.type).join('')).toBe('HddddcCZ');
      expect(got.filter((m) => m.type === 'd').map((m) => m.body.toString())).toEqual(['1\n', '2\n', '3\n', '4\n']);
    } finally {
      c.close();
    }
  });
});

describe('Interceptor.onError on upstream errors', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ interceptors: [shouting], listenerYaml: '    allowPlaintextPasswords: true' });
    gw.gateway.identities.addVerifier({
      name: 'raw-token',
      async verify(user, secret) { return secret === 'obs-token' ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
    });
  });
  afterAll(async () => { await gw?.stop(); });

  const completedErrors = (): { code: string; message: string }[] => gw.audit
    .filter((e) => e.event === 'statement.completed' && e.error)
    .map((e) => e.error!);

  test('simple query: message and detail rewritten; SQLSTATE, severity and position kept; audit has the new text', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const err = await failure(c, `SELECT 'not-a-number-${SECRET}'::int`);
      expect(err.message).toBe(`INVALID INPUT SYNTAX FOR TYPE INTEGER: "NOT-A-NUMBER-${SECRET.toUpperCase()}"`);
      expect(err.code).toBe('22P02');
      expect(err.severity).toBe('ERROR');
      expect(err.position).toBe('8');
      // The session stays usable.
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
    await new Promise((r) => setTimeout(r, 50));
    const audited = completedErrors().find((e) => e.code === '22P02');
    expect(audited?.message).toBe(`INVALID INPUT SYNTAX FOR TYPE INTEGER: "NOT-A-NUMBER-${SECRET.toUpperCase()}"`);
    expect(JSON.stringify(gw.audit)).not.toContain(SECRET);
  });

  test('a field the hook leaves undefined is dropped, one it adds is sent, other fields stay', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const err = await failure(c, `INSERT INTO ${USERS} VALUES (1, 'dup@example.com', 0)`);
      expect(err.code).toBe('23505');
      expect(err.message).toBe('duplicate key (value withheld)');
      expect(err.detail).toBeUndefined();
      expect(err.hint).toBe('ask the DBA');
      expect(err.constraint).toBe(`${USERS}_pkey`);
      expect(err.table).toBe(USERS);
    });
  });

  test('extended protocol: errors at Bind and at Execute are rewritten too', async () => {
    await withClient(viaGateway(gw), async (c) => {
      const atBind = await failure(c, 'SELECT $1::int AS v', ['nope']);
      expect(atBind.code).toBe('22P02');
      expect(atBind.message).toBe('INVALID INPUT SYNTAX FOR TYPE INTEGER: "NOPE"');
      const atExecute = await failure(c, 'SELECT 1 / $1::int AS v', [0]);
      expect(atExecute.code).toBe('22012');
      expect(atExecute.message).toBe('DIVISION BY ZERO');
      expect((await c.query('SELECT $1::int AS v', [3])).rows).toEqual([{ v: 3 }]);
    });
  });

  test('an error no hook changes reaches the client with every field the server sent', async () => {
    const viaGw = await RawClient.login(gw.port, 'raw-user', 'obs-token');
    const direct = new Client(pgClientConfig('app'));
    await direct.connect();
    try {
      viaGw.send(viaGw.query('SELECT * FROM obs_no_such_table'));
      const got = await viaGw.until('Z');
      const fields = errorFields(got.find((m) => m.type === 'E')!.body);
      const expected = await failure(direct, 'SELECT * FROM obs_no_such_table');
      expect(fields.C).toBe('42P01');
      expect(fields.M).toBe(expected.message);
      expect(fields.P).toBe(expected.position);
      expect(Object.keys(fields)).toEqual(['S', 'V', 'C', 'M', 'P', 'F', 'L', 'R']);
    } finally {
      viaGw.close();
      await direct.end();
    }
  });

  test('the rewritten ErrorResponse keeps the server field order (S V C M ... P F L R)', async () => {
    const c = await RawClient.login(gw.port, 'raw-user', 'obs-token');
    try {
      c.send(c.query("SELECT 'zz'::int"));
      const got = await c.until('Z');
      const fields = errorFields(got.find((m) => m.type === 'E')!.body);
      expect(fields).toMatchObject({ S: 'ERROR', V: 'ERROR', C: '22P02', M: 'INVALID INPUT SYNTAX FOR TYPE INTEGER: "ZZ"', P: '8' });
      expect(Object.keys(fields)).toEqual(['S', 'V', 'C', 'M', 'P', 'F', 'L', 'R']);
    } finally {
      c.close();
    }
  });
});
