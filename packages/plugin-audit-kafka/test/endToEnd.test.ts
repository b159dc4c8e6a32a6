// Issue 8 end to end: a whole gateway (PostgreSQL and MySQL listeners, the audit-kafka plugin from its
// config) audits real client sessions while this file's own Kafka broker stops mid-run and comes back.
// Statements must keep succeeding through the outage, and the topic must end up holding every session's
// events exactly once, in seq order, as the gateway emitted them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { parseConfig, silentLogger, Tokens, type AuditEvent, type AuditSink } from '@querygate/core';
import { GatewayServer } from '@querygate/gateway';
import { startKafka, type KafkaBroker } from '@querygate/services';
import { KafkaAuditSink } from '@querygate/plugin-audit-kafka';
import { hasService, mariadbInfo, postgresInfo } from '../../../test/services';
import { createTopic, quietKafka, range, readTopic, settledRecordCount, sleep, waitFor } from './helpers';

/** What the gateway handed to its audit trail, as a second sink beside Kafka: the reference. */
class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly events: AuditEvent[] = [];
  async export(events: readonly AuditEvent[]): Promise<{ ok: boolean }> { this.events.push(...events); return { ok: true }; }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** One client session driven by the test; each logs in as its own local user, so its events are findable. */
interface Driven {
  readonly user: string;
  readonly protocol: 'postgres' | 'mysql';
  /** Runs one statement that returns `n`, resolving with what came back. */
  readonly select: (n: number) => Promise<number>;
  readonly close: () => Promise<void>;
  sent: number;
  failures: string[];
}

const PASSWORD = 'e2e-Audit-Pw-1';
const PER_PROTOCOL = 3;
const PAUSE_MS = 25;

const bothDatabases = hasService('postgres') && hasService('mariadb');

(bothDatabases ? describe : describe.skip)('audit-kafka end to end: gateway sessions through a broker outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qg-audit-kafka-e2e-'));
  const topic = `audit-e2e-${process.pid}-${Date.now()}`;
  const users = [...range(1, PER_PROTOCOL).map((i) => `pg${i}`), ...range(1, PER_PROTOCOL).map((i) => `my${i}`)];
  let broker: KafkaBroker | undefined;
  let server: GatewayServer | undefined;
  const sessions: Driven[] = [];
  // Outside the test so that afterAll stops them when an assertion fails half-way.
  let sending = false;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    broker = await startKafka({ name: 'audit-kafka-e2e' });
  }, 120_000);

  afterAll(async () => {
    sending = false;
    clearInterval(sampler);
    await Promise.allSettled(sessions.map((s) => s.close()));
    await server?.stop(5000);
    await broker?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses, duplicates and reorders nothing while statements keep running through the outage', async () => {
    const testStart = Date.now();
    const kafkaBroker = broker!;
    const kafka = quietKafka(kafkaBroker.brokers, 'audit-e2e-reader');
    await createTopic(kafka, topic);

    const pg = postgresInfo();
    const my = mariadbInfo();
    const env: Record<string, string> = { PG_PW: pg.users.app.password, MY_PW: my.users.app.password, USER_PW: PASSWORD };
    const yaml = `
gateway: { id: audit-e2e, dataDir: ${JSON.stringify(join(dir, 'data'))}, shutdownTimeout: 20s }
listeners:
  - { name: pg, protocol: postgres, listen: "127.0.0.1:0", upstream: { host: ${pg.host}, port: ${pg.port}, user: ${pg.users.app.user}, password: "\${env:PG_PW}", tls: { mode: disable } } }
  - { name: my, protocol: mysql, listen: "127.0.0.2:0", upstream: { host: ${my.host}, port: ${my.port}, user: ${my.users.app.user}, password: "\${env:MY_PW}", tls: { mode: disable } } }
identities:
  users: [ ${users.map((u) => `{ name: ${u}, password: "\${env:USER_PW}", groups: [dev] }`).join(', ')} ]
audit: { sinks: [], strict: true }
plugins:
  - use: audit-kafka
    options:
      brokers: ${JSON.stringify(kafkaBroker.brokers)}
      topic: ${topic}
      lingerMs: 5
      batchSize: 200
      connectionTimeout: 1s
      requestTimeout: 5s
      shutdownTimeout: 20s
`;
    const configFile = join(dir, 'querygate.yaml');
    const { config } = parseConfig(yaml, configFile, { env });
    const reference = new MemoryAuditSink();
    server = await GatewayServer.create({ config, configFile, logger: silentLogger, auditSinks: [reference] });
    const sink = server.gateway.container.resolveAll<AuditSink>(Tokens.AuditSink).find((s): s is KafkaAuditSink => s instanceof KafkaAuditSink);
    if (!sink) throw new Error('the audit-kafka plugin registered no KafkaAuditSink');
    const running = await server.start();

    for (const user of users) {
      if (user.startsWith('pg')) {
        const client = new Client({ host: '127.0.0.1', port: running.listeners.pg!.port, user, password: PASSWORD, database: pg.database, ssl: false });
        const driven: Driven = {
          user, protocol: 'postgres', sent: 0, failures: [],
          select: async (n) => (await client.query<{ n: number }>('SELECT $1::int AS n', [n])).rows[0]!.n,
          close: () => client.end(),
        };
        client.on('error', (err) => driven.failures.push(`client error: ${err.message}`));
        await client.connect();
        sessions.push(driven);
      } else {
        const conn: Connection = await createConnection({ host: running.listeners.my!.address, port: running.listeners.my!.port, user, password: PASSWORD, database: my.database });
        const driven: Driven = {
          user, protocol: 'mysql', sent: 0, failures: [],
          select: async (n) => Number((await conn.query<RowDataPacket[]>('SELECT ? AS n', [n]))[0][0]!.n),
          close: () => conn.end(),
        };
        conn.on('error', (err: Error) => driven.failures.push(`connection error: ${err.message}`));
        sessions.push(driven);
      }
    }

    // Every session sends statements back to back (with a short pause) until told to stop.
    sending = true;
    const loops = sessions.map(async (s) => {
      while (sending) {
        const n = s.sent + 1;
        try {
          const got = await s.select(n);
          if (got !== n) s.failures.push(`statement ${n} returned ${got}`);
        } catch (err) {
          s.failures.push(`statement ${n}: ${(err as Error).message}`);
        }
        s.sent = n;
        await sleep(PAUSE_MS);
      }
    });
    const sentNow = (): number => sessions.reduce((sum, s) => sum + s.sent, 0);
    let peakSpooled = 0;
    sampler = setInterval(() => { peakSpooled = Math.max(peakSpooled, sink.status().spooledEvents); }, 50);

    const t0 = Date.now();
    const phases: string[] = [`sessions open after ${t0 - testStart}ms`];
    const mark = (what: string): void => { phases.push(`${what} ${Date.now() - t0}ms/${sentNow()} stmts`); };
    await waitFor('first deliveries', () => sink.status().delivered > 300);
    await sleep(500);
    mark('stopping broker');
    const sentBeforeOutage = sentNow();
    await kafkaBroker.stop();
    mark('broker stopped');
    await waitFor('the sink to notice the outage', () => !sink.status().connected);
    await sleep(2000);
    const during = sink.status();
    expect(during.connected).toBe(false);
    mark('starting broker');
    await kafkaBroker.start();
    mark('broker started');
    await waitFor('delivery to resume', () => sink.status().connected, 30_000);
    const sentDuringOutage = sentNow() - sentBeforeOutage;
    mark('delivering again');
    await sleep(2500);
    sending = false;
    await Promise.all(loops);
    clearInterval(sampler);
    mark('sessions done');
    await Promise.all(sessions.map((s) => s.close()));
    // Graceful stop ends the sessions still open (none should be), flushes the trail and drains the spool.
    await server.stop();
    mark('gateway stopped');
    const after = sink.status();

    // Audit never blocked the statement path: every statement of every session succeeded.
    for (const s of sessions) expect({ user: s.user, failures: s.failures }).toEqual({ user: s.user, failures: [] });
    expect(sentDuringOutage).toBeGreaterThan(0);
    expect(server.gateway.trail.failures).toBe(0);
    expect(after).toMatchObject({ spooledEvents: 0, corruptLines: 0 });
    expect(after.delivered).toBe(reference.events.length);

    // The exact record count from the watermarks: a duplicate would show here (no dedupe anywhere).
    expect(await settledRecordCount(kafka, topic, reference.events.length)).toBe(reference.events.length);
    const records = await readTopic(kafka, topic, reference.events.length);
    mark('topic read');
    const fromKafka = new Map<string, AuditEvent[]>();
    for (const m of records) {
      const event = JSON.parse(m.value!.toString('utf8')) as AuditEvent;
      expect(m.key?.toString('utf8')).toBe(event.sessionId);
      fromKafka.set(event.sessionId, [...(fromKafka.get(event.sessionId) ?? []), event]);
    }
    const emitted = new Map<string, AuditEvent[]>();
    for (const e of reference.events) emitted.set(e.sessionId, [...(emitted.get(e.sessionId) ?? []), e]);
    expect(fromKafka.size).toBe(sessions.length);
    expect([...fromKafka.keys()].sort()).toEqual([...emitted.keys()].sort());

    const perSession: string[] = [];
    for (const s of sessions) {
      const ids = [...fromKafka.entries()].filter(([, events]) => events[0]?.event === 'session.started' && events[0].identity?.subject === s.user).map(([id]) => id);
      expect(ids).toHaveLength(1);
      const events = fromKafka.get(ids[0]!)!;
      const n = s.sent;
      // seq 1..N in order: no gap, no duplicate, nothing overtaken.
      expect(events.map((e) => e.seq)).toEqual(range(1, 2 * n + 2));
      // Exactly what the gateway must emit: started, allowed + completed per statement, ended.
      expect(events.map((e) => e.event)).toEqual([
        'session.started',
        ...range(1, n).flatMap(() => ['statement.allowed', 'statement.completed']),
        'session.ended',
      ]);
      expect(events.filter((e) => e.event === 'statement.completed')).toHaveLength(n);
      expect(events.every((e) => e.protocol === s.protocol && e.listener === (s.protocol === 'postgres' ? 'pg' : 'my'))).toBe(true);
      // The same events the trail handed to its other sink, in the same order, unchanged.
      expect(events).toEqual(emitted.get(ids[0]!));
      perSession.push(`${s.user}: ${n} statements, ${events.length} events`);
    }
    console.log([
      `audit-kafka e2e: ${reference.events.length} events on the topic, ${sentNow()} statements in ${sessions.length} sessions`,
      `${during.spooledEvents} events spooled 2 s into the outage, ${peakSpooled} at the peak (before the restarted broker took them), ${sentDuringOutage} statements sent while the broker was down`,
      perSession.join('; '),
      phases.join(', '),
    ].join('\n'));
  }, 120_000);
});
