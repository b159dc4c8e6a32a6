import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { GatewayError, scramVerifier, Secret, type Logger, type LogFields, type UpstreamConfig } from '@querygate/core';
import { MAX_SCRAM_ITERATIONS, ScramClientExchange } from '../../src/session/ScramClientExchange';
import { connectUpstream } from '../../src/session/UpstreamConnector';
import { ScramServerExchange } from '../../src/session/ScramServerExchange';

// RFC 7677 section 3 test vector (user "user", password "pencil").
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_SUFFIX = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const CLIENT_FIRST = `n,,n=user,r=${CLIENT_NONCE}`;
const SERVER_FIRST = `r=${CLIENT_NONCE}${SERVER_SUFFIX},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL = `c=biws,r=${CLIENT_NONCE}${SERVER_SUFFIX},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256', () => {
  test('server side follows the RFC 7677 vector', () => {
    const server = new ScramServerExchange(scramVerifier('pencil', SALT, 4096), SERVER_SUFFIX);
    expect(server.first(CLIENT_FIRST)).toBe(SERVER_FIRST);
    expect(server.final(CLIENT_FINAL)).toBe(SERVER_FINAL);
  });

  test('server side refuses a wrong proof, a changed nonce and channel binding', () => {
    const wrongPassword = new ScramServerExchange(scramVerifier('pen', SALT, 4096), SERVER_SUFFIX);
    wrongPassword.first(CLIENT_FIRST);
    expect(wrongPassword.final(CLIENT_FINAL)).toBeUndefined();
    const server = new ScramServerExchange(scramVerifier('pencil', SALT, 4096), SERVER_SUFFIX);
    server.first(CLIENT_FIRST);
    expect(server.final(CLIENT_FINAL.replace('k0,p=', 'k1,p='))).toBeUndefined();
    expect(new ScramServerExchange(scramVerifier('pencil', SALT, 4096)).first('p=tls-server-end-point,,n=,r=abc')).toBeUndefined();
    expect(new ScramServerExchange(scramVerifier('pencil', SALT, 4096)).first('garbage')).toBeUndefined();
  });

  test('client side follows the RFC 7677 vector', async () => {
    const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    expect(client.clientFirst()).toBe(CLIENT_FIRST);
    expect(await client.clientFinal(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(client.verifyServerFinal(SERVER_FINAL)).toBe(true);
    expect(client.verifyServerFinal('v=AAAA')).toBe(false);
  });

  test('client refuses a server nonce that does not extend its own', async () => {
    const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    client.clientFirst();
    await expect(client.clientFinal('r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).rejects.toMatchObject({ code: 'QG_UPSTREAM_REJECTED' });
  });

  test('client refuses an iteration count above the cap before computing anything', async () => {
    expect(MAX_SCRAM_ITERATIONS).toBe(100_000);
    const serverFirst = (i: string): string => `r=${CLIENT_NONCE}${SERVER_SUFFIX},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${i}`;
    for (const i of ['2147483647', '100001', '99999999999']) {
      const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
      client.clientFirst();
      const started = performance.now();
      const err = await client.clientFinal(serverFirst(i)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ code: 'QG_UPSTREAM_REJECTED' });
      expect((err as Error).message).toMatch(/SCRAM iterations/);
      expect(performance.now() - started).toBeLessThan(50);
    }
    for (const i of ['0', '-1', '4096abc', '1e4', '', ' 4096']) {
      const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
      client.clientFirst();
      await expect(client.clientFinal(serverFirst(i))).rejects.toMatchObject({ code: 'QG_UPSTREAM_REJECTED', message: expect.stringMatching(/malformed/) });
    }
    // A lower cap (the parameter) applies the same way; the cap itself is allowed.
    const atCap = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    atCap.clientFirst();
    expect(await atCap.clientFinal(SERVER_FIRST, 4096)).toBe(CLIENT_FINAL);
    const overLow = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    overLow.clientFirst();
    await expect(overLow.clientFinal(SERVER_FIRST, 4095)).rejects.toMatchObject({ code: 'QG_UPSTREAM_REJECTED' });
  });

  test('the key is derived off the event loop: timers run while a large legitimate count is computed', async () => {
    const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    client.clientFirst();
    let ticks = 0;
    const tick = (): void => { ticks++; if (!done) setImmediate(tick); };
    let done = false;
    setImmediate(tick);
    await client.clientFinal(`r=${CLIENT_NONCE}${SERVER_SUFFIX},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${MAX_SCRAM_ITERATIONS}`);
    done = true;
    expect(ticks).toBeGreaterThan(1);
  });
});

// ---- the connector against a hostile upstream (not PostgreSQL: a socket that speaks just enough)

/** A backend message built here, independently of the serializer. */
function backend(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function authSasl(): Buffer {
  return backend('R', Buffer.concat([Buffer.from('0000000a', 'hex'), Buffer.from('SCRAM-SHA-256\0\0', 'latin1')]));
}

function authSaslContinue(data: string): Buffer {
  return backend('R', Buffer.concat([Buffer.from('0000000b', 'hex'), Buffer.from(data, 'utf8')]));
}

class LinesLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  debug(message: string, fields?: LogFields): void { this.lines.push({ level: 'debug', message, fields }); }
  info(message: string, fields?: LogFields): void { this.lines.push({ level: 'info', message, fields }); }
  warn(message: string, fields?: LogFields): void { this.lines.push({ level: 'warn', message, fields }); }
  error(message: string, fields?: LogFields): void { this.lines.push({ level: 'error', message, fields }); }
  child(): Logger { return this; }
}

describe('upstream login against a server asking for too many SCRAM iterations', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let stage = 0;
      let got = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (stage === 0 && got.length >= 4 && got.length >= got.readInt32BE(0)) {
          got = got.subarray(got.readInt32BE(0));
          stage = 1;
          socket.write(authSasl());
        }
        if (stage === 1 && got.length >= 5 && got.length >= got.readInt32BE(1) + 1) {
          // SASLInitialResponse: 'p', length, mechanism\0, int32 length, client-first-message.
          const body = got.subarray(5, got.readInt32BE(1) + 1);
          const clientFirst = body.subarray(body.indexOf(0) + 5).toString('utf8');
          const nonce = /r=([^,]+)/.exec(clientFirst)![1]!;
          stage = 2;
          socket.write(authSaslContinue(`r=${nonce}hostile,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2147483647`));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('refuses with QG_UPSTREAM_REJECTED at once and logs why', async () => {
    const config: UpstreamConfig = {
      host: '127.0.0.1', port, user: 'app', password: new Secret('pw', 'test'), tls: { mode: 'disable' }, connectTimeout: 5000,
    };
    const logger = new LinesLogger();
    const started = performance.now();
    const err = await connectUpstream(config, { listener: 'hostile', database: 'app', parameters: {}, logger }).then(() => undefined, (e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ code: 'QG_UPSTREAM_REJECTED' });
    expect((err as Error).message).toBe('listener "hostile": the upstream asks for 2147483647 SCRAM iterations, more than the 100000 querygate computes');
    expect(logger.lines).toEqual([expect.objectContaining({
      level: 'error',
      message: 'upstream SCRAM challenge refused',
      fields: expect.objectContaining({ listener: 'hostile', upstream: `127.0.0.1:${port}` }),
    })]);
  });
});
