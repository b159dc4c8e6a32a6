// Stops the shared servers started by test/globalSetup.ts and removes every temp dir they used.
import { rmSync } from 'node:fs';
import { clearRunningServices, runningServices } from './globalSetup';
import { SERVICES_ENV } from './services';

export default async function globalTeardown(): Promise<void> {
  const running = runningServices();
  if (running === undefined) return;
  const results = await Promise.allSettled([running.postgres?.stop(), running.mariadb?.stop(), running.kafka?.destroy()]);
  rmSync(running.dir, { recursive: true, force: true });
  clearRunningServices();
  delete process.env[SERVICES_ENV];
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) throw new Error(`stopping test services failed:\n${failures.join('\n')}`);
}
