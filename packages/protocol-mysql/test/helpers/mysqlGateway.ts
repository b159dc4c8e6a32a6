// Starts a querygate Gateway in-process with one MySQL listener in front of the harness MariaDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin, Gateway, parseConfig, silentLogger,
  type AuditEvent, type AuditSink, type Interceptor, type PasswordVerifier, type ProtocolListener,
} from '@querygate/core';
import { createMysqlListenerWith, type MysqlListenerOptions } from '../../src';
import { mariadbInfo } from '../../../../test/services';

export interface TestUser {
  readonly name: string;
  readonly password: string;
  readonly groups?: readonly string[];
}

export interface MysqlGatewayOptions {
  readonly interceptors?: readonly Interceptor[];
  readonly users?: readonly TestUser[];
  readonly verifiers?: readonly PasswordVerifier[];
  readonly listener?: MysqlListenerOptions;
  /** Extra YAML lines for the listener entry (indented by the helper), e.g. `allowPlaintextPasswords: true`. */
  readonly listenerYaml?: readonly string[];
  /** Extra top-level YAML lines, e.g. `recording: { dir: ... }`. */
  readonly gatewayYaml?: readonly string[];
  /** Override of the upstream (e.g. a closed port). */
  readonly upstream?: { readonly host: string; readonly port: number; readonly password?: string };
}

export interface MysqlGateway {
  readonly port: number;
  readonly gateway: Gateway;
  readonly listener: ProtocolListener;
  readonly audit: AuditEvent[];
  stop(): Promise<void>;
}

export const ALICE: TestUser = { name: 'alice', password: 'alice-secret-1', groups: ['dev'] };
export const BOB: TestUser = { name: 'bob', password: 'bob-secret-2', groups: ['dev'] };

class MemorySink implements AuditSink {
  readonly name = 'memory';
  constructor(private readonly events: AuditEvent[]) {}
  async export(events: readonly AuditEvent[]): Promise<{ ok: boolean }> { this.events.push(...events); return { ok: true }; }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export async function startMysqlGateway(options: MysqlGatewayOptions = {}): Promise<MysqlGateway> {
  const maria = mariadbInfo();
  const users = options.users ?? [ALICE, BOB];
  const upstream = options.upstream ?? { host: maria.host, port: maria.port, password: maria.users.app.password };
  const env: Record<string, string> = { UPSTREAM_PASSWORD: upstream.password ?? maria.users.app.password };
  users.forEach((u, i) => { env[`USER_PW_${i}`] = u.password; });
  const dataDir = mkdtempSync(join(tmpdir(), 'qg-mysql-test-'));
  const yaml = [
    'gateway:',
    '  id: mysql-test',
    `  dataDir: ${JSON.stringify(dataDir)}`,
    'listeners:',
    '  - name: mysql',
    '    protocol: mysql',
    '    listen: 127.0.0.1:0',
    `    upstream: { host: ${upstream.host}, port: ${upstream.port}, user: app, password: "\${env:UPSTREAM_PASSWORD}", tls: { mode: disable }, connectTimeout: 3s }`,
    ...(options.listenerYaml ?? []).map((l) => `    ${l}`),
    'identities:',
    '  users:',
    ...users.map((u, i) => `    - { name: ${u.name}, password: "\${env:USER_PW_${i}}", groups: [${(u.groups ?? []).join(', ')}] }`),
    'plugins:',
    '  - use: test-interceptors',
    'audit: { sinks: [] }',
    'logging: { level: error }',
    ...(options.gatewayYaml ?? []),
    '',
  ].join('\n');
  const { config } = parseConfig(yaml, 'test.yaml', { env });
  const audit: AuditEvent[] = [];
  const gateway = await Gateway.create({
    config,
    logger: silentLogger,
    auditSinks: [new MemorySink(audit)],
    loadPlugin: async (name) => definePlugin({
      name,
      register(ctx) { for (const i of options.interceptors ?? []) ctx.addInterceptor(i); },
    }),
  });
  for (const v of options.verifiers ?? []) gateway.identities.addVerifier(v);
  const listener = createMysqlListenerWith(options.listener ?? {})(gateway.listenerRuntime(config.listeners[0]));
  const address = await listener.start();
  let stopped = false;
  return {
    port: address.port,
    gateway,
    listener,
    audit,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      gateway.beginDrain();
      await listener.drain(Date.now() + 2000);
      await gateway.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
