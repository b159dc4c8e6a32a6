// Byte-level checks of refusals in the extended query protocol: a Parse refused in the middle of a
// pipelined batch answers in the server's order, then the rest of the batch is discarded until Sync,
// and ReadyForQuery carries the upstream's transaction status.
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { pgClientConfig } from '../../../../test/services';
import { Client } from 'pg';
import { RawClient, sqlstate } from '../helpers/RawClient';
import { startTestGateway, type TestGateway } from '../helpers/testGateway';

const denyForbidden: Interceptor = {
  name: 'deny-forbidden',
  onStatement(statement) {
    if (statement.text.includes('forbidden_table')) return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'raw' }));
    if (statement.text.includes('slow_ok')) {
      return new Promise((resolve) => setTimeout(() => resolve(Verdicts.allow()), 100));
    }
    return undefined;
  },
};

describe('extended protocol refusals, byte level', () => {
  let gw: TestGateway;
  let c: RawClient;
  beforeAll(async () => {
    const admin = new Client(pgClientConfig('app'));
    await admin.connect();
    await admin.query('DROP TABLE IF EXISTS raw_t; CREATE TABLE raw_t (v int)');
    await admin.end();
    gw = await startTestGateway({ interceptors: [denyForbidden], listenerYaml: '    allowPlaintextPasswords: true' });
    gw.gateway.identities.addVerifier({
      name: 'raw-token',
      async verify(user, secret) { return secret === 'raw-token' ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
    });
    c = await RawClient.login(gw.port, 'raw-user', 'raw-token');
  });
  afterAll(async () => {
    c?.close();
    await gw?.stop();
  });

  test('a Parse refused mid-batch: earlier results first, then the error, the rest discarded, one ReadyForQuery', async () => {
    c.send(
      c.parse('', 'INSERT INTO raw_t VALUES (1)'), c.bind('', ''), c.execute(''),
      c.parse('', 'SELECT * FROM forbidden_table'), c.bind('', ''), c.execute(''),
      c.parse('', 'INSERT INTO raw_t VALUES (2)'), c.bind('', ''), c.execute(''),
      c.sync(),
    );
    const got = await c.until('Z');
    expect(got.map((m) => m.type).join('')).toBe('12CEZ');
    expect(sqlstate(got[3]!.body)).toBe('42501');
    c.send(c.query('SELECT array_agg(v ORDER BY v)::text FROM raw_t'));
    const rows = await c.until('Z');
    expect(rows.find((m) => m.type === 'D')?.body.toString('latin1')).toContain('{1}');
  });

  test('a Parse refused first in a batch is answered without the server', async () => {
    c.send(c.parse('s1', 'SELECT * FROM forbidden_table'), c.bind('', 's1'), c.execute(''), c.sync());
    const got = await c.until('Z');
    expect(got.map((m) => m.type).join('')).toBe('EZ');
    expect(got[1]!.body.toString('latin1')).toBe('I');
  });

  test('refusals inside a transaction keep the transaction status T', async () => {
    c.send(c.query('BEGIN'));
    await c.until('Z');
    c.send(c.query('SELECT 1 FROM forbidden_table'));
    const simple = await c.until('Z');
    expect(simple.map((m) => m.type).join('')).toBe('EZ');
    expect(simple[1]!.body.toString('latin1')).toBe('T');
    c.send(c.parse('', 'SELECT 1 FROM forbidden_table'), c.sync());
    const extended = await c.until('Z');
    expect(extended.map((m) => m.type).join('')).toBe('EZ');
    expect(extended[1]!.body.toString('latin1')).toBe('T');
    c.send(c.query('ROLLBACK'));
    await c.until('Z');
  });

  test('messages pipelined behind an asynchronous judgement wait in order', async () => {
    c.send(
      c.query('SELECT 1 AS slow_ok'),
      c.query('SELECT 2'),
      c.parse('', 'SELECT 3 AS slow_ok'), c.bind('', ''), c.execute(''), c.sync(),
    );
    const first = await c.until('Z');
    const second = await c.until('Z');
    const third = await c.until('Z');
    expect(first.find((m) => m.type === 'D')?.body.subarray(6).toString()).toBe('1');
    expect(second.find((m) => m.type === 'D')?.body.subarray(6).toString()).toBe('2');
    expect(third.map((m) => m.type).join('')).toBe('12DCZ');
  });
});
