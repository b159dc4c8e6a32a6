// A whole querygate (GatewayServer, as the binary runs it) with the masking plugin configured, in
// front of the harness's PostgreSQL and MariaDB, each seeded with PII in a database of its own (test
// files run in parallel). Recording, a file audit sink and captured logs give the corpus test every
// output to search.
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientConfig } from 'pg';
import { createConnection } from 'mysql2/promise';
import { JsonLogger, parseConfig } from '@querygate/core';
import { GatewayServer } from '@querygate/gateway';
import { mariadbConfig, mariadbInfo, pgClientConfig, postgresInfo } from '../../../../../test/services';
import { mysqlSchema, postgresSchema } from './seed';

export const ANALYST = { user: 'analyst', password: 'analyst-Pass-1' } as const;
export const DBA = { user: 'dba', password: 'dba-Pass-2' } as const;
// Core's config check refuses two listeners on the same "host:port" text, port 0 included: the
// MySQL listener takes another loopback address.
export const MYSQL_HOST = '127.0.0.2';
export const MASKING_KEY = 'integration-masking-key-0123456789';

export interface MaskingGateway {
  readonly server: GatewayServer;
  readonly pgPort: number;
  readonly mysqlPort: number;
  /** The seeded database (same name on both servers). */
  readonly database: string;
  /** Log lines the gateway wrote (JSON, debug level). */
  readonly logs: string[];
  readonly auditFile: string;
  readonly recordingDir: string;
  /** node-postgres config for a gateway user. */
  pgConfig(who: { user: string; password: string }): ClientConfig;
  /** node-postgres config straight to the server, as the owner (the "direct query" to compare with). */
  pgDirect(): ClientConfig;
  mysqlDirect(): { host: string; port: number; user: string; password: string; database: string };
  /** Stops the gateway (flushing audit and recordings). Idempotent. */
  stop(): Promise<void>;
  /** Everything the gateway wrote besides client results: recordings, audit file, logs. Call after stop(). */
  sideOutputs(): { name: string; text: string }[];
  /** Stops, drops the seeded databases, removes the temp dir. */
  dispose(): Promise<void>;
}

/**
 * The masking options under test: columns rules, a name pattern, a detector, an exempt group.
 * PostgreSQL views are resolved from the catalog; the MySQL listener's `users_view` is declared
 * unless `declaredViews` is false (then the catalog resolves it too).
 */
function maskingYaml(database: string, declaredViews: boolean): string {
  const views = declaredViews
    ? `views:
        ${database}.users_view: { email: [${database}.users.email], ssn: [${database}.users.ssn], phone: [${database}.users.phone], id: [${database}.users.id], name: [${database}.users.name] }`
    : '';
  return `
  - use: "@querygate/plugin-masking"
    options:
      key: "\${env:MASKING_KEY}"
      exempt: { groups: [dba] }
      detectors:
        - { name: ticket, pattern: "TCK-\\\\d{6}" }
      ${views}
      rules:
        - { name: emails, columns: ["public.users.email", "${database}.users.email"], strategy: email }
        - { name: ssn, columns: ["*.users.ssn"], strategy: { partial: { last: 4 } } }
        - { name: cards, columns: ["*.users.card_number"], strategy: { hash: { length: 12 } } }
        - { name: phones, names: ["*phone*"], strategy: { partial: { last: 2 } } }
        - { name: emails-in-text, detect: [email, ticket], strategy: { redact: "[email]" } }
`;
}

export async function startMaskingGateway(database: string, options: { readonly declaredViews?: boolean } = {}): Promise<MaskingGateway> {
  const pg = postgresInfo();
  const maria = mariadbInfo();
  const dir = mkdtempSync(join(tmpdir(), 'qg-masking-it-'));
  await seedPostgres(database);
  await seedMysql(database);

  const env: Record<string, string> = {
    PG_PASSWORD: pg.users.app.password,
    MYSQL_PASSWORD: maria.users.app.password,
    ANALYST_PASSWORD: ANALYST.password,
    DBA_PASSWORD: DBA.password,
    MASKING_KEY,
  };
  const auditFile = join(dir, 'audit.jsonl');
  const recordingDir = join(dir, 'recordings');
  const yaml = `
gateway: { id: masking-it, dataDir: ${JSON.stringify(join(dir, 'data'))}, shutdownTimeout: 3s }
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:0
    upstream: { host: ${pg.host}, port: ${pg.port}, user: app, password: "\${env:PG_PASSWORD}", tls: { mode: disable }, connectTimeout: 5s }
  - name: mysql
    protocol: mysql
    listen: ${MYSQL_HOST}:0
    upstream: { host: ${maria.host}, port: ${maria.port}, user: app, password: "\${env:MYSQL_PASSWORD}", tls: { mode: disable }, connectTimeout: 5s }
identities:
  users:
    - { name: ${ANALYST.user}, password: "\${env:ANALYST_PASSWORD}", groups: [analysts] }
    - { name: ${DBA.user}, password: "\${env:DBA_PASSWORD}", groups: [dba] }
plugins:${maskingYaml(database, options.declaredViews ?? true)}
audit: { sinks: [ { type: file, path: ${JSON.stringify(auditFile)} } ] }
recording: { dir: ${JSON.stringify(recordingDir)}, maxRowsPerResult: 1000 }
logging: { level: debug }
`;
  const { config } = parseConfig(yaml, join(dir, 'querygate.yaml'), { env });
  const logs: string[] = [];
  const server = await GatewayServer.create({
    config,
    configFile: join(dir, 'querygate.yaml'),
    logger: new JsonLogger('debug', { gateway: 'masking-it' }, (line) => { logs.push(line); }),
  });
  let addresses;
  try {
    addresses = await server.start();
  } catch (err) {
    await dropDatabases(database);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const pgPort = addresses.listeners.pg!.port;
  const mysqlPort = addresses.listeners.mysql!.port;
  let disposed = false;
  return {
    server, pgPort, mysqlPort, database, logs, auditFile, recordingDir,
    pgConfig: (who) => ({ host: '127.0.0.1', port: pgPort, user: who.user, password: who.password, database, ssl: false, connectionTimeoutMillis: 10_000 }),
    pgDirect: () => pgClientConfig('app', database),
    mysqlDirect: () => {
      const c = mariadbConfig('app', database);
      return { host: c.host!, port: c.port!, user: c.user!, password: c.password!, database };
    },
    stop: () => server.stop(3000),
    sideOutputs: () => {
      const outputs = [{ name: 'logs', text: logs.join('') }];
      if (existsSync(auditFile)) outputs.push({ name: 'audit', text: readFileSync(auditFile, 'utf8') });
      if (existsSync(recordingDir)) {
        for (const f of readdirSync(recordingDir)) outputs.push({ name: `recording ${f}`, text: readFileSync(join(recordingDir, f), 'utf8') });
      }
      return outputs;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await server.stop(3000);
      await dropDatabases(database);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function seedPostgres(database: string): Promise<void> {
  const admin = new Client(pgClientConfig('postgres', 'postgres'));
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database} OWNER app`);
  } finally {
    await admin.end();
  }
  const owner = new Client(pgClientConfig('app', database));
  await owner.connect();
  try {
    await owner.query(postgresSchema());
  } finally {
    await owner.end();
  }
}

async function seedMysql(database: string): Promise<void> {
  const root = await createConnection({ ...mariadbConfig('root', 'mysql'), multipleStatements: true });
  try {
    const app = mariadbInfo().users.app.user;
    const grants = ['%', '127.0.0.1', 'localhost'].map((host) => `GRANT ALL ON ${database}.* TO '${app}'@'${host}'`).join('; ');
    await root.query(`DROP DATABASE IF EXISTS ${database}; CREATE DATABASE ${database} CHARACTER SET utf8mb4; ${grants}`);
  } finally {
    await root.end();
  }
  const owner = await createConnection({ ...mariadbConfig('app', database), multipleStatements: true });
  try {
    await owner.query(mysqlSchema());
  } finally {
    await owner.end();
  }
}

async function dropDatabases(database: string): Promise<void> {
  const admin = new Client(pgClientConfig('postgres', 'postgres'));
  await admin.connect().then(() => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
  await admin.end().catch(() => undefined);
  const root = await createConnection(mariadbConfig('root', 'mysql')).catch(() => undefined);
  await root?.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  await root?.end().catch(() => undefined);
}
