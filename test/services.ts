// What tests use to reach the servers that test/globalSetup.ts started for the whole jest run.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'mysql2/promise';
import type { ClientConfig } from 'pg';
import type {
  KafkaInfo,
  MariadbInfo,
  MariadbUserName,
  PostgresInfo,
  PostgresUserName,
} from '../packages/services/src';

/** Path of the JSON file globalSetup writes; set in the environment the jest workers inherit. */
export const SERVICES_ENV = 'QUERYGATE_TEST_SERVICES';
/** Comma list of services globalSetup should not start, e.g. "kafka,mariadb" (or "all"). */
export const SKIP_ENV = 'QUERYGATE_TEST_SERVICES_SKIP';

export type ServiceName = 'postgres' | 'mariadb' | 'kafka';
export const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 'mariadb', 'kafka'];

/** Connection info of the shared servers; a service is absent when it was skipped. */
export interface TestServices {
  postgres?: PostgresInfo;
  mariadb?: MariadbInfo;
  kafka?: KafkaInfo;
  /** Temp dir holding the JSON file (removed by globalTeardown). */
  dir: string;
  /** Milliseconds each service took to start, for the curious. */
  startupMs: Partial<Record<ServiceName, number>>;
}

let cached: TestServices | undefined;

export function testServices(): TestServices {
  if (cached !== undefined) return cached;
  const file = process.env[SERVICES_ENV];
  if (file === undefined || file === '') {
    throw new Error(`${SERVICES_ENV} is not set: run tests through jest so test/globalSetup.ts starts the servers`);
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestServices;
  return cached;
}

export function hasService(name: ServiceName): boolean {
  return testServices()[name] !== undefined;
}

function skippedError(name: ServiceName): Error {
  return new Error(`the shared ${name} server was not started (${SKIP_ENV}=${process.env[SKIP_ENV] ?? ''})`);
}

export function postgresInfo(): PostgresInfo {
  const pg = testServices().postgres;
  if (pg === undefined) throw skippedError('postgres');
  return pg;
}

export function mariadbInfo(): MariadbInfo {
  const m = testServices().mariadb;
  if (m === undefined) throw skippedError('mariadb');
  return m;
}

export function kafkaInfo(): KafkaInfo {
  const k = testServices().kafka;
  if (k === undefined) throw skippedError('kafka');
  return k;
}

export function kafkaBrokers(): string[] {
  return kafkaInfo().brokers;
}

/** node-postgres config for one of the roles (default `app`, SCRAM) or the superuser `postgres`. */
export function pgClientConfig(user: PostgresUserName | 'postgres' = 'app', database?: string): ClientConfig {
  const pg = postgresInfo();
  const password = user === 'postgres' ? pg.superPassword : pg.users[user].password;
  return {
    host: pg.host,
    port: pg.port,
    user: user === 'postgres' ? pg.superuser : pg.users[user].user,
    password,
    database: database ?? pg.database,
    ssl: false,
    connectionTimeoutMillis: 10_000,
  };
}

/** mysql2 config for `app` (default) or `root`, over TCP. */
export function mariadbConfig(user: MariadbUserName | 'root' = 'app', database?: string): ConnectionOptions {
  const m = mariadbInfo();
  return {
    host: m.host,
    port: m.port,
    user: user === 'root' ? m.rootUser : m.users[user].user,
    password: user === 'root' ? m.rootPassword : m.users[user].password,
    database: database ?? m.database,
    connectTimeout: 10_000,
  };
}

/** `describe` when the shared service runs, `describe.skip` when it was skipped with QUERYGATE_TEST_SERVICES_SKIP. */
export function describeWith(name: ServiceName): jest.Describe {
  return hasService(name) ? describe : describe.skip;
}
