import { GatewayError, PluginOptionsError, type Session, type Statement, type StatementContext, Verdicts, type ApprovalService } from '@querygate/core';
import { guardrailsInterceptor, parseGuardrailsOptions } from '../src/guardrails';

function stmt(over: Partial<Statement>): Statement {
  return {
    text: 'x', kind: 'select', command: 'select', fingerprint: 'f', normalized: 'x', reads: [], writes: [], functions: [],
    risks: new Set(), lineage: { outputs: [], complete: true }, ...over,
  };
}
function ctx(groups: string[] = ['dev'], listener = 'pg', database = 'app'): StatementContext {
  const session: Session = {
    id: 's', protocol: 'postgres', listener, database, clientAddress: 'c', startedAt: new Date(), clientParameters: {}, tls: false,
    state: new Map(), identity: { subject: 'u', groups, method: 'local', claims: {} },
  };
  return { session, via: 'simple', signal: new AbortController().signal };
}

const options = parseGuardrailsOptions({
  default: 'allow',
  rules: [
    { name: 'dba-ok', match: { groups: ['dba'] }, action: 'allow' },
    { name: 'no-drop-db', match: { statement: ['drop_database', 'drop_schema'] }, action: 'block', message: 'never' },
    { name: 'no-files', match: { risks: ['fileAccess'] }, action: 'block' },
    { name: 'no-unknown', match: { risks: ['unknown'] }, action: 'block' },
    { name: 'pii-table', match: { objects: ['public.secrets', 'vault.*'] }, action: 'block' },
    { name: 'no-read-file', match: { functions: ['pg_read_*', 'load_file'] }, action: 'block' },
    { name: 'prod-ddl', match: { kind: ['ddl'], databases: ['prod*'] }, action: 'approve' },
    { name: 'regex', match: { regex: 'forbidden_\\w+' }, action: 'block' },
  ],
});

describe('guardrails', () => {
  const noApprovals = guardrailsInterceptor(options, () => undefined);
  const judge = (s: Statement, c = ctx()) => noApprovals.onStatement!(s, c);

  it('first match wins: an earlier allow rule beats a later block', () => {
    expect(judge(stmt({ command: 'drop_database', kind: 'ddl' }), ctx(['dba']))).toEqual({ action: 'allow' });
  });
  it('blocks with a message naming the rule, SQLSTATE 42501 / errno 1142', () => {
    const v = judge(stmt({ command: 'drop_database', kind: 'ddl' })) as { action: string; error: GatewayError };
    expect(v.action).toBe('deny');
    expect(v.error.message).toBe('querygate: statement refused by rule "no-drop-db": never');
    expect([v.error.rule, v.error.sqlstate, v.error.mysqlErrno]).toEqual(['no-drop-db', '42501', 1142]);
  });
  it('matches risk flags and treats unknown statements as the unknown risk', () => {
    expect(judge(stmt({ risks: new Set(['fileAccess']) }))).toMatchObject({ action: 'deny', error: { rule: 'no-files' } });
    expect(judge(stmt({ kind: 'unknown', command: 'unknown' }))).toMatchObject({ action: 'deny', error: { rule: 'no-unknown' } });
    expect(judge(stmt({ risks: new Set(['unparsed']) }))).toMatchObject({ action: 'deny', error: { rule: 'no-unknown' } });
  });
  it('matches objects by schema.table glob; unqualified references by table', () => {
    expect(judge(stmt({ reads: [{ schema: 'public', name: 'secrets' }] }))).toMatchObject({ error: { rule: 'pii-table' } });
    expect(judge(stmt({ reads: [{ name: 'secrets' }] }))).toMatchObject({ error: { rule: 'pii-table' } });
    expect(judge(stmt({ writes: [{ schema: 'vault', name: 'keys' }] }))).toMatchObject({ error: { rule: 'pii-table' } });
    expect(judge(stmt({ reads: [{ schema: 'public', name: 'users' }] }))).toEqual({ action: 'allow' });
  });
  it('matches functions, schema-qualified or not', () => {
    expect(judge(stmt({ functions: ['pg_catalog.pg_read_file'] }))).toMatchObject({ error: { rule: 'no-read-file' } });
    expect(judge(stmt({ functions: ['load_file'] }))).toMatchObject({ error: { rule: 'no-read-file' } });
  });
  it('approve without an approval plugin blocks with a clear message', () => {
    const v = judge(stmt({ kind: 'ddl', command: 'create_table' }), ctx(['dev'], 'pg', 'production')) as { error: GatewayError };
    expect(v.error.message).toMatch(/rule "prod-ddl" requires approval, but no approval plugin is configured/);
    expect(judge(stmt({ kind: 'ddl', command: 'create_table' }), ctx(['dev'], 'pg', 'staging'))).toEqual({ action: 'allow' });
  });
  it('approve hands the statement to the approval service', async () => {
    const calls: string[] = [];
    const service: ApprovalService = { request: (s, _c, reason) => { calls.push(`${s.command}:${reason.rule}`); return Verdicts.hold(Promise.resolve(Verdicts.allow())); } };
    const v = await guardrailsInterceptor(options, () => service).onStatement!(stmt({ kind: 'ddl', command: 'alter_table' }), ctx(['dev'], 'pg', 'prod1'));
    expect(v).toMatchObject({ action: 'hold' });
    expect(calls).toEqual(['alter_table:prod-ddl']);
  });
  it('regex is a last resort over the text, case-insensitive', () => {
    expect(judge(stmt({ text: 'SELECT * FROM FORBIDDEN_TABLE' }))).toMatchObject({ error: { rule: 'regex' } });
  });
  it('the default applies to unmatched statements', () => {
    const strict = guardrailsInterceptor(parseGuardrailsOptions({ default: 'block', rules: [] }), () => undefined);
    expect(strict.onStatement!(stmt({}), ctx())).toMatchObject({ action: 'deny', error: { rule: '(default)' } });
  });
  it('rejects bad options with a path', () => {
    const bad = (o: unknown) => { try { parseGuardrailsOptions(o); } catch (e) { return [(e as PluginOptionsError).path, (e as Error).message]; } return undefined; };
    expect(bad({ rules: [{ name: 'a', action: 'nuke' }] })).toEqual([['rules', 0, 'action'], 'must be one of: block, approve, allow']);
    expect(bad({ rules: [{ action: 'block' }] })?.[0]).toEqual(['rules', 0, 'name']);
    expect(bad({ rules: [{ name: 'a', action: 'block', match: { kind: 'dml' } }] })?.[0]).toEqual(['rules', 0, 'match', 'kind', 0]);
    expect(bad({ rules: [{ name: 'a', action: 'block', match: { regex: '(' } }] })?.[0]).toEqual(['rules', 0, 'match', 'regex']);
    expect(bad({ rules: [{ name: 'a', action: 'block' }, { name: 'a', action: 'allow' }] })?.[1]).toMatch(/duplicate/);
    expect(bad({ rulez: [] })?.[0]).toEqual(['rulez']);
  });
});
