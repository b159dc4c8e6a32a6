// Starts a real gateway (core's Gateway + this package's listener) in-process on a free port, in
// front of the harness's PostgreSQL, with test interceptors defined inline by each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Gateway, definePlugin, parseConfig, silentLogger, JsonLogger,
  type AuditEvent, type AuditSink, type Interceptor, type ProtocolListener,
} from '@querygate/core';
import { createPostgresListener } from '../../src';
import { postgresInfo } from '../../../../test/services';
import type { PostgresUserName } from '../../../../packages/services/src';

export interface TestGatewayOptions {
  /** Test interceptors, in order. */
  readonly interceptors?: readonly Interceptor[];
  /** Extra YAML for the listener (indented 4 spaces), e.g. `allowPlaintextPasswords: true`. */
  readonly listenerYaml?: string;
  /** Extra YAML for the upstream (keys inside `upstream: {...}`), e.g. `database: app`. */
  readonly upstream?: { readonly user?: PostgresUserName; readonly host?: string; readonly port?: number; readonly tls?: string; readonly connectTimeout?: string };
  /** Local users: name -> password (groups [testers]). */
  readonly users?: Readonly<Record<string, string>>;
}

export interface TestGateway {
  readonly host: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly listener: ProtocolListener;
  /** Audit events emitted so far. */
  readonly audit: AuditEvent[];
  /** A connection string for a local user. */
  url(user: string, password: string, extra?: string): string;
  stop(): Promise<void>;
}

/** Passwords of the default local users every test gateway has. */
export const ALICE = { user: 'alice', password: 'alice-Secret-1' } as const;

class MemorySink implements AuditSink {
  readonly name = 'memory';
  constructor(readonly events: AuditEvent[]) {}
  async export(events: readonly AuditEvent[]): Promise<{ ok: boolean }> { this.events.push(...events); return { ok: true }; }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const pg = postgresInfo();
  const upstreamUser = options.upstream?.user ?? 'app';
  const env: Record<string, string> = { PG_PASSWORD: pg.users[upstreamUser].password };
  const users = { [ALICE.user]: ALICE.password, ...(options.users ?? {}) };
  const userYaml = Object.entries(users).map(([name, password], i) => {
    env[`USER_PASSWORD_${i}`] = password;
    return `    - { name: ${JSON.stringify(name)}, password: "\${env:USER_PASSWORD_${i}}", groups: [testers] }`;
  }).join('\n');
  const dataDir = mkdtempSync(join(tmpdir(), 'qg-pg-test-'));
  const u = options.upstream ?? {};
  const yaml = `
gateway: { id: test, dataDir: ${JSON.stringify(dataDir)} }
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:0
    upstream:
      host: ${u.host ?? pg.host}
      port: ${u.port ?? pg.port}
      user: ${pg.users[upstreamUser].user}
      password: "\${env:PG_PASSWORD}"
      tls: ${u.tls ?? '{ mode: disable }'}
      connectTimeout: ${u.connectTimeout ?? '5s'}
${options.listenerYaml ?? ''}
identities:
  users:
${userYaml}
plugins:
  - use: test-interceptors
audit: { sinks: [] }
logging: { level: error }
`;
  const { config } = parseConfig(yaml, join(dataDir, 'test.yaml'), { env });
  const audit: AuditEvent[] = [];
  const interceptors = options.interceptors ?? [];
  const gateway = await Gateway.create({
    config,
    logger: process.env.QG_TEST_LOG ? new JsonLogger('debug', {}) : silentLogger,
    auditSinks: [new MemorySink(audit)],
    loadPlugin: async (name) => definePlugin({
      name,
      register(ctx) { for (const i of interceptors) ctx.addInterceptor(i); },
    }),
  });
  const listener = createPostgresListener(gateway.listenerRuntime(config.listeners[0]));
  const address = await listener.start();
  const host = '127.0.0.1';
  return {
    host,
    port: address.port,
    gateway,
    listener,
    audit,
    url: (user, password, extra = '') =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${address.port}/app${extra}`,
    async stop(): Promise<void> {
      gateway.beginDrain();
      await listener.drain(Date.now() + 2000);
      await gateway.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
