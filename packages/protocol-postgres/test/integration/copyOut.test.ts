// COPY ... TO STDOUT through a real gateway in front of the harness's PostgreSQL, with a result hook
// that masks the `email` column: the adapter names COPY columns from the catalog, rewrites the rows
// in text and CSV, over the simple and the extended protocol, and refuses what it cannot rewrite.
import type { Interceptor, ResultSet, RowTransform } from '@querygate/core';
import { pgClientConfig } from '../../../../test/services';
import { RawClient, sqlstate, type RawMessage } from '../helpers/RawClient';
import { startTestGateway, type TestGateway } from '../helpers/testGateway';
import { withClient } from '../helpers/withClient';

const T = 'copy_out_people';
const SECRET = 'ann.secret@example.com';


/** Masks every column named email, for COPY only; remembers the columns it was shown. */
function maskingEmails(shown: ResultSet[]): Interceptor {
  return {
    name: 'emails',
    onResult(result): RowTransform | undefined {
      if (result.source !== 'copy') return undefined;
      shown.push(result);
      const columns = new Map<number, (v: string) => string>();
      result.columns.forEach((c, i) => { if (c.name === 'email') columns.set(i, (v) => v.replace(/^[^@]*/, '***')); });
      return { columns, label: 'emails' };
    },
  };
}

const bodies = (messages: readonly RawMessage[], type: string): string[] => messages.filter((m) => m.type === type).map((m) => m.body.toString('utf8'));

describe('COPY TO STDOUT with a masking result hook', () => {
  let gw: TestGateway;
  const shown: ResultSet[] = [];

  beforeAll(async () => {
    await withClient(pgClientConfig('app'), async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${T}`);
      await c.query(`CREATE TABLE ${T} (id int PRIMARY KEY, email text, born date, initials text GENERATED ALWAYS AS (upper(left(email, 1))) STORED)`);
      await c.query(`INSERT INTO ${T} (id, email, born) VALUES (1, '${SECRET}', '1990-01-02'), (2, NULL, NULL), (3, 'o''hara,"x"@example.com', '2000-03-04')`);
    });
    gw = await startTestGateway({ interceptors: [maskingEmails(shown)], listenerYaml: '    allowPlaintextPasswords: true' });
    gw.gateway.identities.addVerifier({
      name: 'raw-token',
      async verify(user, secret) { return secret === 'copy-token' ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await withClient(pgClientConfig('app'), (c) => c.query(`DROP TABLE IF EXISTS ${T}`));
  });
  beforeEach(() => { shown.length = 0; });

  test('COPY table: columns named and typed from the catalog (generated one left out), rows masked, one CopyData each', async () => {
    const c = await RawClient.login(gw.port, 'raw', 'copy-token');
    try {
      c.send(c.query(`COPY ${T} TO STDOUT WITH (FORMAT csv, HEADER)`));
      const got = await c.until('Z');
      expect(got.map((m) => m.type).join('')).toBe('HddddcCZ');
      expect(bodies(got, 'd')).toEqual(['id,email,born\n', '1,***@example.com,1990-01-02\n', '2,,\n', '3,"***@example.com",2000-03-04\n']);
      expect(shown[0]?.columns.map((col) => `${col.name}:${col.type}:${col.origin?.schema}.${col.origin?.table}.${col.origin?.column}`)).toEqual([
        `id:int4:public.${T}.id`, `email:text:public.${T}.email`, `born:date:public.${T}.born`,
      ]);
    } finally {
      c.close();
    }
    // Audit: masked values counted as for DataRows (NULL is not a masked value).
    const applied = async () => {
      for (let i = 0; i < 40; i++) {
        const found = gw.audit.filter((e) => e.event === 'masking.applied');
        if (found.length > 0) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      return [];
    };
    expect((await applied()).at(-1)?.masking).toEqual({ columns: ['email'], values: 2 });
  });

  test('COPY (query) over the extended protocol: masked, text format escapes kept', async () => {
    const c = await RawClient.login(gw.port, 'raw', 'copy-token');
    try {
      c.send(c.parse('', `COPY (SELECT id, email, initials FROM ${T} ORDER BY id) TO STDOUT`), c.bind('', ''), c.execute(''), c.sync());
      const got = await c.until('Z');
      expect(got.map((m) => m.type).join('')).toBe('12HdddcCZ');
      expect(bodies(got, 'd')).toEqual(['1\t***@example.com\tA\n', '2\t\\N\t\\N\n', '3\t***@example.com\tO\n']);
    } finally {
      c.close();
    }
  });

  test('binary format and a * the catalog cannot expand one for one (JOIN USING) are refused when a column is masked; the session goes on', async () => {
    const c = await RawClient.login(gw.port, 'raw', 'copy-token');
    try {
      for (const sql of [
        `COPY ${T} (id, email) TO STDOUT WITH (FORMAT binary)`,
        `COPY (SELECT * FROM ${T} JOIN ${T} t2 USING (id)) TO STDOUT`,
      ]) {
        c.send(c.query(sql));
        const got = await c.until('Z');
        expect(got.map((m) => m.type).join('')).toBe('EZ');
        expect(sqlstate(got[0]!.body)).toBe('42501');
        expect(got[0]!.body.toString()).toMatch(/COPY TO STDOUT of columns that need masking was refused/);
        expect(got[0]!.body.toString()).not.toContain(SECRET);
      }
      c.send(c.parse('', `COPY ${T} (email) TO STDOUT (FORMAT binary)`), c.bind('', ''), c.execute(''), c.sync());
      const extended = await c.until('Z');
      expect(extended.map((m) => m.type).join('')).toBe('12EZ');
      c.send(c.query(`COPY (SELECT id FROM ${T} ORDER BY id) TO STDOUT WITH (FORMAT binary)`));
      const plain = await c.until('Z');
      // Nothing to mask: the binary COPY passes as the server sent it.
      expect(plain.map((m) => m.type).join('')).toMatch(/^Hd+cCZ$/);
    } finally {
      c.close();
    }
  });

  test('node-postgres sees the same shape of result for a COPY it does not read', async () => {
    const result = await withClient({ host: gw.host, port: gw.port, user: 'raw', password: 'copy-token', database: 'app', ssl: false }, (c) => c.query(`COPY ${T} TO STDOUT`));
    expect(result.command).toBe('COPY');
    expect(result.rowCount).toBe(3);
  });
});
