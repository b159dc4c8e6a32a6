import { run, runUnchecked } from './Command';

const APT_ENV: NodeJS.ProcessEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };

/** Installs missing Debian packages; apt-get update runs at most once per process, and only if needed. */
export class DebianPackages {
  private static updated: Promise<void> | undefined;
  // Serialises installs: dpkg holds a lock, and the servers are set up in parallel.
  private static queue: Promise<void> = Promise.resolve();

  static async isInstalled(pkg: string): Promise<boolean> {
    const r = await runUnchecked('dpkg-query', ['-W', '-f=${Status}', pkg]);
    return r.code === 0 && r.stdout.includes('install ok installed');
  }

  static async ensure(pkgs: readonly string[]): Promise<void> {
    const job = DebianPackages.queue.then(() => DebianPackages.ensureNow(pkgs));
    DebianPackages.queue = job.catch(() => undefined);
    return job;
  }

  private static async ensureNow(pkgs: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (const p of pkgs) if (!(await DebianPackages.isInstalled(p))) missing.push(p);
    if (missing.length === 0) return;
    if (process.getuid?.() !== 0) {
      throw new Error(`missing Debian packages ${missing.join(' ')}; install them (apt-get install -y ${missing.join(' ')})`);
    }
    if (DebianPackages.updated === undefined) {
      DebianPackages.updated = run('apt-get', ['update', '-qq'], { env: APT_ENV, timeoutMs: 600_000 }).then(
        () => undefined,
      );
      // A failed update may be retried by a later call.
      DebianPackages.updated.catch(() => (DebianPackages.updated = undefined));
    }
    await DebianPackages.updated;
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env: APT_ENV,
      timeoutMs: 900_000,
    });
  }
}

/** Installs those of `pkgs` that `dpkg` does not report as installed; silent when nothing goes wrong. */
export function ensureDebianPackages(pkgs: string[]): Promise<void> {
  return DebianPackages.ensure(pkgs);
}
