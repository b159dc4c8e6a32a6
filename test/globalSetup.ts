// Starts the shared PostgreSQL, MariaDB and Kafka servers once per jest run, in parallel, and tells the
// test workers where they are through QUERYGATE_TEST_SERVICES (a JSON file; workers inherit the env).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startKafka,
  startMariadb,
  startPostgres,
  type KafkaBroker,
  type MariadbServer,
  type PostgresServer,
} from '../packages/services/src';
import { SERVICE_NAMES, SERVICES_ENV, SKIP_ENV, type ServiceName, type TestServices } from './services';

/** The live handles, kept in the jest parent process for globalTeardown. */
export interface RunningServices {
  postgres?: PostgresServer;
  mariadb?: MariadbServer;
  kafka?: KafkaBroker;
  dir: string;
}

const RUNNING_KEY = Symbol.for('querygate.test.runningServices');

type GlobalWithServices = typeof globalThis & { [RUNNING_KEY]?: RunningServices };

export function runningServices(): RunningServices | undefined {
  return (globalThis as GlobalWithServices)[RUNNING_KEY];
}

export function clearRunningServices(): void {
  delete (globalThis as GlobalWithServices)[RUNNING_KEY];
}

function skipped(): Set<ServiceName> {
  const raw = (process.env[SKIP_ENV] ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (raw.includes('all')) return new Set(SERVICE_NAMES);
  return new Set(SERVICE_NAMES.filter((n) => raw.includes(n)));
}

async function timed<T>(start: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await start();
  return { value, ms: Date.now() - t0 };
}

export default async function globalSetup(): Promise<void> {
  const skip = skipped();
  const dir = mkdtempSync(join(tmpdir(), 'querygate-test-services-'));
  const running: RunningServices = { dir };
  (globalThis as GlobalWithServices)[RUNNING_KEY] = running;

  const results = await Promise.allSettled([
    skip.has('postgres') ? Promise.resolve(undefined) : timed(() => startPostgres({ name: 'shared' })),
    skip.has('mariadb') ? Promise.resolve(undefined) : timed(() => startMariadb({ name: 'shared' })),
    skip.has('kafka') ? Promise.resolve(undefined) : timed(() => startKafka({ name: 'shared' })),
  ]);
  const [pg, maria, kafka] = results;
  if (pg.status === 'fulfilled' && pg.value !== undefined) running.postgres = pg.value.value;
  if (maria.status === 'fulfilled' && maria.value !== undefined) running.mariadb = maria.value.value;
  if (kafka.status === 'fulfilled' && kafka.value !== undefined) running.kafka = kafka.value.value;

  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${SERVICE_NAMES[i] ?? '?'}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : [],
  );
  if (failures.length > 0) {
    // Jest does not run globalTeardown when globalSetup throws, so clean up what did start.
    await Promise.allSettled([running.postgres?.stop(), running.mariadb?.stop(), running.kafka?.destroy()]);
    rmSync(dir, { recursive: true, force: true });
    clearRunningServices();
    throw new Error(`test services failed to start:\n${failures.join('\n\n')}`);
  }

  const info: TestServices = { dir, startupMs: {} };
  if (running.postgres !== undefined) info.postgres = running.postgres.info();
  if (running.mariadb !== undefined) info.mariadb = running.mariadb.info();
  if (running.kafka !== undefined) info.kafka = running.kafka.info();
  if (pg.status === 'fulfilled' && pg.value !== undefined) info.startupMs.postgres = pg.value.ms;
  if (maria.status === 'fulfilled' && maria.value !== undefined) info.startupMs.mariadb = maria.value.ms;
  if (kafka.status === 'fulfilled' && kafka.value !== undefined) info.startupMs.kafka = kafka.value.ms;

  const file = join(dir, 'services.json');
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  process.env[SERVICES_ENV] = file;
  if ((process.env.QUERYGATE_TEST_SERVICES_VERBOSE ?? '') !== '') {
    const times = Object.entries(info.startupMs).map(([name, ms]) => `${name} ${ms} ms`);
    process.stderr.write(`\ntest services up (${times.join(', ') || 'none'}); info in ${file}\n`);
  }
}
