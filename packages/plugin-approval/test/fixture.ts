// An in-process gateway (core's Gateway + the admin server) with guardrails and this plugin, for
// API, console and pipeline tests that need no protocol adapter.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Gateway, parseConfig, silentLogger, type AuditEvent, type AuditSink, type QuerygatePlugin } from '@querygate/core';
import { freePort } from '../../services/src';
import { AdminServer } from '../../gateway/src/AdminServer';
import guardrails from '../../gateway/src/guardrails';
import approval from '../src';

export const ISSUER = 'https://idp.test.querygate';
export const AUDIENCE = 'querygate-admin';

export class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly events: AuditEvent[] = [];
  async export(events: readonly AuditEvent[]): Promise<{ ok: boolean }> { this.events.push(...events); return { ok: true }; }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export interface Signer {
  readonly jwksFile: string;
  sign(claims: Record<string, unknown>, options?: { expiresIn?: string; issuer?: string; audience?: string }): Promise<string>;
}

export async function makeSigner(dir: string): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = await exportJWK(publicKey);
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid: 'test-key', alg: 'RS256', use: 'sig' }] }));
  const key: CryptoKey = privateKey;
  return {
    jwksFile,
    sign: (claims, o = {}) => new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '5m')
      .sign(key),
  };
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly adminUrl: string;
  readonly audit: MemoryAuditSink;
  readonly signer: Signer;
  readonly dir: string;
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };

/** `approvalOptions` is YAML (flow style) for the plugin's options besides `auth`. */
export async function startTestGateway(approvalOptions = '{ approvers: { groups: [dba] } }', opts: { id?: string; dir?: string; signer?: Signer } = {}): Promise<TestGateway> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'qg-approval-gw-'));
  const signer = opts.signer ?? await makeSigner(dir);
  const port = await freePort();
  const env = { ALICE_PW: PASSWORDS.alice, BOB_PW: PASSWORDS.bob, CAROL_PW: PASSWORDS.carol, ...process.env } as Record<string, string>;
  const auth = `{ jwt: { issuer: "${ISSUER}", audience: ${AUDIENCE}, jwks: { file: "${signer.jwksFile}" } }, ` +
    'users: [ { name: alice, password: "${env:ALICE_PW}", groups: [dba] }, { name: bob, password: "${env:BOB_PW}", groups: [dba] }, ' +
    '{ name: carol, password: "${env:CAROL_PW}", groups: [dev] } ] }';
  const yaml = `
gateway: { id: ${opts.id ?? 'gw-test'}, dataDir: "${dir}/data" }
listeners:
  - { name: pg, protocol: postgres, listen: "127.0.0.1:1", upstream: { host: 127.0.0.1, port: 1, user: app } }
identities:
  users: [ { name: carol, password: "\${env:CAROL_PW}", groups: [dev] } ]
audit: { sinks: [] }
admin: { listen: "127.0.0.1:${port}" }
plugins:
  - use: guardrails
    options:
      rules:
        - { name: ddl-needs-approval, match: { kind: [ddl] }, action: approve, message: "DDL needs a DBA's approval" }
  - use: approval
    options: ${mergeAuth(approvalOptions, auth)}
`;
  const { config } = parseConfig(yaml, join(dir, 'test.yaml'), { env });
  const audit = new MemoryAuditSink();
  const plugins: Record<string, QuerygatePlugin> = { guardrails, approval };
  const gateway = await Gateway.create({
    config, logger: silentLogger, auditSinks: [audit],
    loadPlugin: async (use) => { const p = plugins[use]; if (!p) throw new Error(`no plugin ${use}`); return p; },
  });
  const admin = new AdminServer(`127.0.0.1:${port}`, gateway.adminRoutes, silentLogger, { ready: () => true });
  await admin.start();
  let stopped = false;
  return {
    gateway, adminUrl: `http://127.0.0.1:${port}`, audit, signer, dir, env,
    async stop() {
      if (stopped) return;
      stopped = true;
      await admin.stop();
      await gateway.shutdown();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mergeAuth(options: string, auth: string): string {
  const trimmed = options.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) throw new Error('approvalOptions must be a YAML flow mapping');
  const inner = trimmed.slice(1, -1).trim();
  return `{ ${inner}${inner ? ', ' : ''}auth: ${auth} }`;
}

export function basic(user: keyof typeof PASSWORDS): string {
  return `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString('base64')}`;
}
