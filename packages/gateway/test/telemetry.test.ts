// Spans of a statement reach an OTLP/HTTP receiver (a node:http server in this test) with the
// client's sqlcommenter traceparent as their parent. Driven through the core (Gateway +
// GatewaySession with hand-made Statements), the way a protocol adapter drives it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin, Gateway, GatewayError, parseConfig, silentLogger, tracingActive, Verdicts,
  type QuerygatePlugin, type ResultColumn, type Statement,
} from '@querygate/core';
import { Telemetry, tracesUrl } from '../src/Telemetry';

interface OtlpAttribute { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes: OtlpAttribute[]; links?: { traceId: string; spanId: string }[]; status?: { code?: number };
  startTimeUnixNano: string; endTimeUnixNano: string;
}
interface OtlpRequest { resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

class OtlpReceiver {
  readonly requests: { contentType: string; body: OtlpRequest }[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') {
          this.requests.push({ contentType: String(req.headers['content-type']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{}');
        } else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get spans(): OtlpSpan[] {
    return this.requests.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  }

  resourceAttribute(key: string): string | undefined {
    return this.requests[0]?.body.resourceSpans[0]?.resource.attributes.find((a) => a.key === key)?.value.stringValue;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => { this.server?.close(() => resolve()); this.server?.closeAllConnections(); });
  }
}

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.boolValue;
}

function statement(text: string, overrides: Partial<Statement> = {}): Statement {
  return {
    text, kind: 'select', command: 'select', fingerprint: `fp:${text}`, normalized: text,
    reads: [], writes: [], functions: [], risks: new Set(), lineage: { outputs: [], complete: true }, ...overrides,
  };
}

const policy: QuerygatePlugin = definePlugin({
  name: 'policy',
  register(ctx) {
    ctx.addInterceptor({
      name: 'guard',
      onStatement: (s) => (s.command === 'drop_table' ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'no drops', { rule: 'no-drop' })) : undefined),
    });
    ctx.addInterceptor({
      name: 'slow-check',
      onStatement: async () => { await new Promise((r) => setTimeout(r, 5)); return undefined; },
    });
    ctx.addInterceptor({
      name: 'mask',
      onResult: (r) => ({ columns: new Map([[r.columns.length - 1, () => '***']]), label: 'masking' }),
    });
  },
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe('OpenTelemetry traces', () => {
  const receiver = new OtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'qg-otel-'));
  afterAll(async () => { await receiver.stop(); rmSync(dir, { recursive: true, force: true }); });

  it('builds the traces URL from the configured endpoint', () => {
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces');
  });

  it('exports session, statement, hook, upstream and masking spans; the client traceparent is the parent', async () => {
    const endpoint = await receiver.start();
    const { config } = parseConfig(`
gateway: { dataDir: ${dir} }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities: { users: [ { name: alice, password: "\${env:PW}", groups: [dev] } ] }
audit: { sinks: [] }
telemetry: { serviceName: qg-test, otlp: { endpoint: "${endpoint}" } }
plugins: [ { use: policy } ]
`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
    expect(tracingActive()).toBe(false);
    const telemetry = Telemetry.start({ endpoint: config.telemetry.otlp!.endpoint, serviceName: config.telemetry.serviceName, logger: silentLogger });
    expect(tracingActive()).toBe(true);
    const gw = await Gateway.create({ config, loadPlugin: async () => policy, logger: silentLogger });
    const runtime = gw.listenerRuntime(config.listeners[0]!);
    const gs = await runtime.openSession({ id: 'traced-1', identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: '127.0.0.1:7', clientParameters: {}, tls: false });

    const traced = statement(`select name, email from users where id = 7 /*controller='users',traceparent='00-${TRACE_ID}-${CLIENT_SPAN}-01'*/`, {
      normalized: 'select name, email from users where id = $1',
    });
    const t0 = Date.now();
    const decided = await gs.judge([traced], { via: 'simple', analysis: { startTime: t0 - 2, endTime: t0 } });
    expect(decided).toEqual({ action: 'allow' });
    const columns: ResultColumn[] = ['name', 'email'].map((name) => ({ name, type: 'text', typeId: 25, format: 'text' }));
    const plan = gs.planResult({ statement: traced, columns, source: 'rows' }, { via: 'simple' });
    expect(plan).toMatchObject({ label: 'masking' });
    gs.complete(traced, { rows: 1, durationMs: 3, masked: { columns: ['email'], values: 1 } }, { via: 'simple' });

    const untraced = statement('drop table users', { command: 'drop_table', kind: 'ddl' });
    expect(await gs.judge([untraced], { via: 'simple' })).toMatchObject({ action: 'deny' });
    await gs.end('client_closed');
    await gw.shutdown();
    await telemetry.shutdown();
    expect(tracingActive()).toBe(false);

    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.requests[0]!.contentType).toMatch(/application\/json/);
    expect(receiver.resourceAttribute('service.name')).toBe('qg-test');
    const spans = receiver.spans;
    const byName = (name: string): OtlpSpan[] => spans.filter((s) => s.name === name);

    const session = byName('querygate.session')[0]!;
    expect(session).toBeDefined();
    expect(attr(session, 'db.system')).toBe('postgresql');
    expect(attr(session, 'querygate.session.id')).toBe('traced-1');
    expect(attr(session, 'querygate.statements')).toBe(2);

    const select = byName('select app')[0]!;
    expect(select.traceId).toBe(TRACE_ID);
    expect(select.parentSpanId).toBe(CLIENT_SPAN);
    expect(select.links?.[0]).toMatchObject({ traceId: session.traceId, spanId: session.spanId });
    expect(attr(select, 'db.system')).toBe('postgresql');
    expect(attr(select, 'db.namespace')).toBe('app');
    expect(attr(select, 'db.query.text')).toBe('select name, email from users where id = $1');
    expect(attr(select, 'querygate.verdict')).toBe('allow');
    expect(attr(select, 'db.response.returned_rows')).toBe(1);
    expect(attr(select, 'querygate.masked_values')).toBe(1);
    // The analysis span starts the statement's span.
    expect(BigInt(select.startTimeUnixNano)).toBeLessThanOrEqual(BigInt(t0) * 1_000_000n);

    const children = spans.filter((s) => s.parentSpanId === select.spanId).map((s) => s.name).sort();
    expect(children).toEqual(['querygate.analysis', 'querygate.hook guard', 'querygate.hook slow-check', 'querygate.result_plan', 'querygate.upstream']);
    const plan_ = byName('querygate.result_plan')[0]!;
    expect(attr(plan_, 'querygate.masked_columns')).toBe(1);
    expect(spans.filter((s) => s.parentSpanId === plan_.spanId).map((s) => s.name)).toEqual(['querygate.hook mask']);
    const upstream = byName('querygate.upstream')[0]!;
    expect(upstream.kind).toBe(3); // CLIENT
    expect(attr(upstream, 'db.response.returned_rows')).toBe(1);

    // Without a traceparent the statement span is a child of the session span.
    const drop = byName('drop_table app')[0]!;
    expect(drop.traceId).toBe(session.traceId);
    expect(drop.parentSpanId).toBe(session.spanId);
    expect(attr(drop, 'querygate.verdict')).toBe('deny');
    expect(attr(drop, 'querygate.rule')).toBe('no-drop');
    expect(drop.status?.code).toBe(2); // ERROR
    expect(spans.filter((s) => s.parentSpanId === drop.spanId).map((s) => s.name)).toEqual(['querygate.hook guard']);
  });

  it('creates no spans for sessions opened while no SDK runs', async () => {
    const before = receiver.spans.length;
    const { config } = parseConfig(`
gateway: { dataDir: ${dir} }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities: { users: [ { name: alice, password: "\${env:PW}" } ] }
audit: { sinks: [] }
plugins: [ { use: policy } ]
`, join(dir, 'gw2.yaml'), { env: { PW: 'pw' } });
    const gw = await Gateway.create({ config, loadPlugin: async () => policy, logger: silentLogger });
    const gs = await gw.listenerRuntime(config.listeners[0]!).openSession({ id: 'untraced', identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: 'x', clientParameters: {}, tls: false });
    const s = statement('select 1');
    // The untraced pipeline: the synchronous guard answers synchronously up to the async check.
    await gs.judge([s], { via: 'simple' });
    await gs.end('client_closed');
    await gw.shutdown();
    expect(receiver.spans.length).toBe(before);
  });
});
