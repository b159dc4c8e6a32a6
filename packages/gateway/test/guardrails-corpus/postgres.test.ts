// The attack corpus against the PostgreSQL listener, through node-postgres (simple and extended
// protocol), psql, and raw FunctionCall messages after a real SCRAM login. Every refusal is checked
// three ways: the client's error (42501, rule named), the upstream's state (unchanged), the audit
// trail (statement.denied with the rule).
import { existsSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import type { AuditEvent } from '@querygate/core';
import { describeWith, pgClientConfig } from '../../../../test/services';
import { APPROVAL_RULES, POSTGRES_ATTEMPTS, type PostgresAttempt, type PostgresPath } from './attempts';
import { DEV, expectation, pgBin, run, startCorpusGateway, type CorpusGateway } from './corpusGateway';

const DEFAULT_PATHS: readonly PostgresPath[] = ['simple', 'extended', 'psql'];

const SETUP = [
  'DROP TABLE IF EXISTS qg_victim, qg_victim_log, qg_stolen CASCADE',
  'DROP SCHEMA IF EXISTS qg_victim_schema CASCADE',
  'DROP SEQUENCE IF EXISTS qg_canary',
  'CREATE TABLE qg_victim (id int PRIMARY KEY, v text)',
  "INSERT INTO qg_victim SELECT i, 'row ' || i FROM generate_series(1, 10) i",
  'CREATE TABLE qg_victim_log (id int, note text)',
  "INSERT INTO qg_victim_log VALUES (1, 'a'), (2, 'b'), (3, 'c')",
  'CREATE SCHEMA qg_victim_schema',
  'CREATE TABLE qg_victim_schema.keep (id int)',
  'CREATE SEQUENCE qg_canary',
  "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qg_spare') THEN CREATE ROLE qg_spare NOLOGIN; END IF; END $$",
];

/** Everything a slipped-through attack in the corpus would change, as one JSON text. */
const SNAPSHOT = `SELECT json_build_object(
  'databases', (SELECT json_agg(datname ORDER BY datname) FROM pg_database WHERE datname LIKE 'qg_victim%'),
  'schemas', (SELECT json_agg(nspname ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'qg%'),
  -- Only the names the corpus touches: other test files share this server and create their own qg_* tables.
  'tables', (SELECT json_agg(schemaname || '.' || tablename ORDER BY 1) FROM pg_tables WHERE tablename ~ '^qg_(victim|stolen)' OR schemaname LIKE 'qg\\_victim%'),
  'victim', (SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM qg_victim),
  'victimAcl', (SELECT relacl::text FROM pg_class WHERE oid = 'qg_victim'::regclass),
  'log', (SELECT count(*) FROM qg_victim_log),
  'canary', (SELECT last_value || '/' || is_called FROM qg_canary),
  'roles', (SELECT json_agg(rolname || ':' || rolsuper ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'qg%' OR rolname = 'app'),
  'memberships', (SELECT count(*) FROM pg_auth_members WHERE member IN (SELECT oid FROM pg_roles WHERE rolname LIKE 'qg%')),
  'functions', (SELECT json_agg(proname ORDER BY proname) FROM pg_proc WHERE proname LIKE 'qg%'),
  'largeObjects', (SELECT count(*) FROM pg_largeobject_metadata),
  'autoConf', (SELECT json_agg(name || '=' || setting ORDER BY name) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf')
)::text AS s`;

interface Refusal { readonly code?: string; readonly message: string }

describeWith('postgres')('guardrails corpus: PostgreSQL', () => {
  let gw: CorpusGateway;
  let admin: Client;
  let baseline: string;

  const snapshot = async (): Promise<string> => (await admin.query<{ s: string }>(SNAPSHOT)).rows[0]!.s;
  const sqlOf = (a: PostgresAttempt): string => a.sql.replace(/\{dir\}/g, gw.dir);
  const attemptsFor = (path: PostgresPath): PostgresAttempt[] => POSTGRES_ATTEMPTS.filter((a) => (a.via ?? DEFAULT_PATHS).includes(path));

  beforeAll(async () => {
    admin = new Client(pgClientConfig('postgres'));
    await admin.connect();
    for (const sql of SETUP) await admin.query(sql);
    const dbs = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'qg_victim_db'");
    if (dbs.rowCount === 0) await admin.query('CREATE DATABASE qg_victim_db');
    gw = await startCorpusGateway({ postgres: true });
    writeFileSync(join(gw.dir, 'rows.csv'), '42,from a file\n');
    baseline = await snapshot();
    await gw.newAuditEvents();
  });

  afterAll(async () => {
    await gw?.stop();
    if (admin) {
      for (const sql of ['DROP TABLE IF EXISTS qg_victim, qg_victim_log, qg_stolen CASCADE', 'DROP SCHEMA IF EXISTS qg_victim_schema CASCADE', 'DROP SEQUENCE IF EXISTS qg_canary', 'DROP DATABASE IF EXISTS qg_victim_db']) {
        await admin.query(sql).catch(() => undefined);
      }
      await admin.end();
    }
  });

  const devClient = async (): Promise<Client> => {
    const client = new Client({ host: '127.0.0.1', port: gw.pgPort, user: DEV.name, password: DEV.password, database: 'app', ssl: false });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  /** The three checks; returns what is wrong, empty when the refusal is right. */
  const verify = async (a: PostgresAttempt, path: string, refusal: Refusal | undefined): Promise<string[]> => {
    const problems: string[] = [];
    const approval = APPROVAL_RULES.has(a.rule);
    if (refusal === undefined) {
      problems.push('the client got no error: the statement ran');
    } else {
      if (refusal.code !== '42501') problems.push(`SQLSTATE ${refusal.code ?? '(none)'}, expected 42501`);
      if (!expectation(a.rule, approval).test(refusal.message)) problems.push(`message ${JSON.stringify(refusal.message)} does not match ${expectation(a.rule, approval)}`);
    }
    const now = await snapshot();
    if (now !== baseline) {
      problems.push(`the upstream changed:\n      before ${baseline}\n      after  ${now}`);
      baseline = now;
    }
    if (a.writes !== undefined && existsSync(join(gw.dir, a.writes))) problems.push(`the file ${a.writes} was written`);
    const events = await gw.newAuditEvents();
    const denied = events.filter((e: AuditEvent) => e.event === 'statement.denied');
    if (!denied.some((e) => e.rule === a.rule && e.error?.code === 'QG_STATEMENT_DENIED')) {
      problems.push(`no statement.denied audit event by rule ${a.rule} (denied: ${JSON.stringify(denied.map((e) => e.rule))}, events: ${events.map((e) => e.event).join(', ')})`);
    }
    if (events.some((e) => e.event === 'statement.completed' && e.statement?.kind !== 'select')) {
      problems.push(`audit says a statement completed: ${JSON.stringify(events.filter((e) => e.event === 'statement.completed').map((e) => e.statement?.text))}`);
    }
    return problems.map((p) => `${a.id} via ${path} (${a.trick}): ${p}`);
  };

  /** The session the attempt ran on is still itself: same role, no transaction left open, no prepared statement. */
  const sessionUnchanged = async (client: Client): Promise<string | undefined> => {
    try {
      const r = await client.query<{ u: string; p: string }>('SELECT current_user AS u, (SELECT count(*) FROM pg_prepared_statements)::text AS p');
      const row = r.rows[0]!;
      return row.u === 'postgres' && row.p === '0' ? undefined : `session changed: current_user=${row.u}, prepared statements=${row.p}`;
    } catch (err) {
      return `session unusable after the refusal: ${(err as Error).message}`;
    }
  };

  const runThroughNodePostgres = async (path: 'simple' | 'extended'): Promise<string[]> => {
    const failures: string[] = [];
    const client = await devClient();
    try {
      for (const a of attemptsFor(path)) {
        let refusal: Refusal | undefined;
        try {
          const values = /\$1/.test(a.sql) && !/\$\$|\$\w+\$/.test(a.sql) ? ['pwned'] : [];
          // queryMode 'extended' sends Parse/Bind/Execute even without parameters (pg's types lack the key).
          const extended = { text: sqlOf(a), values, queryMode: 'extended' };
          await client.query(path === 'simple' ? sqlOf(a) : extended);
        } catch (err) {
          const e = err as { code?: string; message: string };
          refusal = { code: e.code, message: e.message };
        }
        failures.push(...await verify(a, path, refusal));
        const session = await sessionUnchanged(client);
        if (session) failures.push(`${a.id} via ${path}: ${session}`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return failures;
  };

  it('refuses every attempt sent with the simple query protocol (node-postgres)', async () => {
    expect(await runThroughNodePostgres('simple')).toEqual([]);
  });

  it('refuses every attempt sent as a Parse message (node-postgres extended protocol)', async () => {
    expect(await runThroughNodePostgres('extended')).toEqual([]);
  });

  it('refuses every attempt sent by psql', async () => {
    const failures: string[] = [];
    const env = { PGPASSWORD: DEV.password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' };
    const base = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', '-h', '127.0.0.1', '-p', String(gw.pgPort), '-U', DEV.name, '-d', 'app'];
    for (const a of attemptsFor('psql')) {
      // A backslash command cannot share -c with SQL: psql reads such a script from stdin instead.
      const script = a.sql.includes('\\g');
      const r = await run(pgBin('psql'), script ? [...base, '-f', '-'] : [...base, '-c', sqlOf(a)], env, script ? `${sqlOf(a)}\n` : '');
      const m = /ERROR:\s+([0-9A-Z]{5}): (.*)/.exec(r.stderr);
      const refusal = r.code === 0 ? undefined : { code: m?.[1], message: m?.[2] ?? r.stderr };
      failures.push(...await verify(a, 'psql', refusal));
    }
    expect(failures).toEqual([]);
  });

  it('refuses FunctionCall messages sent on a node-postgres connection after its SCRAM login', async () => {
    const failures: string[] = [];
    for (const a of attemptsFor('functionCall')) {
      const call = a.functionCall!;
      const oid = (await admin.query<{ oid: number }>('SELECT $1::regprocedure::oid::int AS oid', [call.fn])).rows[0]!.oid;
      const client = await devClient();
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      // node-postgres did the SCRAM exchange; from here the test reads the socket itself.
      socket.removeAllListeners('data');
      const reply = readMessages(socket);
      socket.write(functionCallFrame(oid, call.args));
      const messages = await reply.until('Z');
      const error = messages.find((m) => m.type === 'E');
      const refusal = error ? errorFields(error.body) : undefined;
      failures.push(...await verify(a, 'FunctionCall', refusal && { code: refusal.C, message: refusal.M ?? '' }));
      if (messages.some((m) => m.type === 'V')) failures.push(`${a.id}: the server answered the FunctionCall (FunctionCallResponse)`);
      socket.destroy();
      await client.end().catch(() => undefined);
    }
    expect(failures).toEqual([]);
  });

  it('the PostgreSQL corpus is large and every attempt names a distinct id', () => {
    const ids = POSTGRES_ATTEMPTS.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(50);
  });
});

/** FunctionCall ('F'): OID, one text argument format, the arguments, text result. Built by hand. */
function functionCallFrame(oid: number, args: readonly string[]): Buffer {
  const parts: Buffer[] = [int32(oid), int16(1), int16(0), int16(args.length)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(int32(bytes.length), bytes);
  }
  parts.push(int16(0));
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from('F'), int32(body.length + 4), body]);
}

function int32(n: number): Buffer { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; }
function int16(n: number): Buffer { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; }

function errorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1);
    fields[String.fromCharCode(body[i]!)] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return fields;
}

/** Splits backend messages off a socket with its own loop (independent of the codec under test). */
function readMessages(socket: Socket): { until(type: string): Promise<{ type: string; body: Buffer }[]> } {
  let buf = Buffer.alloc(0);
  const messages: { type: string; body: Buffer }[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5) {
      const len = buf.readInt32BE(1);
      if (buf.length < len + 1) break;
      messages.push({ type: String.fromCharCode(buf[0]!), body: buf.subarray(5, len + 1) });
      buf = buf.subarray(len + 1);
    }
    wake?.();
  });
  socket.on('close', () => { closed = true; wake?.(); });
  return {
    async until(type) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const i = messages.findIndex((m) => m.type === type);
        if (i >= 0) return messages.splice(0, i + 1);
        if (closed || Date.now() > deadline) return messages.splice(0);
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 200); });
      }
    },
  };
}
