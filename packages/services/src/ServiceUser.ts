import { run, runUnchecked } from './Command';

const DEFAULT_NAME = 'querygate-test';

/**
 * The unprivileged OS account the database servers run as: initdb/postgres refuse to run as root, and
 * mariadbd should not either. When we are not root, the servers simply run as the current user.
 */
export class ServiceUser {
  private static pending: Promise<ServiceUser | null> | undefined;

  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
  ) {}

  /** null when not running as root (no user switch needed). Creates the account on first use. */
  static ensure(): Promise<ServiceUser | null> {
    if (ServiceUser.pending === undefined) {
      ServiceUser.pending = ServiceUser.lookupOrCreate(process.env.QUERYGATE_SERVICE_USER ?? DEFAULT_NAME);
      ServiceUser.pending.catch(() => (ServiceUser.pending = undefined));
    }
    return ServiceUser.pending;
  }

  private static async lookupOrCreate(name: string): Promise<ServiceUser | null> {
    if (process.getuid?.() !== 0) return null;
    let found = await ServiceUser.lookup(name);
    if (found === null) {
      const r = await runUnchecked('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        name,
      ]);
      // 9 = "already exists": another test run created it concurrently.
      if (r.code !== 0 && r.code !== 9) {
        throw new Error(`useradd ${name} failed (code ${String(r.code)}): ${r.stderr.trim()}`);
      }
      found = await ServiceUser.lookup(name);
      if (found === null) throw new Error(`user ${name} still missing after useradd`);
    }
    return found;
  }

  private static async lookup(name: string): Promise<ServiceUser | null> {
    const u = await runUnchecked('id', ['-u', name]);
    if (u.code !== 0) return null;
    const g = await run('id', ['-g', name]);
    return new ServiceUser(name, Number(u.stdout.trim()), Number(g.stdout.trim()));
  }
}
