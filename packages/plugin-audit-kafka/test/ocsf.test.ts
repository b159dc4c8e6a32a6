// The OCSF mapping, checked against hand-written expectations (no servers).
import type { AuditEvent } from '@querygate/core';
import { parseEndpoint, toKafkaRecord, toOcsf } from '@querygate/plugin-audit-kafka';
import { auditEvent } from './helpers';

const base = {
  schemaVersion: 1, time: '2025-03-04T05:06:07.089Z', gateway: 'gw-1', listener: 'pg', protocol: 'postgres',
  database: 'app', clientAddress: '10.1.2.3:54321',
} as const;
const alice = { subject: 'alice', groups: ['dba', 'ops'], method: 'oidc', issuer: 'https://idp.example' } as const;

function ev(fields: Partial<AuditEvent> & Pick<AuditEvent, 'event' | 'seq'>): AuditEvent {
  return { ...base, id: `sess-1:${fields.seq}`, sessionId: 'sess-1', ...fields } as AuditEvent;
}

function statement(kind: string, command: string, risks: string[] = []): AuditEvent['statement'] {
  return { text: 'DELETE FROM t WHERE id = $1', kind, command, objects: ['public.t'], risks } as AuditEvent['statement'];
}

describe('toOcsf', () => {
  it('maps session.started to Authentication / Logon / Success with every required field', () => {
    const o = toOcsf(ev({ event: 'session.started', seq: 1, identity: alice }), 'Acme');
    expect(o).toEqual({
      activity_id: 1,
      activity_name: 'Logon',
      category_uid: 3,
      category_name: 'Identity & Access Management',
      class_uid: 3002,
      class_name: 'Authentication',
      type_uid: 300201,
      type_name: 'Authentication: Logon',
      severity_id: 1,
      severity: 'Informational',
      time: 1741064767089,
      message: 'session.started alice',
      status_id: 1,
      status: 'Success',
      metadata: {
        version: '1.1.0',
        uid: 'sess-1:1',
        correlation_uid: 'sess-1',
        sequence: 1,
        original_time: '2025-03-04T05:06:07.089Z',
        product: { name: 'querygate', vendor_name: 'Acme', feature: { name: 'audit' } },
      },
      actor: {
        user: { name: 'alice', uid: 'alice', groups: [{ name: 'dba' }, { name: 'ops' }] },
        session: { uid: 'sess-1' },
      },
      user: { name: 'alice', uid: 'alice', groups: [{ name: 'dba' }, { name: 'ops' }] },
      auth_protocol_id: 99,
      auth_protocol: 'oidc',
      src_endpoint: { ip: '10.1.2.3', port: 54321 },
      dst_endpoint: { svc_name: 'pg' },
      unmapped: {
        event: 'session.started', schema_version: 1, gateway: 'gw-1', seq: 1, listener: 'pg', protocol: 'postgres',
        auth_method: 'oidc', issuer: 'https://idp.example', database: 'app',
      },
    });
  });

  it('maps auth.failed to Authentication / Logon / Failure, medium severity, claimed user', () => {
    const o = toOcsf(ev({ event: 'auth.failed', seq: 1, claimedUser: 'mallory', error: { code: 'QG_AUTH_FAILED', message: 'bad password' } }));
    expect(o).toMatchObject({
      class_uid: 3002, category_uid: 3, activity_id: 1, type_uid: 300201, status_id: 2, status: 'Failure', severity_id: 3,
      status_code: 'QG_AUTH_FAILED', status_detail: 'bad password',
      user: { name: 'mallory' }, actor: { user: { name: 'mallory' } },
      auth_protocol: 'postgres password',
      metadata: { product: { vendor_name: 'querygate' } },
      message: 'auth.failed mallory: QG_AUTH_FAILED bad password',
    });
  });

  it('maps credential.issued (token exchange) to Authentication / Authentication Ticket', () => {
    const o = toOcsf({
      schemaVersion: 1, event: 'credential.issued', time: base.time, id: 'token-exchange:9:1', sessionId: 'token-exchange:9', seq: 1,
      gateway: 'gw-1', claimedUser: 'repo:acme/api',
    });
    expect(o).toMatchObject({
      class_uid: 3002, category_uid: 3, activity_id: 3, activity_name: 'Authentication Ticket', type_uid: 300203,
      status_id: 1, severity_id: 1, user: { name: 'repo:acme/api' }, auth_protocol: 'oidc token exchange',
    });
    expect(o.src_endpoint).toBeUndefined();
  });

  it.each([
    ['select', 'select', 4, 'Query'],
    ['insert', 'insert', 5, 'Write'],
    ['update', 'update', 2, 'Update'],
    ['merge', 'merge', 2, 'Update'],
    ['delete', 'delete', 7, 'Delete'],
    ['ddl', 'create_table', 6, 'Create'],
    ['ddl', 'drop_table', 7, 'Delete'],
    ['ddl', 'truncate', 7, 'Delete'],
    ['ddl', 'alter_table', 2, 'Update'],
    ['copy', 'copy_to', 1, 'Read'],
    ['copy', 'copy_from_program', 5, 'Write'],
    ['dcl', 'grant', 99, 'grant'],
    ['unknown', 'unknown', 99, 'unknown'],
  ])('maps a %s statement (%s) to Datastore Activity %i %s', (kind, command, activityId, name) => {
    const o = toOcsf(ev({ event: 'statement.allowed', seq: 2, identity: alice, statement: statement(kind, command), verdict: 'allow', fingerprint: 'fp1' }));
    expect(o).toMatchObject({
      class_uid: 6005, category_uid: 6, category_name: 'Application Activity', class_name: 'Datastore Activity',
      activity_id: activityId, activity_name: name, type_uid: 600500 + activityId,
      status_id: 1, disposition_id: 1, disposition: 'Allowed', type_id: 1, type: 'Database',
      database: { name: 'app', type_id: 1, type: 'Relational' },
      query_info: { query_string: 'DELETE FROM t WHERE id = $1', name: command, uid: 'fp1' },
      actor: { user: { name: 'alice' }, session: { uid: 'sess-1' } },
    });
  });

  it('maps statement.denied to Failure / Blocked, high severity for a privilege change', () => {
    const denied = ev({
      event: 'statement.denied', seq: 3, identity: alice, statement: statement('dcl', 'set_role', ['privilegeChange']),
      verdict: 'deny', rule: 'no-set-role', error: { code: 'QG_POLICY_DENIED', message: 'refused by rule no-set-role' },
    });
    expect(toOcsf(denied)).toMatchObject({
      status_id: 2, status: 'Failure', disposition_id: 2, disposition: 'Blocked', severity_id: 4, severity: 'High',
      status_code: 'QG_POLICY_DENIED',
      unmapped: { rule: 'no-set-role', verdict: 'deny', statement_risks: ['privilegeChange'], statement_command: 'set_role' },
    });
    const plain = toOcsf({ ...denied, statement: statement('delete', 'delete', ['noWhere']) });
    expect(plain).toMatchObject({ severity_id: 3, activity_id: 7 });
  });

  it('maps statement.completed with rows and duration, held as Other', () => {
    const done = toOcsf(ev({ event: 'statement.completed', seq: 4, identity: alice, statement: statement('select', 'select'), rows: 42, durationMs: 7 }));
    expect(done).toMatchObject({ status_id: 1, duration: 7, unmapped: { rows: 42 }, activity_id: 4 });
    expect(done.message).toBe('statement.completed alice select on public.t, 42 rows in 7 ms');
    const failed = toOcsf(ev({ event: 'statement.completed', seq: 5, statement: statement('select', 'select'), error: { code: 'QG_UPSTREAM', message: 'boom' } }));
    expect(failed).toMatchObject({ status_id: 2, status_code: 'QG_UPSTREAM' });
    const held = toOcsf(ev({ event: 'statement.held', seq: 6, statement: statement('ddl', 'drop_table'), verdict: 'hold' }));
    expect(held).toMatchObject({ status_id: 99, status: 'Held', severity_id: 2, activity_id: 7 });
  });

  it('maps session.ended, session.refused, approvals and masking into 6005', () => {
    expect(toOcsf(ev({ event: 'session.ended', seq: 9, identity: alice }))).toMatchObject({
      class_uid: 6005, activity_id: 99, activity_name: 'Session Ended', type_uid: 600599, status_id: 1,
    });
    expect(toOcsf(ev({ event: 'session.refused', seq: 2, identity: alice, rule: 'access', error: { code: 'QG_ACCESS_DENIED', message: 'no' } }))).toMatchObject({
      class_uid: 6005, activity_id: 3, activity_name: 'Connect', type_uid: 600503, status_id: 2, severity_id: 3,
    });
    expect(toOcsf(ev({ event: 'approval.requested', seq: 3, approval: { requestId: 'r1' } }))).toMatchObject({
      activity_id: 99, activity_name: 'Approval Requested', severity_id: 2, unmapped: { approval: { requestId: 'r1' } },
    });
    expect(toOcsf(ev({ event: 'approval.decided', seq: 4, approval: { requestId: 'r1', decision: 'denied', approver: 'bob' } }))).toMatchObject({
      status_id: 2, message: 'approval.decided unknown user denied by bob',
    });
    expect(toOcsf(ev({ event: 'approval.decided', seq: 5, approval: { requestId: 'r1', decision: 'approved', approver: 'bob' } }))).toMatchObject({ status_id: 1 });
    const masked = toOcsf(ev({ event: 'masking.applied', seq: 6, identity: alice, masking: { columns: ['public.users.email'], values: 3 } }));
    expect(masked).toMatchObject({ activity_name: 'Masking Applied', unmapped: { masking: { columns: ['public.users.email'], values: 3 } } });
  });

  it('satisfies the OCSF base requirements for every event type', () => {
    for (let seq = 1; seq <= 12; seq++) {
      const o = toOcsf(auditEvent('s', seq));
      for (const key of ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid', 'metadata', 'status_id', 'message'] as const) {
        expect(o[key]).toBeDefined();
      }
      expect(o.type_uid).toBe(o.class_uid * 100 + o.activity_id);
      expect(o.category_uid).toBe(o.class_uid === 3002 ? 3 : 6);
      expect(typeof o.time).toBe('number');
    }
  });

  it('parses client addresses into endpoints', () => {
    expect(parseEndpoint('127.0.0.1:5432')).toEqual({ ip: '127.0.0.1', port: 5432 });
    expect(parseEndpoint('[::1]:40000')).toEqual({ ip: '::1', port: 40000 });
    expect(parseEndpoint('::ffff:10.0.0.1')).toEqual({ ip: '::ffff:10.0.0.1' });
    expect(parseEndpoint('/var/run/qg.sock')).toEqual({ name: '/var/run/qg.sock' });
    expect(parseEndpoint(undefined)).toBeUndefined();
  });
});

describe('toKafkaRecord', () => {
  it('keys by session, carries schema version and event type headers, event time as timestamp', () => {
    const event = auditEvent('sess-9', 1);
    const record = toKafkaRecord(event, 'native', 'querygate');
    expect(record).toEqual({
      key: 'sess-9',
      value: JSON.stringify(event),
      headers: {
        'querygate-schema-version': '1',
        'querygate-event-type': 'session.started',
        'querygate-event-id': 'sess-9:1',
        'querygate-format': 'native',
      },
      timestamp: String(Date.parse(event.time)),
    });
    const ocsf = toKafkaRecord(event, 'ocsf', 'Acme');
    expect(JSON.parse(ocsf.value)).toMatchObject({ class_uid: 3002, metadata: { product: { vendor_name: 'Acme' } } });
    expect(ocsf.headers['querygate-format']).toBe('ocsf');
  });

  it('cuts a huge statement text to fit the size limit and says so', () => {
    const event = auditEvent('big', 2, { statement: { text: `SELECT '${'é'.repeat(5000)}'`, kind: 'select', command: 'select', objects: [], risks: [] } });
    for (const format of ['native', 'ocsf'] as const) {
      const record = toKafkaRecord(event, format, 'querygate', 4000);
      expect(Buffer.byteLength(record.value)).toBeLessThanOrEqual(4000);
      const value = JSON.parse(record.value) as { truncated?: string[]; statement?: { text: string }; query_info?: { query_string: string }; unmapped?: { truncated?: string[] } };
      const text = format === 'native' ? value.statement!.text : value.query_info!.query_string;
      expect(text.endsWith('...[truncated by querygate]')).toBe(true);
      expect(format === 'native' ? value.truncated : value.unmapped!.truncated).toEqual(['statement.text']);
    }
    expect(toKafkaRecord(auditEvent('small', 2), 'native', 'querygate', 4000).value).toBe(JSON.stringify(auditEvent('small', 2)));
  });
});
