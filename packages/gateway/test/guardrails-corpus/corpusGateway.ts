// A whole gateway (GatewayServer, as the binary runs it) started in-process in front of the harness's
// PostgreSQL and MariaDB, with the corpus policy, local users, and a file audit sink the tests read.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, silentLogger, type AuditEvent } from '@querygate/core';
import { GatewayServer } from '../../src/GatewayServer';
import { mariadbInfo, postgresInfo } from '../../../../test/services';
import { guardrailsPluginYaml } from './policy';
import { runProgram, type ProgramResult } from '../../../../test/runProgram';

export interface CorpusUser { readonly name: string; readonly password: string; readonly groups: readonly string[] }

/** A developer: the identity every attack in the corpus uses. */
export const DEV: CorpusUser = { name: 'dev', password: 'dev-Passw0rd-corpus', groups: ['developers'] };
/** Runs migrations: DDL is allowed for this group by the rule placed first. */
export const MIGRATOR: CorpusUser = { name: 'migrator', password: 'migrator-Passw0rd-corpus', groups: ['migrator'] };

export interface CorpusGatewayOptions {
  readonly postgres?: boolean;
  readonly mysql?: boolean;
  /** The upstream logs in as the superuser / root: the gateway is all that stands in the way. */
  readonly superuserUpstream?: boolean;
  /** Replaces the `plugins:` YAML (default: the corpus guardrails). */
  readonly pluginsYaml?: string;
}

export interface CorpusGateway {
  readonly server: GatewayServer;
  readonly pgPort: number;
  readonly mysqlPort: number;
  readonly auditFile: string;
  /** Writable by the test and by the database servers (statements that write files name it). */
  readonly dir: string;
  /** Audit events written since the last call (flushes the trail first). */
  newAuditEvents(): Promise<AuditEvent[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startCorpusGateway(options: CorpusGatewayOptions): Promise<CorpusGateway> {
  const work = mkdtempSync(join(tmpdir(), 'qg-corpus-'));
  const dir = join(work, 'files');
  mkdirSync(dir);
  // The servers may run as another OS user; they must be able to write here if a statement slipped through.
  chmodSync(work, 0o755);
  chmodSync(dir, 0o777);
  const auditFile = join(work, 'audit.jsonl');
  const env: Record<string, string> = { DEV_PASSWORD: DEV.password, MIGRATOR_PASSWORD: MIGRATOR.password };
  const listeners: string[] = [];
  const su = options.superuserUpstream ?? true;
  if (options.postgres) {
    const pg = postgresInfo();
    env.PG_UPSTREAM_PASSWORD = su ? pg.superPassword : pg.users.app.password;
    listeners.push(`  - name: pg
    protocol: postgres
    listen: 127.0.0.1:${await freePort()}
    upstream: { host: ${pg.host}, port: ${pg.port}, user: ${su ? pg.superuser : pg.users.app.user}, password: "\${env:PG_UPSTREAM_PASSWORD}", tls: { mode: disable } }`);
  }
  if (options.mysql) {
    const m = mariadbInfo();
    env.MYSQL_UPSTREAM_PASSWORD = su ? m.rootPassword : m.users.app.password;
    listeners.push(`  - name: mysql
    protocol: mysql
    listen: 127.0.0.1:${await freePort()}
    upstream: { host: ${m.host}, port: ${m.port}, user: ${su ? m.rootUser : m.users.app.user}, password: "\${env:MYSQL_UPSTREAM_PASSWORD}", tls: { mode: disable } }`);
  }
  const yaml = `
gateway: { id: corpus, dataDir: ${JSON.stringify(join(work, 'data'))}, shutdownTimeout: 3s }
listeners:
${listeners.join('\n')}
identities:
  users:
    - { name: ${DEV.name}, password: "\${env:DEV_PASSWORD}", groups: [${DEV.groups.join(', ')}] }
    - { name: ${MIGRATOR.name}, password: "\${env:MIGRATOR_PASSWORD}", groups: [${MIGRATOR.groups.join(', ')}] }
${options.pluginsYaml ?? guardrailsPluginYaml()}
audit: { sinks: [ { type: file, path: ${JSON.stringify(auditFile)} } ] }
logging: { level: error }
`;
  const configFile = join(work, 'querygate.yaml');
  const loaded = parseConfig(yaml, configFile, { env });
  const server = await GatewayServer.create({ config: loaded.config, configFile, lineOf: loaded.lineOf, logger: silentLogger });
  const running = await server.start();
  let offset = 0;
  return {
    server,
    pgPort: running.listeners.pg?.port ?? 0,
    mysqlPort: running.listeners.mysql?.port ?? 0,
    auditFile,
    dir,
    async newAuditEvents(): Promise<AuditEvent[]> {
      await server.gateway.trail.flush();
      let text: string;
      try {
        text = readFileSync(auditFile, 'utf8');
      } catch {
        return [];
      }
      const fresh = text.slice(offset);
      const complete = fresh.lastIndexOf('\n') + 1;
      offset += complete;
      return fresh.slice(0, complete).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
    },
    async stop(): Promise<void> {
      await server.stop(3000);
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export type CliResult = ProgramResult;

/** Runs a client program with only the environment it is given on top of PATH/HOME. */
export function run(command: string, args: readonly string[], env: Record<string, string> = {}, input = '', timeoutMs = 60_000): Promise<CliResult> {
  return runProgram(command, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...env }, input, timeoutMs });
}

/** What a refusal must look like, as one line for failure messages. */
export function expectation(rule: string, approval: boolean): RegExp {
  const quoted = rule.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return approval
    ? new RegExp(`querygate: rule "${quoted}" requires approval, but no approval plugin is configured`)
    : new RegExp(`querygate: statement refused by rule "${quoted}"`);
}

/**
 * A PostgreSQL client program. Debian's /usr/bin/psql is a Perl wrapper that costs ~0.4 s a start;
 * the binary behind it does not.
 */
export function pgBin(name: 'psql' | 'pgbench'): string {
  for (const version of ['17', '16', '15', '14', '13']) {
    const path = `/usr/lib/postgresql/${version}/bin/${name}`;
    if (existsSync(path)) return path;
  }
  return name;
}
