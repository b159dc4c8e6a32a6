import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError, definePlugin, Gateway, GatewayError, parseConfig, PluginOptionsError, silentLogger, Verdicts,
  type AuditEvent, type AuditSink, type QuerygatePlugin,
} from '../src';
import { statement } from './fixtures';

class MemorySink implements AuditSink {
  readonly name = 'memory';
  events: AuditEvent[] = [];
  async export(events: readonly AuditEvent[]) { this.events.push(...events); return { ok: true }; }
  async flush() {}
  async shutdown() {}
}

function config(plugins: string, extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'qg-gw-'));
  return parseConfig(`
gateway: { dataDir: ${dir} }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities:
  users: [ { name: alice, password: "\${env:PW}", groups: [dev] } ]
audit: { sinks: [ { type: file, path: ${dir}/audit.jsonl } ] }
plugins:
${plugins}
${extra}`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
}

const plugins: Record<string, QuerygatePlugin> = {
  provider: definePlugin({ name: 'provider', provides: ['thing'], register() {} }),
  consumer: definePlugin({ name: 'consumer', requires: ['thing'], register() {} }),
  late: definePlugin({ name: 'late', after: ['provider'], register() {} }),
  picky: definePlugin({ name: 'picky', register(ctx) { if ((ctx.options as { level?: unknown }).level !== 1) throw new PluginOptionsError(['level'], 'must be 1'); } }),
  denier: definePlugin({
    name: 'denier',
    register(ctx) {
      ctx.addInterceptor({ name: 'denier', onStatement: (s) => (s.text.includes('secret') ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'no secrets', { rule: 'no-secrets' })) : undefined) });
    },
  }),
};
const loadPlugin = async (use: string) => {
  const p = plugins[use];
  if (!p) throw new Error(`plugin "${use}" not found`);
  return p;
};

async function expectProblems(loaded: ReturnType<typeof config>, pattern: RegExp, line?: number): Promise<void> {
  const error = await Gateway.create({ config: loaded.config, lineOf: loaded.lineOf, loadPlugin, logger: silentLogger }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems[0]!.message).toMatch(pattern);
  if (line !== undefined) expect((error as ConfigError).problems[0]!.line).toBe(line);
}

describe('Gateway plugin loading', () => {
  it('fails on an unknown plugin name with its line', async () => {
    await expectProblems(config('  - use: nosuch'), /plugin "nosuch" not found/, 9);
  });
  it('fails when a required capability is provided by no plugin', async () => {
    await expectProblems(config('  - use: consumer'), /requires "thing", which no configured plugin provides/);
  });
  it('fails when the provider is configured after the consumer', async () => {
    await expectProblems(config('  - use: consumer\n  - use: provider'), /plugin "provider" provides, so that plugin must be listed before it/);
  });
  it('fails when an ordering constraint is broken', async () => {
    await expectProblems(config('  - use: late\n  - use: provider'), /must come after "provider"/);
  });
  it('accepts a valid order', async () => {
    const loaded = config('  - use: provider\n  - use: consumer\n  - use: late');
    const gw = await Gateway.create({ config: loaded.config, loadPlugin, logger: silentLogger });
    await gw.shutdown();
  });
  it('reports plugin option errors at plugins[i].options.<path> with the line', async () => {
    await expectProblems(config('  - use: picky\n    options:\n      level: 2'), /must be 1/, 11);
  });
  it('refuses the same plugin twice without a distinct name', async () => {
    await expectProblems(config('  - use: provider\n  - use: provider'), /configured twice/);
  });
});

describe('Gateway sessions', () => {
  it('audits a session with gap-free sequence numbers and refuses denied statements', async () => {
    const loaded = config('  - use: denier');
    const sink = new MemorySink();
    const gw = await Gateway.create({ config: loaded.config, loadPlugin, logger: silentLogger, auditSinks: [sink] });
    const runtime = gw.listenerRuntime(loaded.config.listeners[0]!);
    const user = gw.identities.localUser('alice')!;
    const gs = await runtime.openSession({ id: 'sess-1', identity: user.identity, database: 'app', clientAddress: '127.0.0.1:1', clientParameters: { user: 'alice' }, tls: false });
    expect(gs.judge([statement('select 1')], { via: 'simple' })).toEqual({ action: 'allow' });
    const denied = gs.judge([statement('select 1'), statement('select secret')], { via: 'simple' });
    expect(denied).toMatchObject({ action: 'deny', error: { code: 'QG_STATEMENT_DENIED', rule: 'no-secrets' } });
    gs.complete(statement('select 1'), { rows: 1, durationMs: 2 }, { via: 'simple' });
    await gs.end('client_closed');
    await gw.shutdown();
    const events = sink.events.filter((e) => e.sessionId === 'sess-1');
    expect(events.map((e) => e.event)).toEqual([
      'session.started', 'statement.allowed', 'statement.allowed', 'statement.denied', 'statement.completed', 'session.ended',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[3]).toMatchObject({ verdict: 'deny', rule: 'no-secrets', identity: { subject: 'alice', groups: ['dev'], method: 'local' } });
    // The file sink got the same events as JSON lines.
    const lines = readFileSync(loaded.config.audit.sinks[0]!.type === 'file' ? loaded.config.audit.sinks[0]!.path : '', 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).event)).toEqual(events.map((e) => e.event));
  });

  it('refuses a session the access policy does not allow, with an audit event', async () => {
    const loaded = config('  []', 'access:\n  - { groups: [dba], listeners: [pg] }');
    const sink = new MemorySink();
    const gw = await Gateway.create({ config: loaded.config, loadPlugin, logger: silentLogger, auditSinks: [sink] });
    const runtime = gw.listenerRuntime(loaded.config.listeners[0]!);
    const identity = gw.identities.localUser('alice')!.identity;
    await expect(runtime.openSession({ id: 'sess-2', identity, database: 'app', clientAddress: 'x', clientParameters: {}, tls: false }))
      .rejects.toMatchObject({ code: 'QG_ACCESS_DENIED', sqlstate: '28000', mysqlErrno: 1044 });
    await gw.shutdown();
    expect(sink.events.map((e) => e.event)).toEqual(['session.refused']);
  });

  it('strict audit mode refuses statements while a sink fails', async () => {
    const loaded = config('  []', '');
    const failing: AuditSink = { name: 'down', export: async () => ({ ok: false, error: new Error('down') }), flush: async () => {}, shutdown: async () => {} };
    const gw = await Gateway.create({ config: { ...loaded.config, audit: { ...loaded.config.audit, strict: true } }, loadPlugin, logger: silentLogger, auditSinks: [failing] });
    const runtime = gw.listenerRuntime(loaded.config.listeners[0]!);
    const gs = await runtime.openSession({ id: 's3', identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: 'x', clientParameters: {}, tls: false });
    await gw.trail.flush();
    expect(gs.judge([statement('select 1')], { via: 'simple' })).toMatchObject({ action: 'deny', error: { code: 'QG_AUDIT_UNAVAILABLE' } });
    await gw.shutdown();
  });
});
