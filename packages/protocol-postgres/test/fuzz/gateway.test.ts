// Gateway-level fuzzing against the harness PostgreSQL: while one healthy node-postgres session
// runs a query every 50 ms, hundreds of raw sockets send random and mutated bytes at every phase
// (before startup, during cleartext and SCRAM authentication, after login). Each must get a
// well-formed answer (a protocol error, or what the server says to a valid-looking message) and a
// clean close within a bound, never a hang; the healthy session must not notice; no session or
// upstream connection may be left behind; nothing may escape as an uncaught exception.
//
// QUERYGATE_FUZZ_SEED replays a run; QUERYGATE_FUZZ_SOCKETS sets the number of raw sockets.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'pg';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { describeWith, pgClientConfig } from '../../../../test/services';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { fuzzSeed, iterationRng, mutate, type LengthField, type Rng } from '../../../../test/fuzz/fuzzKit';
import { eventually, pool } from '../../../../test/fuzz/concurrency';
import { errorFields, loginCleartext, loginScram, RawSession, scramFinal, scramFirstHalf, splitMessages, startupPacket } from './rawSession';
import { be32, CANCEL_REQUEST, cstr, frontendBodies as F, GSSENC_REQUEST, SSL_REQUEST, startupBody, tagged, untagged } from './wire';

const SEED = fuzzSeed();
const SOCKETS = Number(process.env.QUERYGATE_FUZZ_SOCKETS ?? 200);
const CONCURRENCY = 16;
/** How long a connection may stay open after the client half-closed it. */
const HANG_MS = 5000;
const APP = 'qgfuzz';
const TOKEN_USER = { user: 'fuzz-user', password: 'fuzz-token' } as const;

/** Refuses everything but plain SELECTs without function calls: mutated SQL must stay harmless. */
const selectsOnly: Interceptor = {
  name: 'fuzz-selects-only',
  onStatement(statement) {
    if (statement.kind === 'select' && statement.functions.length === 0 && statement.risks.size === 0) return undefined;
    return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'only plain SELECTs while fuzzing', { rule: 'fuzz' }));
  },
};

type Phase = 'before startup' | 'cleartext password' | 'SCRAM' | 'after login';
const PHASES: readonly Phase[] = ['before startup', 'cleartext password', 'SCRAM', 'after login', 'after login'];

interface Outcome {
  readonly index: number;
  readonly phase: Phase;
  readonly garbage: string;
  /** 'closed' by the gateway, or 'closed after FIN' (it waited for more bytes), or 'hung'. */
  readonly ending: 'closed' | 'closed after FIN' | 'hung';
  readonly sqlstates: readonly string[];
  readonly problems: readonly string[];
}

const tail = (rng: Rng, b: Buffer): Buffer => (rng.chance(0.5) ? b : Buffer.concat([b, rng.bytes(rng.length(32))]));

/** Garbage for the startup phase: random bytes, or mutated StartupMessage / SSLRequest / cancel. */
function startupGarbage(rng: Rng): Buffer {
  if (rng.chance(0.35)) return rng.bytes(rng.range(1, 120));
  const seeds = [
    untagged(startupBody({ user: ALICE.user, database: 'app', application_name: APP })),
    untagged(be32(SSL_REQUEST)), untagged(be32(GSSENC_REQUEST)), untagged(be32(CANCEL_REQUEST), be32(1), be32(2)),
    Buffer.concat([untagged(be32(SSL_REQUEST)), untagged(startupBody({ user: ALICE.user }))]),
  ];
  const seed = rng.pick(seeds);
  const fields: LengthField[] = [{ offset: 0, size: 4, endian: 'BE' }, { offset: 4, size: 4, endian: 'BE' }];
  return mutate(rng, seed, { endian: 'BE', lengthFields: fields });
}

/** Garbage after login: random bytes, a mutated message, or a valid batch with a mutated member. */
function sessionGarbage(rng: Rng): Buffer {
  const header: LengthField[] = [{ offset: 1, size: 4, endian: 'BE' }];
  const valid = [
    tagged('Q', cstr('SELECT 1')), tagged('P', F.parse[0]), tagged('B', F.bind[0]), tagged('D', F.describe[0]),
    tagged('E', F.execute[0]), tagged('C', F.close[0]), tagged('S'), tagged('H'), tagged('F', F.functionCall[1]),
    tagged('d', F.copyData[0]), tagged('c'), tagged('f', F.copyFail[0]), tagged('Q', cstr('SELECT $1')),
  ];
  const r = rng.int(10);
  if (r < 3) return rng.bytes(rng.range(1, 200));
  if (r < 7) return tail(rng, mutate(rng, rng.pick(valid), { endian: 'BE', lengthFields: header }));
  const batch = Array.from({ length: rng.range(2, 6) }, () => rng.pick(valid));
  const k = rng.int(batch.length);
  batch[k] = mutate(rng, batch[k]!, { endian: 'BE', lengthFields: header });
  return Buffer.concat(batch);
}

async function fuzzOne(port: number, index: number): Promise<Outcome> {
  const rng = iterationRng(SEED, 'pg-gateway', index);
  const phase = PHASES[index % PHASES.length]!;
  const problems: string[] = [];
  const s = await RawSession.open(port);
  let garbage: Buffer = Buffer.alloc(0);
  let sentBefore = 0;
  try {
    switch (phase) {
      case 'before startup':
        garbage = startupGarbage(rng);
        break;
      case 'cleartext password':
        s.write(startupPacket(TOKEN_USER.user, APP));
        await s.until((m) => m.some((x) => x.type === 'R'));
        garbage = rng.chance(0.3) ? rng.bytes(rng.range(1, 64)) : mutate(rng, tagged('p', cstr(TOKEN_USER.password)), { endian: 'BE', lengthFields: [{ offset: 1, size: 4, endian: 'BE' }] });
        break;
      case 'SCRAM': {
        if (rng.chance(0.5)) {
          s.write(startupPacket(ALICE.user, APP));
          await s.until((m) => m.some((x) => x.type === 'R'));
          const first = Buffer.from('n,,n=,r=abcdefghijklmnop');
          garbage = mutate(rng, tagged('p', cstr('SCRAM-SHA-256'), be32(first.length), first), { endian: 'BE', lengthFields: [{ offset: 1, size: 4, endian: 'BE' }] });
        } else {
          const { bare, serverFirst } = await scramFirstHalf(s, ALICE.user, APP);
          garbage = mutate(rng, scramFinal(ALICE.password, bare, serverFirst), { endian: 'BE', lengthFields: [{ offset: 1, size: 4, endian: 'BE' }] });
        }
        break;
      }
      case 'after login':
        if (index % 4 === 0) await loginScram(s, ALICE.user, ALICE.password, APP);
        else await loginCleartext(s, TOKEN_USER.user, TOKEN_USER.password, APP);
        garbage = sessionGarbage(rng);
        break;
    }
  } catch (err) {
    problems.push(`the valid part of the exchange failed: ${(err as Error).message}`);
  }
  sentBefore = s.received.length;
  // Sometimes in two writes, as a slow network would deliver it.
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
    // Timers run before I/O callbacks: after a stall of the whole process, let pending closes land.
    await new Promise((r) => setTimeout(r, 20));
    ending = s.closed ? 'closed after FIN' : 'hung';
  }
  if (ending === 'hung') problems.push(`still open ${HANG_MS} ms after the client half-closed`);
  s.destroy();

  const answer = s.received.subarray(sentBefore);
  const { messages, rest } = splitMessages(answer, phase === 'before startup');
  if (rest.length > 0) problems.push(`ill-formed bytes in the answer: ${rest.subarray(0, 40).toString('hex')}`);
  const sqlstates: string[] = [];
  for (const m of messages.filter((x) => x.type === 'E')) {
    const f = errorFields(m.body);
    sqlstates.push(f.C ?? '?');
    if (f.C === undefined || f.S === undefined || f.M === undefined) problems.push(`ErrorResponse without S/C/M: ${m.body.toString('hex')}`);
    // QG_INTERNAL: the gateway met an exception it did not expect (a real server's XX000 is relayed as is).
    if (f.M === 'internal gateway error') problems.push(`internal error: ${JSON.stringify(f)}`);
  }
  return { index, phase, garbage: garbage.toString('hex').slice(0, 200), ending, sqlstates, problems };
}

describeWith('postgres')(`the gateway keeps serving while raw sockets send garbage (seed 0x${SEED.toString(16)})`, () => {
  let gw: TestGateway;
  let admin: Client;
  const escaped: unknown[] = [];
  const onEscape = (err: unknown): void => { escaped.push(err); };

  beforeAll(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    gw = await startTestGateway({ interceptors: [selectsOnly], listenerYaml: '    allowPlaintextPasswords: true' });
    gw.gateway.identities.addVerifier({
      name: 'fuzz-token',
      async verify(user, secret) { return user === TOKEN_USER.user && secret === TOKEN_USER.password ? { subject: user, groups: [], method: 'oidc', claims: {} } : undefined; },
    });
    admin = new Client(pgClientConfig('postgres'));
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await gw?.stop();
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });

  test(`${SOCKETS} fuzzed sockets: each answered well-formed and closed; the healthy session never fails; nothing leaks`, async () => {
    const healthy = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false, application_name: `${APP}-healthy` });
    const healthyErrors: string[] = [];
    healthy.on('error', (err) => healthyErrors.push(err.message));
    await healthy.connect();
    try {
      await fuzzAgainst(healthy, healthyErrors);
    } finally {
      await healthy.end().catch(() => undefined);
    }
    expect(await eventually(() => gw.listener.activeSessions, 0, 5000)).toBe(0);
    expect(escaped.map(String)).toEqual([]);
  }, 120_000);

  async function fuzzAgainst(healthy: Client, healthyErrors: string[]): Promise<void> {
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
          const r = await healthy.query('SELECT $1::int AS n', [n]);
          if (r.rows[0]?.n === n) ok++; else failures.push(`wrong row ${JSON.stringify(r.rows)}`);
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
    const states: Record<string, number> = {};
    for (const o of outcomes) {
      endings[`${o.phase}: ${o.ending}`] = (endings[`${o.phase}: ${o.ending}`] ?? 0) + 1;
      for (const c of o.sqlstates) states[c] = (states[c] ?? 0) + 1;
    }
    // Shown with -i / --verbose; the figures the report quotes.
    console.log(JSON.stringify({ seed: SEED, sockets: SOCKETS, fuzzMs, maxEventLoopDelayMs: Math.round(lag.max / 1e6), healthyQueries: ok, endings, sqlstates: states }, null, 1));

    expect(outcomes.filter((o) => o.problems.length > 0).map((o) => `#${o.index} (${o.phase}) garbage ${o.garbage}: ${o.problems.join('; ')}`)).toEqual([]);
    expect(failures).toEqual([]);
    expect(healthyErrors).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    // Every session but the healthy one is gone, and so are their upstream connections.
    expect(await eventually(() => gw.listener.activeSessions, baseline, 5000)).toBe(baseline);
    const upstreamLeft = async (): Promise<number> => Number((await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [APP])).rows[0].n);
    expect(await eventually(upstreamLeft, 0, 5000)).toBe(0);

    // The gateway still accepts and serves new sessions.
    const after = new Client({ host: gw.host, port: gw.port, user: ALICE.user, password: ALICE.password, database: 'app', ssl: false });
    await after.connect();
    expect((await after.query('SELECT 42 AS n')).rows).toEqual([{ n: 42 }]);
    await after.end();
  }
});
