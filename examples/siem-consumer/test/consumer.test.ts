// The example SIEM reader: schema checks without servers, then reading what the real Kafka sink wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  AUDIT_SCHEMA_VERSION, RISK_FLAGS, STATEMENT_KINDS, silentLogger, type AuditEvent, type AuditEventType,
} from '@querygate/core';
import { KafkaAuditSink, parseKafkaAuditOptions } from '@querygate/plugin-audit-kafka';
import { describeWith, kafkaBrokers } from '../../../test/services';
import { createTopic } from '../../../packages/plugin-audit-kafka/test/helpers';
import { SchemaValidator, SessionOrder, SiemConsumer, formatSummary, type SchemaNode } from '../src';

// Exhaustive at compile time: adding an event type to core without the schema fails typecheck here.
const EVENT_TYPES: Record<AuditEventType, true> = {
  'session.started': true, 'session.ended': true, 'session.refused': true, 'auth.failed': true, 'credential.issued': true,
  'statement.allowed': true, 'statement.denied': true, 'statement.held': true, 'statement.completed': true,
  'approval.requested': true, 'approval.decided': true, 'masking.applied': true,
};

const common = { schemaVersion: 1, gateway: 'gw-1', listener: 'pg', protocol: 'postgres', database: 'app', clientAddress: '127.0.0.1:40000' } as const;
const alice = { subject: 'alice', groups: ['dba'], method: 'local' } as const;
const select = { text: 'SELECT email FROM users WHERE id = $1', kind: 'select', command: 'select', objects: ['public.users'], risks: [] } as const;
const drop = { text: 'DROP TABLE audit_log', kind: 'ddl', command: 'drop_table', objects: ['public.audit_log'], risks: ['privilegeChange'] } as const;

/** One session that goes through every kind of event the gateway emits, in a plausible order. */
function sessionEvents(sessionId: string, t0: number): AuditEvent[] {
  const bodies: Omit<AuditEvent, 'schemaVersion' | 'id' | 'sessionId' | 'seq' | 'time' | 'gateway'>[] = [
    { event: 'session.started', identity: alice },
    { event: 'statement.allowed', identity: alice, statement: select, fingerprint: 'fp-select', verdict: 'allow' },
    { event: 'masking.applied', identity: alice, statement: select, masking: { columns: ['public.users.email'], values: 1 } },
    { event: 'statement.completed', identity: alice, statement: select, fingerprint: 'fp-select', rows: 1, durationMs: 2.5 },
    { event: 'statement.held', identity: alice, statement: drop, verdict: 'hold', rule: 'ddl-needs-approval' },
    { event: 'approval.requested', identity: alice, approval: { requestId: 'req-1' } },
    { event: 'approval.decided', identity: alice, approval: { requestId: 'req-1', decision: 'denied', approver: 'bob', reason: 'not today' } },
    { event: 'statement.denied', identity: alice, statement: drop, verdict: 'deny', rule: 'ddl-needs-approval', error: { code: 'QG_APPROVAL_DENIED', message: 'approval denied by bob' } },
    { event: 'session.ended', identity: alice, durationMs: 1200 },
  ];
  return bodies.map((body, i) => ({
    ...common, ...body, sessionId, seq: i + 1, id: `${sessionId}:${i + 1}`, time: new Date(t0 + i).toISOString(),
  }) as AuditEvent);
}

function refusedEvents(t0: number): AuditEvent[] {
  return [
    { ...common, event: 'auth.failed', sessionId: 'bad-1', seq: 1, id: 'bad-1:1', time: new Date(t0).toISOString(), claimedUser: 'mallory', error: { code: 'QG_AUTH_FAILED', message: 'password authentication failed' } },
    { schemaVersion: 1, gateway: 'gw-1', event: 'credential.issued', sessionId: 'token-exchange:1', seq: 1, id: 'token-exchange:1:1', time: new Date(t0).toISOString(), claimedUser: 'repo:acme/api' },
    { ...common, event: 'session.refused', sessionId: 'ref-1', seq: 1, id: 'ref-1:1', time: new Date(t0).toISOString(), identity: alice, rule: 'access', error: { code: 'QG_ACCESS_DENIED', message: 'no access rule lets alice use pg/app' } },
  ] as AuditEvent[];
}

describe('the schema (docs/audit-event.schema.json)', () => {
  const validator = SchemaValidator.fromFile();
  const schema = validator.schema as SchemaNode & { properties: Record<string, SchemaNode & { properties?: Record<string, SchemaNode> }> };

  it('matches core: version, event types, statement kinds, risk flags', () => {
    expect(schema.properties.schemaVersion!.const).toBe(AUDIT_SCHEMA_VERSION);
    expect([...schema.properties.event!.enum!].sort()).toEqual(Object.keys(EVENT_TYPES).sort());
    expect(schema.properties.statement!.properties!.kind!.enum).toEqual(STATEMENT_KINDS);
    expect(schema.properties.statement!.properties!.risks!.items!.enum).toEqual(RISK_FLAGS);
  });

  it('accepts every event the gateway emits', () => {
    for (const event of [...sessionEvents('s-1', Date.now()), ...refusedEvents(Date.now())]) {
      expect(validator.validate(event)).toEqual([]);
    }
  });

  it('names what is wrong', () => {
    const ok = sessionEvents('s-2', Date.now())[1]!;
    expect(validator.validate({ ...ok, schemaVersion: 2 })).toEqual(['$.schemaVersion: must be 1']);
    expect(validator.validate({ ...ok, event: 'statement.exploded' })[0]).toMatch(/^\$\.event: "statement.exploded" is not one of/);
    expect(validator.validate({ ...ok, seq: '2' })).toEqual(['$.seq: expected integer, got string']);
    expect(validator.validate({ ...ok, time: '2025-01-01 10:00' })[0]).toMatch(/^\$\.time: does not match/);
    const { sessionId: _s, ...noSession } = ok;
    expect(validator.validate(noSession)).toEqual(['$: missing required "sessionId"']);
    expect(validator.validate({ ...ok, statement: { ...select, risks: ['yolo'] } })[0]).toMatch(/^\$\.statement\.risks\[0\]/);
    expect(validator.validate({ ...ok, identity: { ...alice, password: 'x' } })).toEqual(['$.identity: unexpected property "password"']);
    // Unknown top-level fields are allowed: new optional fields must not break old consumers.
    expect(validator.validate({ ...ok, newField: 1 })).toEqual([]);
  });

  it('refuses a schema keyword it cannot check', () => {
    expect(() => new SchemaValidator({ type: 'object', oneOf: [] } as unknown as SchemaNode)).toThrow(/"oneOf"/);
  });
});

describe('SessionOrder', () => {
  it('reports gaps, steps back and duplicates per session', () => {
    const order = new SessionOrder();
    expect(order.add('a', 1, 'a:1')).toBeUndefined();
    expect(order.add('a', 2, 'a:2')).toBeUndefined();
    expect(order.add('a', 5, 'a:5')).toBe('session a: missing seq 3-4');
    expect(order.add('a', 4, 'a:4')).toBe('session a: seq 4 after 5');
    expect(order.add('a', 5, 'a:5')).toBe('duplicate a:5');
    expect(order.add('b', 2, 'b:2')).toBe('session b: missing seq 1');
    expect(order.add('c', 0, 'c:0')).toBeUndefined();
    expect(order.report().get('a')).toEqual({ events: 5, lastSeq: 5, gaps: ['3-4'], outOfOrder: 1, duplicates: 1 });
  });
});

describeWith('kafka')('SiemConsumer against the shared broker', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  async function produceThroughSink(topic: string, format: 'native' | 'ocsf'): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), 'qg-siem-'));
    dirs.push(dir);
    await createTopic(new Kafka({ clientId: 'siem-topics', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }), topic);
    const sink = new KafkaAuditSink(parseKafkaAuditOptions({ brokers: kafkaBrokers(), topic, format, lingerMs: 5 }), {
      logger: silentLogger, spoolDir: join(dir, 'spool'),
    });
    sink.start();
    const t0 = Date.now();
    const events = [...refusedEvents(t0), ...['s-a', 's-b', 's-c'].flatMap((s) => sessionEvents(s, t0))];
    // Interleave sessions as a busy gateway would.
    const byTurn = [...events].sort((a, b) => a.seq - b.seq);
    for (let i = 0; i < byTurn.length; i += 4) expect(await sink.export(byTurn.slice(i, i + 4))).toEqual({ ok: true });
    expect(await sink.drain(20_000)).toBe(true);
    await sink.shutdown();
    return events.length;
  }

  it('validates every event the Kafka sink produced and finds them complete and in order', async () => {
    const topic = `siem-native-${Date.now()}`;
    const produced = await produceThroughSink(topic, 'native');
    const findings: string[] = [];
    const summary = await new SiemConsumer({ brokers: kafkaBrokers(), topic, timeoutMs: 30_000, onFinding: (f) => findings.push(f) }).run();
    expect(findings).toEqual([]);
    expect(summary).toMatchObject({
      records: produced, valid: produced, invalid: 0, sessions: 6, gaps: 0, outOfOrder: 0, duplicates: 0, formats: { native: produced },
    });
    for (const type of Object.keys(EVENT_TYPES)) expect(summary.byType[type]).toBeGreaterThan(0);
    expect(summary.byType['statement.completed']).toBe(3);
    const text = formatSummary(topic, summary);
    expect(text).toContain(`${produced} records, ${produced} valid, 0 invalid`);
    expect(text.endsWith('OK')).toBe(true);
  });

  it('checks OCSF records too', async () => {
    const topic = `siem-ocsf-${Date.now()}`;
    const produced = await produceThroughSink(topic, 'ocsf');
    const summary = await new SiemConsumer({ brokers: kafkaBrokers(), topic, timeoutMs: 30_000 }).run();
    expect(summary).toMatchObject({ records: produced, valid: produced, invalid: 0, gaps: 0, outOfOrder: 0, formats: { ocsf: produced } });
    expect(summary.byType['auth.failed']).toBe(1);
  });

  it('reports invalid records, gaps, steps back and duplicates', async () => {
    const topic = `siem-bad-${Date.now()}`;
    const kafka = new Kafka({ clientId: 'siem-bad', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    await createTopic(kafka, topic, 1);
    const producer = kafka.producer();
    await producer.connect();
    const [e1, e2, e3, e4] = sessionEvents('x', Date.now());
    const record = (e: unknown, key = 'x') => ({ key, value: JSON.stringify(e) });
    await producer.send({
      topic,
      messages: [
        record(e1), record(e3), record(e2), record(e3), record({ ...e4, event: 'statement.exploded' }), { key: 'x', value: 'not json' },
        record({ ...e4, sessionId: 'y', id: 'y:4' }, 'x'),
      ],
    });
    await producer.disconnect();
    const summary = await new SiemConsumer({ brokers: kafkaBrokers(), topic, timeoutMs: 30_000 }).run();
    expect(summary).toMatchObject({ records: 7, valid: 4, invalid: 3, gaps: 1, outOfOrder: 1, duplicates: 1 });
    expect(summary.findings).toEqual([
      'session x: missing seq 2',
      'session x: seq 2 after 3',
      'duplicate x:3',
      expect.stringMatching(/^record 5 \(x:4\): \$\.event: "statement.exploded" is not one of/),
      'record 6: value is not JSON',
      'record 7 (y:4): key x is not the session id',
    ]);
    expect(formatSummary(topic, summary).endsWith('PROBLEMS FOUND')).toBe(true);
  });
});
