// Gateway-level fuzzing against the harness MariaDB: while one healthy mysql2 session runs a query
// every 50 ms, hundreds of raw sockets send random and mutated bytes at every phase (instead of
// the handshake response, during authentication, after login). Each must get well-formed packets
// (an ERR, or what the server says to a valid-looking command) and a clean close within a bound,
// never a hang; the healthy session must not notice; no session or upstream connection may be
// left behind; nothing may escape as an uncaught exception.
//
// QUERYGATE_FUZZ_SEED replays a run; QUERYGATE_FUZZ_SOCKETS sets the number of raw sockets.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { describeWith, mariadbConfig } from '../../../../test/services';
import { ALICE, BOB, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';
import { fuzzSeed, iterationRng, mutate, type LengthField, type MutateOptions, type Rng } from '../../../../test/fuzz/fuzzKit';
import { eventually, pool } from '../../../../test/fuzz/concurrency';
import { cachingSha2Token, handshakeResponse, login, RawSession, scrambleOf, splitPackets } from './rawSession';
import { commands, handshakeResponse41, nul, packet, sslRequest, u8 } from './wire';

const SEED = fuzzSeed();
const SOCKETS = Number(process.env.QUERYGATE_FUZZ_SOCKETS ?? 200);
const CONCURRENCY = 16;
const HANG_MS = 5000;
/** Raw sessions use this database, so their upstream connections can be found in the processlist. */
const DB = 'qgfuzz';
const TOKEN_USER = { user: 'fuzz-user', password: 'fuzz-token' } as const;
const HEADER: LengthField[] = [{ offset: 0, size: 3, endian: 'LE' }, { offset: 3, size: 1, endian: 'LE' }];
const OPTIONS: MutateOptions = { endian: 'LE', lengthFields: HEADER, specialBytes: [0xfb, 0xfc, 0xfd, 0xfe, 0xff] };

const selectsOnly: Interceptor = {
  name: 'fuzz-selects-only',
  onStatement(statement) {
    if (statement.kind === 'select' && statement.functions.length === 0 && statement.risks.size === 0) return undefined;
    return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'only plain SELECTs while fuzzing', { rule: 'fuzz' }));
  },
};

type Phase = 'handshake response' | 'authentication' | 'after login';
const PHASES: readonly Phase[] = ['handshake response', 'authentication', 'after login', 'after login', 'after login'];

interface Outcome {
  readonly index: number;
  readonly phase: Phase;
  readonly garbage: string;
  readonly ending: 'closed' | 'closed after FIN' | 'hung';
  readonly errnos: readonly number[];
  readonly problems: readonly string[];
}

/** Commands after login; COM_INIT_DB names our own database so leaks stay visible. */
const COMMANDS = commands.map((c) => (c[0] === 0x02 ? Buffer.concat([u8(0x02), Buffer.from(DB)]) : c));

function handshakeGarbage(rng: Rng, greeting: Buffer): Buffer {
  const r = rng.int(10);
  if (r < 3) return rng.bytes(rng.range(1, 150));
  const valid = handshakeResponse(ALICE.name, cachingSha2Token(ALICE.password, scrambleOf(greeting)), DB);
  const seed = rng.pick([valid, valid, handshakeResponse41[0]!, handshakeResponse41[1]!, handshakeResponse41[2]!, sslRequest[0]!]);
  return mutate(rng, packet(1, seed), OPTIONS);
}

function sessionGarbage(rng: Rng): Buffer {
  const r = rng.int(10);
  if (r < 3) return rng.bytes(rng.range(1, 200));
  if (r < 7) return mutate(rng, packet(0, rng.pick(COMMANDS)), OPTIONS);
  // A valid command (answered) then a mutated one.
  return Buffer.concat([packet(0, Buffer.concat([u8(0x03), Buffer.from('SELECT 1')])), mutate(rng, packet(0, rng.pick(COMMANDS)), OPTIONS)]);
}

async function fuzzOne(port: number, index: number): Promise<Outcome> {
  const rng = iterationRng(SEED, 'mysql-gateway', index);
  const phase = PHASES[index % PHASES.length]!;
  const problems: string[] = [];
  const s = await RawSession.open(port);
  let garbage: Buffer = Buffer.alloc(0);
  try {
    switch (phase) {
      case 'handshake response': {
        const [greeting] = await s.packets(1);
        garbage = handshakeGarbage(rng, greeting!.payload);
        break;
      }
      case 'authentication': {
        // A user querygate resolves from a cleartext secret: caching_sha2 full authentication, or
        // a switch to mysql_clear_password; the garbage goes where the secret should.
        await s.packets(1);
        const plugin = rng.chance(0.5) ? 'caching_sha2_password' : 'mysql_native_password';
        const response = handshakeResponse(TOKEN_USER.user, rng.bytes(20), DB);
        s.write(packet(1, plugin === 'caching_sha2_password' ? response : Buffer.concat([response.subarray(0, response.length - 'caching_sha2_password\0'.length), nul(plugin)])));
        const got = await s.packets(2);
        const ask = got[1]!;
        let seq = ask.seq + 1;
        if (plugin === 'caching_sha2_password' && rng.chance(0.4)) {
          // Ask for the RSA public key, then send garbage as the encrypted password.
          s.write(packet(seq, u8(2)));
          await s.packets(3);
          seq += 2;
        }
        garbage = rng.chance(0.3) ? rng.bytes(rng.range(1, 80))
          : mutate(rng, packet(seq & 0xff, rng.chance(0.5) ? nul(TOKEN_USER.password) : rng.bytes(rng.pick([1, 20, 128, 256]))), OPTIONS);
        break;
      }
      case 'after login':
        await login(s, ALICE.name, ALICE.password, DB);
        garbage = sessionGarbage(rng);
        break;
    }
  } catch (err) {
    problems.push(`the valid part of the exchange failed: ${(err as Error).message}`);
  }
  const before = s.received.length;
  if (garbage.length > 1 && rng.chance(0.3)) {
    const cut = rng.range(1, garbage.length - 1);
    s.write(garbage.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 5));
    s.write(garbage.subarray(cut));
  } else {
    s.write(garbage);
  }
  await s.settle(250, 4000);
  let ending: Outcome['ending'] = 'closed';
  if (!s.closed) {
    s.finish();
    await s.settle(HANG_MS, HANG_MS);
    await new Promise((r) => setTimeout(r, 20));
    ending = s.closed ? 'closed after FIN' : 'hung';
  }
  if (ending === 'hung') problems.push(`still open ${HANG_MS} ms after the client half-closed`);
  s.destroy();

  const { packets, rest } = splitPackets(s.received.subarray(before));
  if (rest.length > 0) problems.push(`ill-formed bytes in the answer: ${rest.subarray(0, 40).toString('hex')}`);
  const errnos: number[] = [];
  for (const p of packets.filter((x) => x.payload[0] === 0xff)) {
    if (p.payload.length < 3) { problems.push(`short ERR packet ${p.payload.toString('hex')}`); continue; }
    errnos.push(p.payload.readUInt16LE(1));
    const text = p.payload.toString('utf8', 3);
    if (text.includes('internal gateway error')) problems.push(`internal error: ${text}`);
  }
  return { index, phase, garbage: garbage.toString('hex').slice(0, 200), ending, errnos, problems };
}

describeWith('mariadb')(`the gateway keeps serving while raw sockets send garbage (seed 0x${SEED.toString(16)})`, () => {
  let gw: MysqlGateway;
  let root: Connection;
  const escaped: unknown[] = [];
  const onEscape = (err: unknown): void => { escaped.push(err); };

  beforeAll(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    root = await createConnection(mariadbConfig('root'));
    await root.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
    for (const host of ['%', '127.0.0.1', 'localhost']) await root.query(`GRANT ALL PRIVILEGES ON ${DB}.* TO 'app'@'${host}'`);
    gw = await startMysqlGateway({
      interceptors: [selectsOnly],
      listenerYaml: ['allowPlaintextPasswords: true'],
      verifiers: [{
        name: 'fuzz-token',
        async verify(user, secret) { return user === TOKEN_USER.user && secret === TOKEN_USER.password ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
      }],
      listener: { maxPacketSize: 1 << 20, authTimeoutMs: 10_000 },
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await root?.end();
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });

  test(`${SOCKETS} fuzzed sockets: each answered well-formed and closed; the healthy session never fails; nothing leaks`, async () => {
    // The healthy session is another user: a fuzzed COM_PROCESS_KILL may only reach its own user's sessions.
    const healthy = await createConnection({ host: '127.0.0.1', port: gw.port, user: BOB.name, password: BOB.password, database: 'app' });
    const healthyErrors: string[] = [];
    healthy.on('error', (err: Error) => healthyErrors.push(err.message));
    try {
      const baseline = gw.listener.activeSessions;
      expect(baseline).toBe(1);
      const failures: string[] = [];
      let ok = 0;
      let running = true;
      let inFlight: Promise<void> = Promise.resolve();
      const ticker = setInterval(() => {
        if (!running) return;
        const n = ok;
        inFlight = inFlight.then(async () => {
          try {
            const [rows] = await healthy.query<RowDataPacket[]>('SELECT ? AS n', [n]);
            if (Number(rows[0]?.n) === n) ok++; else failures.push(`wrong row ${JSON.stringify(rows)}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        });
      }, 50);

      const lag = monitorEventLoopDelay({ resolution: 20 });
      lag.enable();
      const started = Date.now();
      const outcomes = await pool(SOCKETS, CONCURRENCY, (i) => fuzzOne(gw.port, i));
      const fuzzMs = Date.now() - started;
      running = false;
      clearInterval(ticker);
      await inFlight;
      lag.disable();

      const endings: Record<string, number> = {};
      const errnos: Record<string, number> = {};
      for (const o of outcomes) {
        endings[`${o.phase}: ${o.ending}`] = (endings[`${o.phase}: ${o.ending}`] ?? 0) + 1;
        for (const e of o.errnos) errnos[e] = (errnos[e] ?? 0) + 1;
      }
      console.log(JSON.stringify({ seed: SEED, sockets: SOCKETS, fuzzMs, maxEventLoopDelayMs: Math.round(lag.max / 1e6), healthyQueries: ok, endings, errnos }, null, 1));

      expect(outcomes.filter((o) => o.problems.length > 0).map((o) => `#${o.index} (${o.phase}) garbage ${o.garbage}: ${o.problems.join('; ')}`)).toEqual([]);
      expect(failures).toEqual([]);
      expect(healthyErrors).toEqual([]);
      expect(ok).toBeGreaterThan(0);
      expect(await eventually(() => gw.listener.activeSessions, baseline, 5000)).toBe(baseline);
      const upstreamLeft = async (): Promise<number> => {
        const [rows] = await root.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [DB]);
        return Number(rows[0]!.n);
      };
      expect(await eventually(upstreamLeft, 0, 5000)).toBe(0);

      const after = await createConnection({ host: '127.0.0.1', port: gw.port, user: ALICE.name, password: ALICE.password, database: 'app' });
      const [rows] = await after.query<RowDataPacket[]>('SELECT 42 AS n');
      expect(Number(rows[0]!.n)).toBe(42);
      await after.end();
    } finally {
      await healthy.end().catch(() => undefined);
    }
    expect(await eventually(() => gw.listener.activeSessions, 0, 5000)).toBe(0);
    expect(escaped.map(String)).toEqual([]);
  }, 120_000);
});


