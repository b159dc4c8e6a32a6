// Malformed input ends only the offending session with 08P01 while others keep working; upstream
// down / lost gives a clear FATAL; drain closes idle sessions and lets busy ones finish.
import { connect, type Socket } from 'node:net';
import { Client, type ClientConfig } from 'pg';
import { postgresInfo, pgClientConfig } from '../../../../test/services';
import { freePort } from '../../../../packages/services/src';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';

/** Sends raw bytes to a fresh connection and collects everything until the server closes. */
function rawExchange(port: number, chunks: readonly Buffer[], waitMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const s: Socket = connect(port, '127.0.0.1', () => {
      for (const c of chunks) s.write(c);
    });
    s.on('data', (d) => received.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(received)));
    setTimeout(() => s.destroy(), waitMs).unref();
  });
}

/** SQLSTATE of the first ErrorResponse in a byte stream (independent of the codec under test). */
function sqlstateOf(bytes: Buffer): string | undefined {
  let pos = 0;
  while (pos + 5 <= bytes.length) {
    const length = bytes.readInt32BE(pos + 1);
    if (bytes[pos] === 0x45) {
      const m = /C([0-9A-Z]{5})\0/.exec(bytes.subarray(pos + 5, pos + 1 + length).toString('latin1'));
      return m?.[1];
    }
    pos += 1 + length;
  }
  return undefined;
}

function startup(user: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0app\0\0`, 'latin1');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

describe('malformed input', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startTestGateway(); });
  afterAll(async () => { await gw?.stop(); });

  const viaGateway = (): ClientConfig => ({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });

  test('garbage before startup, a huge length, a bad protocol version: 08P01 / 0A000, other sessions unaffected', async () => {
    const bystander = new Client(viaGateway());
    await bystander.connect();
    try {
      const http = await rawExchange(gw.port, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
      expect(sqlstateOf(http)).toBe('08P01');
      const tiny = await rawExchange(gw.port, [Buffer.from('00000002', 'hex')]);
      expect(sqlstateOf(tiny)).toBe('08P01');
      const v2 = await rawExchange(gw.port, [Buffer.from('0000000800020000', 'hex')]);
      expect(sqlstateOf(v2)).toBe('0A000');
      expect(v2.toString('latin1')).toContain('unsupported frontend protocol 2.0');
      // A truncated startup packet: nothing to answer yet; the connection just waits (bounded by the
      // handshake timeout) and the client giving up harms nobody.
      const truncated = await rawExchange(gw.port, [startup(ALICE.user).subarray(0, 11)], 300);
      expect(truncated.length).toBe(0);
      // The password exchange with a non-password message.
      const badAuth = await rawExchange(gw.port, [startup(ALICE.user), Buffer.from('5100000009', 'hex'), Buffer.from('x\0\0\0\0', 'latin1')]);
      expect(sqlstateOf(badAuth)).toBe('08P01');
      expect((await bystander.query('SELECT 1 AS still')).rows).toEqual([{ still: 1 }]);
    } finally {
      await bystander.end();
    }
  });

  const afterLogin: [string, Buffer][] = [
    ['an unknown message type', Buffer.from('7a00000004', 'hex')],
    ['a huge length header', Buffer.from('517fffffff', 'hex')],
    ['a length below 4', Buffer.from('5100000002', 'hex')],
    ['a Bind whose counts overrun its length', Buffer.from('420000000800007fff', 'hex')],
    ['a Parse without terminators', Buffer.from('5000000007414243', 'hex')],
    ['a Describe of neither S nor P', Buffer.from('44000000065800', 'hex')],
  ];
  test.each(afterLogin)('after login, %s ends only that session with 08P01', async (_what, bytes) => {
    const victim = new Client(viaGateway());
    const bystander = new Client(viaGateway());
    await victim.connect();
    await bystander.connect();
    try {
      const failed = new Promise<Error & { code?: string }>((resolve) => victim.on('error', resolve));
      const stream = (victim as unknown as { connection: { stream: Socket } }).connection.stream;
      // Split the bad frame in two writes, as a slow network would.
      stream.write(bytes.subarray(0, 3));
      await new Promise((r) => setTimeout(r, 20));
      stream.write(bytes.subarray(3));
      const err = await failed;
      expect(err.code).toBe('08P01');
      expect((await bystander.query('SELECT 2 AS still')).rows).toEqual([{ still: 2 }]);
    } finally {
      await victim.end().catch(() => undefined);
      await bystander.end();
    }
  });
});

describe('upstream failures and drain', () => {
  test('upstream down: FATAL 08001 naming the listener, promptly', async () => {
    const deadPort = await freePort();
    const gw = await startTestGateway({ upstream: { port: deadPort } });
    try {
      const started = Date.now();
      const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });
      const err = await c.connect().then(() => undefined, (e: Error & { code?: string }) => e);
      await c.end().catch(() => undefined);
      expect(err?.code).toBe('08001');
      expect(err?.message).toMatch(/listener "pg"/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await gw.stop();
    }
  });

  test('upstream login refused: FATAL 08004', async () => {
    const gw = await startTestGateway({ upstream: { user: 'app_md5' } });
    // Break the login on purpose: point the upstream user at a role whose password differs.
    (gw.gateway.config.listeners[0].upstream as { user: string }).user = 'app_clear';
    try {
      const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });
      const err = await c.connect().then(() => undefined, (e: Error & { code?: string }) => e);
      await c.end().catch(() => undefined);
      expect(err?.code).toBe('08004');
    } finally {
      await gw.stop();
    }
  });

  test('md5 and cleartext upstream logins work', async () => {
    for (const user of ['app_md5', 'app_clear', 'app_trust'] as const) {
      const gw = await startTestGateway({ upstream: { user } });
      try {
        const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });
        await c.connect();
        expect((await c.query('SELECT current_user AS u')).rows).toEqual([{ u: user }]);
        await c.end();
      } finally {
        await gw.stop();
      }
    }
  });

  test('an upstream that dies mid-session ends the client session with a FATAL', async () => {
    const gw = await startTestGateway();
    try {
      const c = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false, application_name: 'qg-victim' });
      await c.connect();
      const ended = new Promise<Error & { code?: string }>((resolve) => c.on('error', resolve));
      const admin = new Client(pgClientConfig('postgres'));
      await admin.connect();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'qg-victim'`);
      await admin.end();
      const err = await ended;
      expect(['57P01', '08006']).toContain(err.code);
      await c.end().catch(() => undefined);
    } finally {
      await gw.stop();
    }
  });

  test('drain: idle sessions get 57P01 at once, a busy one finishes its statement first', async () => {
    const gw = await startTestGateway();
    const config = { host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false };
    const idle = new Client(config);
    const busy = new Client(config);
    await idle.connect();
    await busy.connect();
    const idleError = new Promise<Error & { code?: string }>((resolve) => idle.on('error', resolve));
    busy.on('error', () => undefined);
    const running = busy.query('SELECT pg_sleep(0.5), 7 AS n');
    await new Promise((r) => setTimeout(r, 100));
    gw.gateway.beginDrain();
    const drained = gw.listener.drain(Date.now() + 5000);
    expect((await idleError).code).toBe('57P01');
    expect((await running).rows[0].n).toBe(7);
    await drained;
    expect(gw.listener.activeSessions).toBe(0);
    await idle.end().catch(() => undefined);
    await busy.end().catch(() => undefined);
    await gw.stop();
  });
});

void postgresInfo;
